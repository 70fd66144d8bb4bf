/**
 * JavaScript on the wasm engine: `code: { entry }` bundled with esbuild and componentized with
 * componentize-qjs once per code version, then run like any component.
 */
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { InvalidParameterValueException } from '../../../src/index.ts';
import { withRuntime } from '../../helpers/runtime.ts';

const COUNTER = join(import.meta.dirname, 'fixtures/counter.ts');
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
