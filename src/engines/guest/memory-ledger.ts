/**
 * Makes memory that V8 allocates off its JS heap count against memoryMb (issue #15), on v8 only,
 * and makes running out of it end the environment as Lambda's OOM kill does (issue #12).
 *
 * isolated-vm enforces memoryLimit through its ArrayBuffer::Allocator (every `new ArrayBuffer(n)`
 * is counted, and refused past the limit with V8's RangeError "Array buffer allocation failed") and
 * a GC epilogue (heap + those buffers over the limit ends the isolate: Runtime.OutOfMemory). Two
 * kinds of memory bypass both, and a red team took host RSS from ~140 MB to 2.6 GB with each at
 * memoryMb 128:
 * - resizable ArrayBuffers and growable SharedArrayBuffers: V8 reserves and commits their pages
 *   itself, never through the allocator;
 * - ICU's objects behind `Intl` (malloc'd by ICU: ~27 KB for each Intl.DateTimeFormat).
 *
 * Each such object is charged here, BEFORE V8 allocates its memory, by a "shadow": an ordinary
 * ArrayBuffer of the object's off-heap size, made with the engine's own constructor (so through
 * isolated-vm's allocator) and held by the object alone (a WeakMap entry), so it is freed by the
 * GC that frees the object. The allocator's count is then the off-heap memory, and its refusal
 * is the cap. The shadow's pages may be touched by calloc when reused: RSS stays under ~2x
 * memoryMb for a hostile guest instead of unbounded.
 *
 * What a refusal means (issue #12, {@link killIfOutOfMemory}): Node on Lambda is never refused a
 * buffer the machine could hold — the kernel overcommits, and the process is killed once it holds
 * more than MemorySize (Runtime.OutOfMemory, the environment discarded). Node's own RangeError
 * "Array buffer allocation failed" comes only when calloc fails: a single allocation larger than the
 * machine's memory (Linux's heuristic overcommit refuses one past RAM + swap; Lambda has no swap,
 * and this runtime's `os.totalmem()` is memoryMb), e.g. `new ArrayBuffer(2 ** 40)`. So when the
 * allocator refuses an allocation of at most memoryMb — it would fit the machine, but not beside
 * what the function holds — the environment is ended with Runtime.OutOfMemory (#exhaust), uncatchably;
 * one past memoryMb stays Node's catchable RangeError, as do V8's own length checks ("Invalid array
 * buffer length", "Invalid typed array length"), which never reach the allocator. The refusal is
 * caught where the guest can see it: the ArrayBuffer, SharedArrayBuffer and typed array constructors
 * (which `slice`, `map`, `filter`, `from`, `of` and ArrayBuffer's `slice` reach through `constructor`
 * and Symbol.species, and Buffer through its subclass), the typed arrays' `toReversed`, `toSorted`
 * and `with` (V8 makes their copy with its own constructor), `transfer`, and the shadows' charges
 * (resize, grow, Intl objects). Left as RangeErrors: a host answer copied into the isolate past the
 * cap (isolated-vm's deserializer) and WebAssembly memories (wasm-ledger.ts).
 *
 * Installed by the guest runtime's boot, before any user code, in every v8 sandbox (in-process,
 * process isolation, blank isolates and snapshots, which all evaluate this runtime). The originals
 * are kept only in this module's closure: every path a guest has to them (the globals, each
 * prototype's `constructor`, the prototype methods) leads to the wrappers, and the wrappers call
 * the originals with primitives they have already converted, so no user code (a valueOf, a getter)
 * runs while an original is on the stack. The typed array constructors are the exception: they pass
 * the caller's arguments on (V8 converts and iterates them); an original reached from there allocates
 * through the allocator all the same, so a guest could only keep the old catchable RangeError for
 * itself, never hold memory past the cap. QuickJS has no native Intl and allocates everything in
 * its capped linear memory (its out-of-memory is already Runtime.OutOfMemory): nothing is installed there.
 */

import { registerNativeLook } from './native-look.ts';

const NativeArrayBuffer = ArrayBuffer;
const NativeSharedArrayBuffer = typeof SharedArrayBuffer === 'function' ? SharedArrayBuffer : undefined;
const { apply, construct, defineProperty, getOwnPropertyDescriptor, ownKeys } = Reflect;
const { getPrototypeOf } = Object;
const weakMapGet = WeakMap.prototype.get;
const weakMapSet = WeakMap.prototype.set;
const arrayPush = Array.prototype.push;
const MathTrunc = Math.trunc;
const NumberCtor = Number;
const TypeErrorCtor = TypeError;
const NativeRangeError = RangeError;
const RangeErrorPrototype = RangeError.prototype;
const arrayIsArray = Array.isArray;
const setPrototypeOf = Object.setPrototypeOf;

// eslint-disable-next-line @typescript-eslint/no-explicit-any -- constructors and methods of every shape
export type AnyFunction = (...args: any[]) => any;
export type Constructor = AnyFunction & { readonly prototype: object };

/** Charges are rounded up to whole pages: the kernel commits pages, and tiny resizes need few shadows. */
const PAGE = 4096;

/**
 * ICU's memory for one object of each Intl kind, in bytes beyond its JS heap part (which the heap
 * limit counts): Node 24 (V8 13.6, ICU 77), 20,000 objects kept, RSS growth per object minus heap
 * growth per object, rounded up. Segments and their iterators each clone the segmenter's ICU
 * break iterator.
 */
export const INTL_OFF_HEAP_BYTES = {
  DateTimeFormat: 28 * 1024,
  RelativeTimeFormat: 8 * 1024,
  Segmenter: 7 * 1024,
  PluralRules: 2.5 * 1024,
  Collator: 2 * 1024,
  DurationFormat: 1.5 * 1024,
  DisplayNames: 1.5 * 1024,
  NumberFormat: 1.5 * 1024,
  ListFormat: 1024,
  Locale: 1024,
  segments: 2.5 * 1024,
  segmentIterator: 3.5 * 1024,
} as const;

const MIB = 1024 * 1024;
/** V8's largest ArrayBuffer (and typed array) byte length on 64-bit: past it, "Invalid array buffer length". */
const MAX_BYTE_LENGTH = 2 ** 53 - 1;
/** V8's message when the ArrayBuffer allocator refuses (message-template.h kArrayBufferAllocationFailed). */
const ALLOCATION_FAILED = 'Array buffer allocation failed';
/** The machine's memory as Node would see it (os.totalmem(): memoryMb), set at INIT; Lambda's default until then. */
let machineBytes = 128 * MIB;

/** memoryMb, from the INIT message: the largest single allocation Node on Lambda could be given (see the module comment). */
export function setMemoryBudget(memoryMb: number): void {
  if (memoryMb > 0) machineBytes = memoryMb * MIB;
}

/**
 * Node's refusal of a single buffer larger than the machine's memory (see the module comment), made
 * before the allocator is asked: isolated-vm's cap has some slack past memoryMb (V8's young
 * generation, `misc_memory_size`), which would let one of memoryMb + a few MiB through.
 */
function refuseOverMachine(bytes: number): void {
  // Past V8's own maximum length its "Invalid ... length" comes first, as in Node: left to the original.
  if (bytes > machineBytes && bytes <= MAX_BYTE_LENGTH) throw new NativeRangeError(ALLOCATION_FAILED);
}

/**
 * `error` was thrown where the guest asked for `bytes` of ArrayBuffer memory. When it is the
 * allocator's refusal of an allocation the machine could hold (at most memoryMb), Node on Lambda
 * would have been given it and killed for holding more than MemorySize: the environment ends with
 * Runtime.OutOfMemory ({@link exhaust}), which the guest cannot catch. Otherwise returns (the
 * caller rethrows): Node's own RangeError for one past the machine's memory, any other error as is.
 * `bytes` 0 where the size is not known without running user code (an iterable's length).
 */
function killIfOutOfMemory(error: unknown, bytes: number): void {
  if (bytes > machineBytes || typeof error !== 'object' || error === null) return;
  let refused: boolean;
  try {
    // Own data properties only (a thrown Proxy's traps may run, but no getter of a real error).
    refused = getPrototypeOf(error) === RangeErrorPrototype && getOwnPropertyDescriptor(error, 'message')?.value === ALLOCATION_FAILED;
  } catch {
    return; // a hostile thrown value: not the allocator's
  }
  if (refused) exhaust();
}

/** Each charged object's shadows (an array for buffers that grow, one buffer otherwise). */
const shadows = new WeakMap<object, { charged: number; held: ArrayBuffer[] }>();

function ledgerOf(owner: object): { charged: number; held: ArrayBuffer[] } | undefined {
  return apply(weakMapGet, shadows, [owner]) as { charged: number; held: ArrayBuffer[] } | undefined;
}

/** A shadow of `bytes` (page-rounded): throws V8's own RangeError when the allocator refuses it. */
export function shadow(bytes: number): ArrayBuffer {
  return new NativeArrayBuffer(MathTrunc((bytes + PAGE - 1) / PAGE) * PAGE);
}

/** Raises a buffer's charge to `bytes` (never lowers it: see the grow method's wrapper). */
function chargeUpTo(ledger: { charged: number; held: ArrayBuffer[] }, bytes: number): void {
  if (bytes <= ledger.charged) return;
  let extra: ArrayBuffer;
  try {
    extra = shadow(bytes - ledger.charged);
  } catch (error) {
    // The buffer would grow by that much: Node commits the pages, and past MemorySize is killed.
    killIfOutOfMemory(error, bytes - ledger.charged);
    throw error;
  }
  apply(arrayPush, ledger.held, [extra]);
  ledger.charged += extra.byteLength;
}

/** ToIndex's conversion (ECMA-262 7.1.22) done here, so the original sees only a primitive. */
function toIndexLike(value: unknown): number {
  if (value === undefined) return 0;
  const n = NumberCtor(value);
  return n !== n ? 0 : MathTrunc(n); // NaN is 0; a negative or huge one is left for the original to refuse
}

/** Makes `wrapper` stand for `native` everywhere a guest can look: statics, prototype, constructor. */
export function substitute(holder: object, name: string, native: Constructor, wrapper: AnyFunction): void {
  for (const key of ownKeys(native)) {
    if (key === 'prototype' || key === 'name' || key === 'length') continue;
    defineProperty(wrapper, key, getOwnPropertyDescriptor(native, key)!);
  }
  defineProperty(wrapper, 'name', { value: name, configurable: true });
  defineProperty(wrapper, 'length', { value: native.length, configurable: true });
  defineProperty(wrapper, 'prototype', { value: native.prototype, writable: false, enumerable: false, configurable: false });
  defineProperty(native.prototype, 'constructor', { value: wrapper, writable: true, enumerable: false, configurable: true });
  const slot = getOwnPropertyDescriptor(holder, name)!;
  defineProperty(holder, name, { ...slot, value: wrapper });
}

/** Replaces the method `name` of `proto` by `wrapper`, keeping its name, length and attributes. */
export function replaceMethod(proto: object, name: string | symbol, make: (native: AnyFunction) => AnyFunction): void {
  const slot = getOwnPropertyDescriptor(proto, name);
  if (!slot || typeof slot.value !== 'function') return;
  const native = slot.value as AnyFunction;
  const wrapper = make(native);
  defineProperty(wrapper, 'name', { value: native.name, configurable: true });
  defineProperty(wrapper, 'length', { value: native.length, configurable: true });
  defineProperty(proto, name, { ...slot, value: wrapper });
}

function installBuffer(name: 'ArrayBuffer' | 'SharedArrayBuffer', Native: typeof ArrayBuffer, growMethod: 'resize' | 'grow'): void {
  const proto = Native.prototype as unknown as Record<string, unknown>;
  const resizableGetter = getOwnPropertyDescriptor(proto, name === 'ArrayBuffer' ? 'resizable' : 'growable')?.get;
  const byteLengthGetter = getOwnPropertyDescriptor(proto, 'byteLength')!.get!;
  const maxByteLengthGetter = getOwnPropertyDescriptor(proto, 'maxByteLength')!.get!;
  const isResizable = (buffer: object): boolean => resizableGetter !== undefined && apply(resizableGetter, buffer, []) === true;

  function make(newTarget: AnyFunction | undefined, length?: unknown, options?: unknown): object {
    if (newTarget === undefined) throw new TypeErrorCtor(`Constructor ${name} requires 'new'`);
    // `new ArrayBuffer()` makes the engine's own kind of object; a subclass keeps its new.target.
    const target = newTarget === wrapper ? Native : newTarget;
    const byteLength = toIndexLike(length);
    const maxByteLength = options !== null && typeof options === 'object' ? (options as { maxByteLength?: unknown }).maxByteLength : undefined;
    if (maxByteLength === undefined) {
      refuseOverMachine(byteLength);
      try {
        return construct(Native, [byteLength], target) as object;
      } catch (error) {
        killIfOutOfMemory(error, byteLength);
        throw error;
      }
    }
    const max = toIndexLike(maxByteLength);
    // A resizable buffer's first length is committed by V8 at once: charge it first.
    const ledger = { charged: 0, held: [] as ArrayBuffer[] };
    if (byteLength > 0 && byteLength <= max) chargeUpTo(ledger, byteLength);
    const buffer = construct(Native, [byteLength, { maxByteLength: max }], target) as object;
    apply(weakMapSet, shadows, [buffer, ledger]);
    return buffer;
  }
  // Declared under the constructor's own name: V8 names a receiver in its messages by the
  // prototype's `constructor` function's declared name ("called on incompatible receiver
  // #<ArrayBuffer>"), not by its `name` property, and the bundler renames a plain declaration.
  const shells = {
    ArrayBuffer: function (this: unknown, length?: unknown, options?: unknown): object {
      return make(new.target as AnyFunction | undefined, length, options);
    },
    SharedArrayBuffer: function (this: unknown, length?: unknown, options?: unknown): object {
      return make(new.target as AnyFunction | undefined, length, options);
    },
  };
  const wrapper = shells[name];
  substitute(globalThis, name, Native as unknown as Constructor, wrapper);

  // Growing: charged before V8 commits the pages. Shrinking keeps the charge (the high-water mark,
  // at most maxByteLength): releasing it would mean a new shadow, and a buffer that shrinks may grow.
  replaceMethod(proto, growMethod, (native) =>
    function (this: object, newLength?: unknown): unknown {
      const ledger = ledgerOf(this);
      const length = toIndexLike(newLength);
      // Past maxByteLength the original throws its own RangeError: nothing to charge.
      if (ledger && length > 0 && length <= (apply(maxByteLengthGetter, this, []) as number)) chargeUpTo(ledger, length);
      return apply(native, this, [length]);
    },
  );
  if (name !== 'ArrayBuffer') return;
  // transfer keeps a resizable buffer's memory (and may grow it): the charge moves with it.
  for (const method of ['transfer', 'transferToFixedLength']) {
    replaceMethod(proto, method, (native) =>
      function (this: object, newLength?: unknown): unknown {
        const ledger = ledgerOf(this);
        if (!ledger || !isResizable(this)) {
          const length = newLength === undefined ? undefined : toIndexLike(newLength);
          try {
            return apply(native, this, length === undefined ? [] : [length]);
          } catch (error) {
            // A copy at most the new length (V8 moves the memory when it can).
            killIfOutOfMemory(error, length ?? 0);
            throw error;
          }
        }
        const length = newLength === undefined ? (apply(byteLengthGetter, this, []) as number) : toIndexLike(newLength);
        if (length <= (apply(maxByteLengthGetter, this, []) as number)) chargeUpTo(ledger, length);
        const result = apply(native, this, [length]) as object;
        apply(weakMapSet, shadows, [result, ledger]);
        return result;
      },
    );
  }
}

type TypedArrayName =
  | 'Int8Array' | 'Uint8Array' | 'Uint8ClampedArray' | 'Int16Array' | 'Uint16Array' | 'Int32Array' | 'Uint32Array'
  | 'Float16Array' | 'Float32Array' | 'Float64Array' | 'BigInt64Array' | 'BigUint64Array';


/**
 * The bytes a typed array constructor's arguments ask for, read without running user code: a
 * length (`new Uint8Array(n)`), an array's or a typed array's length, an array-like's own data
 * `length`; 0 when it is not known that way (an iterable, a getter: treated as fitting the machine).
 */
function viewBytes(first: unknown, bytesPerElement: number): number {
  try {
    if (typeof first !== 'object' || first === null) return toIndexLike(typeof first === 'symbol' ? 0 : first) * bytesPerElement;
    if (apply(arrayBufferIsView, NativeArrayBuffer, [first])) return (apply(typedArrayLength, first, []) as number) * bytesPerElement; // a DataView throws: 0
    const length: unknown = arrayIsArray(first) ? (first as unknown[]).length : getOwnPropertyDescriptor(first, 'length')?.value;
    return typeof length === 'number' ? toIndexLike(length) * bytesPerElement : 0;
  } catch {
    return 0;
  }
}

/** A typed array constructor's refusal (see the shells): kills when the allocation fit the machine. */
function viewFailed(error: unknown, first: unknown, bytesPerElement: number): void {
  killIfOutOfMemory(error, viewBytes(first, bytesPerElement));
}

function noNew(name: string): never {
  throw new TypeErrorCtor(`Constructor ${name} requires 'new'`);
}

type ViewConstructor = new (a?: unknown, b?: unknown, c?: unknown) => object;
/** Each kind's original constructor, its wrapper and its element size (one shape: the helper's loads stay monomorphic). */
interface ViewKind {
  readonly name: TypedArrayName;
  readonly native: ViewConstructor;
  readonly wrapper: AnyFunction;
  readonly bytesPerElement: number;
}
const kinds = {} as Record<TypedArrayName, ViewKind>;

/**
 * A typed array constructor's body. Three arguments are what every form takes (an absent one and
 * an undefined one are the same to the engine); `new Native(a, b, c)`, not Reflect.construct with
 * rest arguments, which made `new Uint8Array(16)` ~3.5x the engine's own time in Node 24 (this: ~1.6-1.8x).
 */
function makeView(kind: ViewKind, target: AnyFunction | undefined, a: unknown, b: unknown, c: unknown): object {
  if (target === undefined) noNew(kind.name);
  if (typeof a === 'number') refuseOverMachine(MathTrunc(a) * kind.bytesPerElement);
  try {
    return target === kind.wrapper ? new kind.native(a, b, c) : (construct(kind.native, [a, b, c], target) as object);
  } catch (error) {
    viewFailed(error, a, kind.bytesPerElement);
    throw error;
  }
}

const arrayBufferIsView = NativeArrayBuffer.isView;

let typedArrayLength: AnyFunction;

/**
 * The typed array constructors, whose allocations past memoryMb end the environment (see the module
 * comment); everything else of them (statics, prototypes, instances) is the engine's own.
 */
function installTypedArrays(): void {
  const TypedArray = getPrototypeOf(Uint8Array) as Constructor;
  typedArrayLength = getOwnPropertyDescriptor(TypedArray.prototype, 'length')!.get!;
  // Declared under each constructor's own name (see installBuffer's shells).
  const shells: Record<TypedArrayName, AnyFunction> = {
    Int8Array: function (a?: unknown, b?: unknown, c?: unknown): object { return makeView(kinds.Int8Array, new.target as AnyFunction | undefined, a, b, c); },
    Uint8Array: function (a?: unknown, b?: unknown, c?: unknown): object { return makeView(kinds.Uint8Array, new.target as AnyFunction | undefined, a, b, c); },
    Uint8ClampedArray: function (a?: unknown, b?: unknown, c?: unknown): object { return makeView(kinds.Uint8ClampedArray, new.target as AnyFunction | undefined, a, b, c); },
    Int16Array: function (a?: unknown, b?: unknown, c?: unknown): object { return makeView(kinds.Int16Array, new.target as AnyFunction | undefined, a, b, c); },
    Uint16Array: function (a?: unknown, b?: unknown, c?: unknown): object { return makeView(kinds.Uint16Array, new.target as AnyFunction | undefined, a, b, c); },
    Int32Array: function (a?: unknown, b?: unknown, c?: unknown): object { return makeView(kinds.Int32Array, new.target as AnyFunction | undefined, a, b, c); },
    Uint32Array: function (a?: unknown, b?: unknown, c?: unknown): object { return makeView(kinds.Uint32Array, new.target as AnyFunction | undefined, a, b, c); },
    Float16Array: function (a?: unknown, b?: unknown, c?: unknown): object { return makeView(kinds.Float16Array, new.target as AnyFunction | undefined, a, b, c); },
    Float32Array: function (a?: unknown, b?: unknown, c?: unknown): object { return makeView(kinds.Float32Array, new.target as AnyFunction | undefined, a, b, c); },
    Float64Array: function (a?: unknown, b?: unknown, c?: unknown): object { return makeView(kinds.Float64Array, new.target as AnyFunction | undefined, a, b, c); },
    BigInt64Array: function (a?: unknown, b?: unknown, c?: unknown): object { return makeView(kinds.BigInt64Array, new.target as AnyFunction | undefined, a, b, c); },
    BigUint64Array: function (a?: unknown, b?: unknown, c?: unknown): object { return makeView(kinds.BigUint64Array, new.target as AnyFunction | undefined, a, b, c); },
  };
  for (const name of ownKeys(shells) as TypedArrayName[]) {
    const native = (globalThis as Record<string, unknown>)[name];
    if (typeof native !== 'function') continue; // Float16Array before V8 13.x
    const wrapper = shells[name];
    kinds[name] = { name, native: native as unknown as ViewConstructor, wrapper, bytesPerElement: (native as unknown as { BYTES_PER_ELEMENT: number }).BYTES_PER_ELEMENT };
    substitute(globalThis, name, native as Constructor, wrapper);
    registerNativeLook(wrapper, name);
    // Statics (from, of) and Symbol.species are %TypedArray%'s, reached through the prototype chain.
    setPrototypeOf(wrapper, TypedArray);
  }
  // Copies V8 makes with the receiver's own kind, not through `constructor` (TypedArrayCreateSameType):
  // at most the receiver's size, which the machine holds.
  for (const method of ['toReversed', 'toSorted', 'with']) {
    replaceMethod(TypedArray.prototype, method, (native) =>
      function (this: unknown, ...args: unknown[]): unknown {
        try {
          return apply(native, this, args);
        } catch (error) {
          killIfOutOfMemory(error, 0);
          throw error;
        }
      },
    );
    registerNativeLook((TypedArray.prototype as Record<string, object>)[method]!, method);
  }
}

/**
 * The guest is past memoryMb (ICU's memory, or an allocation refused: {@link killIfOutOfMemory}):
 * end the environment as the heap limit does (Runtime.OutOfMemory), as Lambda's kill at MemorySize. Heap allocation until isolated-vm's GC epilogue, which counts the shadows
 * already held, terminates the isolate; termination cannot be caught.
 */
export function exhaust(): never {
  const fill: unknown[] = [];
  for (;;) apply(arrayPush, fill, [new Array(1 << 16).fill(0)]);
}

function chargeIntl(bytes: number): { charged: number; held: ArrayBuffer[] } {
  try {
    const held = shadow(bytes);
    return { charged: held.byteLength, held: [held] };
  } catch {
    return exhaust();
  }
}

function installIntl(): void {
  const intl = (globalThis as { Intl?: Record<string, unknown> }).Intl;
  if (typeof intl !== 'object' || intl === null) return;
  for (const [name, bytes] of [
    ['DateTimeFormat', INTL_OFF_HEAP_BYTES.DateTimeFormat],
    ['RelativeTimeFormat', INTL_OFF_HEAP_BYTES.RelativeTimeFormat],
    ['Segmenter', INTL_OFF_HEAP_BYTES.Segmenter],
    ['PluralRules', INTL_OFF_HEAP_BYTES.PluralRules],
    ['Collator', INTL_OFF_HEAP_BYTES.Collator],
    ['DurationFormat', INTL_OFF_HEAP_BYTES.DurationFormat],
    ['DisplayNames', INTL_OFF_HEAP_BYTES.DisplayNames],
    ['NumberFormat', INTL_OFF_HEAP_BYTES.NumberFormat],
    ['ListFormat', INTL_OFF_HEAP_BYTES.ListFormat],
    ['Locale', INTL_OFF_HEAP_BYTES.Locale],
  ] as const) {
    const Native = intl[name];
    if (typeof Native !== 'function') continue;
    // Some (DateTimeFormat, NumberFormat, Collator) may be called without `new` (ECMA-402's legacy).
    const wrapper = function (this: unknown, ...args: unknown[]): object {
      const ledger = chargeIntl(bytes);
      const made = (new.target === undefined ? apply(Native, this, args) : construct(Native, args, new.target === wrapper ? Native : new.target)) as object;
      apply(weakMapSet, shadows, [made, ledger]);
      return made;
    };
    substitute(intl, name, Native as Constructor, wrapper);
  }
  const Segmenter = intl.Segmenter as { prototype: object } | undefined;
  if (!Segmenter) return;
  replaceMethod(Segmenter.prototype, 'segment', (native) =>
    function (this: object, ...args: unknown[]): unknown {
      const ledger = chargeIntl(INTL_OFF_HEAP_BYTES.segments);
      const segments = apply(native, this, args) as object;
      apply(weakMapSet, shadows, [segments, ledger]);
      return segments;
    },
  );
  const segmentsProto = getPrototypeOf(new (Segmenter as unknown as typeof Intl.Segmenter)('en').segment('')) as object;
  replaceMethod(segmentsProto, Symbol.iterator, (native) =>
    function (this: object): unknown {
      const ledger = chargeIntl(INTL_OFF_HEAP_BYTES.segmentIterator);
      const iterator = apply(native, this, []) as object;
      apply(weakMapSet, shadows, [iterator, ledger]);
      return iterator;
    },
  );
}

/** Installs the ledger on v8 (the engine with a native Intl); a no-op on quickjs. Once, at boot. */
export function installMemoryLedger(): void {
  if (typeof (globalThis as { Intl?: unknown }).Intl !== 'object') return;
  installBuffer('ArrayBuffer', NativeArrayBuffer, 'resize');
  if (NativeSharedArrayBuffer) installBuffer('SharedArrayBuffer', NativeSharedArrayBuffer as unknown as typeof ArrayBuffer, 'grow');
  installTypedArrays();
  installIntl();
}
