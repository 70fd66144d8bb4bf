/**
 * Raw quickjs-emscripten: runtime + context + eval of the handler, called the way any host must
 * call QuickJS — the event goes in as a JSON string, the job queue is drained (QuickJS has no
 * event loop), the answer comes out as a JSON string and is parsed on the host.
 *
 * - `raw-quickjs-emscripten`: a new WebAssembly instance per environment (its own linear memory,
 *   128 MiB maximum), then runtime + context + eval: what lambdalet's default `instance` isolation
 *   does underneath. The instance is made with lambdalet's `instantiateQuickJS` (precompiled module
 *   + fixed-maximum memory), so module compilation is paid once, as lambdalet pays it.
 * - `raw-quickjs-emscripten-shared`: runtime + context + eval in one shared instance: the issue's
 *   "runtime + context + eval", and what `quickjsIsolation: 'shared'` does underneath.
 */
import RELEASE_SYNC_EXPORTS from '@jitl/quickjs-wasmfile-release-sync';
import { newQuickJSWASMModuleFromVariant, type QuickJSSyncVariant, type QuickJSWASMModule } from 'quickjs-emscripten-core';
import { instantiateQuickJS } from '../../src/engines/quickjs/wasm.ts';
import { MEMORY_MB, type HandlerCode } from '../lib/handlers.ts';
import type { Baseline, BaselineEnv } from './baseline.ts';

const RELEASE_SYNC = ((RELEASE_SYNC_EXPORTS as { default?: QuickJSSyncVariant }).default ?? RELEASE_SYNC_EXPORTS) as QuickJSSyncVariant;
const MIB = 1024 * 1024;

function bootIn(module: QuickJSWASMModule, code: HandlerCode): BaselineEnv {
  const runtime = module.newRuntime();
  runtime.setMemoryLimit(MEMORY_MB * MIB);
  const context = runtime.newContext();
  const fn = context.unwrapResult(
    context.evalCode(`(() => { const h = ${code.script}; let out; return (ev) => { out = undefined; h(JSON.parse(ev)).then((r) => { out = JSON.stringify(r); }); return () => out; }; })()`),
  );
  let disposed = false;
  return {
    call: async (event) => {
      const input = context.newString(JSON.stringify(event));
      const read = context.unwrapResult(context.callFunction(fn, context.undefined, input));
      input.dispose();
      runtime.executePendingJobs(-1);
      const out = context.unwrapResult(context.callFunction(read, context.undefined));
      read.dispose();
      const text = context.getString(out);
      out.dispose();
      return JSON.parse(text) as unknown;
    },
    dispose: () => {
      if (disposed) return;
      disposed = true;
      fn.dispose();
      context.dispose();
      runtime.dispose();
    },
  };
}

export const rawQuickjsInstance: Baseline = {
  name: 'raw-quickjs-emscripten',
  async boot(code) {
    const { module } = await instantiateQuickJS(MEMORY_MB);
    return bootIn(module, code);
  },
};

let shared: Promise<QuickJSWASMModule> | undefined;
export const rawQuickjsShared: Baseline = {
  name: 'raw-quickjs-emscripten-shared',
  async boot(code) {
    shared ??= newQuickJSWASMModuleFromVariant(RELEASE_SYNC);
    return bootIn(await shared, code);
  },
};
