/**
 * lambdalet's own guest runtime parsed without its functions' source text (issue 21: idle density).
 *
 * QuickJS keeps, for every function it parses, a copy of that function's source text for
 * `Function.prototype.toString` — nested functions again inside their parents' — unless the
 * runtime's `strip_flags` says otherwise (quickjs.c 2025-09-13: `JS_SetStripInfo(rt, flags)`;
 * js_new_function_def reads the flags when a function is parsed). quickjs-emscripten 0.32 exports no
 * QTS_ function for it (and its eval `strip` option maps to JS_EVAL_FLAG_STRIP, which QuickJS
 * removed), so the flag byte is written directly in the runtime's struct: `uint8_t strip_flags`
 * follows `sab_funcs` (sab-hooks.ts: four wasm32 words), and is checked end to end in the probe
 * instance ({@link checkStripOffset}).
 *
 * Only JS_STRIP_SOURCE, and only while lambdalet's own code is parsed — the guest runtime's script
 * ({@link withSourceStripped}) and each standard-library chunk, between the guest's two parse marks
 * ({@link setSourceStripped}; guest/stdlib-loader.ts): each function keeps its line/column table
 * (stack frames in lambdalet's code keep their positions), and the flag is back to 0 before the
 * user's bundle is evaluated and before a chunk's top level runs, so the user's functions keep
 * their source for `toString` and everything the user's code compiles does too. A stripped
 * function prints as QuickJS prints a builtin (`function setTimeout() {\n    [native code]\n}`),
 * where it printed the esbuild output of lambdalet's code before.
 *
 * Measured (computeMemoryUsage after the guest script, one runtime): 302,730 → 248,959 bytes;
 * the instance isolation's runtime image 159 → 139 pages of 4 KiB. A chunk's parse: about half
 * (intl 2,484,848 → 1,339,671 bytes).
 */
import type { QuickJSContext, QuickJSRuntime } from 'quickjs-emscripten-core';

/** quickjs.h: JS_STRIP_SOURCE (strip the source code, keep the debug info). */
const JS_STRIP_SOURCE = 1;
/** Bytes of `JSSharedArrayBufferFunctions` on wasm32: sab_alloc, sab_free, sab_dup, sab_opaque. */
const SAB_FUNCS_BYTES = 16;

/** Where `strip_flags` is in a JSRuntime, given where `sab_funcs` is. */
export function stripFlagsOffset(sabOffset: number): number {
  return sabOffset + SAB_FUNCS_BYTES;
}

interface HeapOwner {
  readonly memory: { readonly buffer: ArrayBuffer };
}

function runtimePointer(runtime: QuickJSRuntime): number {
  return (runtime as unknown as { rt: { value: number } }).rt.value;
}

/**
 * Runs `run` (an evaluation of lambdalet's guest script in `runtime`) with QuickJS told to keep no
 * source text for the functions it parses; the flag is cleared again however `run` ends.
 * `offset` undefined (not found in the probe): runs it as before, source kept.
 */
export function withSourceStripped<T>(instance: HeapOwner, runtime: QuickJSRuntime, offset: number | undefined, run: () => T): T {
  if (offset === undefined) return run();
  const address = runtimePointer(runtime) + offset;
  // A view per write: the memory's buffer is replaced when the heap grows during `run`.
  new Uint8Array(instance.memory.buffer)[address] = JS_STRIP_SOURCE;
  try {
    return run();
  } finally {
    new Uint8Array(instance.memory.buffer)[address] = 0;
  }
}

/**
 * Sets or clears the flag in `runtime` (the standard library's chunks: the guest marks the start
 * and end of each chunk's parse, in-thread.ts); nothing when `offset` is undefined.
 */
export function setSourceStripped(instance: HeapOwner, runtime: QuickJSRuntime, offset: number | undefined, on: boolean): void {
  if (offset === undefined) return;
  new Uint8Array(instance.memory.buffer)[runtimePointer(runtime) + offset] = on ? JS_STRIP_SOURCE : 0;
}

/**
 * Checks `offset` in the probe's runtime: the byte is 0 in a new runtime; with it set a function
 * parsed then has no source (`toString` prints native code) but keeps its line numbers in a stack;
 * with it cleared again a function keeps its source. Returns the offset, or undefined on any
 * difference (quickjs-emscripten changed: the guest runtime then keeps its source, as before).
 */
export function checkStripOffset(instance: HeapOwner, runtime: QuickJSRuntime, context: QuickJSContext, offset: number): number | undefined {
  const address = runtimePointer(runtime) + offset;
  if (new Uint8Array(instance.memory.buffer)[address] !== 0) return undefined;
  const run = (code: string): unknown => {
    const result = context.evalCode(code, 'strip-probe.js');
    const value: unknown = context.dump(result.error ?? result.value);
    (result.error ?? result.value).dispose();
    return value;
  };
  const probe = `\n\n(function stripProbe() { try { throw new Error('p'); } catch (e) { return [String(stripProbe), e.stack]; } })()`;
  const stripped = withSourceStripped(instance, runtime, offset, () => run(probe));
  const kept = run(probe);
  if (new Uint8Array(instance.memory.buffer)[address] !== 0) return undefined;
  const ok =
    Array.isArray(stripped) &&
    Array.isArray(kept) &&
    typeof stripped[0] === 'string' &&
    !stripped[0].includes('throw') &&
    stripped[0].includes('[native code]') &&
    typeof stripped[1] === 'string' &&
    stripped[1].includes('strip-probe.js:3') &&
    typeof kept[0] === 'string' &&
    kept[0].includes("throw new Error('p')");
  return ok ? offset : undefined;
}
