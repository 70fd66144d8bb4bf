/**
 * fs.cpSync / fs.cp / fs.promises.cp in the guest (red team section 7: a new user's cpSync failed
 * with the bundler's "import_node_fs.default.cpSync is not a function"). One program runs against
 * the guest's /tmp and against the host's own node:fs in a fresh directory; every outcome (the
 * copied tree, or the error's code, name and message with the root replaced) must be the same.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import * as hostFs from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect, it } from 'vitest';
import { deployAndInvoke, forEachEngine } from '../helpers/runtime.ts';

/** The program: `run(fs, root)` → the outcome of each step, paths under root written as <root>. */
const PROGRAM = `
async function run(fs, root) {
  const out = {};
  const step = async (name, f) => {
    try {
      const value = await f();
      out[name] = value === undefined ? 'ok' : value;
    } catch (e) {
      out[name] = { code: e.code, name: e.name, message: String(e.message).split(root).join('<root>'), syscall: e.syscall, errno: e.errno };
    }
  };
  const tree = (dir) => fs.readdirSync(dir, { recursive: true }).sort().map((p) => {
    const full = dir + '/' + p;
    return fs.statSync(full).isDirectory() ? p + '/' : p + '=' + fs.readFileSync(full, 'utf8');
  });
  fs.mkdirSync(root + '/d/sub', { recursive: true });
  fs.writeFileSync(root + '/d/f', 'a');
  fs.writeFileSync(root + '/d/sub/g', 'b');
  fs.writeFileSync(root + '/x', 'c');
  await step('file', () => { fs.cpSync(root + '/x', root + '/x2'); return fs.readFileSync(root + '/x2', 'utf8'); });
  await step('fileIntoNewParents', () => { fs.cpSync(root + '/x', root + '/p/q/x'); return fs.readFileSync(root + '/p/q/x', 'utf8'); });
  await step('dirWithoutRecursive', () => fs.cpSync(root + '/d', root + '/e'));
  await step('dir', () => { fs.cpSync(root + '/d', root + '/e', { recursive: true }); return tree(root + '/e'); });
  await step('filter', () => { fs.cpSync(root + '/d', root + '/h', { recursive: true, filter: (s) => !s.endsWith('/g') }); return tree(root + '/h'); });
  await step('filterPromise', () => fs.cpSync(root + '/x', root + '/y', { filter: async () => true }));
  await step('same', () => fs.cpSync(root + '/x', root + '/x'));
  await step('missing', () => fs.cpSync(root + '/nope', root + '/y'));
  await step('forceFalseSkips', () => { fs.cpSync(root + '/x', root + '/d/f', { force: false }); return fs.readFileSync(root + '/d/f', 'utf8'); });
  await step('errorOnExist', () => fs.cpSync(root + '/x', root + '/d/f', { force: false, errorOnExist: true }));
  await step('forceOverwrites', () => { fs.cpSync(root + '/x', root + '/d/f'); return fs.readFileSync(root + '/d/f', 'utf8'); });
  await step('intoItself', () => fs.cpSync(root + '/d', root + '/d/sub/z', { recursive: true }));
  await step('dirOverFile', () => fs.cpSync(root + '/d', root + '/x', { recursive: true }));
  await step('fileOverDir', () => fs.cpSync(root + '/x', root + '/d', { recursive: true }));
  // The code and class only: the guest's fs writes "Received type number", Node adds " (5)".
  try { fs.cpSync(root + '/x', root + '/q', 5); out.badOptions = 'ok'; } catch (e) { out.badOptions = [e.code, e.name]; }
  await step('promises', async () => { await fs.promises.cp(root + '/d', root + '/pr', { recursive: true }); return tree(root + '/pr'); });
  await step('callback', () => new Promise((resolve, reject) => fs.cp(root + '/x', root + '/cb', (err) => (err ? reject(err) : resolve(fs.readFileSync(root + '/cb', 'utf8'))))));
  return out;
}`;

async function onHost(): Promise<unknown> {
  const root = mkdtempSync(join(tmpdir(), 'lambdalet-cp-'));
  try {
    // eslint-disable-next-line @typescript-eslint/no-implied-eval -- the same program text the guest runs
    const run = new Function(`${PROGRAM}; return run;`)() as (fs: unknown, root: string) => Promise<unknown>;
    // As the guest's payload arrives: through JSON (undefined fields dropped).
    return JSON.parse(JSON.stringify(await run(hostFs, root))) as unknown;
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
}

forEachEngine(({ withRuntime }) => {
  it('fs.cpSync, fs.cp and fs.promises.cp: the same trees and errors as Node\'s own fs', () =>
    withRuntime(async ({ rt }) => {
      const expected = await onHost();
      const result = await deployAndInvoke(rt, `import fs from 'node:fs';\n${PROGRAM}\nexport const handler = () => run(fs, '/tmp');`);
      expect(result.payload).toEqual(expected);
    }));
});
