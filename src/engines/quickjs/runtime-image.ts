/**
 * The booted-runtime image: SnapStart's machinery (snapshot.ts) applied to the guest runtime
 * before any user code, shared by every function an engine boots. QuickJS has no code cache and
 * quickjs-emscripten 0.32 cannot load bytecode (its `QTS_bjson_encode` writes with
 * JS_WRITE_OBJ_REFERENCE, not JS_WRITE_OBJ_BYTECODE, so a compiled function does not serialise):
 * without this every cold start parsed and ran the whole guest script (~41,000 characters), most
 * of a cold start's cost.
 *
 * - Make (once per process: the first engine server makes it, later ones are given it through
 *   remote/worker-host.ts, its bytes in shared memory): a template instance goes through startRuntime
 *   (runtime, context, the two host functions) and evaluates the guest script; its memory and the
 *   address of the `install` value are kept. Kept at the host's page size (4 KiB), only the pages
 *   that hold data once malloc's free memory is read as zero (free-heap.ts): the parse leaves more
 *   free memory than live data in the template's heap, and each page kept is a page every boot
 *   writes, so backs, in its own memory (issue 21: 156 pages of 4 KiB, where the 13 pages of
 *   64 KiB with any data kept before were 208).
 * - Boot: a fresh instance goes through the same startRuntime, the image's pages are written over
 *   its memory and `install` is adopted; the runtime's memory limit is set again (the image holds
 *   the template's), then the user's bundle is evaluated and `install` called as before, with a
 *   seed from the host's entropy (the image's Math.random state and process clock are the
 *   template's, shared by every copy).
 *
 * What it may not change: no user code ever runs in the template, so an image holds nothing of any
 * function or tenant; each boot still gets its own instance and memory (the cap is the instance's
 * `maximum`, as before). A failure to make the image leaves the engine parsing the script as before.
 * `shared` isolation cannot use it (writing an image would overwrite the other runtimes of the
 * instance) and keeps parsing.
 */
import type { QuickJSHandle } from 'quickjs-emscripten-core';
import type { StartedRuntime } from './in-thread.ts';
import { findMallocState, freeRanges } from './free-heap.ts';
import { adoptValue, newBlankInstance, PAGE_BYTES as BLANK_PAGE_BYTES, type Blank } from './snapshot.ts';
import { instantiateQuickJS, QUICKJS_INITIAL_MEMORY_MB, type QuickJSInstance } from './wasm.ts';

/** The guest runtime booted in a template instance: its memory's pages with data, and where `install` lives in it. */
export interface RuntimeImage {
  /** The template memory's length in bytes. */
  readonly byteLength: number;
  /** The unit of `pages`: the host's page, so a boot backs no page the image has no data in. */
  readonly pageBytes: number;
  /** Indexes of the pages with data, ascending, and their bytes packed in that order. */
  readonly pages: Uint32Array;
  /** In a SharedArrayBuffer: other worker threads read the same bytes without a copy. */
  readonly data: Uint8Array;
  /** Address of the template's `install` JSValue inside the image. */
  readonly installPointer: number;
}

/** Lambda's smallest memory size: the template's memory maximum (the guest needs far less). */
const TEMPLATE_MEMORY_MB = 128;
const MIB = 1024 * 1024;
/** The host's page: the unit the kernel backs memory in. */
const IMAGE_PAGE_BYTES = 4096;

/**
 * Boots the guest script in a template instance and images it. `start` is the engine's
 * startRuntime; `evaluate` evaluates a script and returns its completion value (throws on failure).
 * The template instance is dropped afterwards (nothing inside it needs freeing).
 */
export async function makeRuntimeImage(
  guest: string,
  start: (instance: QuickJSInstance, memoryMb: number) => StartedRuntime,
  evaluate: (started: StartedRuntime, code: string) => QuickJSHandle,
): Promise<RuntimeImage> {
  const [instance, probe] = await Promise.all([instantiateQuickJS(TEMPLATE_MEMORY_MB), instantiateQuickJS(QUICKJS_INITIAL_MEMORY_MB)]);
  const started = start(instance, TEMPLATE_MEMORY_MB);
  const install = evaluate(started, guest);
  // The log and hostCall handles stay alive, as a booting sandbox's do until install() returns.
  const memory = new Uint8Array(instance.memory.buffer);
  const state = findMallocState(probe);
  // The template is dropped once imaged, so its free memory is zeroed in place; unfound or not
  // walkable, every byte is kept, as before.
  for (const [from, to] of (state === undefined ? undefined : freeRanges(memory, state)) ?? []) memory.fill(0, from, to);
  return { ...pagesWithData(memory), installPointer: install.value };
}

/** `memory`'s pages of {@link IMAGE_PAGE_BYTES} holding any non-zero byte, packed into shared memory. */
function pagesWithData(memory: Uint8Array): Omit<RuntimeImage, 'installPointer'> {
  const kept: number[] = [];
  for (let page = 0; (page + 1) * IMAGE_PAGE_BYTES <= memory.byteLength; page++) if (!isZero(memory, page * IMAGE_PAGE_BYTES, IMAGE_PAGE_BYTES)) kept.push(page);
  const data = new Uint8Array(new SharedArrayBuffer(kept.length * IMAGE_PAGE_BYTES));
  kept.forEach((page, i) => data.set(memory.subarray(page * IMAGE_PAGE_BYTES, (page + 1) * IMAGE_PAGE_BYTES), i * IMAGE_PAGE_BYTES));
  return { byteLength: memory.byteLength, pageBytes: IMAGE_PAGE_BYTES, pages: Uint32Array.from(kept), data };
}

/**
 * Makes `blank`'s memory equal to `image`'s, writing no page that neither holds data in the image
 * nor was written by the blank's own start (runtime and context: in its static data, stack and
 * heap): a page written is a page backed. Every other page of a fresh instance is zero, as in the image.
 */
function writeRuntimeImage(blank: Omit<Blank, 'release'>, image: RuntimeImage): void {
  const { instance } = blank.started;
  if (!instance.growTo(image.byteLength)) throw new Error(`quickjs: an instance cannot grow to the runtime image's ${image.byteLength} bytes`);
  const memory = new Uint8Array(instance.memory.buffer);
  const { pages, data, pageBytes } = image;
  const inImage = new Uint8Array(Math.ceil(memory.length / pageBytes));
  for (let i = 0; i < pages.length; i++) {
    inImage[pages[i]!] = 1;
    memory.set(data.subarray(i * pageBytes, (i + 1) * pageBytes), pages[i]! * pageBytes);
  }
  // The blank's start wrote only some of each dirty blank page's host pages (snapshot.ts PAGE_BYTES,
  // 4 KiB since b465b8b: one host page each): those are zeroed, unless the image wrote them; the
  // rest were never touched (reading one backs nothing).
  const { dirty } = blank;
  const perBlankPage = BLANK_PAGE_BYTES / pageBytes;
  for (let blankPage = 0; blankPage < dirty.length; blankPage++) {
    if (dirty[blankPage] !== 1) continue;
    for (let page = blankPage * perBlankPage; page < (blankPage + 1) * perBlankPage; page++) {
      if (inImage[page] === 0 && !isZero(memory, page * pageBytes, pageBytes)) memory.fill(0, page * pageBytes, (page + 1) * pageBytes);
    }
  }
}

function isZero(memory: Uint8Array, from: number, bytes: number): boolean {
  const words = new Int32Array(memory.buffer, memory.byteOffset + from, bytes / 4);
  for (let i = 0; i < words.length; i++) if (words[i] !== 0) return false;
  return true;
}

/**
 * A new instance capped at `memoryMb` with the guest runtime written into it: the started runtime
 * (bound to nothing yet) and the `install` handle, as evaluating the guest script would leave them.
 */
export async function bootFromImage(
  image: RuntimeImage,
  memoryMb: number,
  start: (instance: QuickJSInstance, memoryMb: number) => StartedRuntime,
): Promise<{ readonly started: StartedRuntime; readonly install: QuickJSHandle }> {
  const blank = await newBlankInstance(memoryMb, undefined, (instance) => start(instance, memoryMb));
  writeRuntimeImage(blank, image);
  const { started } = blank;
  // The image holds the template's limit (its memoryMb); the stack size and interrupt handler are the same.
  started.runtime.setMemoryLimit(memoryMb * MIB);
  return { started, install: adoptValue(started.context, started.runtime, image.installPointer) };
}
