/**
 * The worker watchdog's rule (src/engines/remote/stuck-watch.ts), on injected clocks: no thread, no
 * waiting. A call past its deadline ends its worker once the worker's thread has burned
 * STUCK_GRACE_MS of CPU since the watchdog first saw it past the deadline; a thread starved of CPU
 * (wall time passes, CPU does not) is held, however long, up to the wall-time backstop; where the
 * thread's CPU cannot be read, wall time is the grace (the rule before, kept for non-Linux).
 * Each bound at, just under and just over. The real /proc reader is checked against the thread's
 * own CPU clock in worker-host.test.ts.
 */
import { readdirSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { readThreadCpuMs, STUCK_BACKSTOP_MS, STUCK_GRACE_MS, STUCK_WORDS, StuckWatch, thisThreadId } from '../../../src/engines/remote/stuck-watch.ts';

const DEADLINE = 1_000_000;
const TID = 4242;

/** A watch over a fake thread: `wall` (ms past DEADLINE) and `cpu` (the thread's CPU ms) are set by the test. */
function watch(options: { graceMs?: number; tid?: number | undefined; readable?: () => boolean } = {}) {
  const clock = { wall: 0, cpu: 0, reads: 0 };
  const w = new StuckWatch({
    graceMs: options.graceMs ?? STUCK_GRACE_MS,
    tid: 'tid' in options ? options.tid : TID,
    now: () => DEADLINE + clock.wall,
    cpuMs: (tid) => {
      expect(tid).toBe(TID);
      clock.reads++;
      return options.readable?.() === false ? undefined : clock.cpu;
    },
  });
  return { w, clock, look: (running = 7) => w.check(running, DEADLINE) };
}

describe('worker watchdog rule (CPU-time grace)', () => {
  it('no call running, or one not past its deadline: nothing, and /proc is not read', () => {
    const { w, clock, look } = watch();
    expect(w.check(0, undefined)).toEqual({ kind: 'ok' });
    clock.wall = -5000;
    expect(look()).toEqual({ kind: 'ok' });
    clock.wall = 0; // at the deadline itself: not past it
    expect(look()).toEqual({ kind: 'ok' });
    expect(clock.reads).toBe(0);
  });

  it('a starved thread (wall time passes, its CPU does not) is held up to the backstop, never ended by the grace', () => {
    const { clock, look } = watch();
    clock.cpu = 50_000; // CPU it burned before the deadline does not count
    clock.wall = 1;
    expect(look()).toEqual({ kind: 'held', cpuMs: 0 });
    // 29.999 s of wall time past the deadline, 999 ms of CPU in it: still held.
    for (const [wall, cpu] of [
      [STUCK_GRACE_MS + 1, 10],
      [10 * STUCK_GRACE_MS, 300],
      [STUCK_BACKSTOP_MS, STUCK_GRACE_MS - 1],
    ] as const) {
      clock.wall = wall;
      clock.cpu = 50_000 + cpu;
      expect(look()).toEqual({ kind: 'held', cpuMs: cpu });
    }
  });

  it(`a thread burning CPU past its deadline is ended once it burned ${STUCK_GRACE_MS} ms of it (999 held, 1000 ended), in no matter how little wall time`, () => {
    const { clock, look } = watch();
    clock.wall = 250;
    clock.cpu = 200;
    expect(look().kind).toBe('held');
    clock.wall = 251; // wall time is not what counts
    clock.cpu = 200 + STUCK_GRACE_MS - 1;
    expect(look()).toEqual({ kind: 'held', cpuMs: STUCK_GRACE_MS - 1 });
    clock.cpu = 200 + STUCK_GRACE_MS;
    const verdict = look();
    expect(verdict).toEqual({ kind: 'stuck', reason: `the engine worker was stuck ${STUCK_GRACE_MS} ms ${STUCK_WORDS} (its thread ran ${STUCK_GRACE_MS} ms of CPU past it)` });
  });

  it(`the backstop ends a thread that never burns: ${STUCK_BACKSTOP_MS} ms past the deadline held, 1 ms more ended`, () => {
    const { clock, look } = watch();
    clock.wall = 1;
    expect(look().kind).toBe('held');
    clock.wall = STUCK_BACKSTOP_MS;
    expect(look().kind).toBe('held');
    clock.wall = STUCK_BACKSTOP_MS + 1;
    clock.cpu = 12;
    expect(look()).toEqual({ kind: 'stuck', reason: `the engine worker was stuck ${STUCK_BACKSTOP_MS} ms ${STUCK_WORDS} (wall time; its thread ran 12 ms of CPU past it)` });
  });

  it('the CPU is counted per call: another call running past its deadline starts from its own first look', () => {
    const { clock, look } = watch();
    clock.wall = 10;
    expect(look(7).kind).toBe('held');
    clock.cpu = 900;
    expect(look(7)).toEqual({ kind: 'held', cpuMs: 900 });
    // Call 7 ended (its interrupt taken); call 8, queued behind it and past its deadline too, runs.
    expect(look(8)).toEqual({ kind: 'held', cpuMs: 0 });
    clock.cpu = 900 + STUCK_GRACE_MS - 1;
    expect(look(8).kind).toBe('held');
    clock.cpu = 900 + STUCK_GRACE_MS;
    expect(look(8).kind).toBe('stuck');
    // A look with nothing running forgets the call.
    clock.cpu = 5000;
    expect(look(9).kind).toBe('held');
    expect(look(0)).toEqual({ kind: 'ok' });
    clock.cpu = 5000 + STUCK_GRACE_MS;
    expect(look(9)).toEqual({ kind: 'held', cpuMs: 0 });
  });

  it(`where the thread's CPU cannot be read (no thread id: not Linux), the grace is wall time: ${STUCK_GRACE_MS} ms held, 1 ms more ended`, () => {
    const { clock, look } = watch({ tid: undefined });
    clock.wall = STUCK_GRACE_MS;
    expect(look()).toEqual({ kind: 'ok' });
    clock.wall = STUCK_GRACE_MS + 1;
    expect(look()).toEqual({ kind: 'stuck', reason: `the engine worker was stuck ${STUCK_GRACE_MS} ms ${STUCK_WORDS}` });
    expect(clock.reads).toBe(0);
  });

  it('a thread whose CPU stops being readable falls back to wall time', () => {
    let readable = true;
    const { clock, look } = watch({ readable: () => readable });
    clock.wall = 100;
    expect(look().kind).toBe('held');
    readable = false;
    clock.wall = STUCK_GRACE_MS;
    expect(look()).toEqual({ kind: 'ok' });
    clock.wall = STUCK_GRACE_MS + 1;
    expect(look().kind).toBe('stuck');
  });

  it('grace 0 (wasm components, exactDeadlines): ended just past the deadline on wall time, CPU never read', () => {
    const { clock, look } = watch({ graceMs: 0 });
    expect(look()).toEqual({ kind: 'ok' });
    clock.wall = 1;
    expect(look()).toEqual({ kind: 'stuck', reason: 'the engine worker was still running a call at its deadline and was terminated' });
    expect(clock.reads).toBe(0);
  });

  it.runIf(process.platform === 'linux')("the /proc reader reads this thread's CPU time (USER_HZ ticks from the auxiliary vector) and names no thread that does not exist", () => {
    const tid = thisThreadId();
    expect(readdirSync('/proc/self/task')).toContain(String(tid));
    const before = readThreadCpuMs(tid!)!;
    const usageBefore = process.threadCpuUsage();
    // ~100+ ms of CPU, so a 10 ms tick's rounding is small beside it.
    let x = 0;
    while ((process.threadCpuUsage().user - usageBefore.user) / 1000 < 120) x += Math.sqrt(x + 1);
    const usage = process.threadCpuUsage(usageBefore);
    const after = readThreadCpuMs(tid!)!;
    const own = (usage.user + usage.system) / 1000;
    // Both clocks measured the same stretch of this thread; /proc rounds down to ticks (10 ms) at each end.
    expect(after - before).toBeGreaterThanOrEqual(own - 20);
    expect(after - before).toBeLessThanOrEqual(own + 20);
    expect(readThreadCpuMs(2 ** 30)).toBeUndefined();
    expect(x).toBeGreaterThan(0);
  });
});
