/**
 * The `responseStream` a streamified handler writes to (loaded on the first streaming invocation),
 * as the runtime client builds it (src/ResponseStream.js `createResponseStream`): a Node Writable
 * whose `write` turns objects into JSON, runs the HttpResponseStream prelude hook before the first
 * write, and fixes the content type from then on (`setContentType` after it throws
 * Runtime.InvalidStreamingOperation, "Cannot set content-type, too late.").
 *
 * Two destinations:
 * - Invoke (no transport): the bytes are kept and returned whole as the payload.
 * - InvokeWithResponseStream (a transport): each write goes to the host as it is made, through the
 *   `stream.write` host call, never more bytes than the host's last `room`; while the room is 0 the
 *   write's callback waits (polling `stream.room` from a timer, 1 ms doubling to 8 ms) so Node's
 *   own backpressure (`write()` returning false, 'drain') reaches the handler. The host holds at
 *   most its in-flight bound of unread bytes for a slow reader; the rest waits in the guest, whose
 *   memory is capped. `final` tells the host the stream finished (`stream.end`).
 */
import { hostCall } from '../bridge.ts';
import { stream } from './stream.ts';
import { Buffer } from './buffer.ts';

const DEFAULT_CONTENT_TYPE = 'application/octet-stream';
/** Node's lib/_http_common.js checkInvalidHeaderChar. */
const INVALID_HEADER_CHAR = /[^\t\x20-\x7e\x80-\xff]/;
const POLL_MIN_MS = 1;
const POLL_MAX_MS = 8;

/** What the guest runtime (streaming.ts) hands in: the engine's timers and its error kinds. */
export interface ResponseStreamOptions {
  readonly highWaterMark: number | undefined;
  /** The room the host gave at the start of the invocation; undefined: no transport (Invoke). */
  readonly room: number | undefined;
  /** Schedules `fn` after `ms` on the guest's own timer queue (keeps the invocation alive). */
  readonly setTimer: (fn: () => void, ms: number) => void;
  /**
   * Whether the invocation is still running. Once it has an outcome (a throw mid-stream, say) the
   * transport stops: a write still waiting for room is dropped, never sent into a later invocation.
   */
  readonly isOpen: () => boolean;
  /** Runtime.InvalidStreamingOperation with `message`. */
  readonly invalidOperation: (message: string) => Error;
}

export interface GuestResponseStream {
  readonly stream: { writableFinished: boolean };
  /**
   * Calls `fn` once the stream is settled: at once, or, when it was ended and its last writes are
   * still waiting for the host's room, after 'finish' or 'close' — the runtime client awaits the
   * Runtime API's response, which comes after the request's last byte (RIC src/Runtime.js
   * `handleOnceStreaming`: `await rapidResponse` before the `writableFinished` check).
   */
  afterFlush(fn: () => void): void;
  /** The bytes written so far (the HttpResponseStream prelude included), as UTF-8 text; '' with a transport. */
  body(): string;
}

/** The host refused more bytes: the response was cut at its size limit, or the invocation ended. */
function closedError(why: string): Error {
  const error = new Error(`The response stream was closed: ${why}`) as Error & { code: string };
  error.code = 'ERR_STREAM_DESTROYED';
  return error;
}

/** Sends bytes to the host within the room it gives, waiting on a timer while there is none. */
class HostTransport {
  #room: number;
  #delay = POLL_MIN_MS;
  readonly #setTimer: ResponseStreamOptions['setTimer'];
  readonly #isOpen: () => boolean;
  #pending: { bytes: Uint8Array; at: number; contentType: string; done: (error?: Error | null) => void } | undefined;

  constructor(room: number, setTimer: ResponseStreamOptions['setTimer'], isOpen: () => boolean) {
    this.#room = room;
    this.#setTimer = setTimer;
    this.#isOpen = isOpen;
  }

  send(bytes: Uint8Array, contentType: string, done: (error?: Error | null) => void): void {
    this.#pending = { bytes, at: 0, contentType, done };
    this.#pump();
  }

  end(contentType: string): void {
    if (this.#isOpen()) hostCall('stream.end', [contentType]);
  }

  #pump(): void {
    const pending = this.#pending!;
    // A zero-byte write still crosses: it fixes the content type on the host at the first write.
    do {
      if (!this.#isOpen()) return this.#finish(closedError('the invocation has ended'));
      if (this.#room < 0) return this.#finish(closedError('the response exceeded its maximum size'));
      if (this.#room === 0) return this.#wait();
      const end = Math.min(pending.bytes.length, pending.at + this.#room);
      this.#room = hostCall('stream.write', [pending.contentType], pending.bytes.subarray(pending.at, end)).value as number;
      pending.at = end;
    } while (pending.at < pending.bytes.length);
    this.#finish(null);
  }

  #wait(): void {
    this.#setTimer(() => {
      // The invocation ended while this write waited (it failed): the write goes nowhere.
      if (!this.#isOpen()) return this.#finish(closedError('the invocation has ended'));
      this.#room = hostCall('stream.room', []).value as number;
      if (this.#room === 0) {
        this.#delay = Math.min(POLL_MAX_MS, this.#delay * 2);
        return this.#wait();
      }
      this.#delay = POLL_MIN_MS;
      this.#pump();
    }, this.#delay);
  }

  #finish(error: Error | null): void {
    const { done } = this.#pending!;
    this.#pending = undefined;
    done(error);
  }
}

export function createResponseStream(options: ResponseStreamOptions): GuestResponseStream {
  const transport = options.room === undefined ? undefined : new HostTransport(options.room, options.setTimer, options.isOpen);
  const chunks: Uint8Array[] = [];
  let contentType = DEFAULT_CONTENT_TYPE;
  let written = false;
  const writable = new stream.Writable({
    ...(options.highWaterMark === undefined ? {} : { highWaterMark: options.highWaterMark }),
    write(chunk: unknown, encoding: string, done: (error?: Error | null) => void) {
      const bytes = typeof chunk === 'string' ? Buffer.from(chunk, encoding as BufferEncoding) : Buffer.from(chunk as Uint8Array);
      if (transport) return transport.send(bytes, contentType, done);
      chunks.push(bytes);
      done();
    },
    final(done: (error?: Error | null) => void) {
      transport?.end(contentType);
      done();
    },
  }) as unknown as Record<string, unknown> & {
    write: (chunk: unknown, ...rest: unknown[]) => boolean;
    writableFinished: boolean;
    writableEnded: boolean;
    destroyed: boolean;
    on: (event: string, fn: (...args: unknown[]) => void) => void;
    once: (event: string, fn: (...args: unknown[]) => void) => void;
  };
  // The runtime client listens for the request's 'error' (ResponseStream.js `req.on('error')`): a
  // failed stream fails the invocation through the handler, never as an uncaught exception.
  writable.on('error', () => {});
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
    if (written) throw options.invalidOperation('Cannot set content-type, too late.');
    // The runtime client calls req.setHeader('Content-Type', type): Node refuses what a header cannot hold.
    const value = String(type);
    if (INVALID_HEADER_CHAR.test(value)) {
      const error = new TypeError('Invalid character in header content ["Content-Type"]') as TypeError & { code: string };
      error.code = 'ERR_INVALID_CHAR';
      throw error;
    }
    contentType = value;
  };
  return {
    stream: writable,
    afterFlush(fn: () => void): void {
      if (!writable.writableEnded || writable.writableFinished || writable.destroyed) return fn();
      let called = false;
      const once = (): void => {
        if (called) return;
        called = true;
        fn();
      };
      writable.once('finish', once);
      writable.once('close', once);
    },
    body: () => Buffer.concat(chunks).toString('utf8'),
  };
}
