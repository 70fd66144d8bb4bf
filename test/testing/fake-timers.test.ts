/**
 * A handler's test that fakes the clock: `vi.useFakeTimers()` (or `vi.setSystemTime`) in the test
 * file, then `loadHandler(...).invoke(...)`. vitest replaces globalThis's setTimeout, Date and
 * performance; lambdalet's host must keep Lambda's semantics on the real clock anyway (the
 * handler runs in its own sandbox, whose timers and Date are its own):
 * - a handler past its timeout is Sandbox.Timedout (lambda-compat.md A3 "Timeout"), whether it
 *   waits on a timer or spins — before, its deadline was kept on the faked clock and never came: a
 *   spinning handler hung the test, a sleeping one ran past its timeout and succeeded;
 * - context.getRemainingTimeInMillis() is `deadline − Date.now()` in the runtime client (RIC3
 *   InvokeContext, lambda-compat.md A2 "Context object") on one clock: it was negative (0) when the
 *   host computed the deadline from the faked Date and the handler read the real one.
 * Invariants only (no timing assertions): outcomes and bounds the timeout itself sets.
 */
import { fileURLToPath } from 'node:url';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { wallClock } from '../../src/host-clock.ts';
import { loadHandler } from '../../src/testing/index.ts';

const clockPath = fileURLToPath(new URL('./fixtures/clock.mjs', import.meta.url));

interface Clock {
  remainingMs: number;
  now: number;
}

afterEach(() => {
  vi.useRealTimers();
});

describe.each(['v8', 'quickjs'] as const)('loadHandler under vi.useFakeTimers() (%s)', (engine) => {
  it('a handler sleeping past its timeout is Sandbox.Timedout; one that spins too', { timeout: 60_000 }, async () => {
    vi.useFakeTimers();
    await using fn = await loadHandler<{ sleepMs?: number; spin?: boolean }, Clock>(clockPath, { engine, timeoutMs: 300 });
    const slept = await fn.invoke({ sleepMs: 5_000 });
    expect(slept.error?.errorType).toBe('Sandbox.Timedout');
    expect(slept.error?.errorMessage).toBe(`RequestId: ${slept.requestId} Error: Task timed out after 0.30 seconds`);
    const spun = await fn.invoke({ spin: true });
    expect(spun.error?.errorType).toBe('Sandbox.Timedout');
  });

  it('a timer inside the timeout fires and the handler answers; its remaining time is within (0, timeout]', { timeout: 60_000 }, async () => {
    vi.useFakeTimers();
    vi.setSystemTime(new Date('2020-01-01T00:00:00Z'));
    await using fn = await loadHandler<{ sleepMs?: number }, Clock>(clockPath, { engine, timeoutMs: 10_000 });
    const first = await fn.invoke({});
    expect(first.error).toBeUndefined();
    expect(first.payload!.remainingMs).toBeGreaterThan(0);
    expect(first.payload!.remainingMs).toBeLessThanOrEqual(10_000);
    const slept = await fn.invoke({ sleepMs: 20 });
    expect(slept.error).toBeUndefined();
    expect(slept.payload!.remainingMs).toBeGreaterThan(0);
    expect(slept.payload!.remainingMs).toBeLessThanOrEqual(10_000);
    // The host's duration is measured on the real clock: it was 0 with performance faked.
    expect(slept.durationMs).toBeGreaterThan(0);
  });
});

describe('src/host-clock.ts when the clock is already faked as lambdalet loads (a setup file\'s vi.useFakeTimers())', () => {
  it('wallClock(Date.now) keeps a native Date.now and replaces a faked one with the real wall clock', async () => {
    const { performance: realPerformance } = await import('node:perf_hooks');
    const realNow = (): number => realPerformance.timeOrigin + realPerformance.now();
    // Within a minute of the real clock: no timing involved, the fake below is six years away.
    expect(Math.abs(wallClock(Date.now)() - realNow())).toBeLessThan(60_000);
    vi.useFakeTimers();
    vi.setSystemTime(new Date('2020-01-01T00:00:00Z'));
    expect(Date.now()).toBe(Date.parse('2020-01-01T00:00:00Z'));
    expect(Math.abs(wallClock(Date.now)() - realNow())).toBeLessThan(60_000);
  });
});
