// Writes the guest runtime, bundled once, next to the compiled engines (dist/engines/guest-runtime.js).
import { mkdir, writeFile } from 'node:fs/promises';
import { buildGuestRuntime } from '../src/engines/guest-bundle.ts';

const target = new URL('../dist/engines/guest-runtime.js', import.meta.url);
await mkdir(new URL('.', target), { recursive: true });
await writeFile(target, await buildGuestRuntime());
console.log(`wrote ${target.pathname}`);
