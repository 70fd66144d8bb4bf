/**
 * JavaScript on the wasm engine: `code: { entry }` bundled with esbuild and componentized with
 * componentize-qjs once per code version, then run like any component.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { bundleEntry, componentizeSource } from '../../../src/engines/wasm/componentize.ts';
import { InvalidParameterValueException } from '../../../src/index.ts';
import { withRuntime } from '../../helpers/runtime.ts';

/**
 * The one module the building cases deploy (counter, random draws, answers by action): componentize-qjs
 * builds it once per process (cached by the bundle's sha256), not once per case (~1.8 CPU-s a build).
 */
const COUNTER = join(import.meta.dirname, 'fixtures/counter.ts');
/** Entries written per case (a module that cannot implement the world is not worth a fixture file each). */
const scratch = mkdtempSync(join(tmpdir(), 'lambdalet-wasm-entry-'));
afterAll(() => rmSync(scratch, { recursive: true, force: true }));
function entryFile(name: string, source: string): string {
  const path = join(scratch, name);
  writeFileSync(path, source);
  return path;
}
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
      await rt.deploy({ name: 'random', engine: 'wasm', code: { entry: COUNTER } });
      type Draws = { atTopLevel: number; draws: [number, number]; kept: number };
      const [a, b] = await Promise.all([rt.invoke('random', { action: 'random' }), rt.invoke('random', { action: 'random' })]);
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
      const again = (await rt.invoke('random', { action: 'random' })).payload as Draws;
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

  // Issue 12: a Node.js Lambda handler given to engine 'wasm' as code.entry deployed, and every invoke
  // then failed with componentize-qjs's Rust panic in the log ("function 'handle' not found") and
  // Runtime.ExitError "wasm trap: unreachable". It is refused at deploy now, as Lambda refuses what
  // it cannot run (InvalidParameterValueException, field code.entry), saying what the world needs.
  it.each([
    ['an async Node.js Lambda handler', 'lambda.mjs', 'export const handler = async (event) => ({ hi: event.name });', /exports handler as an async function, as a Node\.js Lambda handler does: .*engine 'v8' \(the default\) or 'quickjs'/],
    ['a callback Node.js Lambda handler', 'callback.js', 'export function handler(event, context, callback) { callback(null, 1); }', /exports handler as a function, as a Node\.js Lambda handler does/],
    ['no handler export', 'none.mjs', 'export const other = 1;', /it does not export handler: /],
    ['only a default export', 'default.mjs', "export default { handle() { return '{}'; } };", /it has a default export but no export named handler: /],
    ['handler without handle', 'no-handle.mjs', "export const handler = { run() { return '{}'; } };", /its handler has no handle function \(handler\.handle is undefined\): /],
    ['handler a string', 'string.mjs', "export const handler = 'index.handler';", /it exports handler as a string: /],
    ['an async handle', 'async-handle.mjs', "export const handler = { async handle() { return '{}'; } };", /its handler\.handle is an async function: /],
  ])('%s is refused at deploy (InvalidParameterValueException, code.entry), never a panic at invoke', (_what, file, source, reason) =>
    withRuntime(async ({ rt }) => {
      const entry = entryFile(file, source);
      const error = await rt.deploy({ name: 'refused', engine: 'wasm', code: { entry } }).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(InvalidParameterValueException);
      expect((error as InvalidParameterValueException).field).toBe('code.entry');
      const message = (error as Error).message;
      expect(message.startsWith(`${entry} cannot run on engine 'wasm': `)).toBe(true);
      expect(message).toMatch(reason);
      expect(message).toContain('`export const handler = { handle(event, context) { return jsonText } }` with a synchronous handle (docs/wasm.md)');
      expect(message).not.toMatch(/panic|componentize-qjs/);
      await expect(rt.invoke('refused', {})).rejects.toMatchObject({ code: 'ResourceNotFoundException' });
      // These refusals come from the quick check (src/engines/wasm/entry-shape.ts: the wrapped
      // module's top level in a throw-away QuickJS, ~0.2 CPU-s) before any build. The build's own run
      // of the top level (Wizer, ~1.8 CPU-s) keeps the same checks for what the quick check cannot
      // tell: once, it refuses the same module in the same words.
      if (file === 'lambda.mjs') {
        const built = await componentizeSource(await bundleEntry(entry), entry, { quickCheck: false }).catch((e: unknown) => e);
        expect(built).toBeInstanceOf(InvalidParameterValueException);
        expect({ field: (built as InvalidParameterValueException).field, message: (built as Error).message }).toEqual({ field: 'code.entry', message });
      }
    }));

  it('what would panic in handle is a function error, the environment kept: a non-string result, a thrown Error or value', () =>
    withRuntime(async ({ rt, logs }) => {
      await rt.deploy({ name: 'answers', engine: 'wasm', code: { entry: COUNTER } });
      const malformed = (what: string) => ({
        errorType: 'Runtime.MalformedResponse',
        errorMessage: `The function's response is not JSON text: handle returned ${what}, not a string`,
        trace: [],
      });
      const cases: [string, unknown][] = [
        ['object', malformed('an object')],
        ['array', malformed('an array')],
        ['undefined', malformed('a value of type undefined')],
        ['null', malformed('null')],
        ['promise', malformed('a Promise (handle must be synchronous)')],
        // RIC Errors.toRapidResponse (../shared/reference/lambda-compat.md): an Error's name and message;
        // a thrown non-Error: its typeof and String(x). The wasm err case has no trace.
        ['error', { errorType: 'TypeError', errorMessage: 'boom', trace: [] }],
        ['string', { errorType: 'string', errorMessage: 'plain', trace: [] }],
        ['number', { errorType: 'number', errorMessage: '42', trace: [] }],
        ['half-shaped', { errorType: 'object', errorMessage: '[object Object]', trace: [] }],
        ['shaped', { errorType: 'ValidationError', errorMessage: 'bad input', trace: [] }],
      ];
      for (const [action, payload] of cases) {
        const res = await rt.invoke('answers', { action });
        expect({ action, payload: res.payload, functionError: res.functionError }).toEqual({ action, payload, functionError: 'Unhandled' });
      }
      const ok = await rt.invoke('answers', { action: 'ok' });
      // One environment served them all: none of them trapped.
      expect(ok).toMatchObject({ coldStart: false, payload: { ok: true, count: cases.length + 1 } });
      expect(logs.text()).not.toMatch(/panicked|RUST_BACKTRACE/);
    }));
});
