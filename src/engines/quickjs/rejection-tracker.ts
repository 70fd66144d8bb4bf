/**
 * QuickJS's host promise-rejection tracker, which quickjs-emscripten 0.32 does not expose (its
 * `RuntimeOptions.promiseRejectionHandler` is a TODO type and no QTS_ function calls
 * `JS_SetHostPromiseRejectionTracker`; no newer release has one). Node's runtime client turns an
 * unhandled rejection into Runtime.UnhandledPromiseRejection and ends the environment (RIC
 * src/index.mjs `process.on('unhandledRejection')`), so lambdalet installs the tracker itself:
 *
 * 1. The module's bytes get one more export, the indirect function table (`exportFunctionTable`),
 *    before they are compiled: nothing else in the module changes.
 * 2. Each instance grows its table by one slot holding a JS function of the tracker's WebAssembly
 *    signature — `(ctx: i32, promise: i64, reason: i64, is_handled: i32, opaque: i32) → ()`,
 *    JSValue being NaN-boxed in 64 bits on wasm32 — made the way Emscripten's addFunction makes one
 *    (a tiny module that imports the function and exports it). Every instance gets the same slot, so
 *    a memory image made in one instance works in another.
 * 3. Each runtime gets that slot's index written into its JSRuntime's
 *    `host_promise_rejection_tracker` field, found once per thread in a throw-away probe instance:
 *    the field follows `interrupt_handler` and `interrupt_opaque` (quickjs.c struct JSRuntime), and
 *    the interrupt handler's offset is the word `setInterruptHandler` changes. The probe then checks
 *    the whole path with `Promise.reject()`; if anything differs the tracker stays off and QuickJS
 *    behaves as before (rejections unnoticed), with a process warning.
 *
 * Semantics: QuickJS calls the tracker with is_handled false when a promise with no handler is
 * rejected, and true when a handler is attached to such a promise later (quickjs.c
 * `fulfill_or_reject_promise`, `perform_promise_then`). A rejection still unhandled once the job
 * queue is drained is unhandled, as Node decides after its microtask queue drains
 * (lib/internal/process/promises.js `processPromiseRejections`). Inside the callback only C
 * functions run (JS_DupValue through QTS_DupValuePointer, malloc): never JavaScript.
 */
import type { EitherFFI, JSContextPointer, JSValuePointer } from '@jitl/quickjs-ffi-types';
import type { QuickJSContext, QuickJSHandle, QuickJSRuntime } from 'quickjs-emscripten-core';
import type { RejectionReason } from '../engine.ts';
import { v8Message } from '../guest/errors.ts';

/** The export the patched module gives its function table under. */
export const FUNCTION_TABLE = 'lambdaletFunctionTable';
const TABLE_EXPORT = FUNCTION_TABLE;

/** What the sandbox reads after a job drain: the first rejection nobody handled, if any. */
export interface RejectionLog {
  /** The first unhandled rejection's reason (and forgets them all), or undefined. */
  take(): RejectionReason | undefined;
}

/** The Emscripten module's parts used here (quickjs-emscripten's `module`). */
interface EmscriptenModule {
  readonly HEAPU8: Uint8Array;
  _malloc(bytes: number): number;
  _free(pointer: number): void;
}

interface Pending {
  readonly promise: JSValuePointer;
  readonly reason: JSValuePointer;
  handled: boolean;
}

interface WasmTable {
  readonly length: number;
  grow(delta: number): number;
  set(index: number, value: unknown): void;
}

// ---- 1. the module's bytes ----

function readLeb(bytes: Uint8Array, at: number): [number, number] {
  let value = 0;
  let shift = 0;
  let byte: number;
  do {
    byte = bytes[at++]!;
    value |= (byte & 0x7f) << shift;
    shift += 7;
  } while (byte & 0x80);
  return [value >>> 0, at];
}

function leb(value: number): number[] {
  const out: number[] = [];
  do {
    let byte = value & 0x7f;
    value >>>= 7;
    if (value !== 0) byte |= 0x80;
    out.push(byte);
  } while (value !== 0);
  return out;
}

/** The module's bytes with table 0 exported as {@link TABLE_EXPORT} (export section, id 7). */
export function exportFunctionTable(bytes: Uint8Array): Uint8Array {
  const parts: Uint8Array[] = [bytes.subarray(0, 8)];
  let at = 8;
  let patched = false;
  while (at < bytes.length) {
    const id = bytes[at++]!;
    let size: number;
    [size, at] = readLeb(bytes, at);
    let body = bytes.subarray(at, at + size);
    at += size;
    if (id === 7) {
      const [count, start] = readLeb(body, 0);
      const name = new TextEncoder().encode(TABLE_EXPORT);
      body = Uint8Array.from([...leb(count + 1), ...body.subarray(start), ...leb(name.length), ...name, 0x01, 0x00]);
      patched = true;
    }
    parts.push(Uint8Array.from([id, ...leb(body.length)]), body);
  }
  if (!patched) throw new Error('quickjs-emscripten changed: its module has no export section');
  return Buffer.concat(parts);
}

// ---- 2. the instance's slot ----

/** `(i32, i64, i64, i32, i32) → ()`: imports `e.f` and exports it as `f`, as Emscripten's addFunction does. */
const TRACKER_THUNK = new Uint8Array([
  0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00,
  0x01, 0x09, 0x01, 0x60, 0x05, 0x7f, 0x7e, 0x7e, 0x7f, 0x7f, 0x00, // type: the tracker's signature
  0x02, 0x07, 0x01, 0x01, 0x65, 0x01, 0x66, 0x00, 0x00, // import e.f
  0x07, 0x05, 0x01, 0x01, 0x66, 0x00, 0x00, // export f
]);

type Wasm = {
  Module: new (bytes: Uint8Array) => object;
  Instance: new (module: object, imports: object) => { exports: Record<string, unknown> };
};
const wasm = (globalThis as unknown as { WebAssembly: Wasm }).WebAssembly;

/** The tracker of one instance: its table slot, and the rejections of each context in it. */
export class InstanceRejections {
  readonly #module: EmscriptenModule;
  readonly #ffi: EitherFFI;
  /** The table index every instance's slot gets (the same, as the table starts the same). */
  readonly slot: number;
  readonly #byContext = new Map<number, Map<bigint, Pending>>();

  constructor(exports: Record<string, unknown>, module: EmscriptenModule, ffi: EitherFFI) {
    this.#module = module;
    this.#ffi = ffi;
    const table = exports[TABLE_EXPORT] as WasmTable | undefined;
    if (!table) throw new Error('quickjs: the module was compiled without its function table export');
    const thunk = new wasm.Instance(new wasm.Module(TRACKER_THUNK), {
      e: { f: (ctx: number, promise: bigint, reason: bigint, handled: number) => this.#track(ctx, promise, reason, handled !== 0) },
    }).exports.f;
    this.slot = table.grow(1);
    table.set(this.slot, thunk);
  }

  /**
   * Installs the tracker in `runtime` (`offset`: the field's place in JSRuntime) and returns the log
   * of `context`'s rejections; undefined when the field is not where it should be.
   */
  attach(runtime: QuickJSRuntime, context: QuickJSContext, offset: number): RejectionLog | undefined {
    const words = new Uint32Array(this.#module.HEAPU8.buffer);
    const field = (runtimePointer(runtime) + offset) / 4;
    if (!Number.isInteger(field) || words[field] !== 0 || words[field + 1] !== 0) return undefined;
    words[field] = this.slot;
    const ctx = contextPointer(context);
    const pending = new Map<bigint, Pending>();
    this.#byContext.set(ctx, pending);
    return {
      take: () => {
        let first: RejectionReason | undefined;
        for (const entry of pending.values()) {
          if (!entry.handled && first === undefined) first = reasonOf(context, runtime, this.#ffi, entry.reason);
          this.#ffi.QTS_FreeValuePointer(ctx as JSContextPointer, entry.promise);
          this.#ffi.QTS_FreeValuePointer(ctx as JSContextPointer, entry.reason);
        }
        pending.clear();
        return first;
      },
    };
  }

  /** Forgets a context (its runtime is being freed: its values go with it). */
  detach(context: QuickJSContext): void {
    this.#byContext.delete(contextPointer(context));
  }

  /** Runs inside QuickJS: C calls only (dup, malloc), never JavaScript. */
  #track(ctx: number, promise: bigint, reason: bigint, handled: boolean): void {
    const pending = this.#byContext.get(ctx);
    if (!pending) return;
    const entry = pending.get(promise);
    if (handled) {
      // Freed at the next take(), outside QuickJS: a free here could finalize objects mid-operation.
      if (entry) entry.handled = true;
      return;
    }
    if (entry) return;
    const promiseCopy = this.#dup(ctx, promise);
    const reasonCopy = this.#dup(ctx, reason);
    if (promiseCopy === undefined || reasonCopy === undefined) return; // out of memory: the cap's fault wins
    pending.set(promise, { promise: promiseCopy, reason: reasonCopy, handled: false });
  }

  /** A counted copy of a raw JSValue (held so its promise's address cannot be reused meanwhile). */
  #dup(ctx: number, bits: bigint): JSValuePointer | undefined {
    const scratch = this.#module._malloc(8);
    if (scratch === 0) return undefined;
    new DataView(this.#module.HEAPU8.buffer).setBigInt64(scratch, bits, true);
    const copy = this.#ffi.QTS_DupValuePointer(ctx as JSContextPointer, scratch as JSValuePointer);
    this.#module._free(scratch);
    return copy;
  }
}

/**
 * The reason as the V8 sandbox reports one (v8-sandbox.ts `rejectionReason`): `Name: message` (in
 * V8's words, guest/errors.ts `v8Message`) and the stack's lines for an Error (QuickJS's stack has no
 * header line: it is added; a guest-constructed error's has one, guest/stack-header.ts, which `text` replaces), String() of a primitive. Reading runs no user code (QTS_Dump reads own data properties).
 */
function reasonOf(context: QuickJSContext, runtime: QuickJSRuntime, ffi: EitherFFI, pointer: JSValuePointer): RejectionReason {
  // A handle of our own (a new counted copy), made as snapshot.ts `adoptValue` makes one.
  const getMemory = (context as unknown as { getMemory?: (rt: unknown) => { heapValueHandle(ptr: JSValuePointer): QuickJSHandle } }).getMemory;
  if (typeof getMemory !== 'function') return { text: 'Unhandled promise rejection', stack: [] };
  const handle = getMemory.call(context, runtimePointer(runtime)).heapValueHandle(ffi.QTS_DupValuePointer(contextPointer(context) as JSContextPointer, pointer));
  try {
    const value: unknown = context.dump(handle);
    if (typeof value === 'object' && value !== null) {
      const { name, message, stack } = value as { name?: unknown; message?: unknown; stack?: unknown };
      if (typeof name === 'string' && typeof message === 'string') {
        // QuickJS's own words for engine errors, as V8 words them (the guest rewords the same way).
        const text = `${name}: ${v8Message(message)}`;
        const lines = typeof stack === 'string' ? stack.split('\n').filter((line) => line.trim() !== '') : [];
        // A stack with the guest's header (guest/stack-header.ts) keeps only its frames under `text`.
        const first = lines.findIndex((line) => line.startsWith('    at '));
        const frames = first > 0 && typeof stack === 'string' && stack.startsWith(name) ? lines.slice(first) : lines;
        return { text, stack: [text, ...frames] };
      }
      return { text: '[object Object]', stack: [] };
    }
    return { text: String(value), stack: [] };
  } finally {
    handle.dispose();
  }
}

/** quickjs-emscripten keeps these pointers protected; snapshot.ts reads `rt` the same way. */
function runtimePointer(runtime: QuickJSRuntime): number {
  return (runtime as unknown as { rt: { value: number } }).rt.value;
}

function contextPointer(context: QuickJSContext): number {
  return (context as unknown as { ctx: { value: number } }).ctx.value;
}

// ---- 3. the field's offset, found once per thread ----

/**
 * Finds `host_promise_rejection_tracker` in a runtime of `probe` (a throw-away instance) and checks
 * the tracker end to end; the offset, or undefined when anything differs.
 */
export function findTrackerOffset(probe: { module: { newRuntime(): QuickJSRuntime }; rejections: InstanceRejections; heap(): Uint8Array }): number | undefined {
  const runtime = probe.module.newRuntime();
  try {
    const span = 64;
    const base = runtimePointer(runtime) / 4;
    const before = new Uint32Array(probe.heap().buffer).slice(base, base + span);
    runtime.setInterruptHandler(() => false);
    const after = new Uint32Array(probe.heap().buffer).slice(base, base + span);
    const changed = [...before.keys()].filter((i) => before[i] !== after[i]);
    // Exactly one word (the handler; its opaque is NULL), followed by opaque and our field.
    if (changed.length !== 1) return undefined;
    const offset = (changed[0]! + 2) * 4;
    const context = runtime.newContext();
    try {
      const log = probe.rejections.attach(runtime, context, offset);
      if (!log) return undefined;
      const run = (code: string): RejectionReason | undefined => {
        context.unwrapResult(context.evalCode(code)).dispose();
        runtime.executePendingJobs(-1);
        return log.take();
      };
      const caught = run("new Promise((resolve, reject) => reject(new Error('handled'))).catch(() => {})");
      const unhandled = run("Promise.reject(new TypeError('probe'))");
      if (caught !== undefined || unhandled?.text !== 'TypeError: probe') return undefined;
      return offset;
    } finally {
      probe.rejections.detach(context);
      context.dispose();
    }
  } catch {
    return undefined;
  } finally {
    runtime.dispose();
  }
}
