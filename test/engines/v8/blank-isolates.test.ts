/**
 * v8 cold starts from blank isolates (src/engines/v8/blank-isolates.ts, issue 21): an isolate with
 * its context and the guest runtime's top level already run, used by one cold start at most.
 */
import { setImmediate as nextTurn } from 'node:timers/promises';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { bundleFunction } from '../../../src/code/index.ts';
import type { Blueprint, Sandbox, SandboxOptions } from '../../../src/engines/engine.ts';
import { BLANK_IDLE_MS, BlankIsolates, type BlankSource } from '../../../src/engines/v8/blank-isolates.ts';
import { V8Engine } from '../../../src/engines/v8/v8-engine.ts';
import { INIT, invoke, phase } from '../../helpers/sandbox.ts';

describe('BlankIsolates (the pool alone)', () => {
  afterEach(() => {
    vi.useRealTimers();
  });

  const source = (overrides: Partial<BlankSource<{ id: number; limit: number }>> = {}) => {
    let made = 0;
    const disposed: number[] = [];
    const src: BlankSource<{ id: number; limit: number }> = {
      make: (limit) => ({ id: ++made, limit }),
      dispose: (blank) => void disposed.push(blank.id),
      available: () => true,
      ...overrides,
    };
    return { src, disposed, made: () => made };
  };

  it('a blank is handed out once, for its own memory limit only; refill makes one per limit at most', () => {
    const { src, made } = source();
    const pool = new BlankIsolates(src);
    expect(pool.take(128)).toBeUndefined(); // nothing made ahead of the first cold start
    pool.refill(128);
    pool.refill(128); // one is ready: nothing more made
    expect(made()).toBe(1);
    expect(pool.take(256)).toBeUndefined();
    expect(pool.take(128)).toEqual({ id: 1, limit: 128 });
    expect(pool.take(128)).toBeUndefined(); // never twice
    expect(pool.has(128)).toBe(false);
  });

  it('an engine that may not start isolates (a catastrophe), or a blank that cannot be made: none, and no throw', () => {
    const down = source({ available: () => false });
    const pool = new BlankIsolates(down.src);
    pool.refill(128);
    expect(down.made()).toBe(0);
    const failing = new BlankIsolates<{ id: number; limit: number }>(source({ make: () => { throw new Error('no isolate'); } }).src);
    expect(() => failing.refill(128)).not.toThrow();
    expect(failing.has(128)).toBe(false);
  });

  it(`a blank unused for BLANK_IDLE_MS is disposed: kept just under, gone at the limit`, () => {
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout'] });
    const { src, disposed } = source();
    const pool = new BlankIsolates(src);
    pool.refill(128);
    vi.advanceTimersByTime(BLANK_IDLE_MS - 1);
    expect(pool.has(128)).toBe(true);
    expect(disposed).toEqual([]);
    vi.advanceTimersByTime(1);
    expect(pool.has(128)).toBe(false);
    expect(disposed).toEqual([1]);
    pool.refill(128); // taken before its time: its timer disposes nothing
    expect(pool.take(128)).toEqual({ id: 2, limit: 128 });
    vi.advanceTimersByTime(BLANK_IDLE_MS);
    expect(disposed).toEqual([1]);
  });
});

describe('v8 engine: cold starts from a blank', () => {
  const OPTIONS: SandboxOptions = { memoryMb: 128, onLog: () => {}, hostCall: () => 'o{}' };
  const SOURCE = `
    globalThis.seen ??= [];
    const before = globalThis.mark;
    globalThis.mark = 'set by this environment';
    const initUptime = process.uptime();
    export const handler = async () => ({ before: before ?? null, random: Math.random(), initUptime });
  `;

  async function blueprintOf(engine: V8Engine): Promise<Blueprint> {
    const outcome = await bundleFunction({ files: { 'index.mjs': SOURCE } }, 'index.handler');
    if (!outcome.ok) throw new Error(outcome.failure.errorMessage);
    return engine.prepare(outcome.bundle);
  }

  async function coldStart(blueprint: Blueprint, options = OPTIONS): Promise<{ sandbox: Sandbox; answer: { before: unknown; random: number; initUptime: number } }> {
    const sandbox = await blueprint.boot(options);
    expect(await phase(sandbox, INIT)).toMatchObject({ done: true, ok: true });
    const reply = await invoke(sandbox, {});
    expect(reply).toMatchObject({ done: true, ok: true });
    return { sandbox, answer: JSON.parse(reply.payload!) as { before: unknown; random: number; initUptime: number } };
  }

  it('the first cold start leaves a blank once it has answered; the next takes it, and it is a fresh guest with its own clock and generator', async () => {
    const engine = new V8Engine();
    const blueprint = await blueprintOf(engine);
    const first = await coldStart(blueprint);
    expect(engine.blankReady(128)).toBe(false); // not made inside the cold start
    await nextTurn();
    expect(engine.blankReady(128)).toBe(true);
    expect(engine.blankReady(256)).toBe(false);

    // The blank waits a while; its guest's clock must restart when it becomes an environment.
    const hostBefore = performance.now();
    await new Promise((resolve) => setTimeout(resolve, 300));
    const bootAt = performance.now();
    const second = await coldStart(blueprint);
    const bootEnd = performance.now();
    expect(engine.blankReady(128)).toBe(false); // taken: never handed out twice
    // Invariant, whatever the machine's load: INIT ran after this boot began, so the guest's uptime
    // at INIT is within the boot (+1 ms of clock granularity); a clock from the blank's making would be ≥ 300 ms.
    expect(second.answer.initUptime * 1000).toBeLessThanOrEqual(bootEnd - bootAt + 1);
    expect(bootAt - hostBefore).toBeGreaterThanOrEqual(299);
    // A fresh isolate: nothing of the first environment, and its own random sequence.
    expect(second.answer.before).toBeNull();
    expect(second.answer.random).not.toBe(first.answer.random);
    await nextTurn();
    expect(engine.blankReady(128)).toBe(true); // refilled after the second one's answer
    first.sandbox.dispose();
    second.sandbox.dispose();
  });

  it('a blank is only used for its own memory limit; an INIT that fails still refills', async () => {
    const engine = new V8Engine();
    const blueprint = await blueprintOf(engine);
    (await coldStart(blueprint)).sandbox.dispose();
    await nextTurn();
    expect(engine.blankReady(128)).toBe(true);
    const bigger = await coldStart(blueprint, { ...OPTIONS, memoryMb: 256 });
    expect(engine.blankReady(128)).toBe(true); // the 256 MB cold start booted from scratch
    bigger.sandbox.dispose();
    await nextTurn();
    expect(engine.blankReady(256)).toBe(true);

    const failing = await bundleFunction({ files: { 'index.mjs': 'throw new Error("INIT fails"); export const handler = () => 1;' } }, 'index.handler');
    if (!failing.ok) throw new Error(failing.failure.errorMessage);
    const broken = await engine.prepare(failing.bundle);
    const sandbox = await broken.boot(OPTIONS); // takes the 128 MB blank
    expect(engine.blankReady(128)).toBe(false);
    expect(await phase(sandbox, INIT)).toMatchObject({ done: true, ok: false });
    sandbox.dispose(); // the environment is discarded after a failed INIT
    await nextTurn();
    expect(engine.blankReady(128)).toBe(true);
  });
});
