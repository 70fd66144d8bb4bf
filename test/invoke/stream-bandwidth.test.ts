/**
 * The bandwidth cap of a streamed response (src/invoke/stream-bandwidth.ts). Sources:
 * - the rule: https://docs.aws.amazon.com/lambda/latest/dg/configuration-response-streaming.html,
 *   "Bandwidth limits for response streaming": "The first 6 MB of your function's response payload
 *   has uncapped bandwidth. After this initial burst, Lambda streams your response at a maximum rate
 *   of 2 MBps."
 * - how it is measured: Lambda's RAPID, aws/aws-lambda-runtime-interface-emulator —
 *   lambda/interop/model.go (ResponseBandwidthRate 2 MiB/s, ResponseBandwidthBurstSize 6 MiB, each
 *   settable within 32 KiB..64 MiB), lambda/core/directinvoke (a bucket of capacity = burst, full at
 *   the start, `rate * 125 / 1000` tokens every 125 ms), lambda/core/bandwidthlimiter/throttler.go
 *   (the ticker starts at the first write; the bucket is capped at its capacity).
 *
 * Every case runs on a manual clock: nothing here depends on how fast the machine is. "At most the
 * rate" is asserted as an invariant (bytes received ≤ burst + refills due on the manual clock, at
 * every read), never as a measured speed.
 */
import { Buffer } from 'node:buffer';
import { describe, expect, it } from 'vitest';
import { STREAM_BANDWIDTH_BYTES_PER_SECOND, STREAM_UNCAPPED_BYTES } from '../../src/config/index.ts';
import { createRuntime, InvalidParameterValueException, type Runtime } from '../../src/index.ts';
import { splitResponseStreamOptions, StreamedResponse, type ResponseStreamOptions } from '../../src/invoke/response-stream.ts';
import { BandwidthMeter, STREAM_BANDWIDTH_MAX, STREAM_BANDWIDTH_MIN } from '../../src/invoke/stream-bandwidth.ts';
import { captureLogs } from '../helpers/runtime.ts';

/** A clock the test moves by hand, in milliseconds. */
function manualClock(): { now: () => number; advance: (ms: number) => void } {
  let t = 1_000;
  return { now: () => t, advance: (ms) => void (t += ms) };
}

const LAMBDA = { burstBytes: STREAM_UNCAPPED_BYTES, bytesPerSecond: STREAM_BANDWIDTH_BYTES_PER_SECOND };
/** RAPID's refill: 2 MiB/s × 125 ms. */
const REFILL = 262_144;

describe('the bandwidth cap: Lambda figures by default (6 MiB burst, then 2 MiB/s in 125 ms steps)', () => {
  it('the defaults are Lambda’s and the cap is on unless turned off', () => {
    const { stream } = splitResponseStreamOptions({});
    expect(stream.bandwidth).toMatchObject({ burstBytes: 6_291_456, bytesPerSecond: 2_097_152 });
    expect(STREAM_UNCAPPED_BYTES).toBe(6 * 1024 * 1024);
    expect(STREAM_BANDWIDTH_BYTES_PER_SECOND).toBe(2 * 1024 * 1024);
    expect(splitResponseStreamOptions({ bandwidth: false }).stream.bandwidth).toBe(false);
  });

  it('6 MiB less one byte and exactly 6 MiB pass with the clock stopped; the byte past 6 MiB waits for the first 125 ms refill', () => {
    const clock = manualClock();
    for (const size of [STREAM_UNCAPPED_BYTES - 1, STREAM_UNCAPPED_BYTES]) {
      const meter = new BandwidthMeter({ ...LAMBDA, now: clock.now });
      expect(meter.allowance()).toBe(STREAM_UNCAPPED_BYTES);
      meter.take(size);
      expect(meter.allowance()).toBe(STREAM_UNCAPPED_BYTES - size);
    }
    const over = new BandwidthMeter({ ...LAMBDA, now: clock.now });
    over.take(STREAM_UNCAPPED_BYTES);
    expect(over.allowance()).toBe(0); // the 6 MiB + 1st byte cannot pass at the same instant
    clock.advance(124);
    expect(over.allowance()).toBe(0); // no refill before the ticker's first 125 ms
    clock.advance(1);
    expect(over.allowance()).toBe(REFILL);
    over.take(1);
    expect(over.allowance()).toBe(REFILL - 1);
  });

  it('past the burst, bytes passed never exceed one refill per 125 ms elapsed (2 MiB/s); a pause earns the burst back, never more', () => {
    const clock = manualClock();
    const meter = new BandwidthMeter({ ...LAMBDA, now: clock.now });
    meter.take(STREAM_UNCAPPED_BYTES);
    let passed = 0;
    for (let ms = 1; ms <= 1000; ms++) {
      clock.advance(1);
      const allowed = meter.allowance();
      meter.take(allowed);
      passed += allowed;
      expect(passed).toBeLessThanOrEqual(Math.floor(ms / 125) * REFILL);
    }
    expect(passed).toBe(STREAM_BANDWIDTH_BYTES_PER_SECOND); // 8 refills in one second
    clock.advance(60_000); // a minute's pause: the bucket is full again, and no fuller
    expect(meter.allowance()).toBe(STREAM_UNCAPPED_BYTES);
  });

  it('the sink’s room is the smaller of the in-flight room and the bucket (environment/response-sink.ts contract)', () => {
    const clock = manualClock();
    const options: ResponseStreamOptions = { stripPrelude: false, maxInFlightBytes: 65_536, maxResponseBytes: 1_000_000, bandwidth: { burstBytes: 40_000, bytesPerSecond: 32_768, now: clock.now } };
    const sink = new StreamedResponse(options, () => {});
    expect(sink.room()).toBe(40_000);
    expect(sink.write('text/plain', Buffer.alloc(30_000))).toBe(10_000);
    sink.payload.read();
    expect(sink.write('text/plain', Buffer.alloc(10_000))).toBe(0);
    expect(() => sink.write('text/plain', Buffer.from('b'))).toThrow(new RangeError('stream.write: 1 bytes sent with room for 0'));
    clock.advance(125);
    expect(sink.room()).toBe(4_096); // 32768 × 125 / 1000
  });

  it('bandwidth: false turns the cap off: past 6 MiB the room is the in-flight room alone', () => {
    const options: ResponseStreamOptions = { stripPrelude: false, maxInFlightBytes: 16 * 1024 * 1024, maxResponseBytes: 209_715_200, bandwidth: false };
    const sink = new StreamedResponse(options, () => {});
    sink.write('application/octet-stream', Buffer.alloc(STREAM_UNCAPPED_BYTES + 1));
    expect(sink.room()).toBe(16 * 1024 * 1024 - STREAM_UNCAPPED_BYTES - 1);
    const capped = new StreamedResponse({ ...options, bandwidth: { ...LAMBDA, now: () => 0 } }, () => {});
    capped.write('application/octet-stream', Buffer.alloc(STREAM_UNCAPPED_BYTES));
    expect(capped.room()).toBe(0);
  });

  it('bandwidth is checked: false or { burstBytes, bytesPerSecond each 32768..67108864 (RAPID’s bounds), now a function } (InvalidParameterValueException naming the field)', () => {
    for (const [bandwidth, field] of [
      [true, 'bandwidth'],
      ['2MBps', 'bandwidth'],
      [{ burstBytes: STREAM_BANDWIDTH_MIN - 1 }, 'bandwidth.burstBytes'],
      [{ burstBytes: STREAM_BANDWIDTH_MAX + 1 }, 'bandwidth.burstBytes'],
      [{ bytesPerSecond: STREAM_BANDWIDTH_MIN - 1 }, 'bandwidth.bytesPerSecond'],
      [{ bytesPerSecond: STREAM_BANDWIDTH_MAX + 1 }, 'bandwidth.bytesPerSecond'],
      [{ bytesPerSecond: 40_000.5 }, 'bandwidth.bytesPerSecond'],
      [{ now: 5 }, 'bandwidth.now'],
      [{ rate: 5 }, 'bandwidth.rate'],
    ] as const) {
      let error: unknown;
      try {
        splitResponseStreamOptions({ bandwidth });
      } catch (e) {
        error = e;
      }
      expect(error, JSON.stringify(bandwidth)).toBeInstanceOf(InvalidParameterValueException);
      expect((error as InvalidParameterValueException).field, JSON.stringify(bandwidth)).toBe(field);
    }
    for (const bandwidth of [{ burstBytes: STREAM_BANDWIDTH_MIN }, { burstBytes: STREAM_BANDWIDTH_MAX }, { bytesPerSecond: STREAM_BANDWIDTH_MIN }, { bytesPerSecond: STREAM_BANDWIDTH_MAX }]) {
      expect(splitResponseStreamOptions({ bandwidth }).stream.bandwidth).toMatchObject(bandwidth);
    }
  });
});

describe('the bandwidth cap through rt.invokeWithResponseStream [v8] (figures lowered, manual clock)', () => {
  async function withRuntime(body: (rt: Runtime) => Promise<void>): Promise<void> {
    const rt = await createRuntime({ logSink: captureLogs() });
    try {
      await rt.deploy({
        name: 'sized',
        // e.n bytes in writes of 1000, so the bucket empties inside a write.
        code: { files: { 'index.mjs': "export const handler = awslambda.streamifyResponse(async (e, s) => { for (let i = 0; i < e.n; i += 1000) s.write('x'.repeat(Math.min(1000, e.n - i))); s.end(); });" } },
        timeoutMs: 300_000,
      });
      await body(rt);
    } finally {
      await rt.close();
    }
  }

  it('at and under the burst the response completes with the clock stopped; one byte over waits until the clock reaches the first refill', () =>
    withRuntime(async (rt) => {
      const clock = manualClock();
      const burst = STREAM_BANDWIDTH_MIN;
      const bandwidth = { burstBytes: burst, bytesPerSecond: STREAM_BANDWIDTH_MIN, now: clock.now };
      for (const n of [burst - 1, burst]) {
        const res = await rt.invokeWithResponseStream('sized', { n }, { bandwidth });
        let body = 0;
        for await (const chunk of res.payload as AsyncIterable<Buffer>) body += chunk.length;
        expect(body).toBe(n);
        expect((await res.completion).functionError).toBeUndefined();
      }
      const res = await rt.invokeWithResponseStream('sized', { n: burst + 1 }, { bandwidth });
      let settled = false;
      void res.completion.then(() => (settled = true));
      const reader = res.payload[Symbol.asyncIterator]() as AsyncIterator<Buffer>;
      let received = 0;
      while (received < burst) received += (await reader.next()).value!.length;
      expect(received).toBe(burst);
      // The clock has not moved: the last byte cannot have passed, so the invocation cannot be over.
      expect(settled).toBe(false);
      clock.advance(125);
      const last = await reader.next();
      expect(last.value!.length).toBe(1);
      expect((await reader.next()).done).toBe(true);
      expect((await res.completion).responseBytes).toBe(burst + 1);
    }));

  it('a longer response: at every read, bytes received ≤ burst + refills due on the clock; all arrive', () =>
    withRuntime(async (rt) => {
      const clock = manualClock();
      const burst = STREAM_BANDWIDTH_MIN;
      const refill = (STREAM_BANDWIDTH_MIN * 125) / 1000;
      // The ticker starts at the first write, which comes after this.
      const start = clock.now();
      const res = await rt.invokeWithResponseStream('sized', { n: 3 * burst }, { bandwidth: { burstBytes: burst, bytesPerSecond: STREAM_BANDWIDTH_MIN, now: clock.now } });
      const reader = res.payload[Symbol.asyncIterator]() as AsyncIterator<Buffer>;
      let received = 0;
      const mover = setInterval(() => clock.advance(25), 1);
      try {
        for (let next = await reader.next(); !next.done; next = await reader.next()) {
          received += next.value.length;
          expect(received).toBeLessThanOrEqual(burst + Math.floor((clock.now() - start) / 125) * refill);
        }
      } finally {
        clearInterval(mover);
      }
      expect(received).toBe(3 * burst);
    }));
});
