/**
 * The bandwidth cap of a streamed response. The documented rule (configuration-response-streaming.html,
 * "Bandwidth limits for response streaming"): "The first 6 MB of your function's response payload
 * has uncapped bandwidth. After this initial burst, Lambda streams your response at a maximum rate
 * of 2 MBps. If your function responses never exceed 6 MB, then this bandwidth limit never applies."
 *
 * How Lambda measures it is RAPID's, the Lambda-side code AWS publishes in
 * aws/aws-lambda-runtime-interface-emulator, and is reproduced here exactly:
 * - lambda/interop/model.go: `ResponseBandwidthRate = 2 * 1024 * 1024` ("default average rate of
 *   2 MiB/s"), `ResponseBandwidthBurstSize = 6 * 1024 * 1024` ("default burst size of 6 MiB"); the
 *   invoke may set either within 32 KiB to 64 MiB (`Min/MaxResponseBandwidthRate`, `...BurstSize`).
 * - lambda/core/directinvoke (NewStreamedResponseWriter): a token bucket of capacity = burst,
 *   starting full, refilled with `rate * 125 / 1000` tokens every 125 ms (`DefaultRefillIntervalMs`).
 * - lambda/core/bandwidthlimiter/throttler.go: the refill ticker starts at the response's first
 *   write; a write takes tokens or waits for the next refill; the bucket never holds more than its
 *   capacity. So a response that pauses earns its burst back, up to 6 MiB.
 *
 * The cap acts on the sink's room (response-stream.ts): while the bucket is empty the room is 0 and
 * the guest's writes wait, polling as they wait for a slow reader (environment/response-sink.ts).
 */
import { z } from 'zod';
import { STREAM_BANDWIDTH_BYTES_PER_SECOND, STREAM_UNCAPPED_BYTES } from '../config/index.ts';
import { integerIn } from '../config/fields.ts';
import { expected, parseWith, type Subject } from '../config/format.ts';

/** `bandwidth` of InvokeWithResponseStream's options: `false` turns the cap off. */
export type StreamBandwidthInput =
  | false
  | {
      /** The bucket's capacity, bytes: the burst that passes uncapped. 32768 to 67108864. Default 6291456 (6 MiB). */
      readonly burstBytes?: number;
      /** The rate the bucket refills at, bytes per second (in 125 ms steps). 32768 to 67108864. Default 2097152 (2 MiB/s). */
      readonly bytesPerSecond?: number;
      /** The clock the refills follow, milliseconds (any origin). Default `performance.now`; give a manual one in tests. */
      readonly now?: () => number;
    };

export interface StreamBandwidth {
  readonly burstBytes: number;
  readonly bytesPerSecond: number;
  readonly now: () => number;
}

/** RAPID's bounds for both figures (lambda/interop/model.go, Min/MaxResponseBandwidthRate and ...BurstSize). */
export const STREAM_BANDWIDTH_MIN = 32 * 1024;
export const STREAM_BANDWIDTH_MAX = 64 * 1024 * 1024;
/** RAPID's refill step (lambda/core/directinvoke, DefaultRefillIntervalMs). */
export const STREAM_REFILL_INTERVAL_MS = 125;

/** zod schema of a `bandwidth` object, Lambda's figures as defaults (`false` is handled before it). */
const bandwidthObjectSchema = z.strictObject(
  {
    burstBytes: integerIn(STREAM_BANDWIDTH_MIN, STREAM_BANDWIDTH_MAX).default(STREAM_UNCAPPED_BYTES),
    bytesPerSecond: integerIn(STREAM_BANDWIDTH_MIN, STREAM_BANDWIDTH_MAX).default(STREAM_BANDWIDTH_BYTES_PER_SECOND),
    now: z.custom<() => number>((v) => typeof v === 'function', expected('be a function returning milliseconds')).default(() => () => performance.now()),
  },
  expected('be false or an object like { burstBytes, bytesPerSecond, now }'),
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

/** One response's token bucket (RAPID's Bucket and Throttler, on an injectable clock). */
export class BandwidthMeter {
  readonly #capacity: number;
  /** Tokens added per refill: `rate * 125 / 1000`, an integer as in RAPID's int64 arithmetic. */
  readonly #refill: number;
  readonly #now: () => number;
  #tokens: number;
  /** When the first write came (the refill ticker's start), or undefined before it. */
  #start: number | undefined;
  /** Refills counted so far. */
  #ticks = 0;

  constructor(config: StreamBandwidth) {
    this.#capacity = config.burstBytes;
    this.#tokens = config.burstBytes;
    this.#refill = Math.floor((config.bytesPerSecond * STREAM_REFILL_INTERVAL_MS) / 1000);
    this.#now = config.now;
  }

  /** Bytes that may pass now. */
  allowance(): number {
    this.#catchUp();
    return this.#tokens;
  }

  /** `bytes` passed (at most the last allowance). */
  take(bytes: number): void {
    this.#catchUp();
    this.#start ??= this.#now();
    this.#tokens -= bytes;
  }

  /** Adds the refills due since the ticker started, never past the capacity. */
  #catchUp(): void {
    if (this.#start === undefined) return;
    const ticks = Math.floor((this.#now() - this.#start) / STREAM_REFILL_INTERVAL_MS);
    if (ticks <= this.#ticks) return;
    this.#tokens = Math.min(this.#capacity, this.#tokens + (ticks - this.#ticks) * this.#refill);
    this.#ticks = ticks;
  }
}
