/**
 * Response-streaming handlers (`awslambda.streamifyResponse`), as the runtime client calls them
 * (src/Runtime.js `handleOnceStreaming`, src/StreamingContext.js, src/ResponseStream.js):
 * `handler(event, responseStream, context)` must return a promise; its value is ignored with a
 * warning; the stream must be finished when it settles ("Response stream is not finished.");
 * a throw or rejection fails the invocation. `responseStream` is a Node Writable (the guest's
 * `stream` module): `write` (objects as JSON), `end`, `cork`/`uncork`, `'drain'`/`'finish'`, and
 * `setContentType` until the first write (then Runtime.InvalidStreamingOperation).
 *
 * What is built here is the whole body, in the guest: a plain invoke of a streaming function
 * answers with it (the Invoke API returns a streamed response's bytes as its payload). Delivery
 * to the host while the handler writes (InvokeWithResponseStream) is not implemented.
 */
import { runtimeError } from './errors.ts';
import { stdlib } from './stdlib-loader.ts';

const DEFAULT_CONTENT_TYPE = 'application/octet-stream';

/** The stream handed to a streaming handler, with what the runtime needs to read back. */
export interface GuestResponseStream {
  readonly stream: { writableFinished: boolean };
  /** The bytes written so far (the HttpResponseStream prelude included), as UTF-8 text. */
  body(): string;
  contentType(): string;
}

export function createResponseStream(highWaterMark: number | undefined): GuestResponseStream {
  const { stream } = stdlib<typeof import('./stdlib/stream.ts')>('stream');
  const Buf = (globalThis as unknown as { Buffer: typeof Buffer }).Buffer;
  const chunks: Uint8Array[] = [];
  let contentType = DEFAULT_CONTENT_TYPE;
  let written = false;
  const writable = new stream.Writable({
    ...(highWaterMark === undefined ? {} : { highWaterMark }),
    write(chunk: unknown, encoding: string, done: (error?: Error | null) => void) {
      chunks.push(typeof chunk === 'string' ? Buf.from(chunk, encoding as BufferEncoding) : Buf.from(chunk as Uint8Array));
      done();
    },
  }) as unknown as Record<string, unknown> & { write: (chunk: unknown, ...rest: unknown[]) => boolean; writableFinished: boolean };
  const write = writable.write.bind(writable);
  // The runtime client's ResponseStream: objects are written as JSON; the first write runs the
  // HttpResponseStream prelude hook; the content type is fixed from then on.
  writable.write = (chunk: unknown, ...rest: unknown[]): boolean => {
    if (!written) {
      written = true;
      const before = writable._onBeforeFirstWrite as ((w: (c: unknown) => void) => void) | undefined;
      if (typeof before === 'function') before((c) => void write(c));
    }
    const data = typeof chunk === 'object' && chunk !== null && !(chunk instanceof Uint8Array) ? JSON.stringify(chunk) : chunk;
    return write(data, ...rest);
  };
  writable.setContentType = (type: unknown): void => {
    if (written) throw runtimeError('InvalidStreamingOperation', 'Cannot set content-type, too late.');
    contentType = String(type);
  };
  return {
    stream: writable,
    body: () => Buf.concat(chunks).toString('utf8'),
    contentType: () => contentType,
  };
}
