/**
 * A minimal reader of a zip's central directory, for what fflate does not report: which entries are
 * symbolic links (their Unix mode lives in the "external attributes" field), and where each entry's
 * local header is (so that the caller inflates entries itself, with a bound on their output).
 *
 * Only the central directory is read, never file data, so it is cheap and safe on untrusted input:
 * every offset is bounds-checked, and a directory that cannot be parsed yields `undefined` (fflate
 * then gives its own verdict on the archive).
 */

const EOCD_SIGNATURE = 0x06054b50;
const ZIP64_LOCATOR_SIGNATURE = 0x07064b50;
const ZIP64_EOCD_SIGNATURE = 0x06064b50;
const CENTRAL_HEADER_SIGNATURE = 0x02014b50;
const EOCD_SIZE = 22;
const MAX_COMMENT = 0xffff;
const HOST_UNIX = 3;
const S_IFMT = 0o170000;
const S_IFLNK = 0o120000;

/** One central-directory entry, in the directory's order (the order fflate reports entries in). */
export interface CentralEntry {
  /** The entry's name, decoded as UTF-8 (fflate decodes names without the UTF-8 flag as Latin-1). */
  readonly name: string;
  /** Where the entry's local header starts in the zip. */
  readonly localOffset: number;
  /** Whether its Unix mode says "symbolic link". */
  readonly link: boolean;
}

/** The central directory's entries, in order; `undefined` if unreadable. */
export function centralEntries(zip: Uint8Array): CentralEntry[] | undefined {
  const view = new DataView(zip.buffer, zip.byteOffset, zip.byteLength);
  const eocd = findEocd(view);
  if (eocd === undefined) return undefined;
  let count = view.getUint16(eocd + 10, true);
  let offset = view.getUint32(eocd + 16, true);
  if (count === 0xffff || offset === 0xffffffff) {
    const zip64 = readZip64(view, eocd);
    if (zip64 === undefined) return undefined;
    ({ count, offset } = zip64);
  }
  const decoder = new TextDecoder();
  const entries: CentralEntry[] = [];
  for (let i = 0; i < count; i++) {
    if (offset + 46 > view.byteLength || view.getUint32(offset, true) !== CENTRAL_HEADER_SIGNATURE) return undefined;
    const host = view.getUint8(offset + 5);
    const nameLength = view.getUint16(offset + 28, true);
    const extraLength = view.getUint16(offset + 30, true);
    const commentLength = view.getUint16(offset + 32, true);
    const mode = view.getUint32(offset + 38, true) >>> 16;
    if (offset + 46 + nameLength + extraLength > view.byteLength) return undefined;
    let localOffset = view.getUint32(offset + 42, true);
    if (localOffset === 0xffffffff) {
      const zip64 = zip64LocalOffset(view, offset, nameLength, extraLength);
      if (zip64 === undefined) return undefined;
      localOffset = zip64;
    }
    entries.push({
      name: decoder.decode(zip.subarray(offset + 46, offset + 46 + nameLength)),
      localOffset,
      link: host === HOST_UNIX && (mode & S_IFMT) === S_IFLNK,
    });
    offset += 46 + nameLength + extraLength + commentLength;
  }
  return entries;
}

// A zip64 entry's extra field (id 1) holds, in order, whichever of the original size, compressed size
// and local header offset are 0xffffffff in the central header.
function zip64LocalOffset(view: DataView, header: number, nameLength: number, extraLength: number): number | undefined {
  let at = header + 46 + nameLength;
  const end = at + extraLength;
  while (at + 4 <= end) {
    const id = view.getUint16(at, true);
    const size = view.getUint16(at + 2, true);
    if (id === 1) {
      let field = at + 4;
      if (view.getUint32(header + 24, true) === 0xffffffff) field += 8;
      if (view.getUint32(header + 20, true) === 0xffffffff) field += 8;
      return field + 8 <= at + 4 + size && field + 8 <= end ? Number(view.getBigUint64(field, true)) : undefined;
    }
    at += 4 + size;
  }
  return undefined;
}

// The end-of-central-directory record sits in the last 22 bytes plus an optional comment of up to
// 64 KiB: scan backwards for its signature.
function findEocd(view: DataView): number | undefined {
  const lowest = Math.max(0, view.byteLength - EOCD_SIZE - MAX_COMMENT);
  for (let at = view.byteLength - EOCD_SIZE; at >= lowest; at--) {
    if (view.getUint32(at, true) === EOCD_SIGNATURE) return at;
  }
  return undefined;
}

function readZip64(view: DataView, eocd: number): { count: number; offset: number } | undefined {
  const locator = eocd - 20;
  if (locator < 0 || view.getUint32(locator, true) !== ZIP64_LOCATOR_SIGNATURE) return undefined;
  const record = Number(view.getBigUint64(locator + 8, true));
  if (record + 56 > view.byteLength || view.getUint32(record, true) !== ZIP64_EOCD_SIGNATURE) return undefined;
  return {
    count: Number(view.getBigUint64(record + 32, true)),
    offset: Number(view.getBigUint64(record + 48, true)),
  };
}
