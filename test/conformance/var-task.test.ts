/** /var/task shows the function's own package files, whatever form the code came in. */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { zipSync, strToU8 } from 'fflate';
import { describe, expect, it } from 'vitest';
import { forEachEngine } from '../helpers/runtime.ts';

const HANDLER = `import fs from 'node:fs';
export const handler = async () => ({
  listing: fs.readdirSync('/var/task').sort(),
  data: fs.readFileSync('/var/task/data/greeting.txt', 'utf8'),
});`;

forEachEngine(({ withRuntime }) => {
  describe('/var/task', () => {
    it('/var/task: a zip package is there, read-only, as unzipped', () =>
      withRuntime(async ({ rt }) => {
        const zip = zipSync({ 'index.mjs': strToU8(HANDLER), 'data/greeting.txt': strToU8('hello from the zip') });
        await rt.deploy({ name: 'zipped', code: { zip } });
        const result = await rt.invoke('zipped');
        expect(result.payload).toEqual({ listing: ['data', 'index.mjs'], data: 'hello from the zip' });
      }));

    it('/var/task: an entry package shows its one file', () =>
      withRuntime(async ({ rt }) => {
        const dir = mkdtempSync(join(tmpdir(), 'lambdalet-entry-'));
        try {
          const entry = join(dir, 'orders.mjs');
          writeFileSync(entry, `import fs from 'node:fs';\nexport const handler = async () => fs.readdirSync('/var/task');`);
          await rt.deploy({ name: 'entry', code: { entry }, handler: 'orders.handler' });
          expect((await rt.invoke('entry')).payload).toEqual(['orders.mjs']);
        } finally {
          rmSync(dir, { recursive: true, force: true });
        }
      }));
  });
});
