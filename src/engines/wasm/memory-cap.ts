/**
 * A hard memory cap for a component: its core modules define their own linear memories, which the
 * host cannot give a maximum at instantiation, so the module's bytes are rewritten before they are
 * compiled — each defined memory's limits get a maximum. `memory.grow` past it then fails
 * (returns -1) as the WebAssembly spec says, and the guest's allocator reports out of memory.
 *
 * The maxima are planned for the whole component ({@link planMemories}): their SUM over every
 * memory of every core instance is at most memoryMb, so the instance's memories can never hold
 * more than the cap at any instant, even in the middle of a call. Each memory capped at memoryMb
 * alone let a component with N memories hold N × memoryMb during one call until the check after it
 * (issue #15: 4 memories at memoryMb 128 took the host's peak RSS up 514 MB in one invocation).
 *
 * The module's memory section is read and rewritten by ../wasm-limits.ts, shared with v8 guests'
 * `WebAssembly` (guest/wasm-ledger.ts); shared and 64-bit memories are refused there.
 */
import { readModuleLimits, readU32At, rewriteModuleLimits, WasmLimitsError, writeLeb, type ModuleLimits } from '../wasm-limits.ts';

/** 64 KiB, WebAssembly's page. */
export const WASM_PAGE_BYTES = 65536;

export class MemoryCapError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'MemoryCapError';
  }
}

/** A u32 LEB128 at `at`: its value and where the next field starts (the shared reader's). */
function readLeb(bytes: Uint8Array, at: number): [value: number, next: number] {
  try {
    return readU32At(bytes, at);
  } catch (error) {
    throw error instanceof WasmLimitsError ? new MemoryCapError(error.message) : error;
  }
}

/** The shared reader's limits, its errors as MemoryCapError. */
function moduleLimits(module: Uint8Array): ModuleLimits {
  try {
    return readModuleLimits(module);
  } catch (error) {
    throw error instanceof WasmLimitsError ? new MemoryCapError(error.message) : error;
  }
}

/**
 * `module` (a core module's bytes) with every defined memory capped at `maxPages`. A memory whose
 * declared maximum is lower keeps it; one whose minimum is above the cap throws MemoryCapError.
 * A module without a memory section is returned as it is.
 */
export function capMemory(module: Uint8Array, maxPages: number): Uint8Array {
  return capMemories(module, maxPages).module;
}

/** {@link capMemory}, also telling how many memories the module defines. */
export function capMemories(module: Uint8Array, maxPages: number): { module: Uint8Array; memories: number } {
  const memories = declaredMemories(module);
  return { module: limitMemories(module, memories.map(() => maxPages)), memories: memories.length };
}

/** A defined memory's limits as the module declares them, in 64 KiB pages. */
export interface DeclaredMemory {
  readonly min: number;
  /** Absent: the module lets it grow to 4 GiB. */
  readonly max?: number;
}

/** The limits of each memory `module` defines (its memory section), in order; none without one. */
export function declaredMemories(module: Uint8Array): DeclaredMemory[] {
  const { memories } = moduleLimits(module);
  const declared: DeclaredMemory[] = [];
  for (let i = 0; i < memories.count; i++) {
    const max = memories.max[i]!;
    declared.push(Number.isNaN(max) ? { min: memories.min[i]! } : { min: memories.min[i]!, max });
  }
  return declared;
}

/**
 * `module` with its `i`th defined memory's maximum set to `maxima[i]` pages (a lower declared
 * maximum is kept). A minimum above its maximum throws MemoryCapError; a module without a memory
 * section is returned as it is. Its tables are left as they are.
 */
export function limitMemories(module: Uint8Array, maxima: readonly number[]): Uint8Array {
  const limits = moduleLimits(module);
  const { memories } = limits;
  if (memories.count === 0) return module;
  if (memories.count !== maxima.length) throw new Error(`lambdalet bug: ${maxima.length} maxima for ${memories.count} memories`);
  const memoryMaxima = new Float64Array(memories.count);
  for (let i = 0; i < memories.count; i++) {
    const max = Math.min(Number.isNaN(memories.max[i]!) ? Infinity : memories.max[i]!, maxima[i]!);
    if (memories.min[i]! > max) throw new MemoryCapError(`the component needs ${memories.min[i]! * 64} KiB of memory at start, more than the cap of ${maxima[i]! * 64} KiB`);
    memoryMaxima[i] = max;
  }
  return rewriteModuleLimits(module, limits, memoryMaxima);
}

/**
 * What a memory that is not the component's heap may grow by past its declared minimum, in pages
 * (1 MiB): room for a small adapter or stub memory (componentize-qjs components define a 0-page
 * one beside the heap, which never grows), kept from the heap's share of the cap.
 */
export const SMALL_MEMORY_SLACK_PAGES = 16;

/** The maxima a component's core modules are compiled with. */
export interface MemoryPlan {
  /**
   * Per core module: each defined memory's maximum, in pages (for {@link limitMemories}). Their sum
   * is what one instantiation of the module may ever hold: the instance refuses an instantiation
   * that would take the total past the cap (component-instance.ts), so the sum holds even if the
   * plan's count of instantiations (read from jco's glue) were wrong.
   */
  readonly maxima: ReadonlyMap<string, readonly number[]>;
}

/**
 * Maxima for every memory a component defines, whose sum over all core instances is at most
 * `capPages`. The component's heap — the memory with the largest minimum among those whose
 * declared maximum leaves it room to grow — gets what the others leave (shared evenly when its
 * module is instantiated more than once); every other memory keeps its declared maximum or its
 * minimum + {@link SMALL_MEMORY_SLACK_PAGES}, whichever is lower. Real components have one heap:
 * a C or Rust component one memory, a componentize-qjs one the heap and a 0-page stub (the
 * WASI preview1 adapter uses the main module's memory). A component with two heaps gets the cap
 * for one of them; the other grows by the slack only.
 *
 * `modules`: each core module's defined memories, the likeliest heap first (compilePlanned lists
 * the largest module first: the component's program, not a stub); `instantiations`: how many times
 * the component instantiates each (a module never instantiated reserves nothing).
 * @throws MemoryCapError when the memories' minima (and slack) do not fit in `capPages`, naming
 *   how many memories there are and the cap.
 */
export function planMemories(
  modules: ReadonlyMap<string, readonly DeclaredMemory[]>,
  instantiations: ReadonlyMap<string, number>,
  capPages: number,
): MemoryPlan {
  const smallMax = ({ min, max }: DeclaredMemory): number => Math.min(max ?? Infinity, min + SMALL_MEMORY_SLACK_PAGES);
  let heap: { name: string; index: number; min: number; count: number } | undefined;
  let memories = 0;
  for (const [name, declared] of modules) {
    const count = instantiations.get(name) ?? 0;
    memories += count * declared.length;
    if (count === 0) continue;
    declared.forEach((memory, index) => {
      if (smallMax(memory) === (memory.max ?? Infinity)) return; // no room to grow past the slack: not a heap
      // The largest minimum; between equals, the module instantiated fewest times (the component's
      // main module is instantiated once), then the one listed first.
      if (!heap || memory.min > heap.min || (memory.min === heap.min && count < heap.count)) heap = { name, index, min: memory.min, count };
    });
  }
  let othersPages = 0;
  for (const [name, declared] of modules) {
    const count = instantiations.get(name) ?? 0;
    declared.forEach((memory, index) => {
      if (heap?.name !== name || heap.index !== index) othersPages += count * smallMax(memory);
    });
  }
  const heapCount = heap?.count ?? 0;
  const heapPages = heap ? Math.floor((capPages - othersPages) / heapCount) : 0;
  const needed = othersPages + (heap ? heapCount * heap.min : 0);
  if (needed > capPages) {
    throw new MemoryCapError(
      memories === 1
        ? `the component needs ${needed * 64} KiB of memory at start, more than the cap of ${capPages * 64} KiB`
        : `the component's ${memories} memories need ${needed * 64} KiB at least (their minimums, and up to ${SMALL_MEMORY_SLACK_PAGES * 64} KiB of room to grow for each but the largest), more than the cap of ${capPages * 64} KiB`,
    );
  }
  const maxima = new Map<string, number[]>();
  for (const [name, declared] of modules) {
    maxima.set(name, declared.map((memory, index) => (heap?.name === name && heap.index === index ? Math.min(memory.max ?? Infinity, heapPages) : smallMax(memory))));
  }
  return { maxima };
}

/** What every {@link memoryExportName} starts with. */
export const MEMORY_EXPORT_PREFIX = 'lambdalet:memory/';
/** The export name {@link exportMemories} gives a module's `index`th defined memory. */
export const memoryExportName = (index: number): string => `${MEMORY_EXPORT_PREFIX}${index}`;

/**
 * `module` with every memory it defines also exported (as {@link memoryExportName}), so that the
 * host sees each memory of every core instance (component-instance.ts holds their total to
 * memoryMb). Without it a memory the module keeps to itself was never counted: a component that
 * instantiates a core module with an unexported memory 8 times, each grown to memoryMb 128,
 * held 1.25 GB of the host across invocations, each answered as if within 128 MB (red team,
 * issue #15). A module defining no memory is returned as it is.
 *
 * Binary format (core spec 5.5.5 imports, 5.5.10 exports): the defined memories' indices follow
 * the imported memories', so the import section is read to count those.
 */
export function exportMemories(module: Uint8Array, defined: number): Uint8Array {
  if (defined === 0) return module;
  let imported = 0;
  let exportAt: { at: number; contentAt: number; end: number } | undefined;
  /** Where a new export section goes: before the first section that must follow it. */
  let insertAt = module.length;
  let at = 8;
  while (at < module.length) {
    const id = module[at]!;
    const [size, contentAt] = readLeb(module, at + 1);
    const end = contentAt + size;
    if (id === 2) imported = importedMemories(module.subarray(contentAt, end));
    if (id === 7) exportAt = { at, contentAt, end };
    if (insertAt === module.length && (id === 8 || id === 9 || id === 12 || id === 10 || id === 11)) insertAt = at;
    at = end;
  }
  const added: number[] = [];
  for (let i = 0; i < defined; i++) {
    const name = new TextEncoder().encode(memoryExportName(i));
    added.push(...writeLeb(name.length), ...name, 0x02, ...writeLeb(imported + i));
  }
  if (exportAt === undefined) {
    const body = [...writeLeb(defined), ...added];
    return Buffer.concat([module.subarray(0, insertAt), Uint8Array.from([7, ...writeLeb(body.length), ...body]), module.subarray(insertAt)]);
  }
  const [count, entriesAt] = readLeb(module, exportAt.contentAt);
  const body = Buffer.concat([Uint8Array.from(writeLeb(count + defined)), module.subarray(entriesAt, exportAt.end), Uint8Array.from(added)]);
  return Buffer.concat([module.subarray(0, exportAt.at), Uint8Array.from([7, ...writeLeb(body.length)]), body, module.subarray(exportAt.end)]);
}

/** How many memories an import section imports. */
function importedMemories(content: Uint8Array): number {
  let [count, at] = readLeb(content, 0);
  let memories = 0;
  const skipName = (): void => {
    const [length, next] = readLeb(content, at);
    at = next + length;
  };
  const skipLimits = (): void => {
    const flags = content[at++]!;
    at = readLeb(content, at)[1];
    if (flags & 1) at = readLeb(content, at)[1];
  };
  const skipValType = (): void => {
    const type = content[at++]!;
    if (type === 0x63 || type === 0x64) at = readLeb(content, at)[1]; // (ref null? heaptype): a heap type index or abstract type
  };
  for (; count > 0; count--) {
    skipName();
    skipName();
    const kind = content[at++];
    if (kind === 0x00) at = readLeb(content, at)[1];
    else if (kind === 0x01) {
      skipValType();
      skipLimits();
    } else if (kind === 0x02) {
      memories++;
      skipLimits();
    } else if (kind === 0x03) {
      skipValType();
      at++;
    } else if (kind === 0x04) at = readLeb(content, at + 1)[1];
    else throw new MemoryCapError(`import kind 0x${(kind ?? 0).toString(16)} is not supported`);
  }
  return memories;
}
