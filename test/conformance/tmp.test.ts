/** /tmp, /var/task and /opt as handlers see them, on every engine and both /tmp backends. */
import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { deployAndInvoke, deployFiles, forEachEngine } from '../helpers/runtime.ts';

// The disk backend's directories are counted in a temp dir of this file's own (os.tmpdir() follows
// TMPDIR): in the shared one, other test processes running at the same time create and remove
// theirs, and the count raced (seen with two suites at once, issue #12).
const sharedTmpdir = process.env.TMPDIR;
let privateTmp: string;
beforeAll(() => {
  privateTmp = mkdtempSync(join(tmpdir(), 'lambdalet-test-tmpdir-'));
  process.env.TMPDIR = privateTmp;
});
afterAll(() => {
  if (sharedTmpdir === undefined) delete process.env.TMPDIR;
  else process.env.TMPDIR = sharedTmpdir;
  rmSync(privateTmp, { recursive: true, force: true });
});

const lambdaletTmpDirs = (): string[] => readdirSync(tmpdir()).filter((n) => n.startsWith('lambdalet-tmp-'));

forEachEngine(({ withRuntime }) => {
  describe('node:fs', () => {
    it('fs: sync, callback and promise forms, file descriptors and Node error codes', () =>
      withRuntime(async ({ rt }) => {
        const result = await deployAndInvoke(rt, `
          import fs from 'node:fs';
          import fsp from 'node:fs/promises';
          import { promisify } from 'node:util';
          const codeOf = (fn) => { try { fn(); return 'ok'; } catch (e) { return e.code; } };
          export const handler = async () => {
            fs.mkdirSync('/tmp/a/b', { recursive: true });
            fs.writeFileSync('/tmp/a/b/one.txt', 'one');
            fs.appendFileSync('/tmp/a/b/one.txt', '+1');
            await fsp.writeFile('/tmp/a/two.bin', new Uint8Array([0, 1, 2, 255, 0]));
            const viaCallback = await promisify(fs.readFile)('/tmp/a/b/one.txt', 'utf8');
            const bin = [...(await fsp.readFile('/tmp/a/two.bin'))];
            const fd = fs.openSync('/tmp/a/fd.txt', 'w+');
            fs.writeSync(fd, 'hello world');
            const buf = Buffer.alloc(5);
            fs.readSync(fd, buf, 0, 5, 6);
            const size = fs.fstatSync(fd).size;
            fs.closeSync(fd);
            const handle = await fsp.open('/tmp/a/fd.txt', 'r');
            const { bytesRead } = await handle.read(Buffer.alloc(100), 0, 100, 0);
            await handle.close();
            const entries = fs.readdirSync('/tmp/a', { withFileTypes: true }).map((d) => d.name + (d.isDirectory() ? '/' : ''));
            fs.renameSync('/tmp/a/b/one.txt', '/tmp/a/moved.txt');
            fs.copyFileSync('/tmp/a/moved.txt', '/tmp/a/copy.txt');
            const stat = fs.statSync('/tmp/a/copy.txt');
            const order = [];
            fs.stat('/tmp/a', () => order.push('callback'));
            order.push('sync');
            await new Promise((r) => setImmediate(r));
            const codes = {
              ENOENT: codeOf(() => fs.readFileSync('/tmp/none')),
              EEXIST: codeOf(() => fs.mkdirSync('/tmp/a')),
              ENOTDIR: codeOf(() => fs.readdirSync('/tmp/a/moved.txt')),
              EISDIR: codeOf(() => fs.readFileSync('/tmp/a')),
              ENOTEMPTY: codeOf(() => fs.rmdirSync('/tmp/a')),
              EROFS: codeOf(() => fs.writeFileSync('/var/task/x.js', '')),
              EBADF: codeOf(() => fs.closeSync(fd)),
              NUL: codeOf(() => fs.readFileSync('/tmp/a\\u0000b')),
            };
            const access = codeOf(() => fs.accessSync('/var/task/index.mjs', fs.constants.W_OK));
            fs.rmSync('/tmp/a', { recursive: true, force: true });
            return { viaCallback, bin, buf: buf.toString(), size, bytesRead, entries, isFile: stat.isFile(), size2: stat.size,
              order, codes, access, exists: fs.existsSync('/tmp/a'), tmp: fs.readdirSync('/tmp'), task: fs.readdirSync('/var/task'),
              cwd: process.cwd(), relative: fs.readFileSync('index.mjs', 'utf8').length > 0 };
          };`);
        expect(result.payload).toEqual({
          viaCallback: 'one+1', bin: [0, 1, 2, 255, 0], buf: 'world', size: 11, bytesRead: 11,
          entries: ['b/', 'fd.txt', 'two.bin'], isFile: true, size2: 5, order: ['sync', 'callback'],
          codes: { ENOENT: 'ENOENT', EEXIST: 'EEXIST', ENOTDIR: 'ENOTDIR', EISDIR: 'EISDIR', ENOTEMPTY: 'ENOTEMPTY', EROFS: 'EROFS', EBADF: 'EBADF', NUL: 'ERR_INVALID_ARG_VALUE' },
          access: 'EROFS', exists: false, tmp: [], task: ['index.mjs'], cwd: '/var/task', relative: true,
        });
      }));

    it("fs: every path-escape spelling reaches only the sandbox's own tree", () =>
      withRuntime(async ({ rt }) => {
        const result = await deployAndInvoke(rt, `
          const fs = require('fs');
          exports.handler = async () => {
            const out = {};
            for (const p of ['/etc/passwd', '/tmp/../etc/passwd', '../../../../etc/passwd', '/tmp/../../../../../../etc/hostname',
              '/proc/self/environ', '/var/task/../../../etc/passwd', 'file:///etc/passwd', '/tmp/' + '../'.repeat(2000) + 'etc/passwd',
              '/tmp/' + 'a/'.repeat(3000)]) {
              try { fs.readFileSync(p.startsWith('file:') ? new URL(p) : p); out[p.slice(0, 40)] = 'READ'; } catch (e) { out[p.slice(0, 40)] = e.code; }
            }
            try { fs.symlinkSync('/etc', '/tmp/etc'); out.symlink = 'made'; } catch (e) { out.symlink = e.code; }
            try { fs.writeFileSync('/tmp/' + 'x'.repeat(256), ''); } catch (e) { out.name256 = e.code; }
            fs.writeFileSync('/tmp/' + 'x'.repeat(255), 'ok');
            out.name255 = fs.readFileSync('/tmp/' + 'x'.repeat(255), 'utf8');
            return out;
          };`, {}, { file: 'index.js' });
        const out = result.payload as Record<string, string>;
        expect(Object.values(out).filter((v) => v === 'READ')).toEqual([]);
        for (const [key, value] of Object.entries(out)) {
          if (key === 'name255') expect(value).toBe('ok');
          else if (key === 'symlink') expect(value).toBe('EPERM');
          else expect(['ENOENT', 'ENAMETOOLONG'], key).toContain(value);
        }
        expect(out.name256).toBe('ENAMETOOLONG');
      }));
  });

  describe('/tmp lifetime and quota', () => {
    const TMP_COUNTER = `
      import fs from 'node:fs';
      export const handler = async (event, context) => {
        const before = fs.existsSync('/tmp/count') ? Number(fs.readFileSync('/tmp/count', 'utf8')) : 0;
        fs.writeFileSync('/tmp/count', String(before + 1));
        if (event.wait) await new Promise((r) => setTimeout(r, event.wait));
        return { count: before + 1, stream: context.logStreamName };
      };`;

    for (const tmpBackend of ['memory', 'disk'] as const) {
      it(`/tmp (${tmpBackend}): persists across warm invokes, is private to each concurrent environment, and goes with the environment`, () =>
        withRuntime(async ({ rt }) => {
          const before = lambdaletTmpDirs().length;
          await deployFiles(rt, 'tmp-life', TMP_COUNTER, { tmpBackend });
          const first = await rt.invoke('tmp-life');
          const second = await rt.invoke('tmp-life');
          expect([first.payload, second.payload].map((p) => (p as { count: number }).count)).toEqual([1, 2]);
          expect(second.coldStart).toBe(false);
          expect(second.tmpUsedBytes).toBe(1);
          // Two at once: the busy warm one keeps its /tmp, the new one starts empty.
          const [a, b] = await Promise.all([rt.invoke('tmp-life', { wait: 50 }), rt.invoke('tmp-life', { wait: 50 })]);
          const counts = [a, b].map((r) => (r.payload as { count: number }).count).sort();
          expect(counts).toEqual([1, 3]);
          if (tmpBackend === 'disk') expect(lambdaletTmpDirs().length).toBe(before + 2);
          // A redeploy ends the old environments: a fresh one starts with an empty /tmp.
          await deployFiles(rt, 'tmp-life', TMP_COUNTER, { tmpBackend });
          expect(((await rt.invoke('tmp-life')).payload as { count: number }).count).toBe(1);
          await rt.close();
          if (tmpBackend === 'disk') expect(lambdaletTmpDirs().length).toBe(before);
        }));
    }

    it('/tmp: ephemeralStorageMb is the quota: a write up to it succeeds, one byte past fails with ENOSPC and leaves no partial file', () =>
      withRuntime(async ({ rt }) => {
        const result = await deployAndInvoke(rt, `
          import fs from 'node:fs';
          const MB = 1024 * 1024;
          export const handler = async () => {
            fs.writeFileSync('/tmp/under', Buffer.alloc(MB - 1));
            fs.writeFileSync('/tmp/at', Buffer.alloc(1));
            let over;
            try { fs.writeFileSync('/tmp/over', Buffer.alloc(1)); over = 'written'; } catch (e) { over = [e.code, e.message]; }
            let append;
            try { fs.appendFileSync('/tmp/under', 'x'); append = 'written'; } catch (e) { append = e.code; }
            const sizes = [fs.statSync('/tmp/under').size, fs.existsSync('/tmp/over')];
            fs.unlinkSync('/tmp/at');
            fs.writeFileSync('/tmp/again', 'y');
            return { over, append, sizes };
          };`, {}, { ephemeralStorageMb: 1 });
        expect(result.payload).toEqual({
          over: ['ENOSPC', "ENOSPC: no space left on device, open '/tmp/over'"],
          append: 'ENOSPC',
          sizes: [1024 * 1024 - 1, false],
        });
        expect(result.tmpUsedBytes).toBe(1024 * 1024);
      }));
  });
});
