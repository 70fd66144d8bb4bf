/**
 * An in-process v8 environment ended by a fault is answered before its isolate is disposed
 * (v8-sandbox.ts releaseIsolate): disposing an idle isolate ran its heap's teardown on the host's
 * thread, inside the answer's path. What must hold whatever the timing: the answer is Lambda's
 * (Sandbox.Timedout; lambda-compat.md A3 "Timeout"), the ended environment leaves the runtime's
 * counts at once (environments, memory), and the function's next invocation cold-starts and
 * answers — again and again, so nothing of the ended ones is kept.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createRuntime, silentSink, type Runtime } from '../../../src/index.ts';

const WAITS = 'export const handler = async (e) => { if (e.wait) await new Promise((r) => setTimeout(r, 600_000)); return { n: e.n }; }';
const ROUNDS = 5;

describe('v8 in-process: an environment ended by its deadline is answered first, disposed after', () => {
  let rt: Runtime;
  beforeAll(async () => {
    rt = await createRuntime({ logSink: silentSink });
    await rt.deploy({ name: 'waits', timeoutMs: 1000, code: { files: { 'index.mjs': WAITS } } });
  });
  afterAll(async () => {
    await rt?.close();
  });

  it('Sandbox.Timedout while the guest waits on a timer; the environment leaves the counts at once; the next invoke cold-starts', async () => {
    for (let round = 0; round < ROUNDS; round++) {
      const warm = await rt.invoke('waits', { n: round });
      expect(warm.payload).toEqual({ n: round });
      expect(rt.metrics().environments).toBe(1);
      const ended = await rt.invoke('waits', { wait: true });
      expect((ended.payload as { errorType?: string }).errorType).toBe('Sandbox.Timedout');
      // Counted out with the answer, not when its isolate is gone.
      expect(rt.metrics().environments).toBe(0);
      expect(rt.metrics().memoryUsedMb).toBe(0);
    }
    const last = await rt.invoke('waits', { n: ROUNDS });
    expect(last.payload).toEqual({ n: ROUNDS });
    expect(last.coldStart).toBe(true);
  }, 120_000);
});
