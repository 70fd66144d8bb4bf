/**
 * The guest runtime (src/engines/guest-bundle.ts), bundled once for a whole test run instead of
 * once per test process. From source every process that boots a sandbox bundles guest/ and its
 * standard library with esbuild (~1.1 CPU-s and seconds of wall time on a busy machine, measured);
 * the suite has ~70 such processes.
 *
 * The bundle is kept in node_modules/.cache/lambdalet-guest/<key>.json, where the key hashes every
 * file under src/ (the guest's sources and whatever they import), package-lock.json (the ported
 * packages and esbuild) and the Node version (the guest's list of built-ins and HTTP methods come
 * from the Node that bundles it): any change rebuilds it. Written to a temporary name and renamed,
 * so two runs at once never read half a file.
 */
import { createHash } from 'node:crypto';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, readFileSync, renameSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));

function hashTree(hash: ReturnType<typeof createHash>, dir: string): void {
  for (const entry of readdirSync(dir, { withFileTypes: true }).sort((a, b) => (a.name < b.name ? -1 : 1))) {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) hashTree(hash, path);
    else if (entry.isFile()) hash.update(`${path}\0`).update(readFileSync(path)).update('\0');
  }
}

/** The cache key of the guest runtime the current sources and Node would bundle. */
export function guestRuntimeKey(): string {
  const hash = createHash('sha256');
  hash.update(`${process.version}\0`);
  hashTree(hash, join(ROOT, 'src'));
  hash.update(readFileSync(join(ROOT, 'package-lock.json')));
  return hash.digest('hex').slice(0, 32);
}

/** The path of the cached guest runtime (a GuestRuntime as JSON), bundled first if it is missing. */
export function sharedGuestRuntimeFile(): string {
  const dir = join(ROOT, 'node_modules', '.cache', 'lambdalet-guest');
  const file = join(dir, `${guestRuntimeKey()}.json`);
  if (existsSync(file)) return file;
  mkdirSync(dir, { recursive: true });
  const temporary = `${file}.${process.pid}.tmp`;
  // Bundled by plain Node, as the published build does (scripts/build-guest.ts): vitest's module
  // runner, which loads this file, has no import.meta.resolve, which the bundling uses.
  const script = `import { writeFileSync } from 'node:fs';
    import { buildGuest } from ${JSON.stringify(pathToFileURL(join(ROOT, 'src/engines/guest-bundle.ts')).href)};
    writeFileSync(process.argv[1], JSON.stringify(await buildGuest()));`;
  const build = spawnSync(process.execPath, ['--input-type=module', '-e', script, temporary], { cwd: ROOT, encoding: 'utf8' });
  if (build.status !== 0) throw new Error(`bundling the guest runtime failed (exit ${build.status}): ${build.stderr}`);
  renameSync(temporary, file);
  return file;
}
