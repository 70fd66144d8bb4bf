// Writes the guest runtime, bundled once, next to the compiled engines (dist/engines/guest-runtime.js,
// guest-runtime-quickjs.js and its standard library, dist/engines/guest-stdlib.json).
import { mkdir, writeFile } from 'node:fs/promises';
import { buildGuest } from '../src/engines/guest-bundle.ts';

const target = new URL('../dist/engines/guest-runtime.js', import.meta.url);
await mkdir(new URL('.', target), { recursive: true });
const guest = await buildGuest();
await writeFile(target, guest.script);
// QuickJS's, without the WebAssembly ledger (see guest-bundle.ts).
const quickjs = new URL('../dist/engines/guest-runtime-quickjs.js', import.meta.url);
await writeFile(quickjs, guest.quickjsScript);
// The standard library's chunks, loaded by the guest on first use (see guest-bundle.ts).
const stdlib = new URL('../dist/engines/guest-stdlib.json', import.meta.url);
await writeFile(stdlib, JSON.stringify(guest.stdlib));
console.error(`wrote ${target.pathname}, ${quickjs.pathname} and ${stdlib.pathname}`);
