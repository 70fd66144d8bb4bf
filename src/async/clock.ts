/**
 * The clock of asynchronous invocation, event sources and schedules: the dispatcher's Clock
 * interface (dispatch/clock.ts), read as epoch milliseconds, because event times are stored and
 * must mean the same thing after a restart (an event's age, a retry's time, a schedule's next run).
 * Tests give `createRuntime({ eventClock })` a manual clock and run minutes of retries in
 * milliseconds.
 */
import type { Clock } from '../dispatch/clock.ts';

export type { Clock, TimerHandle } from '../dispatch/clock.ts';

/** Wall-clock time (`Date.now()`) and Node's timers. */
export const wallClock: Clock = {
  now: () => Date.now(),
  setTimeout(callback, ms, unref) {
    // Node's timers take at most 2^31-1 ms; a longer wait wakes early and looks again.
    const timer = setTimeout(callback, Math.min(ms, 2_147_483_647));
    if (unref) timer.unref();
    return timer;
  },
  clearTimeout(handle) {
    clearTimeout(handle as ReturnType<typeof setTimeout>);
  },
};
