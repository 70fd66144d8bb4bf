/**
 * SnapStart for the quickjs engine: an image is the linear memory of an instance whose guest has
 * finished INIT (and the before-snapshot hooks), and a restore writes it into a blank instance.
 *
 * - Capture: the memory's 4 KiB pages (the host's) that hold any non-zero byte once malloc's free
 *   memory is read as zero (free-heap.ts, as the runtime image does), packed: an initialised QuickJS
 *   heap is mostly zero pages, and each page kept is a page every restore writes, so backs. Plus the
 *   address of the template's `dispatch` value, which lives in that memory. The template itself is
 *   not changed (its free memory is zeroed in the copy only).
 * - Blank: a fresh instance of the precompiled module taken through {@link startRuntime} — runtime,
 *   context, the two host functions — and no script. Every blank and the template made those in the
 *   same order, so the image's C-side references (runtime and context pointers, host-function
 *   numbers) hold in the blank, and its host functions call the blank's callbacks.
 * - Restore: grow the blank's memory through Emscripten's resize (its heap views follow), write the
 *   image's pages, zero the host pages the blank had written that the image has as zero, and adopt the
 *   `dispatch` value. No recompilation and no script parse.
 * - Blanks are made ahead of need, {@link BLANKS_PER_MEMORY_SIZE} per memory size while an image of
 *   that size exists, refilled in the background after each restore: a restore does not pay
 *   instantiation (it does when the pool is empty). A pool blank is made with the image last
 *   restored (or made) of its size already written into it, so a restore of that image writes
 *   nothing; a restore of another image rewrites it whole, as into any blank.
 *
 * quickjs-emscripten internals this relies on (checked at use; a change fails loudly): host
 * functions numbered in creation order per runtime (HostRefMap), `context.getMemory(rt)` and
 * `runtime.rt` to adopt a value pointer, and Emscripten's resize import (wasm.ts).
 */
import type { QuickJSContext, QuickJSHandle, QuickJSRuntime } from 'quickjs-emscripten-core';
import type { SandboxImage } from '../engine.ts';
import type { StartedRuntime } from './in-thread.ts';
import { DEMAND_MEMORY_MS, PoolDemand } from '../pool-demand.ts';
import { freeRanges } from './free-heap.ts';
import { instantiateQuickJS, type QuickJSInstance } from './wasm.ts';

/**
 * The unit of an image's `pages`, of a blank's `dirty` and of an extent's `pages`: the host's page,
 * the unit the kernel backs memory in (writing one byte of it backs it). Was WebAssembly's 64 KiB
 * page until issue 21: a restore then wrote, and backed, whole 64 KiB pages around a few bytes of data.
 */
export const PAGE_BYTES = 4096;
/** Pages read on each side of a page a boot wrote (see {@link dirtyPages}). */
const BOOT_PAGE_MARGIN = 1;
/** Heap room past an image's last page that a blank backs ahead too (first allocations after a restore). */
const PREFAULT_SLACK_BYTES = 1024 * 1024;
/** Blank instances kept ready per memory size while a snapStart function of that size is deployed. */
export const BLANKS_PER_MEMORY_SIZE = 2;
/** Refills wait this long: making a blank runs on the host's thread, not inside the cold start that took one. */
const POOL_REFILL_DELAY_MS = 5;
/** The longest a refill waits for restores elsewhere to stop (BlankPool's `holdOff`): a steady stream of restores does not starve the pool. */
export const REFILL_HOLD_OFF_MAX_MS = 1000;

/** The quickjs engine's image: only this module reads its fields. */
export interface QuickJSImage extends SandboxImage, MemoryPages {
  readonly engine: 'quickjs';
  readonly kind: 'wasm-memory';
  /** Address of the template's `dispatch` JSValue inside the image. */
  readonly dispatchPointer: number;
  /** How far blanks for this image are made ready. */
  readonly extent: BlankExtent;
  readonly disposed: boolean;
}

/**
 * What another thread needs to restore an image: `data` lives in a SharedArrayBuffer, so handing
 * it to a worker copies nothing (engines/remote/ adopts every image in every worker).
 */
export type QuickJSImageParts = Pick<QuickJSImage, 'memoryMb' | 'sizeBytes' | 'byteLength' | 'pages' | 'data' | 'dispatchPointer' | 'extent'>;

/** The parts of an image, for {@link adoptImage} in another thread. */
export function imageParts(image: QuickJSImage): QuickJSImageParts {
  const { memoryMb, sizeBytes, byteLength, pages, data, dispatchPointer, extent } = image;
  return { memoryMb, sizeBytes, byteLength, pages, data, dispatchPointer, extent };
}

/** An image made in another thread, usable here: this thread's pool keeps blanks ready for it until it is disposed. */
export function adoptImage(parts: QuickJSImageParts, pool: BlankPool): QuickJSImage {
  return makeImage(parts, pool);
}

/** An instance's memory as pages: the ones holding any non-zero byte, packed. */
export interface MemoryPages {
  /** The memory's length in bytes. */
  readonly byteLength: number;
  /** Indexes of the pages with data, ascending, and their bytes packed in that order. */
  readonly pages: Uint32Array;
  /** In a SharedArrayBuffer: other worker threads read the same bytes without a copy. */
  readonly data: Uint8Array;
}

/**
 * Copies an idle instance's memory: its pages with data, malloc's free memory read as zero when
 * `mallocState` (free-heap.ts) is given and the heap walks (otherwise every byte is kept). Only the
 * copy is changed: the instance's own memory is read, never written.
 */
export function capturePages(instance: QuickJSInstance, mallocState?: number): MemoryPages {
  const memory = new Uint8Array(instance.memory.buffer);
  const free = (mallocState === undefined ? undefined : freeRanges(memory, mallocState)) ?? [];
  const pageCount = Math.floor(memory.length / PAGE_BYTES);
  const kept: number[] = [];
  let next = 0;
  for (let page = 0; page < pageCount; page++) {
    const from = page * PAGE_BYTES;
    const to = from + PAGE_BYTES;
    while (next < free.length && free[next]![1] <= from) next++;
    // The page's bytes outside the free ranges: any non-zero one keeps the page.
    let at = from;
    let data = false;
    for (let i = next; i < free.length && free[i]![0] < to && !data; i++) {
      if (free[i]![0] > at) data = !isZeroBytes(memory, at, free[i]![0]);
      at = Math.max(at, free[i]![1]);
    }
    if (!data && at < to) data = !isZeroBytes(memory, at, to);
    if (data) kept.push(page);
  }
  const data = new Uint8Array(new SharedArrayBuffer(kept.length * PAGE_BYTES));
  const slot = new Int32Array(pageCount).fill(-1);
  kept.forEach((page, i) => (slot[page] = i));
  // One copy per run of consecutive pages.
  for (let i = 0; i < kept.length; ) {
    let j = i + 1;
    while (j < kept.length && kept[j] === kept[j - 1]! + 1) j++;
    data.set(memory.subarray(kept[i]! * PAGE_BYTES, (kept[j - 1]! + 1) * PAGE_BYTES), i * PAGE_BYTES);
    i = j;
  }
  // The free ranges' bytes inside kept pages: zero in the copy.
  for (const [from, to] of free) {
    for (let page = Math.floor(from / PAGE_BYTES); page * PAGE_BYTES < to && page < pageCount; page++) {
      const i = slot[page]!;
      if (i < 0) continue;
      const base = page * PAGE_BYTES;
      data.fill(0, i * PAGE_BYTES + Math.max(from, base) - base, i * PAGE_BYTES + Math.min(to, base + PAGE_BYTES) - base);
    }
  }
  return { byteLength: memory.length, pages: Uint32Array.from(kept), data };
}

/**
 * Copies an idle, initialised instance's memory (pages with data only; malloc's free memory as zero
 * with `mallocState`: {@link capturePages}).
 */
export function captureImage(instance: QuickJSInstance, dispatch: QuickJSHandle, memoryMb: number, pool: BlankPool, mallocState?: number): QuickJSImage {
  const { byteLength, pages, data } = capturePages(instance, mallocState);
  const lastPage = pages.length > 0 ? pages[pages.length - 1]! : 0;
  const extent = { byteLength, touchBytes: Math.min(byteLength, (lastPage + 1) * PAGE_BYTES + PREFAULT_SLACK_BYTES), pages: Array.from(pages) };
  return makeImage(
    {
      memoryMb,
      sizeBytes: data.length,
      byteLength,
      pages,
      data,
      dispatchPointer: dispatch.value, // a JSValuePointer is a number
      extent,
    },
    pool,
  );
}

function makeImage(parts: QuickJSImageParts, pool: BlankPool): QuickJSImage {
  const { memoryMb, extent } = parts;
  let disposed = false;
  const image: QuickJSImage = {
    engine: 'quickjs',
    kind: 'wasm-memory',
    ...parts,
    get disposed() {
      return disposed;
    },
    dispose() {
      if (disposed) return;
      disposed = true;
      pool.release(memoryMb, extent);
    },
  };
  pool.retain(memoryMb, extent, image);
  return image;
}

/** A blank instance: runtime, context and host functions made, no script run (or an image written ahead: `holds`). */
export interface Blank {
  readonly started: StartedRuntime;
  /**
   * Pages that hold data (1): the blank's own start's, or those of the image it `holds`. Zeroed by
   * a restore unless the image it writes sets them.
   */
  readonly dirty: Uint8Array;
  /** The image already written into this blank's memory, if any: its pages hold the image's bytes, every other page is zero. */
  readonly holds?: MemoryPages;
  /** Gives the instance's slot back (the live-instance count). */
  readonly release: () => void;
}

/**
 * Writes `image` into `blank` (nothing to write when the blank already holds it) and returns the
 * restored `dispatch`. Throws when the blank's memory cannot hold the image (its maximum is
 * smaller: a bug, memory sizes are matched).
 */
export function writeImage(blank: Blank, image: QuickJSImage): QuickJSHandle {
  if (blank.holds !== image) writePages(blank, image);
  return adoptValue(blank.started.context, blank.started.runtime, image.dispatchPointer);
}

/**
 * Makes `blank`'s memory equal to `image`'s: grows it, writes the image's pages and zeroes the pages
 * the blank's own start wrote that the image has as zero. Throws when the memory cannot grow enough.
 */
export function writePages(blank: Pick<Blank, 'started' | 'dirty'>, image: MemoryPages): void {
  const { instance } = blank.started;
  if (!instance.growTo(image.byteLength)) throw new Error(`quickjs: an instance cannot grow to the image's ${image.byteLength} bytes`);
  const memory = new Uint8Array(instance.memory.buffer);
  const inImage = new Uint8Array(Math.ceil(memory.length / PAGE_BYTES));
  for (const page of image.pages) inImage[page] = 1;
  writeRuns(memory, image, 0, image.pages.length);
  zeroLeftovers(memory, blank.dirty, inImage);
}

/**
 * Writes `image`'s pages `from` to `to` (indexes into `pages`) into `memory`, one copy per run of
 * consecutive pages: a large image is mostly runs, and a copy per 4 KiB page cost ~1.5x the bytes' own
 * copy in a cold thread (10,379 pages of a 42 MB image).
 */
function writeRuns(memory: Uint8Array, image: MemoryPages, from: number, to: number): void {
  const { pages, data } = image;
  for (let i = from; i < to; ) {
    let j = i + 1;
    while (j < to && pages[j] === pages[j - 1]! + 1) j++;
    memory.set(data.subarray(i * PAGE_BYTES, j * PAGE_BYTES), pages[i]! * PAGE_BYTES);
    i = j;
  }
}

/** Zeroes the host pages that held data (`dirty`) and that the image written (`inImage`) has as zero. */
function zeroLeftovers(memory: Uint8Array, dirty: Uint8Array, inImage: Uint8Array): void {
  for (let page = 0; page < dirty.length; page++) {
    if (dirty[page] === 1 && inImage[page] !== 1) memory.fill(0, page * PAGE_BYTES, (page + 1) * PAGE_BYTES);
  }
}

/** A host handle for a JSValue the image's heap holds (quickjs-emscripten has no public way). */
export function adoptValue(context: QuickJSContext, runtime: QuickJSRuntime, pointer: number): QuickJSHandle {
  const rt = (runtime as unknown as { rt?: { value?: unknown } }).rt?.value;
  const getMemory = (context as unknown as { getMemory?: (rt: unknown) => { heapValueHandle(ptr: number): QuickJSHandle } }).getMemory;
  if (rt === undefined || typeof getMemory !== 'function') {
    throw new Error('quickjs-emscripten changed: cannot adopt a value pointer (context.getMemory / runtime.rt)');
  }
  return getMemory.call(context, rt).heapValueHandle(pointer);
}

function isZero(memory: Uint8Array, page: number): boolean {
  return isZeroBytes(memory, page * PAGE_BYTES, (page + 1) * PAGE_BYTES);
}

/** Whether `memory[from, to)` is all zero. */
function isZeroBytes(memory: Uint8Array, from: number, to: number): boolean {
  // 4 bytes at a time (BigUint64Array compares allocate) over the aligned middle; bytes at the ends.
  const start = Math.min(to, Math.ceil(from / 4) * 4);
  const end = Math.max(start, Math.floor(to / 4) * 4);
  for (let i = from; i < start; i++) if (memory[i] !== 0) return false;
  for (let i = end; i < to; i++) if (memory[i] !== 0) return false;
  const words = new Int32Array(memory.buffer, memory.byteOffset + start, (end - start) / 4);
  for (let i = 0; i < words.length; i++) if (words[i] !== 0) return false;
  return true;
}

/**
 * Pages holding data in a blank's memory, reading only `candidates` when given. Reading an untouched
 * page costs a page fault, so only the first blank of a memory size is read whole; every blank's
 * boot is the same sequence of allocations (its start wrote the same 41 host pages, 0-22 and
 * 1301-1318, in 40 fresh instances of 128-1024 MB), so later blanks are read at those pages and
 * {@link BOOT_PAGE_MARGIN} on each side. Until issue 21 the margin was the WebAssembly pages around
 * them (112 pages read, 71 of them untouched: ~100 µs of page faults on every cold start's path,
 * against ~14 µs now).
 */
function dirtyPages(instance: QuickJSInstance, candidates?: readonly number[]): Uint8Array {
  const memory = new Uint8Array(instance.memory.buffer);
  const dirty = new Uint8Array(Math.ceil(memory.length / PAGE_BYTES));
  if (candidates) for (const page of candidates) dirty[page] = page < dirty.length && !isZero(memory, page) ? 1 : 0;
  else for (let page = 0; page < dirty.length; page++) dirty[page] = isZero(memory, page) ? 0 : 1;
  return dirty;
}

/** Per memory size: the pages a blank's boot wrote and their neighbours (see {@link dirtyPages}). */
const bootPages = new Map<number, number[]>();

function neighbourhood(dirty: Uint8Array): number[] {
  const pages = new Set<number>();
  dirty.forEach((bit, page) => {
    if (bit !== 1) return;
    for (let p = page - BOOT_PAGE_MARGIN; p <= page + BOOT_PAGE_MARGIN; p++) if (p >= 0 && p < dirty.length) pages.add(p);
  });
  return [...pages].sort((a, b) => a - b);
}

/**
 * How far blanks of one memory size are made ready for the images of that size: grown to
 * `byteLength`, and the OS pages a restore writes written once — the images' pages with data
 * (`pages`), and the room after the last of them up to `touchBytes` (the heap's first allocations
 * after a restore) — or, without `pages`, every OS page below `touchBytes`. A fresh instance's
 * memory is backed by the kernel page by page on first write: a restore into untouched memory spent
 * ~3 µs per 4 KiB page in page faults (0.4 ms for a 512 KiB image, 29 ms for 42 MB), now paid here,
 * in the background. Holes between an image's pages are left alone: for a trivial handler's image
 * (then kept in 64 KiB pages, 11 with data: 0-1 and 81-89, the span between them Emscripten's stack region, used from its
 * top) backing everything below `touchBytes` backed 6.6 MB per blank for 0.7 MB of data.
 */
export interface BlankExtent {
  readonly byteLength: number;
  readonly touchBytes: number;
  /** The pages ({@link PAGE_BYTES}) holding data in the images, ascending (absent: back everything below `touchBytes`). */
  readonly pages?: readonly number[];
}

/** The byte ranges of a blank `extent` backs in a memory of `length` bytes, ascending, merged. */
export function backedRanges(extent: BlankExtent, length: number): [number, number][] {
  const end = Math.min(extent.touchBytes, length);
  if (!extent.pages) return end > 0 ? [[0, end]] : [];
  const ranges: [number, number][] = [];
  const add = (from: number, to: number): void => {
    const until = Math.min(to, end);
    if (from >= until) return;
    const last = ranges[ranges.length - 1];
    if (last && last[1] >= from) last[1] = Math.max(last[1], until);
    else ranges.push([from, until]);
  };
  for (const page of extent.pages) add(page * PAGE_BYTES, (page + 1) * PAGE_BYTES);
  const lastPage = extent.pages.length > 0 ? extent.pages[extent.pages.length - 1]! : -1;
  add((lastPage + 1) * PAGE_BYTES, end);
  return ranges;
}

/** Bytes a blank made for `extent` holds backed (what the pool's byte budget counts). */
function backedBytes(extent: BlankExtent): number {
  return backedRanges(extent, extent.byteLength).reduce((sum, [from, to]) => sum + to - from, 0);
}

/**
 * Makes a blank (the engine counts it as a live instance); undefined when at the instance cap. With
 * `image` (pool blanks), the blank is made holding it ({@link newBlankInstance}).
 */
export type MakeBlank = (memoryMb: number, extent: BlankExtent | undefined, image?: MemoryPages) => Promise<Blank | undefined>;

interface SizePool {
  readonly extents: BlankExtent[];
  /** The images of this size, beside their extents; the last one is the one refills write ahead. */
  readonly images: (MemoryPages & { readonly disposed?: boolean })[];
  /** {@link widest} of `extents`, kept as they change (not worked out again on each restore's path). */
  widest: BlankExtent | undefined;
  widestBytes: number;
  readonly ready: Blank[];
  filling: number;
  /** How deep to keep this pool (follows bursts of restores: engines/pool-demand.ts). */
  readonly demand: PoolDemand;
  /** Set while a deeper-than-base pool waits to shrink back. */
  trim?: ReturnType<typeof setTimeout>;
}

/** The extent every one of the pool's images needs: the largest, and the union of their pages. */
function widest(extents: readonly BlankExtent[]): BlankExtent | undefined {
  if (extents.length === 0) return undefined;
  const byteLength = Math.max(...extents.map((e) => e.byteLength));
  const touchBytes = Math.max(...extents.map((e) => e.touchBytes));
  if (extents.some((e) => !e.pages)) return { byteLength, touchBytes };
  const pages = [...new Set(extents.flatMap((e) => e.pages!))].sort((a, b) => a - b);
  return { byteLength, touchBytes, pages };
}

/**
 * Blank instances per memory size, kept while images of that size exist. The depth follows demand
 * (engines/pool-demand.ts: a burst of N restores keeps N ready for the next minute, within a byte
 * budget); restores beyond the ready ones are made one at a time, first come first served, and
 * refills wait until no restore is waiting (a refill backs the whole image's memory: run in the
 * middle of a burst, it delayed the burst's own restores).
 */
export class BlankPool {
  readonly #make: MakeBlank;
  readonly #size: number;
  readonly #sizes = new Map<number, SizePool>();
  /** Restores waiting for a blank made on their path. */
  #waiting = 0;
  #unpooled: Promise<unknown> = Promise.resolve();

  readonly #holdOff: () => boolean;

  /**
   * @param holdOff whether restores are under way elsewhere (other threads): a refill then waits, as
   *   for a restore of this pool's, but at most {@link REFILL_HOLD_OFF_MAX_MS}
   */
  constructor(make: MakeBlank, size = BLANKS_PER_MEMORY_SIZE, holdOff: () => boolean = () => false) {
    this.#make = make;
    this.#size = size;
    this.#holdOff = holdOff;
  }

  /**
   * An image of this size now exists: keep blanks ready for it. With `image`, refills write it into
   * their blanks ahead of its restores (until another image of the size is retained or restored).
   */
  retain(memoryMb: number, extent: BlankExtent, image?: MemoryPages): void {
    const pool: SizePool = this.#sizes.get(memoryMb) ?? { extents: [], images: [], widest: undefined, widestBytes: 0, ready: [], filling: 0, demand: new PoolDemand(this.#size) };
    this.#sizes.set(memoryMb, pool);
    pool.extents.push(extent);
    if (image) pool.images.push(image);
    this.#widen(pool);
    this.#fill(memoryMb, pool);
  }

  /** An image of this size is gone: with none left, the ready blanks are dropped. */
  release(memoryMb: number, extent: BlankExtent): void {
    const pool = this.#sizes.get(memoryMb);
    if (!pool) return;
    pool.extents.splice(pool.extents.indexOf(extent), 1);
    // The released image is disposed by now: no refill writes it any more.
    for (let i = pool.images.length - 1; i >= 0; i--) if (pool.images[i]!.disposed === true) pool.images.splice(i, 1);
    this.#widen(pool);
    if (pool.extents.length > 0) return;
    for (const blank of pool.ready.splice(0)) blank.release();
    if (pool.trim) clearTimeout(pool.trim);
    this.#sizes.delete(memoryMb);
  }

  /** Blanks ready now for images of this size (for tests and the bench). */
  readyCount(memoryMb: number): number {
    return this.#sizes.get(memoryMb)?.ready.length ?? 0;
  }

  /**
   * A ready blank — one that holds `image` if there is one — or a new one made now (after the
   * restores before it); refills in the background, writing `image` into theirs.
   */
  async take(memoryMb: number, image?: MemoryPages): Promise<Blank | undefined> {
    const pool = this.#sizes.get(memoryMb);
    pool?.demand.noteTake();
    let blank: Blank | undefined;
    if (pool) {
      const holding = image ? pool.ready.findIndex((ready) => ready.holds === image) : -1;
      blank = holding >= 0 ? pool.ready.splice(holding, 1)[0] : pool.ready.shift();
      // The image restored last is the one written ahead from now on.
      const at = image ? pool.images.indexOf(image) : -1;
      if (at >= 0 && at !== pool.images.length - 1) pool.images.push(...pool.images.splice(at, 1));
      this.#fill(memoryMb, pool);
    }
    if (blank) return blank;
    this.#waiting++;
    const made = this.#unpooled.then(() => this.#make(memoryMb, undefined));
    this.#unpooled = made.catch(() => undefined);
    try {
      return await made;
    } finally {
      this.#waiting--;
    }
  }

  #widen(pool: SizePool): void {
    pool.widest = widest(pool.extents);
    pool.widestBytes = pool.widest ? backedBytes(pool.widest) : 0;
  }

  #fill(memoryMb: number, pool: SizePool): void {
    const depth = this.#size === 0 ? 0 : pool.demand.depth(pool.widestBytes);
    while (pool.ready.length > depth) pool.ready.pop()!.release();
    if (depth > this.#size && !pool.trim) {
      // Shrink back once the burst is forgotten (DEMAND_MEMORY_MS after it).
      pool.trim = setTimeout(() => {
        pool.trim = undefined;
        if (this.#sizes.get(memoryMb) === pool) this.#fill(memoryMb, pool);
      }, DEMAND_MEMORY_MS + 10).unref();
    }
    while (pool.ready.length + pool.filling < depth) {
      pool.filling++;
      const since = performance.now();
      const refill = (): void => {
        // A restore is waiting for a blank of its own, or restores are under way in other threads
        // (a burst): they go first.
        if (this.#waiting > 0 || (this.#holdOff() && performance.now() - since < REFILL_HOLD_OFF_MAX_MS)) {
          setTimeout(refill, POOL_REFILL_DELAY_MS).unref();
          return;
        }
        const ahead = pool.images[pool.images.length - 1];
        this.#make(memoryMb, pool.widest, ahead?.disposed === true ? undefined : ahead).then(
          (blank) => {
            pool.filling--;
            if (!blank) return;
            if (this.#sizes.get(memoryMb) === pool) pool.ready.push(blank);
            else blank.release();
          },
          () => {
            pool.filling--;
          },
        );
      };
      setTimeout(refill, POOL_REFILL_DELAY_MS).unref();
    }
  }
}

/** Bytes of a blank's memory backed between two pauses (newBlankInstance's `pause`). */
export const BACKING_CHUNK_BYTES = 1024 * 1024;

/**
 * A blank on a fresh instance of the module, with its dirty pages read and, for the pool, its memory
 * grown and backed to `extent` (all off any cold start's path). With `pause`, the backing stops
 * after every {@link BACKING_CHUNK_BYTES} until `pause` resolves: the pool's blanks are backed at
 * background priority, so a restore that reaches this thread meanwhile runs between two chunks
 * instead of after the whole backing (~29 ms of CPU for a 48 MB image here), and the pool's pause
 * holds the backing while restores run elsewhere.
 *
 * With `image`, the image is then written in (the same chunks and pauses) and the blank `holds` it:
 * a restore of that image starts from memory already equal to it. Writing a trivial handler's 640
 * KiB image on the restore's path took ~190 µs (memory the cold start's thread had not touched for
 * tens of ms), most of a restore's own work in the worker.
 */
export async function newBlankInstance(
  memoryMb: number,
  extent: BlankExtent | undefined,
  start: (instance: QuickJSInstance) => StartedRuntime,
  pause?: () => Promise<void>,
  image?: MemoryPages,
): Promise<Omit<Blank, 'release'>> {
  const instance = await instantiateQuickJS(memoryMb);
  const started = start(instance);
  const dirty = dirtyPages(instance, bootPages.get(memoryMb));
  if (!bootPages.has(memoryMb)) bootPages.set(memoryMb, neighbourhood(dirty));
  if (extent && instance.growTo(extent.byteLength)) {
    // The memory may be grown by nothing else meanwhile (the instance is not handed out): one view.
    const memory = new Uint8Array(instance.memory.buffer);
    let backed = 0;
    for (const [from, to] of backedRanges(extent, memory.length)) {
      for (let offset = from; offset < to; offset += PAGE_BYTES) {
        if (pause && backed > 0 && backed % BACKING_CHUNK_BYTES === 0) await pause();
        // Rewriting a byte with its own value changes nothing but makes the kernel back the page.
        memory[offset] = memory[offset]!;
        backed += PAGE_BYTES;
      }
    }
  }
  // Memory that cannot hold the image: a plain blank (a restore's writePages then says why).
  if (!image || !instance.growTo(image.byteLength)) return { started, dirty };
  const memory = new Uint8Array(instance.memory.buffer);
  const inImage = new Uint8Array(Math.ceil(memory.length / PAGE_BYTES));
  for (const page of image.pages) inImage[page] = 1;
  const chunkPages = BACKING_CHUNK_BYTES / PAGE_BYTES;
  for (let i = 0; i < image.pages.length; i += chunkPages) {
    if (pause && i > 0) await pause();
    writeRuns(memory, image, i, Math.min(i + chunkPages, image.pages.length));
  }
  zeroLeftovers(memory, dirty, inImage);
  // Every page with data is now one of the image's.
  return { started, dirty: inImage, holds: image };
}
