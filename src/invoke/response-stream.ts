/**
 * InvokeWithResponseStream (Lambda API reference, API_InvokeWithResponseStream.html): a
 * streamified handler's bytes reach the caller as the handler writes them, then one completion
 * event. `runtime.ts` only delegates here; the invocation itself is the Invoker's, with this
 * module's {@link StreamedResponse} as its response sink.
 *
 * Lambda's rules kept here, each with its source:
 * - The bytes are the stream exactly as written, the HttpResponseStream.from prelude and its eight
 *   NUL bytes included (RIC src/HttpResponseStream.js); the content type is the stream's
 *   (`setContentType`, default `application/octet-stream`, RIC src/ResponseStream.js), fixed by its
 *   first write. There is no chunk fidelity (RIC ResponseStream.js: "no guarantee that HTTP chunks
 *   will map to Stream write invocations 1-1"): a slow reader may get several writes as one chunk.
 * - A function error, mid-stream or before it, ends the stream normally and is reported in the
 *   completion, as InvokeComplete's ErrorCode / ErrorDetails (the runtime client sends it as the
 *   `Lambda-Runtime-Function-Error-Type` / `-Body` trailers, RIC ResponseStream.js); the HTTP status
 *   stays 200. What the primary sources confirm: the runtime client's Error-Type trailer is the
 *   error's `errorType` and its Error-Body trailer base64 of `{"errorType","errorMessage","trace"}`
 *   (RIC src/ResponseStream.js, `toRapidResponse`); Lambda's RAPID passes both on unchanged, or, when
 *   the runtime set none, sets Error-Type itself: `Function.ResponseSizeTooLarge` over the limit,
 *   `Runtime.TruncatedResponse` for a cut copy, `Sandbox.Timeout` / `Sandbox.Failure` when the
 *   sandbox is reset mid-stream, with an empty body (aws-lambda-runtime-interface-emulator
 *   internal/lambda/core/directinvoke/directinvoke.go `sendStreamingInvokeResponse`,
 *   internal/lambda/fatalerror/fatalerror.go). Not confirmed: how Lambda's front end turns the
 *   trailers into InvokeComplete (its code is not public; the API reference gives only the field
 *   names, and no capture was found). lambdalet sets ErrorCode = errorType and ErrorDetails =
 *   errorMessage, and keeps its buffered timeout's `Sandbox.Timedout` rather than RAPID's trailer
 *   value `Sandbox.Timeout`, which the front end may or may not rewrite.
 * - 200 MB per response (configuration-response-streaming.html): the bytes past the limit are not
 *   delivered, the guest's stream fails, and the invocation's error is Function.ResponseSizeTooLarge.
 * - A handler that is not streamified is run as for Invoke; its JSON response is delivered as one
 *   chunk with content type `application/json` (what the runtime client posts it as, RIC
 *   src/rapid-client.cc `Done`).
 * - The first 6 MB pass uncapped, the rest at most 2 MBps (configuration-response-streaming.html,
 *   "Bandwidth limits for response streaming"), measured as Lambda's RAPID measures it: a 6 MiB
 *   token bucket refilled at 2 MiB/s in 125 ms steps (stream-bandwidth.ts). The cap lowers the room
 *   the guest is given, so its writes wait as for a slow reader. `bandwidth: false` turns it off.
 *
 * Backpressure: the host holds at most `maxInFlightBytes` the reader has not taken (plus, for an
 * HTTP-integration stream, a prelude being read, within the same bound); past that the guest's
 * writes wait (environment/response-sink.ts), and a reader that never reads lets the function run
 * into its timeout, as a stalled client does on Lambda. A reader that destroys `payload` stops
 * reading: the rest is discarded and the function runs to its end.
 */
import { Buffer } from 'node:buffer';
import { randomUUID } from 'node:crypto';
import { Readable } from 'node:stream';
import { z } from 'zod';
import { STREAM_IN_FLIGHT_BYTES_DEFAULT, STREAM_IN_FLIGHT_BYTES_MAX, STREAM_RESPONSE_MAX_BYTES } from '../config/index.ts';
import { integerIn } from '../config/fields.ts';
import { expected, parseWith, type Subject } from '../config/format.ts';
import type { ResponseSink } from '../environment/response-sink.ts';
import type { StreamedInvocation } from './invoker.ts';
import type { InvokeResult } from './result.ts';
import { BandwidthMeter, parseStreamBandwidth, type StreamBandwidth, type StreamBandwidthInput } from './stream-bandwidth.ts';

/** The content type HttpResponseStream.from sets (RIC src/HttpResponseStream.js). */
export const HTTP_INTEGRATION_CONTENT_TYPE = 'application/vnd.awslambda.http-integration-response';
/** What separates the prelude from the body: eight NUL bytes (RIC src/HttpResponseStream.js). */
const DELIMITER = Buffer.alloc(8);
/** What a header value may not hold (Node's lib/_http_common.js checkInvalidHeaderChar). */
const INVALID_HEADER_CHAR = /[^\t\x20-\x7e\x80-\xff]/;

/** Options only InvokeWithResponseStream takes (the rest are rt.invoke's). */
export interface ResponseStreamOptionsInput {
  /**
   * Leave the HttpResponseStream.from prelude and its delimiter out of `payload` (they are still in
   * `prelude`), as a function URL in RESPONSE_STREAM mode serves the body. Default false: `payload`
   * is the stream as InvokeWithResponseStream's PayloadChunk events carry it.
   */
  readonly stripPrelude?: boolean;
  /** Unread bytes the host may hold before the guest's writes wait: 1 to 67108864. Default 1048576. */
  readonly maxInFlightBytes?: number;
  /** The response size limit, at most Lambda's 209715200 (200 MB), which is the default; lower it in tests. */
  readonly maxResponseBytes?: number;
  /**
   * Lambda's bandwidth cap: `{ burstBytes: 6291456, bytesPerSecond: 2097152, now: performance.now }`
   * by default (stream-bandwidth.ts); `false` turns it off; lower figures and a manual clock for tests.
   */
  readonly bandwidth?: StreamBandwidthInput;
}

export interface ResponseStreamOptions {
  readonly stripPrelude: boolean;
  readonly maxInFlightBytes: number;
  readonly maxResponseBytes: number;
  /** false: no cap. Optional so that callers building options by hand (tests) may leave it out. */
  readonly bandwidth?: StreamBandwidth | false;
}

const streamOptionsSchema = z.strictObject(
  {
    stripPrelude: z.boolean(expected('be a boolean')).default(false),
    maxInFlightBytes: integerIn(1, STREAM_IN_FLIGHT_BYTES_MAX).default(STREAM_IN_FLIGHT_BYTES_DEFAULT),
    maxResponseBytes: integerIn(1, STREAM_RESPONSE_MAX_BYTES).default(STREAM_RESPONSE_MAX_BYTES),
  },
  expected('be an object'),
);
const subject: Subject = { name: 'response stream options', knownOptions: [...Object.keys(streamOptionsSchema.shape), 'bandwidth'], renames: {} };

const STREAM_KEYS = new Set(subject.knownOptions);

/**
 * Splits the caller's options into rt.invoke's (validated by parseInvokeOptions) and the stream's,
 * validated here.
 * @throws InvalidParameterValueException naming the field, the rule and the value.
 */
export function splitResponseStreamOptions(input: unknown): { invoke: unknown; stream: ResponseStreamOptions } {
  if (typeof input !== 'object' || input === null || Array.isArray(input)) return { invoke: input, stream: parseStreamOptions({}) };
  const invoke: Record<string, unknown> = {};
  const stream: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(input)) (STREAM_KEYS.has(key) ? stream : invoke)[key] = value;
  return { invoke, stream: parseStreamOptions(stream) };
}

function parseStreamOptions(input: Record<string, unknown>): ResponseStreamOptions {
  const { bandwidth, ...rest } = input;
  return { ...parseWith(streamOptionsSchema, rest, subject), bandwidth: parseStreamBandwidth(bandwidth, subject) };
}

/** HttpResponseStream.from's metadata (RIC src/HttpResponseStream.js), as the function wrote it. */
export interface HttpResponsePrelude {
  readonly statusCode?: number;
  readonly headers?: Record<string, string>;
  readonly cookies?: string[];
  readonly [key: string]: unknown;
}

/** InvokeWithResponseStream's final event (InvokeWithResponseStreamCompleteEvent). */
export interface InvokeComplete {
  /** The function error's type (`Error`, `Sandbox.Timedout`, `Function.ResponseSizeTooLarge`, ...). */
  readonly ErrorCode?: string;
  /** The function error's message. */
  readonly ErrorDetails?: string;
  /** The last 4 KB of the log, base64, with `logType: 'Tail'`. */
  readonly LogResult?: string;
}

/** How the invocation ended: rt.invoke's result without the payload, plus InvokeComplete. */
export interface ResponseStreamCompletion extends Omit<InvokeResult, 'payload'> {
  readonly invokeComplete: InvokeComplete;
  /** The function error as the runtime reported it (trace included when it has one). */
  readonly error?: { readonly errorType: string; readonly errorMessage: string; readonly trace?: readonly string[] };
  /** Bytes of the stream delivered to the host, the prelude included (never more than the limit). */
  readonly responseBytes: number;
  /**
   * The most bytes the host held unread at once: at most `maxInFlightBytes` for a streamed
   * response (a handler that is not streamified hands its whole response over at its end).
   */
  readonly peakBufferedBytes: number;
}

/** What `rt.invokeWithResponseStream` resolves with, once the stream's head is known. */
export interface InvokeResponseStream {
  /** 200: a function error is reported in `completion`, not as a status. */
  readonly statusCode: 200;
  readonly requestId: string;
  /** The version that runs (X-Amz-Executed-Version). */
  readonly executedVersion: string;
  /** ResponseStreamContentType: the stream's content type, fixed by its first write. */
  readonly contentType: string;
  /** HttpResponseStream.from's prelude, parsed, when the stream has one. */
  readonly prelude: HttpResponsePrelude | undefined;
  /** The bytes as written (Buffers): iterate with `for await`, pipe, or read. */
  readonly payload: Readable;
  /** Settles after the last byte is in `payload`; rejects only with a service error. */
  readonly completion: Promise<ResponseStreamCompletion>;
}

/** The head of a stream: what the caller needs before the body (content type, prelude). */
interface Head {
  readonly contentType: string;
  readonly prelude: HttpResponsePrelude | undefined;
}

/** One invocation's response sink and the Readable its reader takes bytes from. */
export class StreamedResponse implements ResponseSink {
  readonly payload: Readable;
  readonly #options: ResponseStreamOptions;
  readonly #onHead: (head: Head) => void;
  #contentType: string | undefined;
  #delivered = 0;
  #cut = false;
  #ended = false;
  /** HTTP-integration streams: bytes held while the prelude is read; undefined once the head is known. */
  #preludeBytes: Buffer[] | undefined;
  #preludeLength = 0;
  #head: Head | undefined;
  #peak = 0;
  readonly #meter: BandwidthMeter | undefined;

  constructor(options: ResponseStreamOptions, onHead: (head: Head) => void) {
    this.#options = options;
    this.#onHead = onHead;
    this.#meter = options.bandwidth ? new BandwidthMeter(options.bandwidth) : undefined;
    // No read(): the guest is told to wait by room() and polls it, so nothing needs waking.
    this.payload = new Readable({ highWaterMark: options.maxInFlightBytes, read() {} });
  }

  /** The handler's stream finished (`stream.end`). */
  get ended(): boolean {
    return this.#ended;
  }

  get cut(): boolean {
    return this.#cut;
  }

  get delivered(): number {
    return this.#delivered;
  }

  get peakBufferedBytes(): number {
    return this.#peak;
  }

  room(): number {
    if (this.#cut) return -1;
    if (this.payload.destroyed) return this.#options.maxInFlightBytes; // the reader left: discard, uncapped
    const room = Math.max(0, this.#options.maxInFlightBytes - this.payload.readableLength - this.#preludeLength);
    return this.#meter === undefined ? room : Math.min(room, this.#meter.allowance());
  }

  write(contentType: string, bytes: Buffer): number {
    if (this.#cut) return -1;
    // The guest is untrusted: one that ignores the room it was given must not fill host memory.
    const room = this.room();
    if (bytes.length > room) throw new RangeError(`stream.write: ${bytes.length} bytes sent with room for ${room}`);
    this.#setContentType(contentType);
    return this.#take(bytes);
  }

  /** Counts `bytes` against the size limit (cutting the stream at it) and passes them on. */
  #take(bytes: Buffer): number {
    const allowed = this.#options.maxResponseBytes - this.#delivered;
    if (bytes.length > allowed) {
      bytes = bytes.subarray(0, allowed);
      this.#cut = true;
    }
    this.#delivered += bytes.length;
    this.#meter?.take(bytes.length);
    this.#accept(bytes);
    if (this.#cut) this.#flushPrelude();
    return this.room();
  }

  end(contentType: string): void {
    this.#setContentType(contentType);
    this.#ended = true;
    this.#flushPrelude();
  }

  /**
   * The invocation ended. A handler that did not stream answered with `payload` (JSON text): one
   * chunk. Ends `payload` and makes sure the head is out.
   */
  finish(result: InvokeResult): void {
    if (!this.#ended && result.functionError === undefined) {
      // Not streamified: Lambda returns the buffered response as the stream (one chunk).
      this.#contentType = 'application/json';
      this.#take(Buffer.from(JSON.stringify(result.payload), 'utf8'));
    }
    this.#flushPrelude();
    this.#announce(this.#contentType ?? 'application/json', undefined);
    if (!this.payload.destroyed) this.payload.push(null);
  }

  /** The first write fixes it; it becomes a header, so it must be one (Node's checkInvalidHeaderChar). */
  #setContentType(contentType: string): void {
    if (this.#contentType !== undefined) return;
    if (INVALID_HEADER_CHAR.test(contentType)) throw new TypeError('Invalid character in header content ["Content-Type"]');
    this.#contentType = contentType;
  }

  #accept(bytes: Buffer): void {
    if (this.#head === undefined && this.#contentType === HTTP_INTEGRATION_CONTENT_TYPE) {
      (this.#preludeBytes ??= []).push(bytes);
      this.#preludeLength += bytes.length;
      this.#measure();
      const held = Buffer.concat(this.#preludeBytes);
      const at = held.indexOf(DELIMITER);
      if (at >= 0) return this.#flushPrelude(held, at);
      // Never hold more than the in-flight bound: without a delimiter by then, it is no prelude.
      if (this.#preludeLength >= this.#options.maxInFlightBytes) this.#flushPrelude();
      return;
    }
    this.#announce(this.#contentType!, undefined);
    if (bytes.length > 0) this.#push(bytes);
  }

  /**
   * Releases the bytes held for the prelude: parsed when `at` (the delimiter's offset) is given and
   * the text before it is a JSON object; left in the stream as they are otherwise.
   */
  #flushPrelude(held?: Buffer, at?: number): void {
    if (this.#preludeBytes === undefined) return;
    const bytes = held ?? Buffer.concat(this.#preludeBytes);
    this.#preludeBytes = undefined;
    this.#preludeLength = 0;
    const prelude = at === undefined ? undefined : parsePrelude(bytes.subarray(0, at));
    this.#announce(this.#contentType!, prelude);
    const body = prelude !== undefined && this.#options.stripPrelude ? bytes.subarray(at! + DELIMITER.length) : bytes;
    if (body.length > 0) this.#push(body);
  }

  #announce(contentType: string, prelude: HttpResponsePrelude | undefined): void {
    if (this.#head) return;
    this.#head = { contentType, prelude };
    this.#onHead(this.#head);
  }

  #push(bytes: Buffer): void {
    // A reader that destroyed the stream has left; what the function still writes is discarded.
    if (this.payload.destroyed) return;
    this.payload.push(bytes);
    this.#measure();
  }

  #measure(): void {
    const held = this.payload.readableLength + this.#preludeLength;
    if (held > this.#peak) this.#peak = held;
  }
}

function parsePrelude(bytes: Buffer): HttpResponsePrelude | undefined {
  try {
    const value: unknown = JSON.parse(bytes.toString('utf8'));
    return typeof value === 'object' && value !== null && !Array.isArray(value) ? (value as HttpResponsePrelude) : undefined;
  } catch {
    return undefined;
  }
}

/** Lambda's error for a stream over its limit (the Invoke limit's wording, with the stream's figure). */
function tooLarge(limit: number): { errorType: string; errorMessage: string } {
  return { errorType: 'Function.ResponseSizeTooLarge', errorMessage: `Response payload size exceeded maximum allowed payload size (${limit} bytes).` };
}

/**
 * Runs one streamed invocation: `run(sink)` is the Invoker's invoke with this sink. Resolves once
 * the stream's head is known (its first write, its prelude, its end, or the invocation's end);
 * rejects with the service errors rt.invoke throws (admission, SnapStart), which come before any
 * byte.
 */
export function streamInvocation(
  executedVersion: string,
  options: ResponseStreamOptions,
  run: (stream: StreamedInvocation) => Promise<InvokeResult>,
): Promise<InvokeResponseStream> {
  const requestId = randomUUID();
  const head = Promise.withResolvers<Head>();
  const sink = new StreamedResponse(options, head.resolve);
  const completion = run({ sink, requestId }).then((result) => {
    sink.finish(result);
    return complete(result, sink, options.maxResponseBytes);
  });
  // Before the head a service error rejects the call itself; after it, only `completion`. The
  // payload is destroyed without an error: a reader with no 'error' listener must not crash.
  const failed = completion.then(
    () => new Promise<never>(() => {}),
    (error: unknown) => {
      sink.payload.destroy();
      throw error;
    },
  );
  return Promise.race([
    head.promise.then(({ contentType, prelude }): InvokeResponseStream => (
      { statusCode: 200, requestId, executedVersion, contentType, prelude, payload: sink.payload, completion }
    )),
    failed,
  ]);
}

function complete(result: InvokeResult, sink: StreamedResponse, limit: number): ResponseStreamCompletion {
  const { payload, functionError, ...rest } = result;
  const base = { ...rest, responseBytes: sink.delivered, peakBufferedBytes: sink.peakBufferedBytes };
  const logResult = result.logResult === undefined ? {} : { LogResult: result.logResult };
  let error: ResponseStreamCompletion['error'];
  if (sink.cut) error = tooLarge(limit);
  else if (functionError !== undefined) error = payload as ResponseStreamCompletion['error'];
  if (error === undefined) return { ...base, invokeComplete: logResult };
  return {
    ...base,
    functionError: 'Unhandled',
    error,
    invokeComplete: { ErrorCode: error.errorType, ErrorDetails: error.errorMessage, ...logResult },
  };
}
