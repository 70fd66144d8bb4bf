// Writes the guest runtime, bundled once, next to the compiled engines (dist/engines/guest-runtime.js,
// guest-runtime-quickjs.js and its standard library, dist/engines/guest-stdlib.json).
//
// Through the checkout's bundle cache (src/engines/guest-cache.ts: node_modules/.cache/lambdalet-guest,
// keyed by every file under src/, package-lock.json and the Node version): what `npm start`, the
// CLI from a checkout or a test run already bundled for these very sources is written as is, byte for
// byte what bundling again gives (~5 CPU-s of esbuild and Brotli, measured); a checkout without that
// bundle (a fresh clone, a git install's temporary clone) bundles it and leaves it there. The
// packed-install test's pack (a copy of the sources with node_modules linked) reads the bundle its
// run's global setup made (issue #12).
import { mkdir, writeFile } from 'node:fs/promises';
import { buildGuest } from '../src/engines/guest-bundle.ts';
import { cachedGuestRuntime } from '../src/engines/guest-cache.ts';

const target = new URL('../dist/engines/guest-runtime.js', import.meta.url);
await mkdir(new URL('.', target), { recursive: true });
const { runtime: guest } = await cachedGuestRuntime(buildGuest);
await writeFile(target, guest.script);
// QuickJS's, without the WebAssembly ledger (see guest-bundle.ts).
const quickjs = new URL('../dist/engines/guest-runtime-quickjs.js', import.meta.url);
await writeFile(quickjs, guest.quickjsScript);
// The standard library's chunks, loaded by the guest on first use (see guest-bundle.ts).
const stdlib = new URL('../dist/engines/guest-stdlib.json', import.meta.url);
await writeFile(stdlib, JSON.stringify(guest.stdlib));
console.error(`wrote ${target.pathname}, ${quickjs.pathname} and ${stdlib.pathname}`);
