/**
 * The booted-runtime image: SnapStart's machinery (snapshot.ts) applied to the guest runtime
 * before any user code, shared by every function an engine boots. QuickJS has no code cache and
 * quickjs-emscripten 0.32 cannot load bytecode (its `QTS_bjson_encode` writes with
 * JS_WRITE_OBJ_REFERENCE, not JS_WRITE_OBJ_BYTECODE, so a compiled function does not serialise):
 * without this every cold start parsed and ran the whole guest script (~41,000 characters), most
 * of a cold start's cost.
 *
 * - Make (once per process: the first engine server makes it, later ones are given it through
 *   remote/worker-host.ts, its bytes in shared memory): a template instance goes through startRuntime
 *   (runtime, context, the two host functions) and evaluates the guest script; its memory (the
 *   non-zero pages, ~640 KiB) and the address of the `install` value are kept.
 * - Boot: a fresh instance goes through the same startRuntime, the image's pages are written over
 *   its memory and `install` is adopted; the runtime's memory limit is set again (the image holds
 *   the template's), then the user's bundle is evaluated and `install` called as before, with a
 *   seed from the host's entropy (the image's Math.random state and process clock are the
 *   template's, shared by every copy).
 *
 * What it may not change: no user code ever runs in the template, so an image holds nothing of any
 * function or tenant; each boot still gets its own instance and memory (the cap is the instance's
 * `maximum`, as before). A failure to make the image leaves the engine parsing the script as before.
 * `shared` isolation cannot use it (writing an image would overwrite the other runtimes of the
 * instance) and keeps parsing.
 */
import type { QuickJSHandle } from 'quickjs-emscripten-core';
import type { StartedRuntime } from './in-thread.ts';
import { adoptValue, capturePages, newBlankInstance, writePages, type MemoryPages } from './snapshot.ts';
import { instantiateQuickJS, type QuickJSInstance } from './wasm.ts';

/** The guest runtime booted in a template instance: its memory, and where `install` lives in it. */
export interface RuntimeImage extends MemoryPages {
  /** Address of the template's `install` JSValue inside the image. */
  readonly installPointer: number;
}

/** Lambda's smallest memory size: the template's memory maximum (the guest needs far less). */
const TEMPLATE_MEMORY_MB = 128;
const MIB = 1024 * 1024;

/**
 * Boots the guest script in a template instance and images it. `start` is the engine's
 * startRuntime; `evaluate` evaluates a script and returns its completion value (throws on failure).
 * The template instance is dropped afterwards (nothing inside it needs freeing).
 */
export async function makeRuntimeImage(
  guest: string,
  start: (instance: QuickJSInstance, memoryMb: number) => StartedRuntime,
  evaluate: (started: StartedRuntime, code: string) => QuickJSHandle,
): Promise<RuntimeImage> {
  const instance = await instantiateQuickJS(TEMPLATE_MEMORY_MB);
  const started = start(instance, TEMPLATE_MEMORY_MB);
  const install = evaluate(started, guest);
  // The log and hostCall handles stay alive, as a booting sandbox's do until install() returns.
  return { ...capturePages(instance), installPointer: install.value };
}

/**
 * A new instance capped at `memoryMb` with the guest runtime written into it: the started runtime
 * (bound to nothing yet) and the `install` handle, as evaluating the guest script would leave them.
 */
export async function bootFromImage(
  image: RuntimeImage,
  memoryMb: number,
  start: (instance: QuickJSInstance, memoryMb: number) => StartedRuntime,
): Promise<{ readonly started: StartedRuntime; readonly install: QuickJSHandle }> {
  const blank = await newBlankInstance(memoryMb, undefined, (instance) => start(instance, memoryMb));
  writePages(blank, image);
  const { started } = blank;
  // The image holds the template's limit (its memoryMb); the stack size and interrupt handler are the same.
  started.runtime.setMemoryLimit(memoryMb * MIB);
  return { started, install: adoptValue(started.context, started.runtime, image.installPointer) };
}
