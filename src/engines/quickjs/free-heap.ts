/**
 * The free memory of a QuickJS instance's C heap: the bytes Emscripten's malloc (dlmalloc 2.8.6, the
 * release build's allocator) holds in no allocation. Parsing the guest script leaves ~320 KiB of
 * such memory behind in the runtime image's template (token buffers, growing bytecode buffers,
 * parser state: freed, but not zero), spread between its ~270 KiB of live allocations; an image
 * that kept those bytes made every boot write them, and so back them, into its fresh memory (issue 21).
 *
 * dlmalloc's layout on wasm32 (malloc.c, no FOOTERS): a chunk is `prev_foot` (4 bytes), `head`
 * (size | PINUSE 1 | CINUSE 2) and the payload at +8; a free chunk keeps its free-list links in
 * the first bytes of its payload (fd, bk; a chunk of 256 bytes or more also child[2], parent,
 * index: 24 bytes) and its size again in the next chunk's `prev_foot`. The heap runs from the
 * state's `least_addr` to its `top` chunk, whose bytes past its head are all free. The state
 * (`_gm_`, static data) is found from a probe instance: a small chunk freed alone in its bin links
 * to the bin itself, which lies at a fixed offset in the state.
 *
 * What it may not change: nothing here writes to an instance's memory. {@link freeRanges} returns
 * byte ranges whose contents malloc never reads again (it reads a free chunk's links and sizes
 * only, which the ranges exclude; calloc clears what it hands out), so an image with them zeroed
 * behaves as the memory it was made from; when anything in the walk does not match dlmalloc's
 * invariants it returns undefined, and the caller keeps every byte.
 */
import { instantiateQuickJS, QUICKJS_INITIAL_MEMORY_MB, type QuickJSInstance } from './wasm.ts';

/** malloc_state field offsets (wasm32: 4-byte words). */
const STATE_LEAST_ADDR = 16;
const STATE_TOP = 24;
const STATE_TOPSIZE = 12;
const STATE_SMALLBINS = 40;
const PINUSE = 1;
const CINUSE = 2;
const FLAG_BITS = 7;
const MIN_CHUNK_BYTES = 16;
/** Smallest chunk kept in a tree bin; its links take 24 bytes of the payload instead of 8. */
const MIN_LARGE_CHUNK_BYTES = 256;
/** Payload bytes a free chunk keeps its links in: fd, bk (small); + child[2], parent, index (large). */
const SMALL_LINK_BYTES = 8;
const LARGE_LINK_BYTES = 24;
/** Chunk header (prev_foot, head) before the payload. */
const HEADER_BYTES = 8;
/** A request that lands in small bin 13 (104-byte chunks), empty in a new instance. */
const PROBE_REQUEST_BYTES = 100;

/** Where dlmalloc's state lives in this module's static data; undefined when the probe does not match. */
export function findMallocState(probe: QuickJSInstance): number | undefined {
  const emscripten = (probe.module as unknown as { module?: { _malloc?: (n: number) => number; _free?: (p: number) => void } }).module;
  if (typeof emscripten?._malloc !== 'function' || typeof emscripten._free !== 'function') return undefined;
  const freed = emscripten._malloc(PROBE_REQUEST_BYTES);
  // Keeps the freed chunk off the top chunk, so it goes to its bin instead of merging into top.
  const guard = emscripten._malloc(PROBE_REQUEST_BYTES);
  if (freed === 0 || guard === 0) return undefined;
  emscripten._free(freed);
  const words = new Uint32Array(probe.memory.buffer);
  const size = words[(freed - 4) / 4]! & ~FLAG_BITS;
  const fd = words[freed / 4]!;
  const bk = words[freed / 4 + 1]!;
  const state = fd - STATE_SMALLBINS - (size >>> 3) * 8;
  // Alone in its bin: both links point at the bin header, in static data below the heap, and the
  // state around it spans the probe's chunks (read before the guard's free merges them into top).
  const found = fd === bk && fd < freed && size < MIN_LARGE_CHUNK_BYTES && state > 0 && words[(state + STATE_LEAST_ADDR) / 4]! <= freed && words[(state + STATE_TOP) / 4]! > guard;
  emscripten._free(guard);
  return found ? state : undefined;
}

let moduleState: Promise<number | undefined> | undefined;

/**
 * {@link findMallocState} once per thread, on a probe instance of its own: the state is the module's
 * static data, at the same address in every instance of it (SnapStart's capture, snapshot.ts).
 */
export function mallocStateOfModule(): Promise<number | undefined> {
  moduleState ??= instantiateQuickJS(QUICKJS_INITIAL_MEMORY_MB).then(findMallocState, () => undefined);
  return moduleState;
}

/**
 * The byte ranges `[from, to)` of `memory` (an idle instance's memory) that hold no
 * allocation and no allocator bookkeeping, ascending; undefined when the heap at `state` does not
 * walk as dlmalloc's.
 */
export function freeRanges(memory: Uint8Array, state: number): Array<readonly [number, number]> | undefined {
  const words = new Uint32Array(memory.buffer, memory.byteOffset, Math.floor(memory.byteLength / 4));
  const word = (address: number): number | undefined => (address % 4 === 0 && address / 4 < words.length ? words[address / 4] : undefined);
  const leastAddr = word(state + STATE_LEAST_ADDR);
  const top = word(state + STATE_TOP);
  const topSize = word(state + STATE_TOPSIZE);
  if (leastAddr === undefined || top === undefined || topSize === undefined || leastAddr === 0) return undefined;
  if (top < leastAddr || top + topSize > memory.byteLength) return undefined;
  // The first chunk: its payload (+8) aligned to 8 bytes.
  let chunk = leastAddr + ((8 - ((leastAddr + HEADER_BYTES) & 7)) & 7);
  const ranges: Array<readonly [number, number]> = [];
  while (chunk < top) {
    const head = word(chunk + 4);
    if (head === undefined) return undefined;
    const size = head & ~FLAG_BITS;
    if (size < MIN_CHUNK_BYTES || size % 8 !== 0 || chunk + size > top) return undefined;
    const nextHead = word(chunk + size + 4);
    if (nextHead === undefined) return undefined;
    const inUse = (head & CINUSE) !== 0;
    // The next chunk's PINUSE bit says whether this one is in use: the walk is on chunk boundaries.
    if (((nextHead & PINUSE) !== 0) !== inUse) return undefined;
    if (!inUse) {
      // A free chunk's size is repeated in the next chunk's prev_foot.
      if (word(chunk + size) !== size) return undefined;
      const from = chunk + HEADER_BYTES + (size >= MIN_LARGE_CHUNK_BYTES ? LARGE_LINK_BYTES : SMALL_LINK_BYTES);
      if (from < chunk + size) ranges.push([from, chunk + size]);
    }
    chunk += size;
  }
  if (chunk !== top) return undefined;
  // The top chunk: everything past its header is unallocated.
  if (topSize > HEADER_BYTES) ranges.push([top + HEADER_BYTES, top + topSize]);
  return ranges;
}
