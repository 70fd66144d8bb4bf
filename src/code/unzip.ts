/**
 * Inflating a deployment zip into memory under Lambda's limits, refusing unsafe entry names.
 */

import { unzipSync } from 'fflate';
import { InvalidParameterValueException } from '../errors.ts';
import type { ResolvedLimits } from './limits.ts';
import { normalisePackagePath, unsafePathReason } from './package-path.ts';
import { symlinkEntries } from './zip-directory.ts';

const FIELD = 'code.zip';
const PREFIX = 'Could not unzip uploaded file';

/** A package's files: package-relative path → content. Directories are implied by the paths. */
export type PackageFiles = Map<string, Uint8Array>;

/**
 * Inflates `zip` and returns its files.
 *
 * Sizes are checked twice: the sizes the archive DECLARES are summed before anything is inflated
 * (fflate's `filter` sees each entry's header first), so a zip bomb is refused without allocating
 * its payload; then the bytes actually produced are summed, since a header can lie.
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
  const links = symlinkEntries(zip) ?? new Set<string>();
  let entries = 0;
  let declared = 0;
  let inflated: Record<string, Uint8Array>;
  try {
    inflated = unzipSync(zip, {
      filter(file) {
        entries++;
        if (entries > limits.maxEntries) {
          throw refusal(`the package holds more than ${limits.maxEntries} entries`);
        }
        const reason = unsafePathReason(file.name);
        if (reason !== undefined) throw refusal(`entry ${JSON.stringify(file.name)} ${reason}`);
        if (links.has(file.name) || file.name.endsWith('/')) return false;
        declared += file.originalSize;
        if (declared > limits.maxUnzippedBytes) throw unzippedTooLarge(limits, declared);
        return true;
      },
    });
  } catch (error) {
    if (error instanceof InvalidParameterValueException) throw error;
    throw new InvalidParameterValueException(
      FIELD,
      `${PREFIX}: ${(error as Error).message}. Please check your file, then try to upload again.`,
      { cause: error },
    );
  }
  const files: PackageFiles = new Map();
  let actual = 0;
  for (const [name, content] of Object.entries(inflated)) {
    actual += content.byteLength;
    if (actual > limits.maxUnzippedBytes) throw unzippedTooLarge(limits, actual);
    const path = normalisePackagePath(name);
    if (path !== '') files.set(path, content);
  }
  return files;
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
