/**
 * JavaScript on the wasm engine: `code: { entry }` bundled with esbuild and componentized with
 * componentize-qjs once per code version, then run like any component.
 */
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { InvalidParameterValueException } from '../../../src/index.ts';
import { withRuntime } from '../../helpers/runtime.ts';

const COUNTER = join(import.meta.dirname, 'fixtures/counter.ts');
const RANDOM = join(import.meta.dirname, 'fixtures/random.ts');
/** componentize-qjs is an optional dependency (prebuilt binaries per platform): without it, say so. */
const noComponentizer = await import('componentize-qjs').then(
  () => undefined,
  (error: unknown) => `componentize-qjs does not load here: ${(error as Error).message}`,
);

// componentize-qjs builds in seconds (Wizer runs the module's top level): long timeouts, no timed assertions.
describe.skipIf(noComponentizer !== undefined)(`wasm engine: JavaScript through componentize-qjs${noComponentizer ? ` (skipped: ${noComponentizer})` : ''}`, { timeout: 180_000 }, () => {
  it('a TypeScript entry implementing the world: cold, warm, state, logs, function errors, timeouts', () =>
    withRuntime(async ({ rt, logs }) => {
      const info = await rt.deploy({ name: 'counter', engine: 'wasm', code: { entry: COUNTER }, memoryMb: 256, timeoutMs: 1000 });
      expect(info.codeSha256).toMatch(/^[0-9a-f]{64}$/);
      const first = await rt.invoke('counter', { name: 'Ada' });
      expect(first).toMatchObject({ coldStart: true, payload: { hello: 'Ada', count: 1, functionName: 'counter', memory: 256 } });
      const second = await rt.invoke('counter', { name: 'Bob' });
      expect(second).toMatchObject({ coldStart: false, payload: { hello: 'Bob', count: 2 } });
      expect(logs.forRequest(second.requestId).some((l) => l.endsWith(`\tINFO\tinvocation 2 for ${second.requestId}`))).toBe(true);

      const failed = await rt.invoke('counter', { action: 'fail', name: 'x' });
      expect(failed.payload).toEqual({ errorType: 'ValidationError', errorMessage: 'bad input: x', trace: [] });
      expect(await rt.invoke('counter', {})).toMatchObject({ coldStart: false, payload: { count: 4 } });

      const spun = await rt.invoke('counter', { action: 'spin' });
      expect(spun.payload).toMatchObject({ errorType: 'Sandbox.Timedout' });
      expect(await rt.invoke('counter', { name: 'after' })).toMatchObject({ coldStart: true, payload: { count: 1 } });
    }));

  it('the same code deployed again is not componentized again (same component, same sha256)', () =>
    withRuntime(async ({ rt }) => {
      const a = await rt.deploy({ name: 'a', engine: 'wasm', code: { entry: COUNTER } });
      const b = await rt.deploy({ name: 'b', engine: 'wasm', code: { entry: COUNTER } });
      expect(b.codeSha256).toBe(a.codeSha256);
    }));

  it('Math.random is reseeded per environment: the Wizer snapshot holds one generator state for all', () =>
    withRuntime(async ({ rt }) => {
      // Lambda, "Handling uniqueness with Lambda SnapStart": a snapshot restored in many environments
      // must not hand them the same random sequence. Without the reseed, every environment drew the same values.
      await rt.deploy({ name: 'random', engine: 'wasm', code: { entry: RANDOM } });
      type Draws = { atTopLevel: number; draws: [number, number]; kept: number };
      const [a, b] = await Promise.all([rt.invoke('random', {}), rt.invoke('random', {})]);
      expect([a.coldStart, b.coldStart]).toEqual([true, true]);
      const [pa, pb] = [a.payload as Draws, b.payload as Draws];
      expect(pa.draws[0]).not.toBe(pb.draws[0]);
      expect(pa.draws[1]).not.toBe(pb.draws[1]);
      // A reference to Math.random kept by the top level draws from the reseeded generator too.
      expect(pa.kept).not.toBe(pb.kept);
      for (const value of [...pa.draws, ...pb.draws]) expect(value >= 0 && value < 1).toBe(true);
      // The top level ran once, at build time: its value is the snapshot's, the same everywhere (as
      // INIT-time values across SnapStart restores).
      expect(pa.atTopLevel).toBe(pb.atTopLevel);
      // A warm environment goes on with its own sequence.
      const again = (await rt.invoke('random', {})).payload as Draws;
      expect([...pa.draws, ...pb.draws]).not.toContain(again.draws[0]);
    }));

  it('an entry that does not bundle is refused at deploy, naming the file and line', () =>
    withRuntime(async ({ rt }) => {
      const error = await rt
        .deploy({ name: 'broken', engine: 'wasm', code: { entry: join(import.meta.dirname, 'fixtures/missing.ts') } })
        .catch((e: unknown) => e);
      expect(error).toBeInstanceOf(InvalidParameterValueException);
      expect((error as InvalidParameterValueException).field).toBe('code.entry');
      expect((error as Error).message).toContain('cannot bundle');
    }));
});
