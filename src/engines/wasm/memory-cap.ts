/**
 * A hard memory cap for a component: its core modules define their own linear memories, which the
 * host cannot give a maximum at instantiation, so the module's bytes are rewritten before they are
 * compiled — each defined memory's limits get `maximum = cap`. `memory.grow` past it then fails
 * (returns -1) as the WebAssembly spec says, and the guest's allocator reports out of memory.
 *
 * Binary format (WebAssembly core spec 5.5.8, 5.3.7): the memory section (id 5) is a vector of
 * limits, each `0x00 min` or `0x01 min max` (u32 LEB128, in 64 KiB pages); flags with bit 1
 * (shared) or bit 2 (memory64) are left alone and reported.
 */

/** 64 KiB, WebAssembly's page. */
export const WASM_PAGE_BYTES = 65536;

export class MemoryCapError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'MemoryCapError';
  }
}

function readLeb(bytes: Uint8Array, at: number): [value: number, next: number] {
  let value = 0;
  let shift = 0;
  for (;;) {
    const byte = bytes[at++];
    if (byte === undefined) throw new MemoryCapError('truncated LEB128 in a core module');
    value += (byte & 0x7f) * 2 ** shift;
    if ((byte & 0x80) === 0) return [value, at];
    shift += 7;
    if (shift > 35) throw new MemoryCapError('LEB128 too long in a core module');
  }
}

function writeLeb(value: number): number[] {
  const out: number[] = [];
  do {
    let byte = value % 128;
    value = Math.floor(value / 128);
    if (value > 0) byte |= 0x80;
    out.push(byte);
  } while (value > 0);
  return out;
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
  let at = 8; // magic + version
  while (at < module.length) {
    const id = module[at]!;
    const [size, contentAt] = readLeb(module, at + 1);
    const end = contentAt + size;
    if (id === 5) {
      const memories = readLeb(module, contentAt)[0];
      const section = Uint8Array.from(rewriteMemorySection(module.subarray(contentAt, end), maxPages));
      return { module: Buffer.concat([module.subarray(0, at), section, module.subarray(end)]), memories };
    }
    at = end;
  }
  return { module, memories: 0 };
}

function rewriteMemorySection(content: Uint8Array, maxPages: number): number[] {
  let [count, at] = readLeb(content, 0);
  const body: number[] = writeLeb(count);
  for (; count > 0; count--) {
    const flags = content[at++];
    if (flags !== 0 && flags !== 1) throw new MemoryCapError(`memory limits flags 0x${(flags ?? 0).toString(16)} (shared or 64-bit memory) are not supported`);
    const [min, afterMin] = readLeb(content, at);
    at = afterMin;
    let max = maxPages;
    if (flags === 1) {
      const [declared, afterMax] = readLeb(content, at);
      at = afterMax;
      max = Math.min(declared, maxPages);
    }
    if (min > max) throw new MemoryCapError(`the component needs ${min * 64} KiB of memory at start, more than the cap of ${maxPages * 64} KiB`);
    body.push(1, ...writeLeb(min), ...writeLeb(max));
  }
  return [5, ...writeLeb(body.length), ...body];
}

/** The export name {@link exportMemories} gives a module's `index`th defined memory. */
export const memoryExportName = (index: number): string => `lambdalet:memory/${index}`;

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
