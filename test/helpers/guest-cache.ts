/**
 * The guest runtime, bundled once for a whole test run instead of once per test process. From
 * source every process that boots a sandbox would bundle guest/ and its standard library with
 * esbuild (~1.1 CPU-s and seconds of wall time on a busy machine, measured); the suite has ~100 such
 * processes.
 *
 * The bundle is the one the library itself keeps for a checkout (src/engines/guest-cache.ts:
 * node_modules/.cache/lambdalet-guest/<key>.json, keyed by every file under src/, package-lock.json
 * and the Node version), so the processes the tests spawn (examples, CLIs, cluster members) read
 * the same file instead of bundling.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, renameSync, rmSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { cachedGuestRuntime, type CachedGuestRuntime } from '../../src/engines/guest-cache.ts';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));

/**
 * Bundles in a plain Node, as the published build does (scripts/build-guest.ts): vitest's module
 * runner, which loads this file, has no import.meta.resolve, which the bundling uses.
 */
function bundleInChild(): Promise<CachedGuestRuntime> {
  const dir = mkdtempSync(join(tmpdir(), 'lambdalet-guest-'));
  try {
    const out = join(dir, 'guest.json');
    const script = `import { writeFileSync } from 'node:fs';
      import { buildGuest } from ${JSON.stringify(pathToFileURL(join(ROOT, 'src/engines/guest-bundle.ts')).href)};
      writeFileSync(process.argv[1], JSON.stringify(await buildGuest()));`;
    const build = spawnSync(process.execPath, ['--input-type=module', '-e', script, out], { cwd: ROOT, encoding: 'utf8' });
    if (build.status !== 0) throw new Error(`bundling the guest runtime failed (exit ${build.status}): ${build.stderr}`);
    return Promise.resolve(JSON.parse(readFileSync(out, 'utf8')) as CachedGuestRuntime);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/**
 * How often the run's bundle in the checkout's cache is checked (written back when pruned) and how
 * often its modification time is renewed (so the cache's pruning counts it among the most recent).
 */
const CACHE_CHECK_MS = 1_000;
const CACHE_TOUCH_MS = 10_000;

/**
 * A file of this run's own holding the guest runtime (a GuestRuntime as JSON), bundled first if the
 * checkout's cache lacks it, and a function that removes it. A copy, not the cache file itself: the
 * cache keeps only its most recent bundles, and git worktrees sharing node_modules write new ones as
 * their sources change — one full run lost its file that way mid-run (67 test files failed with
 * ENOENT in the setup file).
 *
 * The processes the tests spawn (examples, CLIs, cluster members, exit children) read the cache
 * itself, by key: while the run lasts its bundle is kept there — written back within a second when
 * another checkout's write pruned it, its modification time renewed meanwhile. Without that, a
 * pruned key made every child started after it bundle the guest again (~5 CPU-s each): in a full
 * run beside other worktrees' work, test/examples/examples.test.ts's children took 30.8 CPU-s
 * against 6.2 alone (issue #12).
 */
export async function sharedGuestRuntimeFile(): Promise<{ file: string; remove: () => void }> {
  const { runtime, file: cached } = await cachedGuestRuntime(bundleInChild);
  const dir = mkdtempSync(join(tmpdir(), 'lambdalet-guest-run-'));
  const file = join(dir, 'guest.json');
  const json = JSON.stringify(runtime);
  writeFileSync(file, json);
  const keep = cached === undefined ? undefined : keepInCache(cached, json);
  return {
    file,
    remove: () => {
      if (keep !== undefined) clearInterval(keep);
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** Keeps `json` at `path` (a cache file) while the run lasts: see sharedGuestRuntimeFile. Best effort. */
function keepInCache(path: string, json: string): NodeJS.Timeout {
  let touchedAt = Date.now();
  const timer = setInterval(() => {
    try {
      if (!existsSync(path)) {
        // As the cache writes: under a temporary name, then renamed, so no reader sees half a file.
        const temporary = `${path}.${process.pid}.keep.tmp`;
        writeFileSync(temporary, json);
        renameSync(temporary, path);
        touchedAt = Date.now();
      } else if (Date.now() - touchedAt >= CACHE_TOUCH_MS) {
        const now = new Date();
        utimesSync(path, now, now);
        touchedAt = Date.now();
      }
    } catch {
      // A read-only or vanished cache folder: the children bundle for themselves, as without this.
    }
  }, CACHE_CHECK_MS);
  timer.unref();
  return timer;
}
