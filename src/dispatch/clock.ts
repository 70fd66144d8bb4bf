/**
 * The dispatcher's only source of time, so every rule (scale-up rate, idle TTL, queue waits, close
 * deadline) can be driven by a test clock. Times are milliseconds on a monotonic scale.
 */

/** A cancellable timer handle, opaque to the dispatcher. */
export type TimerHandle = unknown;

export interface Clock {
  /** Monotonic milliseconds. */
  now(): number;
  /**
   * Calls `callback` after `ms`. An `unref`'d timer does not keep the process alive (the idle reaper);
   * the others do (a caller is waiting on them).
   */
  setTimeout(callback: () => void, ms: number, unref: boolean): TimerHandle;
  clearTimeout(handle: TimerHandle): void;
}

/** Real time: `performance.now()` and Node's timers. */
export const systemClock: Clock = {
  now: () => performance.now(),
  setTimeout(callback, ms, unref) {
    const timer = setTimeout(callback, ms);
    if (unref) timer.unref();
    return timer;
  },
  clearTimeout(handle) {
    clearTimeout(handle as ReturnType<typeof setTimeout>);
  },
};
