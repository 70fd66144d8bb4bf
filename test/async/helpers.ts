/** Shared by the async tests: a manual epoch clock, and handlers that record what they were given. */
import type { EventClock } from '../../src/config/index.ts';

interface Timer {
  readonly at: number;
  readonly callback: () => void;
  cancelled: boolean;
}

/** Epoch-millisecond time that moves only when the test says so; due timers fire during advance(). */
export class TestClock implements EventClock {
  #now: number;
  readonly #timers: Timer[] = [];

  constructor(start = Date.UTC(2026, 11, 1, 10, 0, 0)) {
    this.#now = start;
  }

  now(): number {
    return this.#now;
  }

  setTimeout(callback: () => void, ms: number): unknown {
    const timer: Timer = { at: this.#now + ms, callback, cancelled: false };
    this.#timers.push(timer);
    return timer;
  }

  clearTimeout(handle: unknown): void {
    (handle as Timer).cancelled = true;
  }

  /** Due times of the timers not yet fired. */
  pendingAt(): number[] {
    return this.#timers.filter((t) => !t.cancelled).map((t) => t.at);
  }

  /** Resolves once a timer due at `at` is set (a handler waiting on the clock), yielding in between. */
  async timerAt(at: number): Promise<void> {
    while (!this.pendingAt().includes(at)) await new Promise((resolve) => setImmediate(resolve));
  }

  advance(ms: number): void {
    const end = this.#now + ms;
    for (;;) {
      const due = this.#timers.filter((t) => !t.cancelled && t.at <= end).sort((a, b) => a.at - b.at)[0];
      if (due === undefined) break;
      due.cancelled = true;
      this.#now = Math.max(this.#now, due.at);
      due.callback();
    }
    this.#now = end;
  }
}

/**
 * A handler that appends one JSON line per call to /tmp? No: functions cannot share state with the
 * host, so this one answers with what it saw and fails while `event.fail` says so.
 */
export const RECORDING_HANDLER = `
let calls = 0;
export const handler = async (event, context) => {
  calls += 1;
  if (event && event.failTimes !== undefined && calls <= event.failTimes) throw new Error('failing call ' + calls);
  if (event && event.fail) throw new Error('always failing');
  return { requestId: context.awsRequestId, calls, event };
};`;
