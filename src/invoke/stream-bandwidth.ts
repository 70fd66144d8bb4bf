/**
 * The bandwidth cap of a streamed response (configuration-response-streaming.html, "Bandwidth
 * limits for response streaming"): "The first 6 MB of your function's response payload has
 * uncapped bandwidth. After this initial burst, Lambda streams your response at a maximum rate of
 * 2 MBps. If your function responses never exceed 6 MB, then this bandwidth limit never applies."
 *
 * MB here is MiB, as in Lambda's 6 MB synchronous limit (6,291,456 bytes) and the 200 MB stream
 * limit (209,715,200): 6,291,456 bytes uncapped, then 2,097,152 bytes per second.
 *
 * How the rate is measured is lambdalet's choice (AWS documents only the maximum): a token bucket
 * that starts empty when the uncapped bytes are used up and fills at `bytesPerSecond`, holding at
 * most a tenth of a second's worth, so over any interval of T seconds after the burst at most
 * `bytesPerSecond × (T + 0.1)` bytes pass, and a function that paused cannot bank a second burst.
 *
 * The cap acts on the sink's room (response-stream.ts): while the bucket is empty the room is 0 and
 * the guest's writes wait, polling as they wait for a slow reader (environment/response-sink.ts).
 */
import { z } from 'zod';
import { STREAM_BANDWIDTH_BYTES_PER_SECOND, STREAM_UNCAPPED_BYTES, STREAM_RESPONSE_MAX_BYTES } from '../config/index.ts';
import { integerIn } from '../config/fields.ts';
import { expected, parseWith, type Subject } from '../config/format.ts';

/** `bandwidth` of InvokeWithResponseStream's options: `false` turns the cap off. */
export type StreamBandwidthInput =
  | false
  | {
      /** Bytes at the start of the response that pass uncapped: 0 to 209715200. Default 6291456 (6 MB). */
      readonly uncappedBytes?: number;
      /** The rate past them, bytes per second: 1 to 1073741824. Default 2097152 (2 MBps). */
      readonly bytesPerSecond?: number;
      /** The clock the rate is measured on, milliseconds (any origin). Default `performance.now`; give a manual one in tests. */
      readonly now?: () => number;
    };

export interface StreamBandwidth {
  readonly uncappedBytes: number;
  readonly bytesPerSecond: number;
  readonly now: () => number;
}

/** The largest rate one may set: 1 GiB/s (faster is the same as no cap on one host). */
export const STREAM_BANDWIDTH_MAX_BYTES_PER_SECOND = 1_073_741_824;

/** zod schema of a `bandwidth` object, Lambda's figures as defaults (`false` is handled before it). */
const bandwidthObjectSchema = z.strictObject(
  {
    uncappedBytes: integerIn(0, STREAM_RESPONSE_MAX_BYTES).default(STREAM_UNCAPPED_BYTES),
    bytesPerSecond: integerIn(1, STREAM_BANDWIDTH_MAX_BYTES_PER_SECOND).default(STREAM_BANDWIDTH_BYTES_PER_SECOND),
    now: z.custom<() => number>((v) => typeof v === 'function', expected('be a function returning milliseconds')).default(() => () => performance.now()),
  },
  expected('be false or an object like { uncappedBytes, bytesPerSecond, now }'),
);

/**
 * `bandwidth` as the caller gave it (undefined: Lambda's cap) → the cap, or false. Not a zod union:
 * a union's error would name `bandwidth`, not the field inside it that was wrong.
 * @throws InvalidParameterValueException naming the field (`bandwidth.bytesPerSecond`, ...).
 */
export function parseStreamBandwidth(input: unknown, subject: Subject): StreamBandwidth | false {
  if (input === false) return false;
  return parseWith(z.strictObject({ bandwidth: bandwidthObjectSchema.default(() => bandwidthObjectSchema.parse({})) }), { bandwidth: input }, subject).bandwidth;
}

/** The share of a second the bucket may hold (see the module comment). */
const BUCKET_SECONDS = 0.1;

/** One response's allowance: how many more bytes may pass now. */
export class BandwidthMeter {
  readonly #config: StreamBandwidth;
  #passed = 0;
  /** Whether the uncapped bytes are used up (the bucket runs from then on). */
  #capped = false;
  #tokens = 0;
  #last = 0;

  constructor(config: StreamBandwidth) {
    this.#config = config;
  }

  /** Bytes that may pass now (never negative). */
  allowance(): number {
    if (!this.#capped) {
      const uncappedLeft = this.#config.uncappedBytes - this.#passed;
      if (uncappedLeft > 0) return uncappedLeft;
      this.#start(); // uncappedBytes 0: capped from the first byte
    }
    this.#refill();
    return Math.floor(this.#tokens);
  }

  /** `bytes` passed (at most the last allowance). */
  take(bytes: number): void {
    const uncappedLeft = this.#config.uncappedBytes - this.#passed;
    this.#passed += bytes;
    if (!this.#capped) {
      if (bytes < uncappedLeft) return;
      this.#start();
      bytes -= uncappedLeft;
    } else {
      this.#refill();
    }
    this.#tokens -= bytes;
  }

  /** The burst is used up now: the bucket starts empty at this moment. */
  #start(): void {
    this.#capped = true;
    this.#tokens = 0;
    this.#last = this.#config.now();
  }

  #refill(): void {
    const now = this.#config.now();
    const elapsed = Math.max(0, now - this.#last);
    this.#last = now;
    const capacity = Math.max(1, this.#config.bytesPerSecond * BUCKET_SECONDS);
    this.#tokens = Math.min(capacity, this.#tokens + (this.#config.bytesPerSecond * elapsed) / 1000);
  }
}
