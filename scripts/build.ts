// `npm run build` (and `prepare`, so git and folder installs and `npm pack` get it): a clean dist/
// with the compiled library (tsc, declarations and source maps whose sources are the shipped src/),
// then the guest runtime bundled once (scripts/build-guest.ts).
import { spawnSync } from 'node:child_process';
import { rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('..', import.meta.url));
// A stale file left by a source that moved would be packed and could shadow nothing or import a
// module that no longer exists: start from an empty dist/.
rmSync(new URL('../dist', import.meta.url), { recursive: true, force: true });

const tsc = createRequire(import.meta.url).resolve('typescript/bin/tsc');
const compiled = spawnSync(process.execPath, [tsc, '-p', 'tsconfig.build.json'], { cwd: root, stdio: 'inherit' });
// tsc exits 2 when it found type errors but wrote every output. `npm install`/`npm ci` in a
// checkout run this build as `prepare`: a type error in work in progress must not make installing
// a dependency fail, so there it is reported and the install goes on. `npm pack`/`publish` (and a
// direct `npm run build`) refuse to produce a package from code that does not type-check.
const installing = process.env.npm_command === 'install' || process.env.npm_command === 'ci';
if (compiled.status === 2 && installing) {
  process.stderr.write('build: tsc reported type errors (above); dist/ was written anyway so this install completes. Fix them before packing.\n');
} else if (compiled.status !== 0) {
  process.stderr.write(`build: tsc -p tsconfig.build.json failed (${compiled.signal ?? `exit code ${compiled.status}`})\n`);
  process.exit(compiled.status ?? 1);
}
await import('./build-guest.ts');
