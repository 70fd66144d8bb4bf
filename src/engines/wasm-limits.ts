/**
 * The memory and table limits of a WebAssembly core module: read from its bytes and rewritten
 * before V8 compiles them. Shared by the wasm engine (wasm/memory-cap.ts: a component's core
 * modules) and v8 guests (guest/wasm-ledger.ts: the `WebAssembly` global), issues #12 and #15.
 *
 * Binary format (WebAssembly core spec 5.5.8 memory section, id 5; 5.5.7 table section, id 4;
 * 5.3.7 limits): a limits is `0x00 min` or `0x01 min max` (u32 LEB128; pages of 64 KiB for a
 * memory, elements for a table). Other flags — bit 1 shared, bit 2 64-bit addresses (memory64,
 * table64), bit 3 a custom page size — are refused ({@link WasmLimitsError}): none can be bounded
 * by rewriting a u32 maximum. A table is `reftype limits` or `0x40 0x00 reftype limits expr`
 * (a table with an initialiser, function-references proposal).
 *
 * This module runs inside v8 guests, where user code may have replaced any prototype method or
 * global before it calls `new WebAssembly.Module`: a replaced Array.prototype.push, iterator or
 * typed-array getter must not change what is written. So it uses only what it captured when it
 * was loaded (the guest runtime loads it before any user code), indexed access to typed arrays
 * (never looked up on a prototype), and no array destructuring, spread, iteration or species.
 */

const U8 = Uint8Array;
const F64 = Float64Array;
const { apply, getOwnPropertyDescriptor } = Reflect;
const TypedArrayPrototype = Reflect.getPrototypeOf(Uint8Array.prototype) as object;
const typedArraySet = (getOwnPropertyDescriptor(TypedArrayPrototype, 'set')!.value as (this: Uint8Array, source: Uint8Array, offset: number) => void);
const typedArrayLength = getOwnPropertyDescriptor(TypedArrayPrototype, 'length')!.get!;
const typedArrayBuffer = getOwnPropertyDescriptor(TypedArrayPrototype, 'buffer')!.get!;
const typedArrayByteOffset = getOwnPropertyDescriptor(TypedArrayPrototype, 'byteOffset')!.get!;
const MathFloor = Math.floor;

/** A module this code cannot bound: its message says why (the guest adds the API's prefix). */
export class WasmLimitsError extends Error {
  constructor(message: string) {
    super(message);
    Reflect.defineProperty(this, 'name', { value: 'WasmLimitsError', writable: true, configurable: true });
  }
}

/** The length of a Uint8Array, by the engine's own getter (a guest may have replaced the prototype's). */
export const byteLengthOf = (bytes: Uint8Array): number => apply(typedArrayLength, bytes, []) as number;

/** A reading position in a module's bytes. */
interface Cursor {
  readonly bytes: Uint8Array;
  at: number;
}

function readU32(cursor: Cursor): number {
  let value = 0;
  let shift = 0;
  for (;;) {
    const byte = cursor.bytes[cursor.at++];
    if (byte === undefined) throw new WasmLimitsError('truncated LEB128 in a core module');
    value += (byte & 0x7f) * 2 ** shift;
    if ((byte & 0x80) === 0) return value;
    shift += 7;
    if (shift > 35) throw new WasmLimitsError('LEB128 too long in a core module');
  }
}

/** `value` (a u32) as unsigned LEB128 bytes (core spec 5.2.2). Host and tests only: it uses the realm's own Array methods, which a guest may replace. */
export function writeLeb(value: number): number[] {
  const out: number[] = [];
  do {
    let byte = value % 128;
    value = Math.floor(value / 128);
    if (value > 0) byte |= 0x80;
    out.push(byte);
  } while (value > 0);
  return out;
}

/** A u32 LEB128 at `at` in `bytes`: its value and where the next field starts (the wasm engine's reader). */
export function readU32At(bytes: Uint8Array, at: number): [value: number, next: number] {
  const cursor: Cursor = { bytes, at };
  const value = readU32(cursor);
  return [value, cursor.at];
}

/** Skips a LEB128 of any width (signed or unsigned: same continuation bits). */
function skipLeb(cursor: Cursor): void {
  for (let i = 0; i < 10; i++) {
    const byte = cursor.bytes[cursor.at++];
    if (byte === undefined) throw new WasmLimitsError('truncated LEB128 in a core module');
    if ((byte & 0x80) === 0) return;
  }
  throw new WasmLimitsError('LEB128 too long in a core module');
}

/** How many bytes `value`'s u32 LEB128 takes. */
function lebSize(value: number): number {
  let size = 1;
  while (value >= 128) {
    value = MathFloor(value / 128);
    size++;
  }
  return size;
}

function writeU32(out: Uint8Array, at: number, value: number): number {
  for (;;) {
    let byte = value % 128;
    value = MathFloor(value / 128);
    if (value > 0) byte |= 0x80;
    out[at++] = byte;
    if (value === 0) return at;
  }
}

/**
 * The limits a module's memory or table section declares, in order: `min[i]`, and `max[i]` or NaN
 * where there is none; `limitsAt[i]`/`limitsEnd[i]` where each limits is in the module, so that
 * {@link rewriteModuleLimits} copies everything else as it is.
 */
export interface DeclaredLimits {
  readonly count: number;
  readonly min: Float64Array;
  readonly max: Float64Array;
  readonly limitsAt: Float64Array;
  readonly limitsEnd: Float64Array;
  /** The section: its id byte, its content, its first entry, its end (all -1 when the module has none). */
  readonly sectionAt: number;
  readonly entriesAt: number;
  readonly contentAt: number;
  readonly end: number;
}

export interface ModuleLimits {
  /** Memories the module defines (its imports are bounded where they were made). */
  readonly memories: DeclaredLimits;
  /** Tables the module defines. */
  readonly tables: DeclaredLimits;
}

const NONE: DeclaredLimits = { count: 0, min: new F64(0), max: new F64(0), limitsAt: new F64(0), limitsEnd: new F64(0), sectionAt: -1, entriesAt: -1, contentAt: -1, end: -1 };

function readLimits(cursor: Cursor, limits: DeclaredLimits, i: number, what: 'memory' | 'table'): void {
  limits.limitsAt[i] = cursor.at;
  const flags = cursor.bytes[cursor.at++];
  if (flags !== 0 && flags !== 1) {
    const kind = flags === undefined ? 'truncated' : flags & 4 ? `a 64-bit ${what} (${what}64)` : flags & 2 ? `a shared ${what}` : flags & 8 ? `a ${what} with a custom page size` : `unknown limits flags 0x${flags.toString(16)}`;
    throw new WasmLimitsError(`${kind} is not supported: shared or 64-bit memories and tables cannot be bounded by memoryMb`);
  }
  limits.min[i] = readU32(cursor);
  limits.max[i] = flags === 1 ? readU32(cursor) : NaN;
  limits.limitsEnd[i] = cursor.at;
}

/** A reference type: one byte, or 0x63 / 0x64 (`(ref null? ht)`) and a heap type (s33). */
function skipRefType(cursor: Cursor): void {
  const type = cursor.bytes[cursor.at++];
  if (type === 0x63 || type === 0x64) skipLeb(cursor);
}

/** A table initialiser's constant expression, up to its `end` (core spec 3.3.10): the instructions allowed in one. */
function skipConstExpr(cursor: Cursor): void {
  for (;;) {
    const op = cursor.bytes[cursor.at++];
    switch (op) {
      case 0x0b:
        return;
      case 0x41: // i32.const
      case 0x42: // i64.const
      case 0xd0: // ref.null ht
      case 0xd2: // ref.func
      case 0x23: // global.get
        skipLeb(cursor);
        break;
      case 0x43:
        cursor.at += 4;
        break;
      case 0x44:
        cursor.at += 8;
        break;
      case 0x6a: // i32.add, sub, mul; i64.add, sub, mul (extended constant expressions)
      case 0x6b:
      case 0x6c:
      case 0x7c:
      case 0x7d:
      case 0x7e:
        break;
      default:
        throw new WasmLimitsError(`a table initialiser with instruction 0x${(op ?? 0).toString(16)} is not supported`);
    }
  }
}

function section(bytes: Uint8Array, what: 'memory' | 'table', sectionAt: number, contentAt: number, end: number): DeclaredLimits {
  const cursor: Cursor = { bytes, at: contentAt };
  const count = readU32(cursor);
  if (count > end - contentAt) throw new WasmLimitsError(`a ${what} section counts more entries than it has bytes`);
  const limits: DeclaredLimits = { count, min: new F64(count), max: new F64(count), limitsAt: new F64(count), limitsEnd: new F64(count), sectionAt, entriesAt: cursor.at, contentAt, end };
  for (let i = 0; i < count; i++) {
    if (what === 'memory') {
      readLimits(cursor, limits, i, what);
      continue;
    }
    const initialised = bytes[cursor.at] === 0x40;
    if (initialised) {
      if (bytes[cursor.at + 1] !== 0x00) throw new WasmLimitsError('malformed table with an initialiser');
      cursor.at += 2;
    }
    skipRefType(cursor);
    readLimits(cursor, limits, i, what);
    if (initialised) skipConstExpr(cursor);
  }
  if (cursor.at !== end) throw new WasmLimitsError(`a ${what} section's size does not match its entries`);
  return limits;
}

/** The memories and tables `bytes` (a whole core module) defines. */
export function readModuleLimits(bytes: Uint8Array): ModuleLimits {
  const length = byteLengthOf(bytes);
  let memories = NONE;
  let tables = NONE;
  const cursor: Cursor = { bytes, at: 8 }; // magic + version
  while (cursor.at < length) {
    const sectionAt = cursor.at;
    const id = bytes[cursor.at++];
    const size = readU32(cursor);
    const contentAt = cursor.at;
    const end = contentAt + size;
    if (end > length) throw new WasmLimitsError('a section runs past the end of the module');
    if (id === 5) memories = section(bytes, 'memory', sectionAt, contentAt, end);
    else if (id === 4) tables = section(bytes, 'table', sectionAt, contentAt, end);
    cursor.at = end;
  }
  return { memories, tables };
}

/** The size of `limits`' section rewritten with `maxima`. */
function rewrittenSize(limits: DeclaredLimits, maxima: Float64Array): { content: number; whole: number } {
  let content = lebSize(limits.count);
  let at = limits.entriesAt;
  for (let i = 0; i < limits.count; i++) {
    content += limits.limitsAt[i]! - at; // what precedes the limits (a table's type)
    content += 1 + lebSize(limits.min[i]!) + lebSize(maxima[i]!);
    at = limits.limitsEnd[i]!;
  }
  content += limits.end - at; // the last table's initialiser, if any
  return { content, whole: 1 + lebSize(content) + content };
}

function copy(out: Uint8Array, outAt: number, bytes: Uint8Array, from: number, to: number): number {
  if (to <= from) return outAt;
  const view = new U8(apply(typedArrayBuffer, bytes, []) as ArrayBuffer, (apply(typedArrayByteOffset, bytes, []) as number) + from, to - from);
  apply(typedArraySet, out, [view, outAt]);
  return outAt + (to - from);
}

function writeSection(out: Uint8Array, outAt: number, bytes: Uint8Array, id: number, limits: DeclaredLimits, maxima: Float64Array, content: number): number {
  out[outAt++] = id;
  outAt = writeU32(out, outAt, content);
  outAt = writeU32(out, outAt, limits.count);
  let at = limits.entriesAt;
  for (let i = 0; i < limits.count; i++) {
    outAt = copy(out, outAt, bytes, at, limits.limitsAt[i]!);
    out[outAt++] = 1;
    outAt = writeU32(out, outAt, limits.min[i]!);
    outAt = writeU32(out, outAt, maxima[i]!);
    at = limits.limitsEnd[i]!;
  }
  return copy(out, outAt, bytes, at, limits.end);
}

/**
 * `bytes` with its `i`th defined memory's maximum set to `memoryMaxima[i]` pages and its `i`th
 * defined table's to `tableMaxima[i]` elements (tables left as they are without `tableMaxima`; as given: the caller keeps a lower declared one and
 * checks the minimum). Everything else is copied as it is (a section's count and each limits are
 * written anew, in their shortest LEB128). A new module, in
 * a fresh buffer; `bytes` itself when it defines neither.
 */
export function rewriteModuleLimits(bytes: Uint8Array, limits: ModuleLimits, memoryMaxima: Float64Array, tableMaxima?: Float64Array): Uint8Array {
  const { memories } = limits;
  const tables = tableMaxima ? limits.tables : NONE;
  if (memories.count === 0 && tables.count === 0) return bytes;
  const length = byteLengthOf(bytes);
  const table = tables.count > 0 ? rewrittenSize(tables, tableMaxima!) : undefined;
  const memory = memories.count > 0 ? rewrittenSize(memories, memoryMaxima) : undefined;
  const total = length - (table ? tables.end - tables.sectionAt - table.whole : 0) - (memory ? memories.end - memories.sectionAt - memory.whole : 0);
  const out = new U8(total);
  let outAt = 0;
  let at = 0;
  // The table section (id 4) precedes the memory section (id 5) in every valid module.
  if (table) {
    outAt = copy(out, outAt, bytes, at, tables.sectionAt);
    outAt = writeSection(out, outAt, bytes, 4, tables, tableMaxima!, table.content);
    at = tables.end;
  }
  if (memory) {
    outAt = copy(out, outAt, bytes, at, memories.sectionAt);
    outAt = writeSection(out, outAt, bytes, 5, memories, memoryMaxima, memory.content);
    at = memories.end;
  }
  outAt = copy(out, outAt, bytes, at, length);
  if (outAt !== total) throw new Error(`lambdalet bug: rewrote ${outAt} of ${total} bytes`);
  return out;
}
