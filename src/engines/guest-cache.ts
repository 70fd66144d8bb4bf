/**
 * The guest runtime bundled from source, kept on disk between processes of one checkout.
 *
 * A published build ships the guest prebuilt (guest-bundle.ts reads it); a checkout run from source
 * (`npm start`, `bin/lambdalet.js`, the tests and every process they spawn) bundles it with esbuild,
 * which costs each process about a CPU-second and seconds of wall time on a busy machine (measured,
 * issue #12). The first such process writes what it bundled to
 * `node_modules/.cache/lambdalet-guest/<key>.json`; later ones read it.
 *
 * The key hashes everything the bundle is made from: every file under src/ (the guest's sources and
 * what they import), package-lock.json (the ported packages and esbuild's version) and the Node
 * version (the guest's list of built-ins and node:http's tables come from the Node that bundles
 * it). Any change gives a new key, so a stale bundle is never read. A file is written under a
 * temporary name and renamed, so two processes at once never read half of one. A cache that cannot
 * be read or written (a read-only checkout, no node_modules) is skipped: the process bundles.
 *
 * Each write keeps the {@link KEPT_BUNDLES} most recently written bundles and removes the rest:
 * every edit under src/ makes a new key, and a developer's checkout had gathered 147 bundles
 * (574 MB) in a day. Several checkouts (git worktrees) sharing one node_modules keep theirs while
 * they are among the most recent; one pruned is bundled again by its next process.
 */
import { createHash, type Hash } from 'node:crypto';
import { mkdir, readdir, readFile, rename, rm, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

/** A guest runtime as guest-bundle.ts defines it (kept structural here: no import cycle). */
export interface CachedGuestRuntime {
  readonly script: string;
  readonly quickjsScript: string;
  readonly stdlib: Readonly<Record<string, string>>;
}

/** The package's root: src/engines/ is two levels below it. */
const ROOT = fileURLToPath(new URL('../../', import.meta.url));

/** Bundles kept in a checkout's cache folder, the most recently written (see the module comment). */
export const KEPT_BUNDLES = 8;

/** The folder under a package root the bundles are kept in. */
export function guestCacheDir(root: string = ROOT): string {
  return join(root, 'node_modules', '.cache', 'lambdalet-guest');
}

async function hashTree(hash: Hash, dir: string, relative: string): Promise<void> {
  const entries = await readdir(dir, { withFileTypes: true });
  entries.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  for (const entry of entries) {
    const path = join(dir, entry.name);
    const name = `${relative}/${entry.name}`;
    if (entry.isDirectory()) await hashTree(hash, path, name);
    else if (entry.isFile()) hash.update(`${name}\0`).update(await readFile(path)).update('\0');
  }
}

/**
 * The cache key of the guest runtime a checkout's sources and this Node would bundle: 32 hex digits.
 * `root` is the package's root (this checkout's unless a test gives another).
 */
export async function guestRuntimeKey(root: string = ROOT): Promise<string> {
  const hash = createHash('sha256');
  hash.update(`${process.version}\0`);
  await hashTree(hash, join(root, 'src'), 'src');
  hash.update('\0package-lock.json\0');
  hash.update(await readFile(join(root, 'package-lock.json')).catch(() => readFile(join(root, 'package.json'))));
  return hash.digest('hex').slice(0, 32);
}

/**
 * The guest runtime for a checkout: read from its cache file, or made by `build` and written there.
 * Resolves to the runtime and the cache file's path (`undefined` when the cache could not be
 * written: the runtime is still returned). Rejects only when `build` does.
 */
export async function cachedGuestRuntime(
  build: () => Promise<CachedGuestRuntime>,
  root: string = ROOT,
): Promise<{ runtime: CachedGuestRuntime; file: string | undefined }> {
  const dir = guestCacheDir(root);
  let file: string | undefined;
  try {
    file = join(dir, `${await guestRuntimeKey(root)}.json`);
    const runtime = JSON.parse(await readFile(file, 'utf8')) as CachedGuestRuntime;
    if (typeof runtime.script === 'string' && typeof runtime.quickjsScript === 'string' && typeof runtime.stdlib === 'object' && runtime.stdlib !== null) return { runtime, file };
  } catch {
    // Missing (the first process for these sources), unreadable or not JSON: bundle it again.
  }
  const runtime = await build();
  if (file === undefined) return { runtime, file };
  const temporary = `${file}.${process.pid}.${Math.random().toString(36).slice(2)}.tmp`;
  try {
    await mkdir(dir, { recursive: true });
    await writeFile(temporary, JSON.stringify(runtime));
    await rename(temporary, file);
    await pruneBundles(dir, file);
    return { runtime, file };
  } catch {
    await rm(temporary, { force: true }).catch(() => {});
    return { runtime, file: undefined };
  }
}

/**
 * Removes the bundles past the {@link KEPT_BUNDLES} most recently written, never `keep` (the one
 * just written). Best effort: a file another process removes or rewrites meanwhile is skipped.
 */
async function pruneBundles(dir: string, keep: string): Promise<void> {
  try {
    const names = (await readdir(dir)).filter((name) => /^[0-9a-f]{32}\.json$/.test(name));
    if (names.length <= KEPT_BUNDLES) return;
    const dated = await Promise.all(
      names.map(async (name) => ({ path: join(dir, name), writtenAt: await stat(join(dir, name)).then((s) => s.mtimeMs, () => Infinity) })),
    );
    dated.sort((a, b) => b.writtenAt - a.writtenAt);
    await Promise.all(dated.slice(KEPT_BUNDLES).filter((entry) => entry.path !== keep).map((entry) => rm(entry.path, { force: true }).catch(() => {})));
  } catch {
    // An unreadable folder: nothing pruned, nothing lost.
  }
}
