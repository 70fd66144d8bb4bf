/**
 * Shared isolation's spares (src/engines/quickjs/in-thread.ts SharedSpares): after a cold start the
 * engine starts one runtime of that memory size in the shared instance, with the guest runtime
 * evaluated in it, ahead of the next. What must hold: the next cold start takes it, an environment
 * started from a spare has nothing of the one before it (its own globals, its own Math.random seed),
 * and a spare keeps its size's memory cap. Run on the test's thread, as each worker thread runs it.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { describe, expect, it } from 'vitest';
import { bundleFunction } from '../../../src/code/index.ts';
import type { Blueprint, Sandbox } from '../../../src/engines/engine.ts';
import { InThreadQuickJS } from '../../../src/engines/quickjs/in-thread.ts';
import { INIT, invoke, phase } from '../../helpers/sandbox.ts';

const PROBE = `
  const atInit = Math.random();
  export const handler = async (event) => {
    const leak = globalThis.leak ?? null;
    if (event.set) globalThis.leak = event.set;
    if (event.allocateMb) { const b = new ArrayBuffer(event.allocateMb * 1024 * 1024); return { allocated: b.byteLength }; }
    return { atInit, leak };
  };`;

async function blueprint(engine: InThreadQuickJS): Promise<Blueprint> {
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

async function sparesReach(engine: InThreadQuickJS, count: number): Promise<number> {
  for (let i = 0; i < 400 && engine.readySharedSpares !== count; i++) await sleep(5);
  return engine.readySharedSpares;
}

describe('quickjs shared isolation spares', () => {
  it('the next cold start of a memory size takes its spare runtime, with nothing of the environment before', async () => {
    const engine = new InThreadQuickJS({ isolation: 'shared' });
    const bp = await blueprint(engine);
    const first = await ready(bp, 128);
    expect(await call(first, { set: 'first' })).toMatchObject({ leak: null });
    expect(await sparesReach(engine, 1)).toBe(1);
    const second = await ready(bp, 128);
    expect(engine.readySharedSpares).toBe(0);
    const a = await call(first, {});
    const b = await call(second, {});
    expect(a.leak).toBe('first');
    expect(b.leak).toBeNull();
    expect(b.atInit).not.toBe(a.atInit); // each boot seeds Math.random afresh
    // Made again once the second environment's first invoke is over.
    expect(await sparesReach(engine, 1)).toBe(1);
    first.dispose();
    second.dispose();
  });

  it('a spare serves only its own memory size: a 128 MB environment from a spare keeps its cap', async () => {
    const engine = new InThreadQuickJS({ isolation: 'shared' });
    const bp = await blueprint(engine);
    const big = await ready(bp, 256);
    const small = await ready(bp, 128);
    // No invoke after these boots: each size's spare comes from the fallback timer.
    expect(await sparesReach(engine, 2)).toBe(2);
    const next = await ready(bp, 128);
    expect(engine.readySharedSpares).toBe(1); // the 256 MB one is left
    expect(await call(big, { allocateMb: 150 })).toEqual({ allocated: 150 * 1024 * 1024 });
    // Past its cap the sandbox faults: the call rejects (it is not the handler's error).
    await expect(invoke(next, { allocateMb: 150 })).rejects.toThrow(/out of memory/);
    big.dispose();
    small.dispose();
    next.dispose();
  });
});
