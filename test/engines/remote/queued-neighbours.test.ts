/**
 * Issue #15, "nothing may be lost": a QuickJS worker terminated by its watchdog (a guest call stuck
 * in an uninterruptible built-in for 1 s of its thread's CPU time past its deadline, wall time where
 * that cannot be read: stuck-watch.ts STUCK_GRACE_MS) takes with
 * it the invocations merely queued on it — accepted, their environments warm, their own calls not
 * yet begun. Lambda never fails an invocation for a neighbour's fault: each runs once more on a
 * fresh environment (a cold start, answered with an Init Duration: invoke/run.ts), known not to
 * have started because the worker records the highest call id it began (engine-pool.ts,
 * child-servers.ts `unstarted`). An invocation whose handler had begun is never run again (Lambda
 * runs a synchronous invoke at most once): it fails as the environment's crash, as before.
 *
 * Every quickjs mode whose sandboxes share a worker: in-process (`instance` and `shared` QuickJS
 * isolation) and under process isolation, each with its quickjs sandboxes pinned to one worker
 * (`quickjsThreadsMax: 1`). No clock: the order is fixed by the worker's queue — the started
 * neighbour's call, then the stuck call, then the queued neighbours' calls are posted in that order
 * by one synchronous run of the host's thread (a warm invoke posts its call without a turn of the
 * event loop), and the started neighbour's next call (its timer's tick) only after its first
 * reply. The stuck call is a naive substring search (QuickJS's `indexOf` compares at every
 * offset: ~10^10 character comparisons, minutes of one built-in call that QuickJS's interrupt
 * never sees): it ends only by the watchdog, ~1.3-1.55 s of one core per mode. Its deadline, 300 ms,
 * leaves the worker that long to begin it behind the started neighbour's call: a stuck call begun
 * after its deadline would be interrupted at once instead.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { createRuntime, type InvokeResult, type Runtime, type RuntimeOptionsInput } from '../../../src/index.ts';
import { STUCK_GRACE_MS } from '../../../src/engines/remote/worker-host.ts';
import { captureLogs, GENEROUS_TIMEOUT_MS, SLOW_CASE_LIMIT_MS, type CapturedLogs } from '../../helpers/runtime.ts';

const MODES: ReadonlyArray<readonly [string, RuntimeOptionsInput]> = [
  ['quickjs in-process', { engineThreads: 1, quickjsThreadsMax: 1 }],
  ["quickjs in-process, quickjsIsolation 'shared'", { engineThreads: 1, quickjsThreadsMax: 1, quickjsIsolation: 'shared' }],
  ["quickjs under isolation 'process'", { isolation: 'process', engineProcesses: 1, quickjsThreadsMax: 1 }],
];

/** The stuck function: a warm-up call answers; `stuck` holds its worker until the watchdog ends it. */
const STUCK_CODE = `export const handler = async (event) => {
  if (!event.stuck) return 'warm';
  return 'a'.repeat(400000).indexOf('a'.repeat(200000) + 'b');
};`;

/**
 * A neighbour: says it ran (one line per start of its handler), waits for a timer when asked (its
 * first call then ends with the guest's event loop still busy: a second call, `tick`, follows), and
 * answers its own id.
 */
const NEIGHBOUR_CODE = `export const handler = async (event) => {
  console.log('RAN[' + event.id + ']');
  if (event.wait) await new Promise((resolve) => setTimeout(resolve, 1));
  return { id: event.id };
};`;

const STUCK_MESSAGE = `the engine worker was stuck ${STUCK_GRACE_MS} ms past a deadline and was terminated`;

function errorOf(result: InvokeResult): { errorType?: string; errorMessage?: string } {
  return result.payload as { errorType?: string; errorMessage?: string };
}

/** How many times the handler began for `id` (its RAN line), in every environment's log. */
function starts(logs: CapturedLogs, id: string): number {
  return logs.lines.filter((line) => line.includes(`RAN[${id}]`)).length;
}

let rt: Runtime | undefined;
afterEach(async () => {
  await rt?.close();
  rt = undefined;
});

describe('invocations queued on a QuickJS worker that its watchdog terminates', () => {
  it.each(MODES)(
    '%s: each queued neighbour runs once on a fresh environment and answers; the stuck call and a started neighbour fail as before',
    async (_mode, options) => {
      const logs = captureLogs();
      rt = await createRuntime({ ...options, cpuHeavyNice: 0, logSink: logs });
      await rt.deploy({ name: 'stuck', engine: 'quickjs', timeoutMs: 300, code: { files: { 'index.mjs': STUCK_CODE } } });
      for (const name of ['started', 'queued-1', 'queued-2']) {
        await rt.deploy({ name, engine: 'quickjs', timeoutMs: GENEROUS_TIMEOUT_MS, code: { files: { 'index.mjs': NEIGHBOUR_CODE } } });
      }
      // Every function warm, each environment in the one worker.
      expect((await rt.invoke('stuck', {})).payload).toBe('warm');
      for (const name of ['started', 'queued-1', 'queued-2']) expect((await rt.invoke(name, { id: `${name}-warm` })).payload).toEqual({ id: `${name}-warm` });

      // One synchronous run: the started neighbour's call, the stuck call, the queued calls.
      const started = rt.invoke('started', { id: 'started', wait: true });
      const stuck = rt.invoke('stuck', { stuck: true });
      const queued = [rt.invoke('queued-1', { id: 'queued-1' }), rt.invoke('queued-2', { id: 'queued-2' })];

      // The stuck invocation: Sandbox.Timedout at its deadline, as today.
      const stuckResult = await stuck;
      expect(stuckResult.functionError).toBe('Unhandled');
      expect(errorOf(stuckResult).errorType).toBe('Sandbox.Timedout');

      // Each queued neighbour: its own answer, from a fresh environment (a cold start, Init Duration
      // and all), its handler begun once.
      for (const [index, pending] of queued.entries()) {
        const id = `queued-${index + 1}`;
        const result = await pending;
        expect(result.functionError, JSON.stringify(result.payload)).toBeUndefined();
        expect(result.payload).toEqual({ id });
        expect(result.coldStart).toBe(true);
        expect(result.initDurationMs).toBeGreaterThan(0);
        expect(starts(logs, id)).toBe(1);
        const reports = logs.forRequest(result.requestId).filter((line) => line.startsWith('REPORT RequestId:'));
        expect(reports).toHaveLength(1);
        expect(reports[0]).toContain('Init Duration:');
      }

      // The neighbour whose handler had begun (its timer's tick queued behind the stuck call): not
      // run again — it fails as its worker's end, and began once.
      const startedResult = await started;
      expect(startedResult.functionError).toBe('Unhandled');
      expect(errorOf(startedResult)).toMatchObject({ errorType: 'Runtime.ExitError' });
      expect(errorOf(startedResult).errorMessage).toContain(STUCK_MESSAGE);
      // On Linux the watchdog counted the worker thread's CPU time (in a process-isolation child too).
      if (process.platform === 'linux') expect(errorOf(startedResult).errorMessage).toMatch(/\(its thread ran \d+ ms of CPU past it\)$/);
      expect(starts(logs, 'started')).toBe(1);

      // Metrics count each invocation once: the two queued ones as cold starts.
      const metric = (name: string) => rt!.metrics().functions.find((f) => f.functionName === name)!;
      for (const name of ['queued-1', 'queued-2']) expect(metric(name)).toMatchObject({ Invocations: 2, Errors: 0, ColdStarts: 2 });
      expect(metric('started')).toMatchObject({ Invocations: 2, Errors: 1, ColdStarts: 1 });

      // And the runtime goes on: the started neighbour's next invocation cold-starts and answers.
      const next = await rt.invoke('started', { id: 'next' });
      expect(next.payload).toEqual({ id: 'next' });
      expect(next.coldStart).toBe(true);
    },
    SLOW_CASE_LIMIT_MS,
  );
});
