/**
 * The guest runtime parsed without its source text (src/engines/quickjs/strip-source.ts, issue 21):
 * the runtime's `strip_flags` is found in the probe, lambdalet's own functions keep no source but
 * the user's do (`toString`), and stacks keep their line numbers — in every way a quickjs sandbox
 * boots: from the runtime image, by parsing, and in shared isolation. The standard library's chunks,
 * parsed on first use, are kept without their source the same way. Run on the test's thread
 * (InThreadQuickJS, the engine proper).
 */
import { describe, expect, it } from 'vitest';
import { bundleFunction, type FunctionBundle } from '../../../src/code/index.ts';
import type { Sandbox } from '../../../src/engines/engine.ts';
import { InThreadQuickJS, type InThreadQuickJSOptions } from '../../../src/engines/quickjs/in-thread.ts';
import { instantiateQuickJS } from '../../../src/engines/quickjs/wasm.ts';
import { INIT, invoke, phase } from '../../helpers/sandbox.ts';

const HANDLER = `
import { EventEmitter } from 'node:events';
import assert from 'node:assert';
import path from 'node:path';
export const handler = async () => {
  function userHelper() { return 'user source kept'; }
  let stack = '';
  try { null.boom; } catch (error) { stack = error.stack; }
  let libraryStack = '';
  try { path.join(5); } catch (error) { libraryStack = error.stack; }
  const compiledAfter = new Function('a', 'return a + 41');
  return {
    library: String(EventEmitter) + String(assert.deepStrictEqual),
    libraryStack,
    compiledAfter: String(compiledAfter) + compiledAfter(1),
    helper: String(userHelper),
    handler: String(handler),
    guestTimer: String(setTimeout),
    guestLog: Function.prototype.toString.call(console.log),
    stack,
    helperWorks: userHelper(),
  };
};`;

async function bundle(source: string): Promise<FunctionBundle> {
  const outcome = await bundleFunction({ files: { 'index.mjs': source } }, 'index.handler');
  if (!outcome.ok) throw new Error(outcome.failure.errorMessage);
  return outcome.bundle;
}

async function answer(options: InThreadQuickJSOptions): Promise<Record<string, string>> {
  const blueprint = await new InThreadQuickJS(options).prepare(await bundle(HANDLER));
  const sandbox: Sandbox = await blueprint.boot({ memoryMb: 128, onLog: () => {} });
  try {
    expect(await phase(sandbox, INIT)).toMatchObject({ done: true, ok: true });
    const reply = await invoke(sandbox, {});
    expect(reply).toMatchObject({ done: true, ok: true });
    return JSON.parse(reply.payload!) as Record<string, string>;
  } finally {
    sandbox.dispose();
  }
}

describe('quickjs guest runtime without its source text', () => {
  it("finds the runtime's strip flag in the probe", async () => {
    const instance = await instantiateQuickJS(16);
    expect(instance.stripOffset).toBe(instance.sabOffset + 16);
  });

  for (const [name, options] of [
    ['booted from the runtime image', {}],
    ['booted by parsing the guest script', { runtimeImage: false }],
    ['shared isolation', { isolation: 'shared' }],
  ] as const) {
    it(`${name}: the guest's functions print as native, the user's keep their source and stacks their lines`, async () => {
      const r = await answer(options);
      expect(r.helperWorks).toBe('user source kept');
      expect(r.helper).toMatch(/^function userHelper\(\) \{\s*return "user source kept";\s*\}$/);
      expect(r.handler).toContain('null.boom');
      expect(r.guestTimer).toContain('[native code]');
      expect(r.guestLog).toContain('[native code]');
      // The user's frame keeps its position (the bundle's stack mapping reads it).
      expect(r.stack).toMatch(/index\.mjs:\d+/);
      // The standard library's chunks too: no source text, positions kept; code the user compiles
      // after a chunk was parsed keeps its source.
      expect(r.library?.match(/\[native code\]/g)).toHaveLength(2);
      expect(r.libraryStack).toMatch(/at assertPath \([^)]*:\d+:\d+\)\n\s+at join \([^)]*:\d+:\d+\)/);
      expect(r.compiledAfter).toContain('return a + 41');
      expect(r.compiledAfter).toMatch(/42$/);
    });
  }
});
