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
