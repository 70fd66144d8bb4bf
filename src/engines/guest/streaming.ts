/**
 * Response-streaming handlers (`awslambda.streamifyResponse`), as the runtime client calls them
 * (src/Runtime.js `handleOnceStreaming`, src/StreamingContext.js, src/ResponseStream.js):
 * `handler(event, responseStream, context)` must return a promise; its value is ignored with a
 * warning; the stream must be finished when it settles ("Response stream is not finished.");
 * a throw or rejection fails the invocation. `responseStream` is a Node Writable (the guest's
 * `stream` module): `write` (objects as JSON), `end`, `cork`/`uncork`, `'drain'`/`'finish'`, and
 * `setContentType` until the first write (then Runtime.InvalidStreamingOperation).
 *
 * Where the bytes go (stdlib/response-stream.ts, loaded on the first streaming invocation): for a
 * plain invoke the whole body is kept and answered as the payload (the Invoke API returns a
 * streamed response's bytes as its payload); for InvokeWithResponseStream (the invoke's extras
 * carry `responseStream`, the host's first room) each write crosses to the host as it is made,
 * within the host's in-flight bound.
 */
import { runtimeError } from './errors.ts';
import { stdlib } from './stdlib-loader.ts';
import type { GuestResponseStream } from './stdlib/response-stream.ts';

export type { GuestResponseStream };

/** The `responseStream` room the host sent with the invoke, or undefined for a plain invoke. */
export function responseStreamRoom(extras: string): number | undefined {
  if (extras === '') return undefined;
  const room = (JSON.parse(extras) as { responseStream?: unknown }).responseStream;
  return typeof room === 'number' ? room : undefined;
}

export function createResponseStream(
  highWaterMark: number | undefined,
  room: number | undefined,
  setTimer: (fn: () => void, ms: number) => void,
  isOpen: () => boolean,
): GuestResponseStream {
  const { createResponseStream: create } = stdlib<typeof import('./stdlib/response-stream.ts')>('response-stream');
  return create({ highWaterMark, room, setTimer, isOpen, invalidOperation: (message) => runtimeError('InvalidStreamingOperation', message) });
}
