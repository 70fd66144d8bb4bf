/**
 * The rules a path inside a code package must follow before it is written to disk ("zip slip"
 * protection): the same rules for zip entries and for the keys of an in-memory `files` map.
 */

/**
 * Returns why `name` may not be written under a package root, or `undefined` when it is safe.
 *
 * Refused: empty names, absolute paths (`/x`, `C:x`), backslashes (Windows separators a zip may
 * carry and that some tools treat as `/`), NUL bytes (they truncate paths in C APIs), and any `..`
 * segment, even one that would stay inside the root after normalising: a well-formed package
 * never needs one, and refusing it outright leaves nothing to get wrong.
 */
export function unsafePathReason(name: string): string | undefined {
  if (name.length === 0) return 'has an empty name';
  if (name.includes('\0')) return 'contains a NUL byte';
  if (name.includes('\\')) return 'contains a backslash';
  if (name.startsWith('/') || /^[A-Za-z]:/.test(name)) return 'is an absolute path';
  if (name.split('/').some((segment) => segment === '..')) return 'escapes the package root';
  return undefined;
}

/**
 * Normalises a safe package path: drops `.` segments and repeated or trailing slashes.
 * Returns `''` for a name that designates the root itself (`./`).
 */
export function normalisePackagePath(name: string): string {
  return name
    .split('/')
    .filter((segment) => segment !== '' && segment !== '.')
    .join('/');
}
