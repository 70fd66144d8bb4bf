/**
 * thread-priority.ts: a background engine server lowers its own thread's priority (issue #15
 * fairness). On Linux `setpriority(PRIO_PROCESS, tid, n)` sets one thread's nice value
 * (setpriority(2), BUGS: "the priority is a per-thread attribute") and raising a nice value needs no
 * privilege; the thread's value is field 19 of /proc/self/task/<tid>/stat (proc_pid_stat(5)).
 */
import { readFileSync } from 'node:fs';
import { getPriority } from 'node:os';
import { Worker } from 'node:worker_threads';
import { describe, expect, it } from 'vitest';
import {
  assertBackgroundNice,
  BACKGROUND_NICE_MAX,
  BACKGROUND_NICE_MIN,
  lowerThisThreadPriority,
  threadsNamed,
  type ThreadPriorityOutcome,
} from '../../../src/engines/remote/thread-priority.ts';

/** A thread's nice value, read by the kernel's own report (field 19). */
function niceOfThread(tid: number): number {
  const stat = readFileSync(`/proc/self/task/${tid}/stat`, 'utf8');
  return Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[16]);
}

/**
 * Runs `lowerThisThreadPriority` for each of `nices` in turn in a fresh worker thread, and keeps
 * the worker alive until `inspect` has looked at it (a thread that ended has no /proc entry).
 */
async function inWorker(nices: readonly unknown[], name: string, inspect: (outcomes: ThreadPriorityOutcome[]) => void): Promise<void> {
  const moduleUrl = new URL('../../../src/engines/remote/thread-priority.ts', import.meta.url).href;
  const worker = new Worker(
    `const { parentPort, workerData } = require('node:worker_threads');
     import(workerData.moduleUrl).then((m) => {
       const outcomes = workerData.nices.map((nice) => { try { return m.lowerThisThreadPriority(nice, workerData.name); } catch (e) { return { error: e.name + ': ' + e.message }; } });
       parentPort.postMessage(outcomes);
       parentPort.once('message', () => process.exit(0));
     });`,
    { eval: true, workerData: { moduleUrl, nices, name } },
  );
  try {
    const outcomes = await new Promise<ThreadPriorityOutcome[]>((resolve, reject) => {
      worker.once('message', resolve).once('error', reject);
    });
    inspect(outcomes);
  } finally {
    worker.postMessage('done');
    await new Promise((resolve) => worker.once('exit', resolve));
  }
}

describe('background nice values', () => {
  it(`accepts integers from ${BACKGROUND_NICE_MIN} to ${BACKGROUND_NICE_MAX}, and refuses anything else with a RangeError naming it`, () => {
    for (const good of [BACKGROUND_NICE_MIN, 10, BACKGROUND_NICE_MAX]) expect(() => assertBackgroundNice(good)).not.toThrow();
    for (const bad of [BACKGROUND_NICE_MIN - 1, BACKGROUND_NICE_MAX + 1, 1.5, -5, Number.NaN, '10', undefined]) {
      expect(() => assertBackgroundNice(bad)).toThrow(new RangeError(`a background nice value must be an integer from 1 to 19, got ${String(bad)}`));
      expect(() => lowerThisThreadPriority(bad as number)).toThrow(RangeError);
    }
  });
});

describe.skipIf(process.platform !== 'linux')('lowerThisThreadPriority (Linux)', () => {
  it("lowers only the calling worker thread (the process's main thread keeps its value) and names it", async () => {
    const mainBefore = getPriority();
    await inWorker([10], 'lambdalet-tp1', ([outcome]) => {
      expect(outcome).toMatchObject({ lowered: true, nice: 10 });
      const tid = (outcome as { tid: number }).tid;
      expect(tid).not.toBe(process.pid);
      expect(niceOfThread(tid)).toBe(10);
      expect(threadsNamed('lambdalet-tp1')).toEqual([{ tid, nice: 10 }]);
      expect(niceOfThread(process.pid)).toBe(mainBefore);
      expect(getPriority()).toBe(mainBefore);
    });
  });

  it('at the lowest priority (19), and never makes a priority higher: a thread at 15 asked for 10 stays at 15', async () => {
    await inWorker([BACKGROUND_NICE_MAX], 'lambdalet-tp2', ([outcome]) => {
      expect(niceOfThread((outcome as { tid: number }).tid)).toBe(BACKGROUND_NICE_MAX);
    });
    await inWorker([15, 10], 'lambdalet-tp3', ([first, second]) => {
      expect(first).toMatchObject({ lowered: true, nice: 15 });
      expect(second).toMatchObject({ lowered: true, nice: 15 });
      expect(niceOfThread((second as { tid: number }).tid)).toBe(15);
    });
  });

  it("refuses to change the process's main thread, and says so", () => {
    const before = getPriority();
    expect(lowerThisThreadPriority(10)).toEqual({ lowered: false, reason: "this is the process's main thread, whose priority is never changed here" });
    expect(getPriority()).toBe(before);
  });
});
