/**
 * The host's clock and timers, kept real when a test framework fakes the global ones
 * (`vi.useFakeTimers()`, `jest.useFakeTimers()`, @sinonjs/fake-timers): those replace
 * globalThis's setTimeout, Date and performance, and a handler's test that fakes them must still
 * get Lambda's timeouts and remaining time. Guests never see fake time either way: a sandbox's
 * Date and timers are its own.
 *
 * node:perf_hooks' `performance` and node:timers' functions, imported by name, are not the
 * globals fake timers replace; `Date.now` is taken when lambdalet loads (before a test's
 * `useFakeTimers()`; if it is faked already, perf_hooks' clock stands in). Host modules whose deadlines or waits a guest's outcome depends on import
 * these instead of the globals (test/testing/fake-timers.test.ts).
 */
import { performance } from 'node:perf_hooks';

export { performance };
export { clearTimeout, setImmediate, setTimeout } from 'node:timers';

// Date.now as lambdalet loads: real unless the clock was faked before (a vitest setup file
// calling vi.useFakeTimers()); then the wall clock is taken from node:perf_hooks instead, which
// fake timers leave alone (its origin plus the monotonic time since).
const dateNow = wallClock(Date.now);

/** `now` when it is the engine's own Date.now; otherwise (a fake) the wall clock from node:perf_hooks. */
export function wallClock(now: () => number): () => number {
  return /\{\s*\[native code\]\s*\}\s*$/.test(Function.prototype.toString.call(now))
    ? now.bind(Date)
    : (): number => Math.round(performance.timeOrigin + performance.now());
}

/** Epoch milliseconds on the real wall clock (the one a guest's Date reads). */
export function wallNow(): number {
  return dateNow();
}
