/**
 * Process isolation after isolated-vm's catastrophic error (issue #15): the v8 Map bomb
 * (helpers/catastrophe-bomb.ts) exhausts V8's own heap in its child, isolated-vm reports a
 * catastrophe, and the child is drained and replaced. What must hold, whatever the host is doing at that moment:
 *
 * - the bombed invocation is Runtime.OutOfMemory (Lambda: a function out of memory is
 *   "Runtime.OutOfMemory", "Runtime exited with error: ... out of memory"), never the
 *   Runtime.ExitError of a neighbour whose child was replaced under it;
 * - every other function, this runtime's and a new runtime's in the same host process (process
 *   isolation or in-process v8), keeps being admitted; the bombed function runs again;
 * - the same for a SnapStart function, whose sandbox is restored in a child.
 *
 * The host is made busy the way a loaded machine makes it: forking the replacement child held the
 * host's thread 300-500 ms at load ~17 (measured: the child posted its unhealthy report and the
 * bombed call's reply 3 ms apart; the host read the reply 320-520 ms after the report, once its
 * 250 ms grace had ended the child and answered the call as Runtime.ExitError). Here each fork after
 * set-up holds the host's thread {@link FORK_HOLD_MS}: that the bomb's answer never depends on it
 * is the invariant.
 */
import type * as ChildProcess from 'node:child_process';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { createRuntime, silentSink, type InvokeResult, type Runtime } from '../../../src/index.ts';
import { CATASTROPHE_BOMB as BOMB, CATASTROPHE_BOMB_MEMORY_MB } from '../../helpers/catastrophe-bomb.ts';
import { GENEROUS_TIMEOUT_MS, SLOW_CASE_LIMIT_MS } from '../../helpers/runtime.ts';

/** Past engine-pool.ts UNHEALTHY_GRACE_MS (250 ms), as the measured forks were. */
const FORK_HOLD_MS = 600;

const forks = vi.hoisted(() => ({ hold: false, count: 0 }));

vi.mock('node:child_process', async (importOriginal) => {
  const actual = await importOriginal<typeof ChildProcess>();
  return {
    ...actual,
    fork: (...args: Parameters<typeof ChildProcess.fork>) => {
      const child = actual.fork(...args);
      forks.count++;
      if (forks.hold) Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, FORK_HOLD_MS);
      return child;
    },
  };
});

const OK = 'export const handler = async (event) => ({ ok: true, n: event.n ?? 0 })';
/** Bombs until one ended in a catastrophe (isolated-vm's soft limit contains some: no child is replaced then). */
const ATTEMPTS = 4;

const errorType = (result: InvokeResult): string | undefined => (result.payload as { errorType?: string } | undefined)?.errorType;

describe('process isolation: after a catastrophic isolated-vm error', () => {
  let rt: Runtime;

  beforeAll(async () => {
    rt = await createRuntime({ isolation: 'process', engineProcesses: 2, logSink: silentSink });
    // Neighbours' deadlines are far past their work: a cold start in a replacement child while the
    // host is held forking must never time out (the invariant is containment, not speed).
    await rt.deploy({ name: 'ok', timeoutMs: GENEROUS_TIMEOUT_MS, code: { files: { 'index.mjs': OK } } });
    await rt.deploy({ name: 'okq', engine: 'quickjs', timeoutMs: GENEROUS_TIMEOUT_MS, code: { files: { 'index.mjs': OK } } });
    await rt.deploy({ name: 'bomb', memoryMb: CATASTROPHE_BOMB_MEMORY_MB, timeoutMs: GENEROUS_TIMEOUT_MS, code: { files: { 'index.mjs': BOMB } } });
    await rt.deploy({ name: 'snap-bomb', memoryMb: CATASTROPHE_BOMB_MEMORY_MB, snapStart: true, timeoutMs: GENEROUS_TIMEOUT_MS, code: { files: { 'index.mjs': BOMB } } });
    expect((await rt.invoke('ok', { n: 1 })).payload).toEqual({ ok: true, n: 1 });
    forks.hold = true;
  }, SLOW_CASE_LIMIT_MS);
  afterAll(async () => {
    forks.hold = false;
    await rt?.close();
  });

  for (const name of ['bomb', 'snap-bomb']) {
    it(`${name}: Runtime.OutOfMemory every time, its child replaced, while the host is held forking the replacement`, async (ctx) => {
      let catastrophes = 0;
      for (let attempt = 0; attempt < ATTEMPTS && catastrophes === 0; attempt++) {
        const before = forks.count;
        const bombed = await rt.invoke(name);
        expect(bombed.functionError).toBe('Unhandled');
        expect(errorType(bombed), JSON.stringify(bombed.payload)).toBe('Runtime.OutOfMemory');
        // A catastrophe drains its child: the pool forks a replacement (a soft-limit OOM does not).
        if (forks.count > before) catastrophes++;
        expect((await rt.invoke('ok', { n: 2 })).payload).toEqual({ ok: true, n: 2 });
      }
      if (catastrophes === 0) ctx.skip(`isolated-vm's soft limit contained all ${ATTEMPTS} bombs: no catastrophe to test`);
      // Everything is admitted afterwards: this runtime's functions of both engines, the bomb again.
      expect((await rt.invoke('ok', { n: 3 })).payload).toEqual({ ok: true, n: 3 });
      expect((await rt.invoke('okq', { n: 4 })).payload).toEqual({ ok: true, n: 4 });
      expect(errorType(await rt.invoke(name))).toBe('Runtime.OutOfMemory');
    }, SLOW_CASE_LIMIT_MS);
  }

  it('a new runtime in the same host process, process-isolated or in-process, deploys and invokes v8', async () => {
    for (const options of [{ isolation: 'process' as const, engineProcesses: 2 }, {}]) {
      const other = await createRuntime({ ...options, logSink: silentSink });
      try {
        await other.deploy({ name: 'fresh', timeoutMs: GENEROUS_TIMEOUT_MS, code: { files: { 'index.mjs': OK } } });
        expect((await other.invoke('fresh', { n: 5 })).payload).toEqual({ ok: true, n: 5 });
      } finally {
        await other.close();
      }
    }
  }, SLOW_CASE_LIMIT_MS);
});
