/**
 * handle called on the core export directly (src/engines/wasm/core-handle.ts) gives exactly what
 * jco's glue gives — the same canonical-ABI lowering and lifting (Component Model, CanonicalABI.md:
 * flattening, strings as UTF-8 through realloc, results through a return area, post-return) — for
 * every committed component and a componentized JS handler; and the glue patch applies to all of
 * them, so a jco upgrade that changes its output fails here instead of silently taking the slow path.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { compileFunction } from 'node:vm';
import { describe, expect, it } from 'vitest';
import { callCoreHandle, CORE_HANDLE, exposeCoreHandle, type CorePieces, type HandleContext } from '../../../src/engines/wasm/core-handle.ts';
import { componentizeSource } from '../../../src/engines/wasm/componentize.ts';
import { compileCapped, transpileComponent } from '../../../src/engines/wasm/transpile.ts';
import { transpileOffThread } from '../../../src/engines/wasm/transpile-thread.ts';
import { componentImports, loadShim } from '../../../src/engines/wasm/worker/wasi-imports.ts';

const NATIVE = join(import.meta.dirname, '../../../native/components');
/** Echoes what it received, so both paths' lowering is compared too. */
const ECHO_JS = `export const handler = { handle(event, context) {
  if (event === '"fail"') throw { errorType: 'Échec', errorMessage: 'bad 🦀 input' };
  return JSON.stringify({ event, requestId: context.requestId, name: context.functionName, version: context.functionVersion,
    arn: context.invokedFunctionArn, memory: context.memoryLimitMb, deadline: String(context.deadlineMs) });
} };\n`;

interface Handler {
  handle(event: string, context: object): string;
  readonly [CORE_HANDLE]?: () => CorePieces;
}

async function instantiate(bytes: Uint8Array): Promise<Handler> {
  const component = await transpileComponent(bytes);
  const modules = await compileCapped(component, 128);
  const run = (compileFunction(component.glue) as () => (...args: unknown[]) => Promise<Record<string, unknown>> | Record<string, unknown>)();
  const io = componentImports(await loadShim(), {}, () => 'e{"name":"Error","message":"no"}', () => {}, 128 * 1024 * 1024);
  const exports = await run(
    (name: string) => modules[name],
    io.imports,
    (module: WebAssembly.Module, imports: WebAssembly.Imports) => new WebAssembly.Instance(module, imports),
  );
  return exports.handler as Handler;
}

/** The glue's own call, as component-instance.ts reads it (the err case is thrown). */
function viaGlue(handler: Handler, event: string, context: HandleContext): unknown {
  try {
    return { ok: true, value: handler.handle(event, { ...context, deadlineMs: BigInt(context.deadlineMs) }) };
  } catch (error) {
    const record = error as { errorType: string; errorMessage: string };
    return { ok: false, errorType: record.errorType, errorMessage: record.errorMessage };
  }
}

const CONTEXT: HandleContext = {
  requestId: 'req-é-1',
  functionName: 'fn',
  functionVersion: '$LATEST',
  invokedFunctionArn: 'arn:aws:lambda:us-east-1:123456789012:function:fn',
  memoryLimitMb: 128,
  deadlineMs: 1_764_000_000_123,
};

describe('handle on the core export, beside the glue', { timeout: 120_000 }, () => {
  const cases: [string, () => Promise<Uint8Array>, string[]][] = [
    ['C hello', async () => readFileSync(join(NATIVE, 'hello.wasm')), ['{"a":"ü🦀"}', '""', '1']],
    ['C probe', async () => readFileSync(join(NATIVE, 'probe.wasm')), ['"context"', '"error"', '"bad-json"', '"count"']],
    ['Rust hello', async () => readFileSync(join(NATIVE, 'hello-rust.wasm')), ['{"b":[1,2]}', '"fail"']],
    ['componentized JS', () => componentizeSource(ECHO_JS), ['{"x":"ü 🦀 \\u0000"}', '"fail"', '']],
  ];
  for (const [name, bytes, events] of cases) {
    it(`${name}: the glue is patched, and both paths agree (ok, err, non-ASCII, empty strings)`, async () => {
      const source = await bytes();
      const glued = await instantiate(source);
      const direct = await instantiate(source);
      const core = direct[CORE_HANDLE]?.();
      expect(core, 'the glue patch did not apply: jco changed its output (see core-handle.ts)').toBeDefined();
      for (const event of events) {
        // Two instances with the same history: the same call must give the same answer.
        expect(callCoreHandle(core!, event, CONTEXT)).toEqual(viaGlue(glued, event, CONTEXT));
      }
    });
  }
});

describe('exposeCoreHandle leaves glue it does not recognise unchanged', () => {
  it('no handle function, an async one, or a handle reading another memory', () => {
    expect(exposeCoreHandle('export function instantiate() {}')).toBe('export function instantiate() {}');
    const asyncHandle = '\n  function handle(arg0, arg1) {\n      isAsync: true,\n  }\n  return { handler: h, };';
    expect(exposeCoreHandle(asyncHandle)).toBe(asyncHandle);
  });

  it("jco's real glue: patched as it is; left unchanged when the result is lifted otherwise than result<string, function-error>", { timeout: 120_000 }, async () => {
    const { files } = await transpileOffThread(readFileSync(join(NATIVE, 'hello.wasm')));
    const glue = Buffer.from(files['component.js']!).toString('utf8');
    expect(exposeCoreHandle(glue)).toContain(CORE_HANDLE);
    // The err record's message read from another offset (another record shape): callCoreHandle would misread it.
    const otherErr = glue.replace('getUint32(ret + 16, true)', 'getUint32(ret + 20, true)');
    expect(otherErr).not.toBe(glue);
    expect(exposeCoreHandle(otherErr)).toBe(otherErr);
    // An ok case that is not one string.
    const otherOk = glue.replace("tag: 'ok',\n                val: result", "tag: 'ok',\n                val: 1 + result");
    expect(otherOk).not.toBe(glue);
    expect(exposeCoreHandle(otherOk)).toBe(otherOk);
  });
});
