/**
 * `code.entry` (what `lambdalet invoke <file>` and `loadHandler` deploy): a `require()` or `import()`
 * of a module that is not there fails when its line runs, with Node's code and words, as for a
 * package (issue #12). Before, an unguarded `await import('x')` inside the handler failed INIT (esbuild
 * refused it at bundle time), and a guarded one threw MODULE_NOT_FOUND "Cannot find module 'x'"
 * where Node throws ERR_MODULE_NOT_FOUND "Cannot find package 'x' imported from <file>".
 */
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { expect, it } from 'vitest';
import { forEachEngine } from '../helpers/runtime.ts';

const HANDLER = `
export const handler = async (event) => {
  if (event.unguarded) return (await import('lambdalet-no-such-package-12')).default;
  const out = [];
  try { await import('lambdalet-no-such-package-12/sub'); } catch (e) { out.push(e.code, e.message.replace(/ imported from .*/, '')); }
  try { await import('./no-such-file-12.mjs'); } catch (e) { out.push(e.code); }
  return out;
};
`;

forEachEngine(({ withRuntime }) => {
  it('an entry\'s import() of a missing package or file: ERR_MODULE_NOT_FOUND when the line runs, as in Node; INIT succeeds', () =>
    withRuntime(async ({ rt }) => {
      const dir = await mkdtemp(join(tmpdir(), 'lambdalet-entry-missing-'));
      try {
        const file = join(dir, 'fn.mjs');
        await writeFile(file, HANDLER);
        // Plain Node in a child process (vitest's own module runner words a missing import differently).
        const { stdout } = await promisify(execFile)(process.execPath, ['--input-type=module', '-e', `const m = await import(${JSON.stringify(file)}); process.stdout.write(JSON.stringify(await m.handler({})));`]);
        const inNode = JSON.parse(stdout) as unknown;
        const expected = ['ERR_MODULE_NOT_FOUND', "Cannot find package 'lambdalet-no-such-package-12'", 'ERR_MODULE_NOT_FOUND'];
        expect(inNode).toEqual(expected);
        await rt.deploy({ name: 'entry-missing', code: { entry: file } });
        const guarded = await rt.invoke('entry-missing', {});
        expect(guarded.functionError, JSON.stringify(guarded.payload)).toBeUndefined();
        expect(guarded.payload).toEqual(expected);
        const unguarded = await rt.invoke('entry-missing', { unguarded: true });
        expect(unguarded.coldStart).toBe(false); // INIT did not fail: the same environment answered
        expect(unguarded.payload).toMatchObject({ errorType: 'Error', errorMessage: "Cannot find package 'lambdalet-no-such-package-12' imported from /var/task/fn.mjs" });
      } finally {
        await rm(dir, { recursive: true, force: true });
      }
    }));
});
