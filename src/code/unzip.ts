/**
 * Inflating a deployment zip into memory under Lambda's limits, refusing unsafe entry names.
 */

import { unzipSync } from 'fflate';
import { inflateRawSync } from 'node:zlib';
import { InvalidParameterValueException } from '../errors.ts';
import type { ResolvedLimits } from './limits.ts';
import { normalisePackagePath, unsafePathReason } from './package-path.ts';
import { centralEntries } from './zip-directory.ts';

const FIELD = 'code.zip';
const PREFIX = 'Could not unzip uploaded file';

/** A package's files: package-relative path → content. Directories are implied by the paths. */
export type PackageFiles = Map<string, Uint8Array>;

/** What fflate's directory walk reports of one entry that is to be extracted. */
interface Wanted {
  readonly index: number;
  readonly name: string;
  readonly compressedSize: number;
  readonly declaredSize: number;
  readonly compression: number;
}

/**
 * Inflates `zip` and returns its files.
 *
 * Sizes are checked twice: the sizes the archive DECLARES are summed before anything is inflated
 * (fflate's `filter` sees each entry's header first), so a zip bomb is refused without allocating
 * its payload; then each entry is inflated with its declared size as the bound on its output, so a
 * header that lies is refused as soon as its data passes what it declared. fflate only walks the
 * directory here: its own inflation fills a buffer of the declared size and keeps decoding past
 * its end, dropping the bytes — a 1 MB entry declaring 1 byte held the host's thread 7.6 s decoding
 * 1 GiB into nothing, and entries may share one payload (issue #15). The entries' compressed sizes
 * must also fit in the zip together, so overlapping entries cannot make the input to decode
 * larger than the zip itself.
 *
 * Symbolic links are IGNORED, not refused: npm-built packages often carry `node_modules/.bin`
 * links that no handler imports, and refusing them would reject ordinary zips. Skipping them keeps
 * a link from ever pointing outside the package (it is never created), and a module reached only
 * through a link reports "Cannot find module" as any missing file does.
 *
 * @throws InvalidParameterValueException (`field` = `code.zip`) for a non-zip, an unsafe entry
 *   name, or a limit exceeded.
 */
export function unzipPackage(zip: Uint8Array, limits: ResolvedLimits): PackageFiles {
  if (zip.byteLength > limits.maxZippedBytes) {
    throw new InvalidParameterValueException(
      FIELD,
      `Zipped size must be at most ${limits.maxZippedBytes} bytes (got ${zip.byteLength})`,
    );
  }
  const directory = centralEntries(zip);
  const wanted: Wanted[] = [];
  let index = -1;
  let declared = 0;
  let compressed = 0;
  try {
    unzipSync(zip, {
      filter(file) {
        index++;
        if (index + 1 > limits.maxEntries) {
          throw refusal(`the package holds more than ${limits.maxEntries} entries`);
        }
        const reason = unsafePathReason(file.name);
        if (reason !== undefined) throw refusal(`entry ${JSON.stringify(file.name)} ${reason}`);
        if (directory?.[index]?.link === true || file.name.endsWith('/')) return false;
        declared += file.originalSize;
        if (declared > limits.maxUnzippedBytes) throw unzippedTooLarge(limits, declared);
        compressed += file.size;
        if (compressed > zip.byteLength) {
          throw refusal(`the entries' compressed sizes add up to more than the zip (${zip.byteLength} bytes)`);
        }
        wanted.push({ index, name: file.name, compressedSize: file.size, declaredSize: file.originalSize, compression: file.compression });
        return false;
      },
    });
  } catch (error) {
    if (error instanceof InvalidParameterValueException) throw error;
    throw unreadable(error);
  }
  const entries = directory ?? [];
  if (wanted.length > 0 && entries.length !== index + 1) throw refusal('its central directory could not be read');
  const files: PackageFiles = new Map();
  let actual = 0;
  for (const entry of wanted) {
    const content = extract(zip, entries[entry.index]!.localOffset, entry);
    actual += content.byteLength;
    if (actual > limits.maxUnzippedBytes) throw unzippedTooLarge(limits, actual);
    const path = normalisePackagePath(entry.name);
    if (path !== '') files.set(path, content);
  }
  return files;
}

const LOCAL_HEADER_SIGNATURE = 0x04034b50;
const STORED = 0;
const DEFLATED = 8;

/** One entry's content: its data found through its local header, inflated to at most its declared size. */
function extract(zip: Uint8Array, localOffset: number, entry: Wanted): Uint8Array {
  const view = new DataView(zip.buffer, zip.byteOffset, zip.byteLength);
  const name = JSON.stringify(entry.name);
  if (localOffset + 30 > zip.byteLength || view.getUint32(localOffset, true) !== LOCAL_HEADER_SIGNATURE) {
    throw refusal(`entry ${name} has no local header`);
  }
  const start = localOffset + 30 + view.getUint16(localOffset + 26, true) + view.getUint16(localOffset + 28, true);
  const end = start + entry.compressedSize;
  if (end > zip.byteLength) throw refusal(`entry ${name} runs past the end of the zip`);
  if (entry.compression === STORED) return zip.slice(start, end);
  if (entry.compression !== DEFLATED) throw refusal(`entry ${name} uses unknown compression type ${entry.compression}`);
  let content: Uint8Array;
  try {
    // zlib stops as soon as its output passes the bound (it needs a bound of at least 1).
    content = inflateRawSync(zip.subarray(start, end), { maxOutputLength: Math.max(entry.declaredSize, 1) });
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ERR_BUFFER_TOO_LARGE') throw liar(name, entry.declaredSize);
    throw unreadable(error);
  }
  if (content.byteLength > entry.declaredSize) throw liar(name, entry.declaredSize);
  return content;
}

function liar(name: string, declared: number): InvalidParameterValueException {
  return refusal(`entry ${name} inflates to more than the ${declared} bytes its header declares`);
}

function unreadable(error: unknown): InvalidParameterValueException {
  return new InvalidParameterValueException(
    FIELD,
    `${PREFIX}: ${(error as Error).message}. Please check your file, then try to upload again.`,
    { cause: error },
  );
}

function refusal(what: string): InvalidParameterValueException {
  return new InvalidParameterValueException(FIELD, `${PREFIX}: ${what}`);
}

function unzippedTooLarge(limits: ResolvedLimits, size: number): InvalidParameterValueException {
  return new InvalidParameterValueException(
    FIELD,
    `Unzipped size must be at most ${limits.maxUnzippedBytes} bytes (got at least ${size})`,
  );
}
