/**
 * The QuickJS WebAssembly module (quickjs-emscripten's release *sync* build): compiled once per
 * process, instantiated per environment with its own fixed-maximum `WasmMemory`.
 *
 * Why a fixed maximum: `runtime.setMemoryLimit` bounds single allocations only under Emscripten
 * (quickjs-emscripten #271, #255: QuickJS cannot see allocation sizes there), so a runtime can
 * grow far past it. A memory whose `maximum` is memoryMb makes Emscripten's heap growth fail at the
 * cap; malloc then returns NULL and QuickJS throws its own `InternalError: out of memory` inside the
 * guest. The growth function is wrapped so the host learns that the cap was hit even when user code
 * catches that error.
 */
import { readFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import RELEASE_SYNC_EXPORTS from '@jitl/quickjs-wasmfile-release-sync';
import { newQuickJSWASMModuleFromVariant, type QuickJSRuntime, type QuickJSSyncVariant, type QuickJSWASMModule } from 'quickjs-emscripten-core';
import { exportFunctionTable, findTrackerOffset, FUNCTION_TABLE, InstanceRejections } from './rejection-tracker.ts';
import { checkSabHooks, InstanceSabHooks, sabFuncsOffset } from './sab-hooks.ts';
import { checkStripOffset, stripFlagsOffset } from './strip-source.ts';

// The package's types describe its CommonJS build (default under `.default`); Node loads its ESM build.
const RELEASE_SYNC = ((RELEASE_SYNC_EXPORTS as { default?: QuickJSSyncVariant }).default ?? RELEASE_SYNC_EXPORTS) as QuickJSSyncVariant;

/** The part of the WebAssembly JS API used here (the project compiles without the DOM lib). */
export interface WasmMemory {
  readonly buffer: ArrayBuffer;
}
type WasmModule = object;
interface WasmApi {
  compile(bytes: Uint8Array): Promise<WasmModule>;
  Memory: new (descriptor: { initial: number; maximum: number }) => WasmMemory;
  Instance: new (module: WasmModule, imports: object) => { readonly exports: object };
}
const wasm = (globalThis as unknown as { WebAssembly: WasmApi }).WebAssembly;

const WASM_PAGE_BYTES = 64 * 1024;
const MIB = 1024 * 1024;
/** The build's own INITIAL_MEMORY (16 MiB): an imported memory may not start smaller. */
export const QUICKJS_INITIAL_MEMORY_MB = 16;
/** Emscripten's limit for a 32-bit heap (the build's `maximum: 32768` pages). */
export const QUICKJS_MAX_MEMORY_MB = 2048;

let compiled: Promise<WasmModule> | undefined;

/** The precompiled module, shared by every instance in the process (compiled on first use). */
export function quickjsWasmModule(): Promise<WasmModule> {
  compiled ??= (async () => {
    const require = createRequire(import.meta.url);
    const bytes = await readFile(require.resolve('@jitl/quickjs-wasmfile-release-sync/wasm'));
    // One more export, the function table, for the promise-rejection tracker (rejection-tracker.ts).
    return wasm.compile(exportFunctionTable(bytes));
  })();
  return compiled;
}

/** In a worker thread: the module the host thread compiled (a `WebAssembly.Module` crosses threads without recompiling). */
export function useCompiledModule(module: object): void {
  compiled = Promise.resolve(module);
}

/** One instance of the module: its own linear memory, its own C heap, its own QuickJS state. */
export interface QuickJSInstance {
  readonly module: QuickJSWASMModule;
  readonly memory: WasmMemory;
  /** The heap asked to grow past the memory's maximum (malloc failed) since the last reset. */
  readonly growthRefused: () => boolean;
  readonly resetGrowthRefused: () => void;
  /**
   * Grows the memory to at least `bytes` through Emscripten's own resize (so its heap views follow
   * the new buffer: a `memory.grow` from outside would leave them on the detached one). False when
   * the memory's maximum is too small. SnapStart uses it to make room for an image.
   */
  readonly growTo: (bytes: number) => boolean;
  /** The promise-rejection tracker's slot and per-context logs (rejection-tracker.ts). */
  readonly rejections: InstanceRejections;
  /** Where the tracker goes in a JSRuntime; undefined: not found, rejections go unnoticed. */
  readonly trackerOffset: number | undefined;
  /** QuickJS's SharedArrayBuffer hooks (sab-hooks.ts), and where they go in a JSRuntime. */
  readonly sabHooks: InstanceSabHooks;
  readonly sabOffset: number;
  /** Where `strip_flags` is in a JSRuntime (strip-source.ts); undefined: not found, the guest runtime keeps its source. */
  readonly stripOffset: number | undefined;
}

type Imports = Record<string, Record<string, unknown>>;

/**
 * Instantiates the module with a memory capped at `maxMemoryMb`. Emscripten's glue calls
 * `instantiateWasm` with its imports; the instance is created synchronously from the compiled module.
 */
export async function instantiateQuickJS(maxMemoryMb: number): Promise<QuickJSInstance> {
  const [instance, { trackerOffset, sabOffset, stripOffset }] = await Promise.all([newInstance(maxMemoryMb), runtimeOffsets()]);
  return { ...instance, trackerOffset, sabOffset, stripOffset };
}

interface RuntimeOffsets {
  readonly trackerOffset: number | undefined;
  readonly sabOffset: number;
  readonly stripOffset: number | undefined;
}

let offsets: Promise<RuntimeOffsets> | undefined;

/** Settles once this thread's first instance has been made (the tracker's probe: the Emscripten glue loaded, the offset found). */
export async function firstInstanceMade(): Promise<void> {
  await runtimeOffsets();
}

/**
 * The offsets of the tracker field and of `sab_funcs`, found once per thread in a throw-away
 * instance (rejection-tracker.ts, sab-hooks.ts). The SharedArrayBuffer hooks must be found: a
 * failure rejects, and with it every instance of this thread (quickjs unavailable, not unsafe).
 */
function runtimeOffsets(): Promise<RuntimeOffsets> {
  offsets ??= newInstance(QUICKJS_INITIAL_MEMORY_MB).then((probe) => {
    const found = findTrackerOffset({ module: probe.module, rejections: probe.rejections, heap: () => new Uint8Array(probe.memory.buffer) });
    if (found === undefined) {
      process.emitWarning('lambdalet: the quickjs promise-rejection tracker could not be installed; unhandled rejections go unnoticed on quickjs', {
        code: 'LAMBDALET_QUICKJS_REJECTION_TRACKER',
      });
    }
    return { trackerOffset: found, ...findSabOffset(probe) };
  });
  return offsets;
}

/**
 * `sab_funcs`'s offset, computed from the tracker's (found as rejection-tracker.ts finds it) and
 * checked in `probe`; and `strip_flags`'s, which follows it (strip-source.ts), checked there too.
 */
function findSabOffset(probe: Omit<QuickJSInstance, keyof RuntimeOffsets>): Omit<RuntimeOffsets, 'trackerOffset'> {
  const runtime = probe.module.newRuntime();
  try {
    const span = 64;
    const base = runtimePointer(runtime) / 4;
    const before = new Uint32Array(probe.memory.buffer).slice(base, base + span);
    runtime.setInterruptHandler(() => false);
    const after = new Uint32Array(probe.memory.buffer).slice(base, base + span);
    const changed = [...before.keys()].filter((i) => before[i] !== after[i]);
    runtime.removeInterruptHandler();
    if (changed.length !== 1) throw new Error(`quickjs-emscripten changed: JSRuntime's interrupt handler not found (${changed.length} words changed)`);
    // interrupt_handler, interrupt_opaque, then host_promise_rejection_tracker (rejection-tracker.ts).
    const sabOffset = sabFuncsOffset((changed[0]! + 2) * 4);
    if (!probe.sabHooks.attach(runtime, sabOffset)) throw new Error('quickjs-emscripten changed: JSRuntime\'s sab_funcs is not where lambdalet expects it');
    const context = runtime.newContext();
    try {
      checkSabHooks(probe.sabHooks, runtime, context);
      return { sabOffset, stripOffset: checkStripOffset(probe, runtime, context, stripFlagsOffset(sabOffset)) };
    } finally {
      context.dispose();
    }
  } finally {
    runtime.dispose();
  }
}

function runtimePointer(runtime: QuickJSRuntime): number {
  return (runtime as unknown as { rt: { value: number } }).rt.value;
}

async function newInstance(maxMemoryMb: number): Promise<Omit<QuickJSInstance, keyof RuntimeOffsets>> {
  const wasmModule = await quickjsWasmModule();
  const maximum = Math.min(QUICKJS_MAX_MEMORY_MB, Math.max(QUICKJS_INITIAL_MEMORY_MB, maxMemoryMb)) * (MIB / WASM_PAGE_BYTES);
  const memory = new wasm.Memory({ initial: QUICKJS_INITIAL_MEMORY_MB * (MIB / WASM_PAGE_BYTES), maximum });
  let refused = false;
  let resize: ((requestedBytes: number) => boolean) | undefined;
  let exports: Record<string, unknown> = {};
  const variant: QuickJSSyncVariant = {
    type: 'sync',
    importFFI: RELEASE_SYNC.importFFI,
    importModuleLoader: async () => {
      const imported = await RELEASE_SYNC.importModuleLoader();
      const loader = (typeof imported === 'function' ? imported : imported.default) as (arg: Record<string, unknown>) => unknown;
      return ((arg: Record<string, unknown> = {}) => {
        arg.wasmMemory = memory;
        arg.instantiateWasm = (imports: Imports, onSuccess: (instance: { readonly exports: object }, module: WasmModule) => void) => {
          resize = watchHeapGrowth(imports, () => {
            refused = true;
          });
          const instance = new wasm.Instance(wasmModule, imports);
          exports = instance.exports as Record<string, unknown>;
          onSuccess(instance, wasmModule);
          return instance.exports;
        };
        return loader(arg);
      }) as unknown as typeof imported;
    },
  };
  const module = await newQuickJSWASMModuleFromVariant(variant);
  // quickjs-emscripten keeps the Emscripten module as `module` (its malloc, free and heap views).
  const emscripten = (module as unknown as { module: ConstructorParameters<typeof InstanceRejections>[1] }).module;
  const rejections = new InstanceRejections(exports, emscripten, module.getFFI());
  // After the tracker's slot, in every instance: the slots are the same everywhere (images hold them).
  const sabHooks = new InstanceSabHooks(exports[FUNCTION_TABLE] as ConstructorParameters<typeof InstanceSabHooks>[0], emscripten, () => {
    refused = true;
  });
  return {
    module,
    memory,
    rejections,
    sabHooks,
    growthRefused: () => refused,
    resetGrowthRefused: () => {
      refused = false;
    },
    growTo: (bytes) => memory.buffer.byteLength >= bytes || (resize !== undefined && resize(bytes) && memory.buffer.byteLength >= bytes),
  };
}

/**
 * Wraps Emscripten's `emscripten_resize_heap` import (minified; found by what it does: it is the
 * one import that calls `Memory.prototype.grow`). It returns false when the heap cannot grow.
 */
function watchHeapGrowth(imports: Imports, onRefused: () => void): (requestedBytes: number) => boolean {
  for (const table of Object.values(imports)) {
    for (const [name, value] of Object.entries(table)) {
      if (typeof value !== 'function' || !Function.prototype.toString.call(value).includes('.grow(')) continue;
      const resize = value as (requestedBytes: number) => boolean;
      table[name] = (requestedBytes: number): boolean => {
        const grown = resize(requestedBytes);
        if (!grown) onRefused();
        return grown;
      };
      return resize;
    }
  }
  throw new Error('quickjs-emscripten changed: no heap-growth import found to enforce the memory cap');
}
