/**
 * The host's clock and timers, kept real when a test framework fakes the global ones
 * (`vi.useFakeTimers()`, `jest.useFakeTimers()`, @sinonjs/fake-timers): those replace
 * globalThis's setTimeout, Date and performance, and a handler's test that fakes them must still
 * get Lambda's timeouts and remaining time. Guests never see fake time either way: a sandbox's
 * Date and timers are its own.
 *
 * node:perf_hooks' `performance` and node:timers' functions, imported by name, are not the
 * globals fake timers replace; `Date.now` is taken when lambdalet loads (before a test's
 * `useFakeTimers()`). Host modules whose deadlines or waits a guest's outcome depends on import
 * these instead of the globals (test/testing/fake-timers.test.ts).
 */
import { performance } from 'node:perf_hooks';

export { performance };
export { clearTimeout, setImmediate, setTimeout } from 'node:timers';

const dateNow = Date.now.bind(Date);

/** Epoch milliseconds on the real wall clock (the one a guest's Date reads). */
export function wallNow(): number {
  return dateNow();
}
