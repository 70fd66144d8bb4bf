/**
 * Array.prototype.sort / toSorted and %TypedArray%.prototype.sort / toSorted that an invocation's
 * deadline can interrupt (issue #15). The engines' own sorts are builtins whose inner loops never
 * check for interrupts: a guest `a.sort()` of a few million numbers ran far past its deadline, and on
 * isolated-vm ended in "Script failed to terminate" (a catastrophic error that ends v8 for the
 * process). Here the native sort only ever sees a bounded slice ({@link RUN} elements, cheap keys);
 * the merging is JavaScript, whose loops both engines interrupt.
 *
 * Semantics are the specification's (ECMA-262 §23.1.3.30 SortIndexedProperties, §23.2.3.29): the
 * elements are read first (HasProperty/Get in index order, holes skipped by sort and read as
 * undefined by toSorted), sorted stably, undefined last, comparator results through ToNumber with NaN
 * as 0, the default order by UTF-16 code units of ToString (computed once per element), then written
 * back with Set (throwing) and the holes deleted. Node's error messages are kept word for word.
 *
 * The natives are captured here, before user code runs, and only reachable through these closures.
 */
import { registerNativeLook } from './native-look.ts';

/** The most elements one native sort call handles: bounded work between two interrupt checks. */
export const RUN = 512;
/** A string longer than this is compared in JavaScript only (a native run would compare it ~RUN·log RUN times). */
const SHORT_STRING = 256;

const { apply, has, get, set, deleteProperty, getPrototypeOf, setPrototypeOf, defineProperty, getOwnPropertyDescriptor } = Reflect;
const ArrayPrototype = Array.prototype;
const nativeArraySort = ArrayPrototype.sort as (this: unknown[], compare?: Compare) => unknown[];
const TypedArrayPrototype = getPrototypeOf(Int8Array.prototype) as object;
type Typed = Int8Array | Float64Array | BigInt64Array;
type TypedConstructor = new (...args: unknown[]) => Typed;
const typedMethod = (name: string): ((...args: unknown[]) => unknown) => get(TypedArrayPrototype, name) as (...args: unknown[]) => unknown;
const typedGetter = (name: string | symbol): ((this: unknown) => unknown) => getOwnPropertyDescriptor(TypedArrayPrototype, name)!.get!;
const nativeTypedSort = typedMethod('sort');
const nativeTypedSet = typedMethod('set');
const nativeTypedAt = typedMethod('at');
const typedLength = typedGetter('length');
const typedBuffer = typedGetter('buffer');
const typedByteOffset = typedGetter('byteOffset');
const typedTag = typedGetter(Symbol.toStringTag);
const IntrinsicTypeError = TypeError;
const IntrinsicRangeError = RangeError;
const trunc = Math.trunc;
const MAX_SAFE = Number.MAX_SAFE_INTEGER;
const global = globalThis as unknown as Record<string, unknown>;
const typedConstructors: Record<string, TypedConstructor> = { __proto__: null } as unknown as Record<string, TypedConstructor>;
for (const name of ['Int8Array', 'Uint8Array', 'Uint8ClampedArray', 'Int16Array', 'Uint16Array', 'Int32Array', 'Uint32Array', 'Float16Array', 'Float32Array', 'Float64Array', 'BigInt64Array', 'BigUint64Array']) {
  if (typeof global[name] === 'function') typedConstructors[name] = global[name] as TypedConstructor;
}

type Compare = (a: unknown, b: unknown) => unknown;
type Less = (a: unknown, b: unknown) => boolean;
/** Array-likes the merge sort moves elements between: private arrays or private typed arrays. */
type Items = { [index: number]: unknown; readonly length: number };

/** An array no prototype setter can observe (Array.prototype may have index accessors by now). */
function makePrivateArray(): unknown[] {
  const array: unknown[] = [];
  setPrototypeOf(array, null);
  return array;
}

function comparisonError(comparefn: unknown): TypeError {
  return new IntrinsicTypeError(`The comparison function must be either a function or undefined: ${describe(comparefn)}`);
}
/** V8's rendering of a value in that message (`String(value)`, symbols and objects safely). */
function describe(value: unknown): string {
  if (typeof value === 'symbol') return apply(Symbol.prototype.toString, value, []);
  if (value === null || (typeof value !== 'object' && typeof value !== 'function')) return `${value as string}`;
  return Array.isArray(value) ? '[object Array]' : '#<Object>';
}
function checkComparator(comparefn: unknown): Compare | undefined {
  if (comparefn !== undefined && typeof comparefn !== 'function') throw comparisonError(comparefn);
  return comparefn as Compare | undefined;
}
function toObject(value: unknown): Record<number, unknown> {
  if (value === null || value === undefined) throw new IntrinsicTypeError('Cannot convert undefined or null to object');
  return Object(value) as Record<number, unknown>;
}
/** LengthOfArrayLike: ToLength(Get(O, "length")); `+` is ToNumber (throws for Symbol and BigInt). */
function lengthOf(object: Record<number, unknown>): number {
  const n = trunc(+(get(object, 'length') as number));
  if (!(n > 0)) return 0;
  return n < MAX_SAFE ? n : MAX_SAFE;
}

/** Merges src[lo..mid) and src[mid..hi) into dst[lo..hi); the left element wins ties (stable). */
function merge(src: Items, dst: Items, lo: number, mid: number, hi: number, less: Less): void {
  let i = lo;
  let j = mid;
  let k = lo;
  while (i < mid && j < hi) {
    const right = src[j];
    const left = src[i];
    if (less(right, left)) {
      dst[k++] = right;
      j++;
    } else {
      dst[k++] = left;
      i++;
    }
  }
  while (i < mid) dst[k++] = src[i++];
  while (j < hi) dst[k++] = src[j++];
}

/** Stable insertion sort of items[lo..hi), for runs the native sort may not see. */
function insertionSort(items: Items, lo: number, hi: number, less: Less): void {
  for (let i = lo + 1; i < hi; i++) {
    const value = items[i];
    let j = i;
    while (j > lo && less(value, items[j - 1])) {
      items[j] = items[j - 1];
      j--;
    }
    items[j] = value;
  }
}

/** Run width of the merge sort done wholly in JavaScript (insertion-sorted runs, then merges). */
const INSERTION_RUN = 16;

/**
 * Sorts items[0..n) stably: each run of `runWidth` by `sortRun`, then bottom-up merges between
 * `items` and `spare` (same length). Returns whichever of the two holds the result. Native runs
 * take {@link RUN}; insertion-sorted ones {@link INSERTION_RUN} (quadratic: at 512 a default sort
 * of 20,000 numbers made ~2.6 million comparisons in JavaScript, 35x QuickJS's own sort).
 */
function mergeSort(items: Items, spare: Items, n: number, less: Less, runWidth: number, sortRun: (lo: number, hi: number) => void): Items {
  for (let lo = 0; lo < n; lo += runWidth) sortRun(lo, lo + runWidth < n ? lo + runWidth : n);
  let src = items;
  let dst = spare;
  for (let width = runWidth; width < n; width *= 2) {
    for (let lo = 0; lo < n; lo += 2 * width) {
      const mid = lo + width < n ? lo + width : n;
      const hi = lo + 2 * width < n ? lo + 2 * width : n;
      if (mid < hi) merge(src, dst, lo, mid, hi, less);
      else for (let k = lo; k < hi; k++) dst[k] = src[k];
    }
    const swap = src;
    src = dst;
    dst = swap;
  }
  return src;
}

/** Sorts a private array natively in runs, then merges; `compare` undefined means every value is a short string. */
function sortNativeRuns(values: unknown[], compare: Compare | undefined, less: Less): unknown[] {
  const n = values.length;
  const runArgs = compare ? [compare] : [];
  if (n <= RUN) {
    apply(nativeArraySort, values, runArgs);
    return values;
  }
  const run = makePrivateArray();
  const sortRun = (lo: number, hi: number): void => {
    run.length = hi - lo;
    for (let k = lo; k < hi; k++) run[k - lo] = values[k];
    apply(nativeArraySort, run, runArgs);
    for (let k = lo; k < hi; k++) values[k] = run[k - lo];
  };
  const spare = makePrivateArray();
  spare.length = n;
  return mergeSort(values, spare, n, less, RUN, sortRun) as unknown[];
}

const stringLess: Less = (a, b) => (a as string) < (b as string);

/** The default order (ToString, UTF-16 code units) of a private array with no undefined in it. */
function sortByString(values: unknown[]): unknown[] {
  const n = values.length;
  if (n < 2) return values;
  let shortStrings = true;
  for (let k = 0; k < n && shortStrings; k++) {
    const value = values[k];
    shortStrings = typeof value === 'string' && value.length <= SHORT_STRING;
  }
  if (shortStrings) return sortNativeRuns(values, undefined, stringLess);
  // Anything else: ToString once per element (user toString runs here, interruptibly).
  const keys = makePrivateArray() as string[];
  for (let k = 0; k < n; k++) {
    const value = values[k];
    if (typeof value === 'symbol') throw new IntrinsicTypeError('Cannot convert a Symbol value to a string'); // V8's words (QuickJS has its own)
    keys[k] = `${value as string}`;
  }
  // A stable merge sort of the indices by key, entirely in JavaScript. (Sorting the keys natively
  // and placing each value by a bucket per key measured slower on both engines.)
  const order = makePrivateArray() as number[];
  for (let k = 0; k < n; k++) order[k] = k;
  const less: Less = (i, j) => keys[i as number]! < keys[j as number]!;
  const spare = makePrivateArray();
  spare.length = n;
  const sorted = mergeSort(order, spare, n, less, INSERTION_RUN, (lo, hi) => insertionSort(order, lo, hi, less));
  const result = makePrivateArray();
  for (let k = 0; k < n; k++) result[k] = values[sorted[k] as number];
  return result;
}

function sortWithComparator(values: unknown[], compare: Compare): unknown[] {
  if (values.length < 2) return values;
  // Call(comparefn, undefined, «x, y») then ToNumber; NaN is +0 (so never "less").
  const less: Less = (a, b) => +(compare(a, b) as number) < 0;
  return sortNativeRuns(values, compare, less);
}

/** SortIndexedProperties: the values read from `object` in index order, sorted; undefined counted apart. */
function sortIndexed(object: Record<number, unknown>, length: number, compare: Compare | undefined, skipHoles: boolean): { sorted: unknown[]; undefinedCount: number } {
  const values = makePrivateArray();
  let count = 0;
  let undefinedCount = 0;
  for (let k = 0; k < length; k++) {
    if (skipHoles && !has(object, k)) continue;
    const value = get(object, k);
    if (value === undefined) undefinedCount++;
    else values[count++] = value;
  }
  const sorted = compare ? sortWithComparator(values, compare) : sortByString(values);
  return { sorted, undefinedCount };
}

const methods = {
  sort(this: unknown, comparefn: unknown): unknown {
    'use strict'; // a null or undefined receiver must reach toObject (the guest bundle is a sloppy script)
    const compare = checkComparator(comparefn);
    const object = toObject(this);
    const length = lengthOf(object);
    const { sorted, undefinedCount } = sortIndexed(object, length, compare, true);
    let j = 0;
    for (const count = sorted.length; j < count; j++) writeIndex(object, j, sorted[j]);
    for (const end = j + undefinedCount; j < end; j++) writeIndex(object, j, undefined);
    for (; j < length; j++) {
      if (!deleteProperty(object, j)) throw new IntrinsicTypeError(`Cannot delete property '${j}' of ${v8Describe(object)}`);
    }
    return object;
  },
  toSorted(this: unknown, comparefn: unknown): unknown {
    'use strict'; // a null or undefined receiver must reach toObject (the guest bundle is a sloppy script)
    const compare = checkComparator(comparefn);
    const object = toObject(this);
    const length = lengthOf(object);
    if (length > 4294967295) throw new IntrinsicRangeError('Invalid array length');
    const { sorted, undefinedCount } = sortIndexed(object, length, compare, false);
    // Built without a prototype (CreateDataProperty: no setter on Array.prototype may see it), then given Array.prototype.
    const result = makePrivateArray();
    let j = 0;
    for (const count = sorted.length; j < count; j++) result[j] = sorted[j];
    for (const end = j + undefinedCount; j < end; j++) result[j] = undefined;
    setPrototypeOf(result, ArrayPrototype);
    return result;
  },
};

/** How V8 names an object in these messages: arrays by tag, others as `#<Constructor>`, read without running user code. */
function v8Describe(object: object): string {
  if (Array.isArray(object)) return '[object Array]';
  let name = 'Object';
  for (let proto: unknown = getPrototypeOf(object); proto !== null && typeof proto === 'object'; proto = getPrototypeOf(proto)) {
    const constructor = getOwnPropertyDescriptor(proto, 'constructor')?.value as unknown;
    if (typeof constructor === 'function') {
      const own = getOwnPropertyDescriptor(constructor, 'name')?.value as unknown;
      if (typeof own === 'string' && own !== '') name = own;
      break;
    }
  }
  return `#<${name}>`;
}
function objectTag(object: object): string {
  return apply(Object.prototype.toString, object, []);
}
function writeIndex(object: Record<number, unknown>, index: number, value: unknown): void {
  if (!set(object, index, value)) throw new IntrinsicTypeError(`Cannot assign to read only property '${index}' of object '${objectTag(object)}'`);
}

// --- typed arrays ---

/** The typed arrays' default order: numeric, -0 before +0, NaN last (§23.2.4.7 CompareTypedArrayElements). */
const typedLess: Less = (a, b) => {
  const x = a as number;
  const y = b as number;
  if (x < y) return true;
  if (x !== x) return false;
  if (y !== y) return true;
  return x === 0 && y === 0 && 1 / x < 0 && 1 / y > 0;
};

/** ValidateTypedArray with Node's messages: a typed array whose buffer is attached and in bounds. */
function validateTyped(value: unknown, method: string): { length: number; ctor: TypedConstructor } {
  let tag: unknown;
  try {
    tag = apply(typedTag, value, []);
  } catch {
    tag = undefined;
  }
  const ctor = typeof tag === 'string' ? typedConstructors[tag] : undefined;
  if (!ctor) throw new IntrinsicTypeError(`Method %TypedArray%.prototype.${method} called on incompatible receiver ${describeReceiver(value)}`);
  try {
    apply(nativeTypedAt, value, [0]);
  } catch (error) {
    throw new IntrinsicTypeError(`Cannot perform %TypedArray%.prototype.${method} on ${detachedWording(error)}`);
  }
  return { length: apply(typedLength, value, []) as number, ctor };
}
/**
 * The end of V8's detached-buffer message, as the engine in use words it: V8 in Node 24 says "a
 * detached ArrayBuffer", in Node 26 "a detached or out-of-bounds ArrayBuffer". On v8 the native
 * `at` just threw it (for `at`); QuickJS words it its own way, and gets Node 24's.
 */
function detachedWording(error: unknown): string {
  const message = error instanceof IntrinsicTypeError ? (error.message as unknown) : undefined;
  const prefix = 'Cannot perform %TypedArray%.prototype.at on ';
  return typeof message === 'string' && message.startsWith(prefix) ? message.slice(prefix.length) : 'a detached ArrayBuffer';
}
function describeReceiver(value: unknown): string {
  if (value === null || (typeof value !== 'object' && typeof value !== 'function')) return describe(value);
  return v8Describe(value);
}

/** Sorts `array` (a typed array no user code can reach while this runs) in place. */
function sortTypedPrivate(array: Typed, ctor: TypedConstructor, length: number, compare: Compare | undefined): void {
  if (length < 2) return;
  const runArgs = compare ? [compare] : [];
  const buffer = apply(typedBuffer, array, []);
  const offset = apply(typedByteOffset, array, []) as number;
  const bytes = (ctor as unknown as { BYTES_PER_ELEMENT: number }).BYTES_PER_ELEMENT;
  const sortRun = (lo: number, hi: number): void => {
    apply(nativeTypedSort, new ctor(buffer, offset + lo * bytes, hi - lo), runArgs);
  };
  if (length <= RUN) return sortRun(0, length);
  const less: Less = compare ? (a, b) => +(compare(a, b) as number) < 0 : typedLess;
  const spare = new ctor(length);
  const sorted = mergeSort(array, spare, length, less, RUN, sortRun);
  if (sorted !== array) apply(nativeTypedSet, array, [sorted]);
}

const typedMethods = {
  sort(this: unknown, comparefn: unknown): unknown {
    'use strict'; // a null or undefined receiver must reach toObject (the guest bundle is a sloppy script)
    const compare = checkComparator(comparefn);
    const { length, ctor } = validateTyped(this, 'sort');
    const target = this as Typed;
    if (!compare) {
      // No user code runs in a default sort: the receiver itself can be sorted in place.
      sortTypedPrivate(target, ctor, length, undefined);
      return target;
    }
    // The comparator may shrink or detach the receiver: sort a copy, then Set each index (a no-op out of bounds).
    const copy = new ctor(length);
    apply(nativeTypedSet, copy, [target]);
    sortTypedPrivate(copy, ctor, length, compare);
    if ((apply(typedLength, target, []) as number) >= length) apply(nativeTypedSet, target, [copy]);
    else for (let j = 0; j < length; j++) (target as unknown as Items & Record<number, unknown>)[j] = copy[j];
    return target;
  },
  toSorted(this: unknown, comparefn: unknown): unknown {
    'use strict'; // a null or undefined receiver must reach toObject (the guest bundle is a sloppy script)
    const compare = checkComparator(comparefn);
    const { length, ctor } = validateTyped(this, 'toSorted');
    const result = new ctor(length);
    apply(nativeTypedSet, result, [this]);
    sortTypedPrivate(result, ctor, length, compare);
    return result;
  },
};

/** Replaces the four methods (same descriptors as the natives: writable, configurable, not enumerable). */
export function installInterruptibleSort(): void {
  const replace = (target: object, name: 'sort' | 'toSorted', replacement: (...args: never[]) => unknown): void => {
    const descriptor = getOwnPropertyDescriptor(target, name);
    if (!descriptor) return; // an engine without toSorted keeps not having it
    defineProperty(target, name, { ...descriptor, value: replacement });
    registerNativeLook(replacement, name);
  };
  replace(ArrayPrototype, 'sort', methods.sort);
  replace(ArrayPrototype, 'toSorted', methods.toSorted);
  replace(TypedArrayPrototype, 'sort', typedMethods.sort);
  replace(TypedArrayPrototype, 'toSorted', typedMethods.toSorted);
}
