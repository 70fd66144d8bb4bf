/**
 * Hand-assembled WebAssembly core modules for tests (binary format: core spec chapter 5), so a
 * test needs no assembler. `memoryModule` is the workhorse of the v8 guests' WebAssembly tests.
 */
import { writeLeb } from '../../src/engines/wasm-limits.ts';

const leb = writeLeb;

function name(text: string): number[] {
  const bytes = [...Buffer.from(text)];
  return [...leb(bytes.length), ...bytes];
}

function section(id: number, content: number[]): number[] {
  return [id, ...leb(content.length), ...content];
}

function vector(items: number[][]): number[] {
  return [...leb(items.length), ...items.flat()];
}

/** `0x00 min` or `0x01 min max`. */
function limits(min: number, max?: number): number[] {
  return max === undefined ? [0, ...leb(min)] : [1, ...leb(min), ...leb(max)];
}

export interface MemoryModuleOptions {
  /** The defined memory's limits, in pages (default: 1, no maximum). */
  readonly min?: number;
  readonly max?: number;
  /** Raw limits flags for the memory (0x03 shared, 0x04 memory64): overrides min/max. */
  readonly rawMemoryLimits?: number[];
  /** A funcref table with these limits (elements). */
  readonly table?: { readonly min: number; readonly max?: number };
  /** Import the memory as "env"."memory" instead of defining it. */
  readonly importMemory?: boolean;
}

/**
 * A module with one memory (exported as "memory") and the functions:
 * - `grow(pages) -> previous pages or -1` (memory.grow),
 * - `size() -> pages`,
 * - `add(a, b) -> a + b`,
 * - `fill(at, byte, length)` (memory.fill: touches the pages),
 * - `sum(at, length) -> the bytes' sum` (a loop of loads),
 * - and with a table, `tableGrow(n) -> previous size or -1` (table.grow, null).
 */
export function memoryModule(options: MemoryModuleOptions = {}): Uint8Array {
  const memLimits = options.rawMemoryLimits ?? limits(options.min ?? 1, options.max);
  const types = vector([
    [0x60, 1, 0x7f, 1, 0x7f], // 0: (i32) -> i32
    [0x60, 0, 1, 0x7f], // 1: () -> i32
    [0x60, 2, 0x7f, 0x7f, 1, 0x7f], // 2: (i32, i32) -> i32
    [0x60, 3, 0x7f, 0x7f, 0x7f, 0], // 3: (i32, i32, i32) -> ()
  ]);
  const funcs = [0, 1, 2, 3, 2, ...(options.table ? [0] : [])];
  const bodies: number[][] = [
    // Each body: its locals (a vector of (count, type)), then its code.
    [0, 0x20, 0, 0x40, 0, 0x0b], // grow
    [0, 0x3f, 0, 0x0b], // size
    [0, 0x20, 0, 0x20, 1, 0x6a, 0x0b], // add
    [0, 0x20, 0, 0x20, 1, 0x20, 2, 0xfc, 0x0b, 0, 0x0b], // fill
    // sum: (local $acc i32) loop: if len == 0 break; acc += load8_u(at); at++; len--
    [
      1, 1, 0x7f, // one local i32
      0x02, 0x40, 0x03, 0x40, // block, loop
      0x20, 1, 0x45, 0x0d, 1, // local.get len; i32.eqz; br_if 1
      0x20, 2, 0x20, 0, 0x2d, 0, 0, 0x6a, 0x21, 2, // acc += load8_u(at)
      0x20, 0, 0x41, 1, 0x6a, 0x21, 0, // at++
      0x20, 1, 0x41, 1, 0x6b, 0x21, 1, // len--
      0x0c, 0, 0x0b, 0x0b, // br 0; end loop; end block
      0x20, 2, 0x0b,
    ],
    ...(options.table ? [[0, 0xd0, 0x70, 0x20, 0, 0xfc, 0x0f, 0, 0x0b]] : []), // tableGrow: ref.null func, n, table.grow 0
  ];
  const exportNames: [string, number, number][] = [
    ['memory', 2, 0],
    ['grow', 0, 0],
    ['size', 0, 1],
    ['add', 0, 2],
    ['fill', 0, 3],
    ['sum', 0, 4],
    ...(options.table ? ([['tableGrow', 0, 5], ['table', 1, 0]] as [string, number, number][]) : []),
  ];
  return Uint8Array.from([
    0, 0x61, 0x73, 0x6d, 1, 0, 0, 0,
    ...section(1, types),
    ...(options.importMemory ? section(2, vector([[...name('env'), ...name('memory'), 2, ...memLimits]])) : []),
    ...section(3, vector(funcs.map((f) => [f]))),
    ...(options.table ? section(4, vector([[0x70, ...limits(options.table.min, options.table.max)]])) : []),
    ...(options.importMemory ? [] : section(5, vector([memLimits]))),
    ...section(7, vector(exportNames.map(([n, kind, index]) => [...name(n), kind, ...leb(index)]))),
    ...section(10, vector(bodies.map((body) => [...leb(body.length), ...body]))),
  ]);
}

/** `bytes` as a JavaScript array literal, to paste into a guest's source. */
export function asLiteral(bytes: Uint8Array): string {
  return `new Uint8Array([${[...bytes].join(',')}])`;
}
