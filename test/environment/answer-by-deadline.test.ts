/**
 * environment/event-loop.ts answerByDeadline: a phase is answered at its deadline on the host's
 * clock whatever its work does (Lambda answers Sandbox.Timedout at the deadline: lambda-compat.md
 * A3 "Timeout"). One timer serves every phase in flight, armed for the earliest deadline; these
 * cases drive it with fake timers (the clock only moves when told), so no outcome depends on a race.
 * The watch reads src/host-clock.ts, which keeps the real clock when a test fakes the globals
 * (test/testing/fake-timers.test.ts); here that module is mocked to read the globals at each call,
 * so vitest's fake timers drive the watch again.
 */
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { SandboxFault } from '../../src/engines/engine.ts';
import { answerByDeadline } from '../../src/environment/event-loop.ts';

vi.mock('../../src/host-clock.ts', () => ({
  performance: { now: () => globalThis.performance.now() },
  setTimeout: (fn: () => void, ms: number) => globalThis.setTimeout(fn, ms),
  clearTimeout: (timer: ReturnType<typeof setTimeout> | undefined) => globalThis.clearTimeout(timer),
  setImmediate: (fn: () => void) => globalThis.setImmediate(fn),
  wallNow: () => Date.now(),
}));

/** A promise that settles only when told. */
function pending<T>(): { promise: Promise<T>; resolve: (value: T) => void; reject: (error: Error) => void } {
  let resolve!: (value: T) => void;
  let reject!: (error: Error) => void;
  const promise = new Promise<T>((res, rej) => {
    resolve = res;
    reject = rej;
  });
  return { promise, resolve, reject };
}

/** How each answer settled, in order. */
function record(log: string[], name: string, answer: Promise<unknown>): void {
  answer.then(
    (value) => log.push(`${name}: ${String(value)}`),
    (error: unknown) => log.push(`${name}: ${error instanceof SandboxFault ? `fault ${error.kind}` : String(error)}`),
  );
}

describe('answerByDeadline', () => {
  beforeEach(() => {
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout', 'performance'] });
  });
  afterEach(() => {
    vi.useRealTimers();
  });

  it('answerByDeadline: work that never settles is a timeout fault at its deadline, each at its own, whatever order they were added in', async () => {
    const log: string[] = [];
    const now = performance.now();
    record(log, 'late', answerByDeadline(pending().promise, now + 300));
    record(log, 'early', answerByDeadline(pending().promise, now + 100));
    record(log, 'middle', answerByDeadline(pending().promise, now + 200));
    await vi.advanceTimersByTimeAsync(99);
    expect(log).toEqual([]);
    await vi.advanceTimersByTimeAsync(2);
    expect(log).toEqual(['early: fault timeout']);
    await vi.advanceTimersByTimeAsync(100);
    expect(log).toEqual(['early: fault timeout', 'middle: fault timeout']);
    await vi.advanceTimersByTimeAsync(100);
    expect(log).toEqual(['early: fault timeout', 'middle: fault timeout', 'late: fault timeout']);
  });

  it('answerByDeadline: work settled before its deadline gives its own outcome; its later deadline changes nothing', async () => {
    const log: string[] = [];
    const now = performance.now();
    const ok = pending<string>();
    const failing = pending<string>();
    record(log, 'ok', answerByDeadline(ok.promise, now + 100));
    record(log, 'failing', answerByDeadline(failing.promise, now + 100));
    ok.resolve('answered');
    failing.reject(new Error('guest error'));
    await vi.advanceTimersByTimeAsync(1);
    expect(log).toEqual(['ok: answered', 'failing: Error: guest error']);
    await vi.advanceTimersByTimeAsync(500);
    expect(log).toEqual(['ok: answered', 'failing: Error: guest error']);
  });

  it('answerByDeadline: work settling after its deadline is absorbed (the timeout stands, no unhandled rejection)', async () => {
    const log: string[] = [];
    const unhandled = vi.fn();
    process.on('unhandledRejection', unhandled);
    try {
      const now = performance.now();
      const late = pending<string>();
      const lateFailure = pending<string>();
      record(log, 'late', answerByDeadline(late.promise, now + 50));
      record(log, 'lateFailure', answerByDeadline(lateFailure.promise, now + 50));
      await vi.advanceTimersByTimeAsync(51);
      late.resolve('too late');
      lateFailure.reject(new SandboxFault('disposed', 'The isolate was disposed'));
      await vi.advanceTimersByTimeAsync(1);
      expect(log).toEqual(['late: fault timeout', 'lateFailure: fault timeout']);
      expect(unhandled).not.toHaveBeenCalled();
    } finally {
      process.off('unhandledRejection', unhandled);
    }
  });

  it('answerByDeadline: a deadline already past is a timeout fault at once', async () => {
    const log: string[] = [];
    record(log, 'past', answerByDeadline(pending().promise, performance.now() - 10));
    await vi.advanceTimersByTimeAsync(1);
    expect(log).toEqual(['past: fault timeout']);
  });
});
