/**
 * QuickJS's SharedArrayBuffer allocator hooks, which quickjs-emscripten 0.32 never sets (no QTS_
 * function calls `JS_SetSharedArrayBufferFunctions`). Without them a growable SharedArrayBuffer is
 * a hole in the sandbox: QuickJS 2025-09-13 allocates only its first length
 * (js_array_buffer_constructor3: `js_mallocz(ctx, max_int(len, 1))`), and `grow` raises its length
 * without reallocating (js_array_buffer_resize: "SABs can only grow and we don't need to realloc
 * because js_array_buffer_constructor3 commits all memory upfront" — true only with the hooks). A
 * guest that grew one read and wrote the linear memory past it: the runtime's own heap (in `shared`
 * isolation, other sandboxes' heaps), then past the memory's end, a WebAssembly trap that ended the
 * invocation as Runtime.ExitError "memory access out of bounds" instead of Runtime.OutOfMemory.
 *
 * With the hooks set, QuickJS takes a SharedArrayBuffer's memory through them, `maxByteLength` of it
 * upfront (the constructor's branch for `rt->sab_funcs.sab_alloc`, as QuickJS's own qjs does through
 * quickjs-libc's js_sab_alloc): `grow` then stays inside memory the buffer owns. The hooks here are
 * the instance's own malloc and free; an allocation malloc refuses marks the instance's cap as hit
 * (wasm.ts), so the environment ends as Runtime.OutOfMemory, as Lambda ends a Node process that
 * fills its MemorySize. The cost, a difference from V8 (which reserves address space for the
 * maximum and commits pages as the buffer grows): a growable SharedArrayBuffer holds its whole
 * `maxByteLength` of the capped memory from the start.
 *
 * Installed as the promise-rejection tracker is (rejection-tracker.ts): two table slots holding JS
 * functions of the hooks' WebAssembly signatures, the same slots in every instance, written into
 * each JSRuntime's `sab_funcs` before any script runs (so runtime images and SnapStart images carry
 * them). The field's offset follows from `host_promise_rejection_tracker`'s (quickjs.c struct
 * JSRuntime, 2025-09-13: the tracker and its opaque, `job_list`, five pointer-sized module-loader
 * fields, the int64 `module_async_evaluation_next_timestamp`, `can_block`, then `sab_funcs` =
 * {sab_alloc, sab_free, sab_dup, sab_opaque}) and is checked end to end in the probe instance: a
 * growable buffer must be allocated at its maximum through the hook and freed through it. Anything
 * else is an error: quickjs would otherwise run with the hole open.
 */
import type { QuickJSContext, QuickJSRuntime } from 'quickjs-emscripten-core';

interface EmscriptenHeap {
  readonly HEAPU8: Uint8Array;
  _malloc(bytes: number): number;
  _free(pointer: number): void;
}

interface WasmTable {
  grow(delta: number): number;
  set(index: number, value: unknown): void;
}

type Wasm = {
  Module: new (bytes: Uint8Array) => object;
  Instance: new (module: object, imports: object) => { exports: Record<string, unknown> };
};
const wasm = (globalThis as unknown as { WebAssembly: Wasm }).WebAssembly;

/** A module that imports `e.f` of one type and exports it as `f` (what Emscripten's addFunction makes). */
function thunkModule(params: readonly number[], results: readonly number[]): Uint8Array {
  const type = [0x60, params.length, ...params, results.length, ...results];
  return new Uint8Array([
    0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00,
    0x01, type.length + 1, 0x01, ...type, // type section: one type
    0x02, 0x07, 0x01, 0x01, 0x65, 0x01, 0x66, 0x00, 0x00, // import e.f
    0x07, 0x05, 0x01, 0x01, 0x66, 0x00, 0x00, // export f
  ]);
}
const I32 = 0x7f;
/** `void *sab_alloc(void *opaque, size_t size)` on wasm32. */
const ALLOC_THUNK = thunkModule([I32, I32], [I32]);
/** `void sab_free(void *opaque, void *ptr)` on wasm32. */
const FREE_THUNK = thunkModule([I32, I32], []);

function tableFunction(bytes: Uint8Array, f: (...args: number[]) => number | void): unknown {
  return new wasm.Instance(new wasm.Module(bytes), { e: { f } }).exports.f;
}

/** Bytes from `host_promise_rejection_tracker` to `sab_funcs`, given where the tracker is (see the header). */
export function sabFuncsOffset(trackerOffset: number): number {
  const afterLoader = trackerOffset + 8 + 8 + 5 * 4;
  const timestamp = Math.ceil(afterLoader / 8) * 8;
  return timestamp + 8 + 4;
}

/** The hooks of one instance: two table slots (the same in every instance) and the allocations they made. */
export class InstanceSabHooks {
  readonly #heap: EmscriptenHeap;
  readonly allocSlot: number;
  readonly freeSlot: number;
  /** Every size the alloc hook was asked for since the last `takeRequests` (the probe's check). */
  #requests: number[] | undefined;
  #freed = 0;

  /** `onRefused`: malloc refused an allocation (the memory cap: wasm.ts marks the instance). */
  constructor(table: WasmTable, heap: EmscriptenHeap, onRefused: () => void) {
    this.#heap = heap;
    this.allocSlot = table.grow(1);
    table.set(
      this.allocSlot,
      tableFunction(ALLOC_THUNK, (_opaque, size) => {
        this.#requests?.push(size);
        // malloc asks the heap to grow past the memory's maximum and is refused (wasm.ts notes
        // it); a size no 32-bit heap holds never gets that far, so it is noted here.
        const pointer = size >>> 0 <= 0x7fffffff ? this.#heap._malloc(size) : 0;
        if (pointer === 0) onRefused();
        return pointer;
      }),
    );
    this.freeSlot = table.grow(1);
    table.set(
      this.freeSlot,
      tableFunction(FREE_THUNK, (_opaque, pointer) => {
        this.#freed++;
        this.#heap._free(pointer);
      }),
    );
  }

  /** Writes the hooks into `runtime`'s sab_funcs at `offset`; false when the field is not empty there. */
  attach(runtime: QuickJSRuntime, offset: number): boolean {
    const words = new Uint32Array(this.#heap.HEAPU8.buffer);
    const field = (runtimePointer(runtime) + offset) / 4;
    if (!Number.isInteger(field) || words[field] !== 0 || words[field + 1] !== 0 || words[field + 2] !== 0 || words[field + 3] !== 0) return false;
    words[field] = this.allocSlot;
    words[field + 1] = this.freeSlot;
    return true;
  }

  /** Starts recording the alloc hook's requests (the probe). */
  record(): void {
    this.#requests = [];
    this.#freed = 0;
  }

  /** What was recorded: sizes asked for, and how many frees. */
  takeRequests(): { sizes: number[]; freed: number } {
    const taken = { sizes: this.#requests ?? [], freed: this.#freed };
    this.#requests = undefined;
    return taken;
  }
}

function runtimePointer(runtime: QuickJSRuntime): number {
  return (runtime as unknown as { rt: { value: number } }).rt.value;
}

/**
 * Checks the hooks end to end in `runtime` (already attached at the computed offset) and `context`:
 * a growable buffer is allocated at its maximum through the hook, grows inside it reading zeros, and
 * is freed through the hook. Throws when anything differs.
 */
export function checkSabHooks(hooks: InstanceSabHooks, runtime: QuickJSRuntime, context: QuickJSContext): void {
  const PROBE_MAX = 65_536;
  hooks.record();
  const result = context.evalCode(
    `(() => { const b = new SharedArrayBuffer(8, { maxByteLength: ${PROBE_MAX} }); b.grow(${PROBE_MAX}); ` +
      `const v = new Uint8Array(b); for (let i = 0; i < v.length; i++) if (v[i] !== 0) return 'not zero at ' + i; return b.byteLength; })()`,
  );
  const value: unknown = result.error ? context.dump(result.error) : context.dump(result.value);
  (result.error ?? result.value).dispose();
  // QuickJS counts references: the buffer was freed (through the hook) when the function returned.
  runtime.executePendingJobs(-1);
  const { sizes, freed } = hooks.takeRequests();
  if (value !== PROBE_MAX || sizes.length !== 1 || sizes[0] !== PROBE_MAX || freed !== 1) {
    throw new Error(
      `quickjs-emscripten changed: lambdalet could not install QuickJS's SharedArrayBuffer hooks (got ${JSON.stringify(value)}, ` +
        `allocations ${JSON.stringify(sizes)}, frees ${freed}); a growable SharedArrayBuffer would reach past its memory`,
    );
  }
}
