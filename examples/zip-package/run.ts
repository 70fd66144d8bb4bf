/**
 * A Lambda-style deployment zip — an ESM handler and its node_modules/ — deployed and invoked.
 *
 *   node --no-node-snapshot examples/zip-package/run.ts [--out function.zip]
 *
 * With --out the zip is written there and kept (for `lambdalet invoke function.zip`); without it,
 * it is built in a temporary directory that is removed on exit.
 *
 * The zip is built here the way `npm install && zip -r function.zip .` lays it out: function/ at
 * the root of the zip and the dependency under node_modules/slugify/ (its sources are kept in deps/
 * because the repository does not commit node_modules).
 */
import { mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { zipSync, type Zippable } from 'fflate';
import { createRuntime } from '../../src/index.ts';

const here = (path: string): string => fileURLToPath(new URL(path, import.meta.url));

async function addDir(zip: Zippable, dir: string, prefix: string): Promise<void> {
  for (const name of await readdir(dir)) zip[`${prefix}${name}`] = await readFile(join(dir, name));
}

const files: Zippable = {};
await addDir(files, here('./function/'), '');
await addDir(files, here('./deps/slugify/'), 'node_modules/slugify/');
const { out } = parseArgs({ options: { out: { type: 'string' } } }).values;
const tmp = out === undefined ? await mkdtemp(join(tmpdir(), 'lambdalet-zip-example-')) : undefined;
const zipPath = tmp === undefined ? resolve(out!) : join(tmp, 'function.zip');
await writeFile(zipPath, zipSync(files));
console.log(`built ${zipPath}: ${Object.keys(files).join(', ')}`);

const rt = await createRuntime();
try {
  const info = await rt.deploy({ name: 'slugger', code: { zip: zipPath }, handler: 'index.handler' });
  console.log(`deployed ${info.functionName} (${info.handler}), code sha256 ${info.codeSha256?.slice(0, 12)}`);
  const res = await rt.invoke('slugger', { title: 'Crème Brûlée: A Recipe!' });
  console.log('payload:', JSON.stringify(res.payload));
  if (res.functionError) process.exitCode = 1;
} finally {
  await rt.close();
  if (tmp !== undefined) await rm(tmp, { recursive: true, force: true });
}
