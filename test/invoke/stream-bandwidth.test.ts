/**
 * The bandwidth cap of a streamed response (src/invoke/stream-bandwidth.ts). Source of the rule:
 * https://docs.aws.amazon.com/lambda/latest/dg/configuration-response-streaming.html, "Bandwidth
 * limits for response streaming": "The first 6 MB of your function's response payload has uncapped
 * bandwidth. After this initial burst, Lambda streams your response at a maximum rate of 2 MBps. If
 * your function responses never exceed 6 MB, then this bandwidth limit never applies."
 *
 * Every case runs on a manual clock: nothing here depends on how fast the machine is. "At most the
 * rate" is asserted as an invariant (bytes received ≤ uncapped + rate × elapsed on the manual
 * clock, at every read), never as a measured speed.
 */
import { Buffer } from 'node:buffer';
import { describe, expect, it } from 'vitest';
import { STREAM_BANDWIDTH_BYTES_PER_SECOND, STREAM_UNCAPPED_BYTES } from '../../src/config/index.ts';
import { createRuntime, InvalidParameterValueException, type Runtime } from '../../src/index.ts';
import { splitResponseStreamOptions, StreamedResponse, type ResponseStreamOptions } from '../../src/invoke/response-stream.ts';
import { BandwidthMeter, STREAM_BANDWIDTH_MAX_BYTES_PER_SECOND } from '../../src/invoke/stream-bandwidth.ts';
import { captureLogs } from '../helpers/runtime.ts';

/** A clock the test moves by hand, in milliseconds. */
function manualClock(): { now: () => number; advance: (ms: number) => void } {
  let t = 1_000;
  return { now: () => t, advance: (ms) => void (t += ms) };
}

describe('the bandwidth cap: Lambda figures by default (6 MB = 6291456 bytes uncapped, then 2 MBps = 2097152 bytes/s)', () => {
  it('the defaults are Lambda’s and the cap is on unless turned off', () => {
    const { stream } = splitResponseStreamOptions({});
    expect(stream.bandwidth).toMatchObject({ uncappedBytes: 6_291_456, bytesPerSecond: 2_097_152 });
    expect(STREAM_UNCAPPED_BYTES).toBe(6 * 1024 * 1024);
    expect(STREAM_BANDWIDTH_BYTES_PER_SECOND).toBe(2 * 1024 * 1024);
    expect(splitResponseStreamOptions({ bandwidth: false }).stream.bandwidth).toBe(false);
  });

  it('a response of 6 MB less one byte and of exactly 6 MB passes with the clock stopped; one byte over waits for the clock', () => {
    const clock = manualClock();
    for (const size of [STREAM_UNCAPPED_BYTES - 1, STREAM_UNCAPPED_BYTES]) {
      const meter = new BandwidthMeter({ uncappedBytes: STREAM_UNCAPPED_BYTES, bytesPerSecond: STREAM_BANDWIDTH_BYTES_PER_SECOND, now: clock.now });
      expect(meter.allowance()).toBe(STREAM_UNCAPPED_BYTES);
      meter.take(size);
      expect(meter.allowance()).toBe(STREAM_UNCAPPED_BYTES - size);
    }
    const over = new BandwidthMeter({ uncappedBytes: STREAM_UNCAPPED_BYTES, bytesPerSecond: STREAM_BANDWIDTH_BYTES_PER_SECOND, now: clock.now });
    over.take(STREAM_UNCAPPED_BYTES);
    expect(over.allowance()).toBe(0); // the 6 MB + 1st byte cannot pass at the same instant
    clock.advance(1); // 1 ms at 2097152 B/s: 2097.152 bytes
    expect(over.allowance()).toBe(2097);
    over.take(1);
    expect(over.allowance()).toBe(2096);
  });

  it('past the burst, bytes passed never exceed the rate × the time elapsed; a pause banks at most a tenth of a second', () => {
    const clock = manualClock();
    const rate = STREAM_BANDWIDTH_BYTES_PER_SECOND;
    const meter = new BandwidthMeter({ uncappedBytes: STREAM_UNCAPPED_BYTES, bytesPerSecond: rate, now: clock.now });
    meter.take(STREAM_UNCAPPED_BYTES);
    let passed = 0;
    for (let ms = 1; ms <= 1000; ms++) {
      clock.advance(1);
      const allowed = meter.allowance();
      meter.take(allowed);
      passed += allowed;
      expect(passed).toBeLessThanOrEqual((rate * ms) / 1000);
    }
    // One second at full speed: 2 MB, less the fractions of a byte left in the bucket.
    expect(passed).toBeGreaterThan(rate - 1000);
    clock.advance(60_000); // a minute's pause
    expect(meter.allowance()).toBe(Math.floor(rate / 10));
  });

  it('uncappedBytes 0 caps from the first byte', () => {
    const clock = manualClock();
    const meter = new BandwidthMeter({ uncappedBytes: 0, bytesPerSecond: 1000, now: clock.now });
    expect(meter.allowance()).toBe(0);
    clock.advance(5);
    expect(meter.allowance()).toBe(5);
  });

  it('the sink’s room is the smaller of the in-flight room and the allowance (environment/response-sink.ts contract)', () => {
    const clock = manualClock();
    const options: ResponseStreamOptions = { stripPrelude: false, maxInFlightBytes: 8, maxResponseBytes: 100, bandwidth: { uncappedBytes: 10, bytesPerSecond: 1000, now: clock.now } };
    const sink = new StreamedResponse(options, () => {});
    expect(sink.room()).toBe(8);
    expect(sink.write('text/plain', Buffer.from('12345678'))).toBe(0);
    sink.payload.read();
    expect(sink.room()).toBe(2); // 8 of the 10 uncapped bytes are gone
    expect(sink.write('text/plain', Buffer.from('9a'))).toBe(0);
    expect(() => sink.write('text/plain', Buffer.from('b'))).toThrow(new RangeError('stream.write: 1 bytes sent with room for 0'));
    clock.advance(3);
    expect(sink.room()).toBe(3);
  });

  it('bandwidth: false turns the cap off: past 6 MB the room is the in-flight room alone', () => {
    const options: ResponseStreamOptions = { stripPrelude: false, maxInFlightBytes: 16 * 1024 * 1024, maxResponseBytes: 209_715_200, bandwidth: false };
    const sink = new StreamedResponse(options, () => {});
    sink.write('application/octet-stream', Buffer.alloc(STREAM_UNCAPPED_BYTES + 1));
    expect(sink.room()).toBe(16 * 1024 * 1024 - STREAM_UNCAPPED_BYTES - 1);
    const capped = new StreamedResponse({ ...options, bandwidth: { uncappedBytes: STREAM_UNCAPPED_BYTES, bytesPerSecond: STREAM_BANDWIDTH_BYTES_PER_SECOND, now: () => 0 } }, () => {});
    capped.write('application/octet-stream', Buffer.alloc(STREAM_UNCAPPED_BYTES));
    expect(capped.room()).toBe(0);
  });

  it('bandwidth is checked: false or { uncappedBytes 0..209715200, bytesPerSecond 1..1073741824, now a function } (InvalidParameterValueException naming the field)', () => {
    for (const [bandwidth, field] of [
      [true, 'bandwidth'],
      ['2MBps', 'bandwidth'],
      [{ uncappedBytes: -1 }, 'bandwidth.uncappedBytes'],
      [{ uncappedBytes: 209_715_201 }, 'bandwidth.uncappedBytes'],
      [{ bytesPerSecond: 0 }, 'bandwidth.bytesPerSecond'],
      [{ bytesPerSecond: STREAM_BANDWIDTH_MAX_BYTES_PER_SECOND + 1 }, 'bandwidth.bytesPerSecond'],
      [{ bytesPerSecond: 1.5 }, 'bandwidth.bytesPerSecond'],
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
    for (const bandwidth of [{ uncappedBytes: 0 }, { uncappedBytes: 209_715_200 }, { bytesPerSecond: 1 }, { bytesPerSecond: STREAM_BANDWIDTH_MAX_BYTES_PER_SECOND }]) {
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
        code: { files: { 'index.mjs': "export const handler = awslambda.streamifyResponse(async (e, s) => { for (let i = 0; i < e.n; i += 7) s.write('x'.repeat(Math.min(7, e.n - i))); s.end(); });" } },
        timeoutMs: 300_000,
      });
      await body(rt);
    } finally {
      await rt.close();
    }
  }

  it('at and under the uncapped bytes the response completes with the clock stopped; over them, the guest waits until the clock moves', () =>
    withRuntime(async (rt) => {
      const clock = manualClock();
      const bandwidth = { uncappedBytes: 100, bytesPerSecond: 1000, now: clock.now };
      for (const n of [99, 100]) {
        const res = await rt.invokeWithResponseStream('sized', { n }, { bandwidth });
        let body = 0;
        for await (const chunk of res.payload as AsyncIterable<Buffer>) body += chunk.length;
        expect(body).toBe(n);
        expect((await res.completion).functionError).toBeUndefined();
      }
      // 101 bytes: 100 pass at once, the 101st only once the clock has moved 1 ms (1 byte at 1000 B/s).
      const res = await rt.invokeWithResponseStream('sized', { n: 101 }, { bandwidth });
      let settled = false;
      void res.completion.then(() => (settled = true));
      const reader = res.payload[Symbol.asyncIterator]() as AsyncIterator<Buffer>;
      let received = 0;
      while (received < 100) received += (await reader.next()).value!.length;
      expect(received).toBe(100);
      // The clock has not moved: the last byte cannot have passed, so the invocation cannot be over.
      expect(settled).toBe(false);
      clock.advance(1);
      const last = await reader.next();
      expect(last.value!.length).toBe(1);
      expect((await reader.next()).done).toBe(true);
      expect((await res.completion).responseBytes).toBe(101);
    }));

  it('a longer response: at every read, bytes received ≤ uncapped + rate × elapsed on the clock; all arrive', () =>
    withRuntime(async (rt) => {
      const clock = manualClock();
      const start = clock.now();
      const uncappedBytes = 50;
      const bytesPerSecond = 1000;
      const res = await rt.invokeWithResponseStream('sized', { n: 400 }, { bandwidth: { uncappedBytes, bytesPerSecond, now: clock.now } });
      const reader = res.payload[Symbol.asyncIterator]() as AsyncIterator<Buffer>;
      let received = 0;
      const mover = setInterval(() => clock.advance(10), 1);
      try {
        for (let next = await reader.next(); !next.done; next = await reader.next()) {
          received += next.value.length;
          expect(received).toBeLessThanOrEqual(uncappedBytes + ((clock.now() - start) * bytesPerSecond) / 1000);
        }
      } finally {
        clearInterval(mover);
      }
      expect(received).toBe(400);
    }));

});
