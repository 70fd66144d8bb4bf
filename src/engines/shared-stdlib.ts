/**
 * The standard library's chunks (guest-bundle.ts: ~3.9 MB of CommonJS source, 60 chunks) in one
 * SharedArrayBuffer, so the engine servers of a process read one copy (issue 21: idle density).
 * Handed over as strings in `workerData`, every worker thread held its own structured-clone copy
 * of all of them (~3.7 MiB each), though an environment asks for a chunk only when its code first
 * needs that module, and most never ask for most of them.
 *
 * The chunks are kept as latin1 bytes (every chunk is one-byte text: checked, and a library with a
 * wider character is not shared: {@link shareStandardLibrary} returns undefined) with an index of
 * where each one is. In the worker, {@link standardLibraryView} gives the same record of strings
 * `withStandardLibrary` reads, each chunk decoded from the shared bytes when it is asked for (once
 * per environment and chunk; the answer is copied into the guest and parsed there anyway).
 */
import { Buffer } from 'node:buffer';

/** The chunks' bytes, shared between threads, and where each chunk is in them. */
export interface SharedStandardLibrary {
  readonly bytes: SharedArrayBuffer;
  /** Chunk name → [byte offset, byte length]. */
  readonly index: Readonly<Record<string, readonly [number, number]>>;
}

const shared = new WeakMap<object, SharedStandardLibrary | null>();

/**
 * `stdlib` packed into shared memory, once per library object (every server of the process gets
 * the same buffer); undefined when a chunk is not one-byte text (then it is handed over as strings).
 */
export function shareStandardLibrary(stdlib: Readonly<Record<string, string>>): SharedStandardLibrary | undefined {
  const known = shared.get(stdlib);
  if (known !== undefined) return known ?? undefined;
  let total = 0;
  for (const source of Object.values(stdlib)) {
    // eslint-disable-next-line no-control-regex
    if (/[^\u0000-\u00ff]/.test(source)) {
      shared.set(stdlib, null);
      return undefined;
    }
    total += source.length;
  }
  const bytes = new SharedArrayBuffer(total);
  const view = Buffer.from(bytes);
  const index: Record<string, readonly [number, number]> = {};
  let offset = 0;
  for (const [name, source] of Object.entries(stdlib)) {
    const length = view.write(source, offset, 'latin1');
    index[name] = [offset, length];
    offset += length;
  }
  const packed = { bytes, index };
  shared.set(stdlib, packed);
  return packed;
}

/** The library as a record of chunk sources, each decoded from the shared bytes when read. */
export function standardLibraryView(library: SharedStandardLibrary): Readonly<Record<string, string>> {
  const view: Record<string, string> = {};
  for (const [name, [offset, length]] of Object.entries(library.index)) {
    Object.defineProperty(view, name, {
      enumerable: true,
      get: () => Buffer.from(library.bytes, offset, length).toString('latin1'),
    });
  }
  return Object.freeze(view);
}

/** Whether `stdlib` as handed to a worker is the shared form. */
export function isSharedStandardLibrary(stdlib: unknown): stdlib is SharedStandardLibrary {
  return typeof stdlib === 'object' && stdlib !== null && (stdlib as { bytes?: unknown }).bytes instanceof SharedArrayBuffer && typeof (stdlib as { index?: unknown }).index === 'object';
}
