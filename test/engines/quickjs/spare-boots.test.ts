/**
 * Instance isolation's spares (src/engines/quickjs/in-thread.ts SpareBoots): after a cold start the
 * engine boots one instance of that memory size from the runtime image ahead of the next. What must
 * hold: the next cold start takes it (one spare per size, not more), an environment started from a
 * spare has nothing of the one before it, and a spare's memory cap is its size's only. Run on the
 * test's thread (InThreadQuickJS, as each worker thread runs it).
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { describe, expect, it } from 'vitest';
import { bundleFunction } from '../../../src/code/index.ts';
import type { Blueprint, Sandbox } from '../../../src/engines/engine.ts';
import { InThreadQuickJS, instanceCounterBuffer, liveQuickJSInstances, MAX_LIVE_QUICKJS_INSTANCES } from '../../../src/engines/quickjs/in-thread.ts';
import { INIT, invoke, phase } from '../../helpers/sandbox.ts';

const PROBE = `
  const atInit = Math.random();
  export const handler = async (event) => {
    const leak = globalThis.leak ?? null;
    if (event.set) globalThis.leak = event.set;
    if (event.allocateMb) { const b = new ArrayBuffer(event.allocateMb * 1024 * 1024); return { allocated: b.byteLength }; }
    return { atInit, leak };
  };`;

async function blueprint(engine = new InThreadQuickJS()): Promise<Blueprint> {
  const outcome = await bundleFunction({ files: { 'index.mjs': PROBE } }, 'index.handler');
  if (!outcome.ok) throw new Error(outcome.failure.errorMessage);
  return engine.prepare(outcome.bundle);
}

async function ready(bp: Blueprint, memoryMb: number): Promise<Sandbox> {
  const sandbox = await bp.boot({ memoryMb, onLog: () => {} });
  expect(await phase(sandbox, INIT)).toMatchObject({ done: true, ok: true });
  return sandbox;
}

async function call(sandbox: Sandbox, event: unknown): Promise<Record<string, unknown>> {
  const reply = await invoke(sandbox, event);
  return reply.ok ? (JSON.parse(reply.payload!) as Record<string, unknown>) : { error: reply.error?.errorType };
}

/**
 * Spares are made on a timer after each boot: polls until `engine` has `count` ready (its own:
 * an earlier case's engine may still be making one, and the process-wide count includes it).
 */
async function sparesReach(engine: InThreadQuickJS, count: number): Promise<number> {
  for (let i = 0; i < 400 && engine.readySpares !== count; i++) await sleep(5);
  return engine.readySpares;
}

describe('quickjs spares', () => {
  it('the next cold start of a memory size starts from its spare, with nothing of the environment before', async () => {
    const engine = new InThreadQuickJS();
    const bp = await blueprint(engine);
    const first = await ready(bp, 128);
    expect(await call(first, { set: 'first' })).toMatchObject({ leak: null });
    expect(await sparesReach(engine, 1)).toBe(1);
    const second = await ready(bp, 128);
    const a = await call(first, {});
    const b = await call(second, {});
    expect(a.leak).toBe('first');
    expect(b.leak).toBeNull();
    expect(b.atInit).not.toBe(a.atInit); // each boot seeds Math.random afresh
    // One spare per size, made again after the second boot took the first one.
    await sleep(50);
    expect(await sparesReach(engine, 1)).toBe(1);
    first.dispose();
    second.dispose();
  });

  it('a spare serves only its own memory size: a 128 MB environment keeps its cap beside a 256 MB spare', async () => {
    const engine = new InThreadQuickJS();
    const bp = await blueprint(engine);
    const big = await ready(bp, 256);
    const small = await ready(bp, 128);
    // No invoke after these boots: each size's spare comes from the fallback timer (20 ms).
    expect(await sparesReach(engine, 2)).toBe(2);
    const next = await ready(bp, 128); // from the 128 MB spare, not the 256 MB one
    expect(await call(big, { allocateMb: 150 })).toEqual({ allocated: 150 * 1024 * 1024 });
    // Past its cap the sandbox faults: the call rejects (it is not the handler's error).
    await expect(invoke(next, { allocateMb: 150 })).rejects.toThrow(/out of memory/);
    big.dispose();
    small.dispose();
    next.dispose();
  });

  it('at the instance cap, a boot takes a slot from another size\'s spare; with no spare left it is refused', async () => {
    const engine = new InThreadQuickJS();
    const bp = await blueprint(engine);
    const big = await ready(bp, 256);
    expect(await sparesReach(engine, 1)).toBe(1); // its 256 MB spare (fallback timer)
    // Fill the process's live-instance count to its cap (the counter all threads share).
    const live = new Int32Array(instanceCounterBuffer());
    const filler = MAX_LIVE_QUICKJS_INSTANCES - liveQuickJSInstances();
    Atomics.add(live, 0, filler);
    try {
      const small = await ready(bp, 128); // no 128 MB spare: the 256 MB one gives its slot
      expect(engine.readySpares).toBe(0);
      expect(liveQuickJSInstances()).toBe(MAX_LIVE_QUICKJS_INSTANCES);
      expect(await call(small, {})).toMatchObject({ leak: null });
      // At the cap with no spare: refused, naming the cap.
      await expect(bp.boot({ memoryMb: 512, onLog: () => {} })).rejects.toThrow(/MAX_LIVE_QUICKJS_INSTANCES/);
      small.dispose();
    } finally {
      Atomics.sub(live, 0, filler);
      big.dispose();
    }
  });
});
