/**
 * The `WebAssembly` global of v8 guests, with every memory it can allocate bounded by memoryMb
 * (issues #12 and #15). isolated-vm's memoryLimit counts neither a WebAssembly memory (V8 reserves
 * and commits its pages itself) nor compiled code: before this, guests had no WebAssembly at all
 * (a v8 guest under memoryMb 128 reserved 1.5 GB of host memory in 4 s with `new
 * WebAssembly.Memory`). QuickJS has no WebAssembly: nothing is installed there.
 *
 * What is bounded, and how:
 * - Every module's bytes are rewritten before V8 compiles them (../wasm-limits.ts, the reader the
 *   wasm engine uses for a component's memories): each memory the module defines gets a maximum
 *   (its declared one, at most memoryMb), each table one of at most {@link TABLE_MAX_ELEMENTS}.
 *   Shared memories, 64-bit memories and tables are refused with a CompileError saying why.
 *   `memory.grow` / `table.grow` inside WebAssembly then fail (-1) at those maxima, as the spec says.
 * - A reservation per environment: the sum of the maxima of every live memory (those instances
 *   define, and `new WebAssembly.Memory`) never exceeds memoryMb. So at any instant the WebAssembly
 *   memories of an environment hold at most memoryMb, whatever runs inside them (`memory.grow`
 *   inside WebAssembly cannot be seen from JS; only a maximum bounds it). A memory gets its declared
 *   maximum when that fits in {@link shareOf} what is unreserved, else that share: three quarters,
 *   a quarter kept back for the modules that come later. Real modules declare far more than they
 *   use (Rust's none, Emscripten's 2 GiB), and a memory given all that is left made a second module
 *   fail (es-module-lexer beside undici's llhttp). An instantiation whose module's maxima no
 *   longer fit is given a copy of the module compiled with a share of what is left now (same code,
 *   smaller maxima, its code charged too); one whose minima do not fit fails with V8's own
 *   RangeError for a memory it cannot allocate. Reservations come back when the GC has collected the instance
 *   and every memory it exported (FinalizationRegistry).
 * - What they actually hold is charged against memoryMb like the rest of the guest's off-heap
 *   memory (memory-ledger.ts): a "shadow" ArrayBuffer through isolated-vm's allocator, BEFORE V8
 *   commits the pages, for a memory's initial size and each `grow` from JS; a memory grown inside
 *   WebAssembly is charged when JS next reads its `buffer` (the only way JS sees the new pages).
 *   A shadow refused at instantiation or grow is V8's RangeError (as a plain ArrayBuffer past
 *   memoryMb is); a memory already grown past what is left ends the environment with
 *   Runtime.OutOfMemory, as Lambda's process killed at MemorySize would end.
 * - Compiled code: a shadow of {@link CODE_BYTES_PER_MODULE_BYTE} x the module's size per live
 *   Module (V8 measured 2.4x with lazy compilation, 6.8x with every function compiled by Liftoff;
 *   TurboFan's tier-up adds to it and is kept: flags.ts turns wasm code GC off).
 * - Tables live on V8's heap (its limit counts them); their maximum only keeps any one allocation
 *   small: a table of 10^7 funcref elements, V8's own limit, was one ~80 MB allocation that V8
 *   could not fit and ended the whole process (a fatal OOM, not isolated-vm's limit), one of 10^6
 *   ended at the limit as any other heap bomb.
 * - JSPI (`WebAssembly.Suspending`, `promising`, `SuspendError`) is removed: each suspended call
 *   keeps a stack V8 allocates outside both.
 *
 * The discipline is memory-ledger.ts's: the originals are kept in this module's closure and every
 * path a guest has to them (the namespace, each prototype's `constructor`, the replaced methods)
 * leads to the wrappers; the wrappers read the user's arguments themselves (bytes copied, import
 * objects read into fresh objects, descriptors converted to primitives) and call the originals
 * with those. User code runs while an original is on the stack in one case only, as in Node: a
 * module's start function calling an imported JS function (the reservation is taken before).
 */
import { byteLengthOf, readModuleLimits, rewriteModuleLimits, WasmLimitsError, type DeclaredLimits, type ModuleLimits } from '../wasm-limits.ts';
import { hostCall } from './bridge.ts';
import { WASM_COMPILED_OP } from './protocol.ts';
import { exhaust, shadow, substitute, replaceMethod, type AnyFunction, type Constructor } from './memory-ledger.ts';

/** 64 KiB, WebAssembly's page. */
const PAGE_BYTES = 65536;
/** V8's limit on a 32-bit memory's pages (4 GiB). */
const MAX_PAGES = 65536;
/** The largest table a guest may define or grow to, in elements (V8's own limit is 10^7). */
export const TABLE_MAX_ELEMENTS = 1 << 20;
/** The code shadow of a compiled module, per byte of the module. */
export const CODE_BYTES_PER_MODULE_BYTE = 8;

const { apply, construct, defineProperty, getOwnPropertyDescriptor, getPrototypeOf, deleteProperty } = Reflect;
const U8 = Uint8Array;
const F64 = Float64Array;
const NativeArrayBuffer = ArrayBuffer;
const NativeWeakMap = WeakMap;
const weakMapGet = WeakMap.prototype.get;
const weakMapSet = WeakMap.prototype.set;
const weakMapHas = WeakMap.prototype.has;
const NativePromise = Promise;
const promiseThen = Promise.prototype.then;
const promiseResolve = Promise.resolve;
const NumberCtor = Number;
const StringCtor = String;
const MathMin = Math.min;
const MathTrunc = Math.trunc;
const NumberIsFinite = Number.isFinite;
const NumberIsNaN = Number.isNaN;
const ObjectCreate = Object.create;
const TypeErrorCtor = TypeError;
const RangeErrorCtor = RangeError;
const stringSlice = String.prototype.slice;
const stringStartsWith = String.prototype.startsWith;
const arrayBufferIsView = ArrayBuffer.isView;
const TypedArrayPrototype = Reflect.getPrototypeOf(Uint8Array.prototype) as object;
const typedArraySet = getOwnPropertyDescriptor(TypedArrayPrototype, 'set')!.value as AnyFunction;
const typedArrayTag = getOwnPropertyDescriptor(TypedArrayPrototype, Symbol.toStringTag)!.get!;
const typedArrayBuffer = getOwnPropertyDescriptor(TypedArrayPrototype, 'buffer')!.get!;
const typedArrayByteOffset = getOwnPropertyDescriptor(TypedArrayPrototype, 'byteOffset')!.get!;
const typedArrayByteLength = getOwnPropertyDescriptor(TypedArrayPrototype, 'byteLength')!.get!;
const dataViewBuffer = getOwnPropertyDescriptor(DataView.prototype, 'buffer')!.get!;
const dataViewByteOffset = getOwnPropertyDescriptor(DataView.prototype, 'byteOffset')!.get!;
const dataViewByteLength = getOwnPropertyDescriptor(DataView.prototype, 'byteLength')!.get!;
const arrayBufferByteLength = getOwnPropertyDescriptor(ArrayBuffer.prototype, 'byteLength')!.get!;
const sharedArrayBufferByteLength = typeof SharedArrayBuffer === 'function' ? getOwnPropertyDescriptor(SharedArrayBuffer.prototype, 'byteLength')!.get! : undefined;

/** What is charged for one memory (or one instance's defined memories): its shadows, kept by whoever keeps the memory. */
interface Ledger {
  charged: number;
  readonly held: unknown[];
  /** The memory's maximum in bytes, where known (a Memory made from JS): a grow past it charges nothing. */
  readonly maxBytes?: number;
}
/** One reservation of pages, given back when the last of its holders has been collected. */
interface Reservation {
  readonly pages: number;
  holders: number;
  released: boolean;
  /** Its holders, weakly: {@link reclaim} releases it when the GC has collected every one. */
  readonly refs: WeakRef<object>[];
}
interface ModuleInfo {
  /** The module as compiled, and the sum of its memories' rewritten maxima in pages (one instance's reservation). */
  readonly compiled: Compiled;
  /** The last copy made with smaller maxima (instantiate()), used while the first does not fit. */
  copy?: Compiled;
  /** Its bytes and declared limits, for a copy with smaller maxima (instantiate()). */
  readonly bytes: Uint8Array;
  readonly limits: ModuleLimits;
  readonly tableMaxima: Float64Array;
  /** Their minima, in bytes: charged before each instantiation. */
  readonly initialBytes: number;
  /** The names of its memory exports (each instance's are charged and held apart). */
  readonly memoryExports: readonly string[];
  /** Each import's module and name, in order (read from the import object before V8 reads it). */
  readonly imports: readonly (readonly [string, string])[];
  readonly code: ArrayBuffer;
}

/** Memories' declared pages: a module's (wasm-limits.ts) or one `new WebAssembly.Memory`'s. */
type Memories = Pick<DeclaredLimits, 'count' | 'min' | 'max'>;

/** A native module and the pages one instance of it reserves. */
interface Compiled {
  readonly module: object;
  readonly reservePages: number;
  /** A copy's compiled-code shadow (the first compilation's is the ModuleInfo's). */
  readonly code?: ArrayBuffer;
}

let budgetPages = 0;
let reservedPages = 0;
/** Whether this environment has compiled WebAssembly (the host is told once: SnapStart). */
let used = false;
const modules = new NativeWeakMap<object, ModuleInfo>();
const ledgers = new NativeWeakMap<object, Ledger>();
const NativeWeakRef = WeakRef;
const weakRefDeref = WeakRef.prototype.deref;
/** Unreleased reservations (a Set, read with the engine's own methods: a guest may replace Set.prototype's). */
const live = new Set<Reservation>();
const setAdd = Set.prototype.add;
const setDelete = Set.prototype.delete;
const setValues = Set.prototype.values;
const setIteratorNext = (Reflect.getPrototypeOf(new Set().values()) as { next: AnyFunction }).next;
/** V8's gc(), exposed by the host (v8/flags.ts); absent where it is not. */
let guestGc: AnyFunction | undefined;

function release(reservation: Reservation): void {
  if (reservation.released) return;
  reservation.released = true;
  reservedPages -= reservation.pages;
  apply(setDelete, live, [reservation]);
}

const registry = new FinalizationRegistry<Reservation>((reservation) => {
  if (--reservation.holders === 0) release(reservation);
});
const register = FinalizationRegistry.prototype.register;

/** Records `pages` (already counted in reservedPages) as held by `holders`: the last one collected gives them back. */
function reserve(pages: number, holders: readonly object[]): Reservation {
  const refs: WeakRef<object>[] = [];
  const reservation: Reservation = { pages, holders: holders.length, released: false, refs };
  for (let i = 0; i < holders.length; i++) {
    defineProperty(refs, i, { value: new NativeWeakRef(holders[i]!), writable: true, enumerable: true, configurable: true });
    apply(register, registry, [holders[i], reservation]);
  }
  apply(setAdd, live, [reservation]);
  return reservation;
}

/**
 * A reservation did not fit: collect garbage and give back what dropped instances and memories
 * held, at once (the FinalizationRegistry would, in a later task). A full GC of the guest's own
 * heap, only on this path. Objects made in the current job are kept by their WeakRefs until it
 * ends (ECMAScript's KeepDuringJob): what a synchronous loop drops comes back after it yields.
 */
function reclaim(): void {
  if (!guestGc || reservedPages === 0) return;
  guestGc();
  const iterator = apply(setValues, live, []) as Iterator<Reservation>;
  const collected: Reservation[] = [];
  for (let step = apply(setIteratorNext, iterator, []) as IteratorResult<Reservation>; !step.done; step = apply(setIteratorNext, iterator, []) as IteratorResult<Reservation>) {
    const reservation = step.value;
    let alive = false;
    for (let i = 0; i < reservation.refs.length && !alive; i++) alive = apply(weakRefDeref, reservation.refs[i], []) !== undefined;
    if (!alive) defineProperty(collected, collected.length, { value: reservation, writable: true, enumerable: true, configurable: true });
  }
  for (let i = 0; i < collected.length; i++) release(collected[i]!);
}

const get = <T>(map: WeakMap<object, T>, key: object): T | undefined => apply(weakMapGet, map, [key]) as T | undefined;
const set = <T>(map: WeakMap<object, T>, key: object, value: T): void => {
  apply(weakMapSet, map, [key, value]);
};
/** A getter or method of the engine's own, called on `self` (typed by the caller). */
const call = <T>(fn: AnyFunction, self: unknown, args: readonly unknown[] = []): T => apply<unknown, readonly unknown[], T>(fn, self, args);
const isObject = (value: unknown): value is object => (typeof value === 'object' && value !== null) || typeof value === 'function';

/** memoryMb, from the INIT message: what the reservation and the shadows share. */
export function setWasmBudget(memoryMb: number): void {
  budgetPages = MathTrunc((memoryMb * 1024 * 1024) / PAGE_BYTES);
}


/** A copy of a BufferSource's bytes, in a buffer only this module holds, read with the engine's own getters. */
function copyBytes(source: unknown, api: string, expected = 'a buffer source'): Uint8Array {
  let buffer: ArrayBuffer | undefined;
  let offset = 0;
  let length = 0;
  if (isObject(source) && apply(arrayBufferIsView, NativeArrayBuffer, [source])) {
    if (apply(typedArrayTag, source, []) !== undefined) {
      buffer = apply(typedArrayBuffer, source, []) as ArrayBuffer;
      offset = call<number>(typedArrayByteOffset, source);
      length = call<number>(typedArrayByteLength, source);
    } else {
      buffer = apply(dataViewBuffer, source, []) as ArrayBuffer;
      offset = call<number>(dataViewByteOffset, source);
      length = call<number>(dataViewByteLength, source);
    }
  } else if (isObject(source)) {
    try {
      length = call<number>(arrayBufferByteLength, source);
      buffer = source as ArrayBuffer;
    } catch {
      if (sharedArrayBufferByteLength) {
        try {
          length = call<number>(sharedArrayBufferByteLength, source);
          buffer = source as ArrayBuffer;
        } catch {
          // not a buffer: below
        }
      }
    }
  }
  if (buffer === undefined) throw new TypeErrorCtor(`${api}: Argument 0 must be ${expected}`);
  const copy = new U8(length);
  if (length > 0) apply(typedArraySet, copy, [new U8(buffer, offset, length)]);
  return copy;
}

/** `error` (V8's, from the synchronous constructor `from`) as the API `api` reports it: its own prefix. */
function relabel(error: unknown, api: string, from = 'WebAssembly.Module()'): unknown {
  if (api === from || !(error instanceof Error)) return error;
  const Ctor = (error instanceof CompileErrorCtor ? CompileErrorCtor : getOwnPropertyDescriptor(getPrototypeOf(error) ?? {}, 'constructor')?.value ?? Error) as new (message: string) => Error;
  const message = getOwnPropertyDescriptor(error, 'message')?.value as unknown;
  const prefix = `${from}: `;
  if (typeof message !== 'string' || !apply(stringStartsWith, message, [prefix])) return error;
  return new Ctor(`${api}: ${call<string>(stringSlice, message, [prefix.length])}`);
}

let NativeModule: Constructor;
let NativeInstance: Constructor;
let NativeMemory: Constructor;
let NativeTable: Constructor;
let CompileErrorCtor: new (message: string) => Error;
let nativeValidate: AnyFunction;
let moduleImports: AnyFunction;
let moduleExports: AnyFunction;
let instanceExports: AnyFunction;
let memoryBuffer: AnyFunction;
let namespace: Record<string, unknown>;

/**
 * The largest maximum a new memory is given out of `unreserved` pages: three quarters of them (at
 * least one page), the rest kept back for memories made later (see the header).
 */
function shareOf(unreserved: number): number {
  return unreserved <= 1 ? unreserved : unreserved - MathTrunc(unreserved / 4);
}

/**
 * The maxima `memories` get out of `unreserved` pages, one after the other: the declared maximum
 * (none: WebAssembly's 65,536) when it fits in the share of what is still unreserved, else that
 * share, never under the memory's minimum (a minimum past what is left keeps its own maximum, =
 * minimum, and the instantiation fails on the reservation, as V8 fails one it cannot allocate).
 */
function maximaOf(memories: Memories, unreserved: number): { maxima: Float64Array; pages: number } {
  const maxima = new F64(memories.count);
  let pages = 0;
  for (let i = 0; i < memories.count; i++) {
    const min = memories.min[i]!;
    const declared = memories.max[i]!;
    const max = MathMin(NumberIsNaN(declared) ? MAX_PAGES : declared, shareOf(unreserved - pages));
    maxima[i] = max < min ? min : max;
    pages += maxima[i]!;
  }
  return { maxima, pages };
}

/** Why `bytes` cannot be compiled here (a CompileError to throw), or its limits read and its tables' maxima. */
function bound(bytes: Uint8Array, api: string): { limits: ModuleLimits; tableMaxima: Float64Array; initialBytes: number } {
  let limits: ModuleLimits;
  try {
    limits = readModuleLimits(bytes);
  } catch (error) {
    if (error instanceof WasmLimitsError) throw new CompileErrorCtor(`${api}: ${error.message}`);
    throw error;
  }
  const { memories, tables } = limits;
  let initialBytes = 0;
  for (let i = 0; i < memories.count; i++) initialBytes += memories.min[i]! * PAGE_BYTES;
  const tableMaxima = new F64(tables.count);
  for (let i = 0; i < tables.count; i++) {
    const min = tables.min[i]!;
    if (min > TABLE_MAX_ELEMENTS) throw new CompileErrorCtor(`${api}: initial table size (${min} elements) is larger than implementation limit (${TABLE_MAX_ELEMENTS} elements)`);
    const declared = tables.max[i]!;
    tableMaxima[i] = MathMin(NumberIsNaN(declared) ? TABLE_MAX_ELEMENTS : declared, TABLE_MAX_ELEMENTS);
  }
  return { limits, tableMaxima, initialBytes };
}

/** `info`'s module compiled again with its memories' maxima taken out of `unreserved` pages; its code charged like the first's. */
function recompile(info: ModuleInfo, unreserved: number): Compiled {
  const { maxima, pages } = maximaOf(info.limits.memories, unreserved);
  let code: ArrayBuffer;
  try {
    code = shadow(byteLengthOf(info.bytes) * CODE_BYTES_PER_MODULE_BYTE);
  } catch {
    return exhaust();
  }
  return { module: construct(NativeModule, [rewriteModuleLimits(info.bytes, info.limits, maxima, info.tableMaxima)]) as object, reservePages: pages, code };
}

/**
 * The maxima `memories` get now. Reservations of instances and memories the guest has dropped
 * stay until the GC collects them: when they shrink this module's share, they are collected
 * first, so what a module gets does not depend on the GC's timing (a module compiled in every
 * invocation gets the same maxima each time).
 */
function currentMaxima(memories: Memories): { maxima: Float64Array; pages: number } {
  const now = maximaOf(memories, budgetPages - reservedPages);
  if (reservedPages === 0 || now.pages >= maximaOf(memories, budgetPages).pages) return now;
  reclaim();
  return maximaOf(memories, budgetPages - reservedPages);
}

/** SnapStart: the host learns, once, that this environment holds WebAssembly objects (protocol.ts). */
function noteUse(): void {
  if (used) return;
  used = true;
  try {
    hostCall(WASM_COMPILED_OP, []);
  } catch {
    // Only the v8 engine's INIT-time channel answers it (v8-engine.ts); a restored guest's need not.
  }
}

/** Compiles `source` (a BufferSource) bounded; V8's own errors for invalid bytes, as `api` reports them. */
function compile(source: unknown, api: string, newTarget?: AnyFunction, expected?: string): object {
  const bytes = copyBytes(source, api, expected);
  noteUse();
  if (!(apply(nativeValidate, namespace, [bytes]) as boolean)) {
    try {
      construct(NativeModule, [bytes]);
    } catch (error) {
      throw relabel(error, api);
    }
  }
  const { limits, tableMaxima, initialBytes } = bound(bytes, api);
  const { maxima, pages: reservePages } = currentMaxima(limits.memories);
  const rewritten = rewriteModuleLimits(bytes, limits, maxima, tableMaxima);
  let code: ArrayBuffer;
  try {
    code = shadow(byteLengthOf(bytes) * CODE_BYTES_PER_MODULE_BYTE);
  } catch {
    // Past memoryMb with compiled code: as Lambda's process killed at MemorySize.
    return exhaust();
  }
  const module = construct(NativeModule, [rewritten], newTarget ?? NativeModule) as object;
  const exportList = apply(moduleExports, NativeModule, [module]) as { name: string; kind: string }[];
  const memoryExports: string[] = [];
  for (let i = 0; i < exportList.length; i++) {
    const entry = exportList[i]!;
    if (entry.kind === 'memory') defineProperty(memoryExports, memoryExports.length, { value: entry.name, writable: true, enumerable: true, configurable: true });
  }
  const importList = apply(moduleImports, NativeModule, [module]) as { module: string; name: string }[];
  const imports: (readonly [string, string])[] = [];
  for (let i = 0; i < importList.length; i++) {
    const entry = importList[i]!;
    defineProperty(imports, i, { value: [entry.module, entry.name] as const, writable: true, enumerable: true, configurable: true });
  }
  set(modules, module, { compiled: { module, reservePages }, bytes, limits, tableMaxima, initialBytes, memoryExports, imports, code });
  return module;
}

/**
 * The import object V8 gets: each import read from the user's (its getters run here, in V8's
 * order) into fresh null-prototype objects. V8 then checks each value's kind with its own errors.
 */
function readImports(info: ModuleInfo, importObject: unknown, api: string): unknown {
  if (importObject !== undefined && !isObject(importObject)) throw new TypeErrorCtor(`${api}: Argument 1 must be an object`);
  if (info.imports.length === 0) return importObject;
  if (importObject === undefined) throw new TypeErrorCtor(`${api}: Imports argument must be present and must be an object`);
  const fresh = ObjectCreate(null) as Record<string, Record<string, unknown>>;
  for (let i = 0; i < info.imports.length; i++) {
    const entry = info.imports[i]!;
    const moduleName = entry[0];
    const name = entry[1];
    const moduleObject = (importObject as Record<string, unknown>)[moduleName];
    if (!isObject(moduleObject)) throw new TypeErrorCtor(`${api}: Import #${i} "${moduleName}": module is not an object or function`);
    const value = (moduleObject as Record<string, unknown>)[name];
    let target = getOwnPropertyDescriptor(fresh, moduleName)?.value;
    if (!target) {
      target = ObjectCreate(null) as Record<string, unknown>;
      defineProperty(fresh, moduleName, { value: target, writable: true, enumerable: true, configurable: true });
    }
    defineProperty(target, name, { value, writable: true, enumerable: true, configurable: true });
  }
  return fresh;
}

function outOfMemory(api: string): RangeError {
  return new RangeErrorCtor(`${api}: Out of memory: Cannot allocate Wasm memory for new instance`);
}

/** Instantiates a module compiled by {@link compile}: its memories reserved and charged first. */
function instantiate(module: unknown, importObject: unknown, api: string, newTarget?: AnyFunction): object {
  const info = isObject(module) ? get(modules, module) : undefined;
  if (!info) throw new TypeErrorCtor(`${api}: Argument 0 must be a WebAssembly.Module`);
  const imports = readImports(info, importObject, api);
  let chosen = info.compiled;
  if (chosen.reservePages > budgetPages - reservedPages) reclaim();
  if (chosen.reservePages > budgetPages - reservedPages) {
    // Its maxima were shared out of more than is unreserved now: a copy with a share of what is
    // (the last one made, if it fits). The module as compiled is tried first each time, so once
    // room comes back an instance gets its first maxima again.
    if (info.initialBytes / PAGE_BYTES > budgetPages - reservedPages) throw outOfMemory(api);
    if (info.copy === undefined || info.copy.reservePages > budgetPages - reservedPages) info.copy = recompile(info, budgetPages - reservedPages);
    chosen = info.copy;
  }
  const { module: compiledModule, reservePages } = chosen;
  const ledger: Ledger = { charged: info.initialBytes, held: [] };
  if (info.initialBytes > 0) {
    try {
      defineProperty(ledger.held, 0, { value: shadow(info.initialBytes), writable: true, enumerable: true, configurable: true });
    } catch {
      throw outOfMemory(api);
    }
  }
  // Taken before V8 runs the module's start function, which may call back into the guest.
  reservedPages += reservePages;
  let instance: object;
  try {
    instance = construct(NativeInstance, [compiledModule, imports], newTarget ?? NativeInstance) as object;
  } catch (error) {
    reservedPages -= reservePages;
    throw relabel(error, api, 'WebAssembly.Instance()');
  }
  const holders: object[] = [instance];
  set(ledgers, instance, ledger);
  if (info.memoryExports.length > 0) {
    const exportsObject = call<Record<string, unknown>>(instanceExports, instance);
    for (let i = 0; i < info.memoryExports.length; i++) {
      const memory = exportsObject[info.memoryExports[i]!] as object;
      // An imported memory re-exported is already charged where it was made.
      if (apply(weakMapHas, ledgers, [memory])) continue;
      const length = call<number>(arrayBufferByteLength, call<ArrayBuffer>(memoryBuffer, memory));
      // The instance's shadows stay while this memory lives, even once the instance is collected.
      set(ledgers, memory, { charged: length, held: [ledger.held] });
      defineProperty(holders, holders.length, { value: memory, writable: true, enumerable: true, configurable: true });
    }
  }
  // Counted above (before the start function ran); recorded here, with whoever keeps the memories.
  reserve(reservePages, holders);
  return instance;
}

/** Raises `ledger`'s charge to `bytes`; false when the allocator refuses (past memoryMb). */
function charge(ledger: Ledger, bytes: number): boolean {
  if (bytes <= ledger.charged) return true;
  let extra: ArrayBuffer;
  try {
    extra = shadow(bytes - ledger.charged);
  } catch {
    return false;
  }
  defineProperty(ledger.held, ledger.held.length, { value: extra, writable: true, enumerable: true, configurable: true });
  ledger.charged = bytes;
  return true;
}

/** A descriptor's property converted once, here (its getter and valueOf run before any original). */
function readNumber(descriptor: object, key: string): number | bigint | undefined {
  const value = (descriptor as Record<string, unknown>)[key];
  if (value === undefined) return undefined;
  return typeof value === 'bigint' ? value : NumberCtor(value);
}

const inRange = (value: number | bigint | undefined, min: number, max: number): value is number =>
  typeof value === 'number' && NumberIsFinite(value) && MathTrunc(value) >= min && MathTrunc(value) <= max;

function newMemory(newTarget: AnyFunction | undefined, descriptor: unknown): object {
  const api = 'WebAssembly.Memory()';
  if (newTarget === undefined) throw new TypeErrorCtor(`${api}: WebAssembly.Memory must be invoked with 'new'`);
  noteUse();
  if (!isObject(descriptor)) throw new TypeErrorCtor(`${api}: Argument 0 must be a memory descriptor`);
  const address = (descriptor as Record<string, unknown>).address ?? (descriptor as Record<string, unknown>).index;
  const addressType = address === undefined ? undefined : StringCtor(address);
  if (addressType === 'i64') throw new RangeErrorCtor(`${api}: a 64-bit memory is not supported: its size could not be bounded by memoryMb`);
  const initial = readNumber(descriptor, 'initial') ?? readNumber(descriptor, 'minimum');
  const maximum = readNumber(descriptor, 'maximum');
  const shared = !!(descriptor as Record<string, unknown>).shared;
  if (shared) throw new RangeErrorCtor(`${api}: a shared memory is not supported: its size could not be bounded by memoryMb`);
  const target = newTarget === memoryWrapper ? NativeMemory : newTarget;
  const valid = inRange(initial, 0, MAX_PAGES) && (maximum === undefined || inRange(maximum, MathTrunc(initial), MAX_PAGES));
  if (!valid || (addressType !== undefined && addressType !== 'i32')) {
    // V8's own TypeError or RangeError for the values as converted (it throws before allocating).
    const plain = ObjectCreate(null) as Record<string, unknown>;
    plain.initial = initial;
    plain.maximum = maximum === undefined ? 0 : maximum;
    if (addressType !== undefined) plain.address = addressType;
    construct(NativeMemory, [plain], target);
    throw new Error('lambdalet bug: WebAssembly.Memory accepted a descriptor it was expected to refuse');
  }
  const initialPages = MathTrunc(initial);
  // Its maximum as a module's memory's (maximaOf): declared, or a share of what is unreserved.
  const declared: Memories = { count: 1, min: new F64(1), max: new F64(1) };
  declared.min[0] = initialPages;
  declared.max[0] = maximum === undefined ? NaN : MathTrunc(maximum);
  const maxPages = currentMaxima(declared).pages;
  if (maxPages > budgetPages - reservedPages) throw new RangeErrorCtor(`${api}: could not allocate memory`);
  const ledger: Ledger = { charged: 0, held: [], maxBytes: maxPages * PAGE_BYTES };
  if (!charge(ledger, initialPages * PAGE_BYTES)) throw new RangeErrorCtor(`${api}: could not allocate memory`);
  const plain = ObjectCreate(null) as Record<string, unknown>;
  plain.initial = initialPages;
  plain.maximum = maxPages;
  reservedPages += maxPages;
  let memory: object;
  try {
    memory = construct(NativeMemory, [plain], target) as object;
  } catch (error) {
    reservedPages -= maxPages;
    throw error;
  }
  set(ledgers, memory, ledger);
  reserve(maxPages, [memory]);
  return memory;
}

function newTable(newTarget: AnyFunction | undefined, descriptor: unknown, value: unknown, argc: number): object {
  const api = 'WebAssembly.Table()';
  if (newTarget === undefined) throw new TypeErrorCtor(`${api}: WebAssembly.Table must be invoked with 'new'`);
  noteUse();
  if (!isObject(descriptor)) throw new TypeErrorCtor(`${api}: Argument 0 must be a table descriptor`);
  const element = (descriptor as Record<string, unknown>).element;
  const elementType = element === undefined ? undefined : StringCtor(element);
  const address = (descriptor as Record<string, unknown>).address ?? (descriptor as Record<string, unknown>).index;
  const addressType = address === undefined ? undefined : StringCtor(address);
  if (addressType === 'i64') throw new RangeErrorCtor(`${api}: a 64-bit table is not supported: its size could not be bounded by memoryMb`);
  const initial = readNumber(descriptor, 'initial') ?? readNumber(descriptor, 'minimum');
  const maximum = readNumber(descriptor, 'maximum');
  const target = newTarget === tableWrapper ? NativeTable : newTarget;
  const plain = ObjectCreate(null) as Record<string, unknown>;
  plain.element = elementType;
  if (addressType !== undefined) plain.address = addressType;
  plain.initial = initial;
  if (inRange(initial, 0, TABLE_MAX_ELEMENTS)) {
    // A maximum past the bound is lowered to it: growing past it fails, as the spec lets it.
    plain.maximum = maximum === undefined || (typeof maximum === 'number' && maximum > TABLE_MAX_ELEMENTS) ? TABLE_MAX_ELEMENTS : maximum;
  } else if (typeof initial === 'number' && NumberIsFinite(initial) && initial > TABLE_MAX_ELEMENTS && initial <= 0xffffffff) {
    throw new RangeErrorCtor(`${api}: Property 'initial': value ${MathTrunc(initial)} is above the upper bound ${TABLE_MAX_ELEMENTS}`);
  } else {
    plain.maximum = 0; // V8 refuses the initial value first
  }
  const args = argc >= 2 ? [plain, value] : [plain];
  return construct(NativeTable, args, target) as object;
}

let memoryWrapper: AnyFunction;
let tableWrapper: AnyFunction;
let moduleWrapper: AnyFunction | undefined;

/** `work()` in a later job, as a promise (the async APIs' errors are rejections, their work not synchronous). */
function later<T>(work: () => T): Promise<T> {
  return new NativePromise<T>((resolve, reject) => {
    void apply(promiseThen, apply(promiseResolve, NativePromise, []), [
      () => {
        try {
          resolve(work());
        } catch (error) {
          // eslint-disable-next-line @typescript-eslint/prefer-promise-reject-errors -- what V8 threw, as it is
          reject(error);
        }
      },
    ]);
  });
}

/** Node's compileStreaming / instantiateStreaming (lib/internal/wasm_web_api.js): a Response's bytes, then as compile. */
async function responseBytes(source: unknown): Promise<unknown> {
  const response = (await source) as Record<string, unknown>;
  const ResponseCtor = (globalThis as unknown as { Response?: AnyFunction }).Response;
  if (!ResponseCtor || !(response instanceof ResponseCtor)) {
    throw new TypeErrorCtor('The "source" argument must be an instance of Response or an instance of Promise resolving to Response.');
  }
  const headers = response.headers as { get(name: string): string | null };
  const contentType = headers.get('Content-Type');
  if (contentType !== 'application/wasm') throw new TypeErrorCtor(`WebAssembly response has unsupported MIME type '${contentType}'`);
  if (!response.ok) throw new TypeErrorCtor(`WebAssembly response has status code ${String(response.status)}`);
  if (response.bodyUsed) throw new TypeErrorCtor('WebAssembly response body has already been used');
  return (response.arrayBuffer as () => Promise<ArrayBuffer>)();
}

/**
 * Installs the bounded `WebAssembly` (v8 guests: before any user code). Without a native one
 * (QuickJS) nothing is installed: the global stays absent.
 *
 * Again after a SnapStart restore (index.ts bind, before any user code runs there): V8 installs a
 * fresh native `WebAssembly` when it deserialises a context from a startup snapshot — measured, a
 * restored guest's `WebAssembly.Module` was `function Module() { [native code] }` and JSPI was
 * back, so a module compiled there had no maximum (a memory grew past memoryMb's 2,048 pages).
 * The same held before this file: the `delete` of the global at boot was undone by a restore.
 */
export function installWasmLedger(): void {
  // V8's gc, exposed in every isolate's context (v8/flags.ts; again in one restored from a
  // snapshot): taken before any user code. The global is non-configurable (the extension declares
  // it as a function): it stays, `undefined`.
  const gcSlot = getOwnPropertyDescriptor(globalThis, 'gc');
  if (gcSlot && typeof gcSlot.value === 'function') {
    guestGc = gcSlot.value as AnyFunction;
    if (gcSlot.configurable) deleteProperty(globalThis, 'gc');
    else defineProperty(globalThis, 'gc', { value: undefined });
  }
  const wasm = (globalThis as { WebAssembly?: Record<string, unknown> }).WebAssembly;
  if (typeof wasm !== 'object' || wasm === null) return;
  if (moduleWrapper !== undefined && wasm.Module === moduleWrapper) return; // installed, and still in place
  namespace = wasm;
  NativeModule = wasm.Module as Constructor;
  NativeInstance = wasm.Instance as Constructor;
  NativeMemory = wasm.Memory as Constructor;
  NativeTable = wasm.Table as Constructor;
  CompileErrorCtor = wasm.CompileError as new (message: string) => Error;
  nativeValidate = wasm.validate as AnyFunction;
  moduleImports = (NativeModule as unknown as { imports: AnyFunction }).imports;
  moduleExports = (NativeModule as unknown as { exports: AnyFunction }).exports;
  instanceExports = getOwnPropertyDescriptor(NativeInstance.prototype, 'exports')!.get!;
  memoryBuffer = getOwnPropertyDescriptor(NativeMemory.prototype, 'buffer')!.get!;
  
  // JSPI: a suspended call's stack is V8's, outside the heap limit and these shadows.
  for (const name of ['Suspending', 'promising', 'SuspendError']) deleteProperty(wasm, name);

  // Declared under the constructors' own names: V8 names a receiver in its messages by the
  // prototype's `constructor` function's declared name (memory-ledger.ts).
  const shells = {
    Module: function (this: unknown, bytes?: unknown): object {
      if (new.target === undefined) throw new TypeErrorCtor("WebAssembly.Module(): WebAssembly.Module must be invoked with 'new'");
      return compile(bytes, 'WebAssembly.Module()', new.target === shells.Module ? NativeModule : (new.target as AnyFunction));
    },
    Instance: function (this: unknown, module?: unknown, importObject?: unknown): object {
      if (new.target === undefined) throw new TypeErrorCtor("WebAssembly.Instance(): WebAssembly.Instance must be invoked with 'new'");
      return instantiate(module, importObject, 'WebAssembly.Instance()', new.target === shells.Instance ? NativeInstance : (new.target as AnyFunction));
    },
    Memory: function (this: unknown, descriptor?: unknown): object {
      return newMemory(new.target as AnyFunction | undefined, descriptor);
    },
    Table: function (this: unknown, descriptor?: unknown, value?: unknown): object {
       
      return newTable(new.target as AnyFunction | undefined, descriptor, value, arguments.length);
    },
  };
  memoryWrapper = shells.Memory;
  tableWrapper = shells.Table;
  moduleWrapper = shells.Module;
  substitute(wasm, 'Module', NativeModule, shells.Module);
  substitute(wasm, 'Instance', NativeInstance, shells.Instance);
  substitute(wasm, 'Memory', NativeMemory, shells.Memory);
  substitute(wasm, 'Table', NativeTable, shells.Table);

  replaceMethod(NativeMemory.prototype, 'grow', (native) =>
    function (this: object, delta?: unknown): unknown {
      const ledger = isObject(this) ? get(ledgers, this) : undefined;
      const pages = delta === undefined ? NaN : NumberCtor(delta);
      if (ledger && inRange(pages, 1, MAX_PAGES)) {
        const length = call<number>(arrayBufferByteLength, call<ArrayBuffer>(memoryBuffer, this));
        const wanted = length + MathTrunc(pages) * PAGE_BYTES;
        // Charged before V8 commits the pages; past the memory's maximum the original throws its own error.
        if (wanted <= (ledger.maxBytes ?? wanted) && !charge(ledger, wanted)) throw new RangeErrorCtor('WebAssembly.Memory.grow(): Unable to grow instance memory');
      }
      return apply(native, this, [pages]);
    },
  );
  const bufferSlot = getOwnPropertyDescriptor(NativeMemory.prototype, 'buffer')!;
  const bufferGetter = function (this: object): unknown {
    const buffer = apply(memoryBuffer, this, []) as ArrayBuffer;
    const ledger = get(ledgers, this);
    // Grown inside WebAssembly since JS last looked: charged now, or the environment is past memoryMb.
    if (ledger && !charge(ledger, call<number>(arrayBufferByteLength, buffer))) exhaust();
    return buffer;
  };
  defineProperty(bufferGetter, 'name', { value: 'get buffer', configurable: true });
  defineProperty(NativeMemory.prototype, 'buffer', { ...bufferSlot, get: bufferGetter });

  const statics = {
    validate(bytes: unknown): boolean {
      const copy = copyBytes(bytes, 'WebAssembly.validate()');
      if (!(apply(nativeValidate, namespace, [copy]) as boolean)) return false;
      try {
        bound(copy, 'WebAssembly.validate()');
        return true;
      } catch {
        return false;
      }
    },
    compile(bytes: unknown): Promise<object> {
      return later(() => compile(bytes, 'WebAssembly.compile()'));
    },
    instantiate(source: unknown, importObject?: unknown): Promise<unknown> {
      return later(() => {
        if (isObject(source) && apply(weakMapHas, modules, [source])) return instantiate(source, importObject, 'WebAssembly.instantiate()');
        const module = compile(source, 'WebAssembly.instantiate()', undefined, 'a buffer source or a WebAssembly.Module object');
        const instance = instantiate(module, importObject, 'WebAssembly.instantiate()');
        return { module, instance };
      });
    },
    compileStreaming(source: unknown): Promise<object> {
      return call<Promise<object>>(promiseThen, responseBytes(source), [(bytes: unknown) => compile(bytes, 'WebAssembly.compileStreaming()')]);
    },
    instantiateStreaming(source: unknown, importObject?: unknown): Promise<unknown> {
      return call<Promise<unknown>>(promiseThen, responseBytes(source), [
        (bytes: unknown) => {
          const module = compile(bytes, 'WebAssembly.instantiateStreaming()');
          return { module, instance: instantiate(module, importObject, 'WebAssembly.instantiateStreaming()') };
        },
      ]);
    },
  };
  for (const [name, length] of [['validate', 1], ['compile', 1], ['instantiate', 1], ['compileStreaming', 1], ['instantiateStreaming', 1]] as const) {
    const fn = statics[name];
    defineProperty(fn, 'name', { value: name, configurable: true });
    defineProperty(fn, 'length', { value: length, configurable: true });
    defineProperty(wasm, name, { value: fn, writable: true, enumerable: false, configurable: true });
  }
}
