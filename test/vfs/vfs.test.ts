/** One suite, run against both /tmp backends: they must behave identically. */
import { existsSync, mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { diskBackend, hostDirectoryBackend, memoryBackend, Vfs, VfsError, type StorageBackend, type VfsLimits } from '../../src/vfs/index.ts';

const LIMITS: VfsLimits = { quotaBytes: 1000, maxEntries: 10, maxOpenFiles: 4, pathMaxBytes: 4095, nameMaxBytes: 255 };
const BACKENDS: Record<string, () => StorageBackend> = { memory: () => memoryBackend(), disk: () => diskBackend() };

function code(fn: () => unknown): string {
  try {
    fn();
  } catch (error) {
    expect(error).toBeInstanceOf(VfsError);
    return (error as VfsError).code;
  }
  throw new Error('expected a VfsError');
}

const open: Vfs[] = [];
afterEach(() => {
  for (const vfs of open.splice(0)) vfs.dispose();
});

for (const [kind, makeBackend] of Object.entries(BACKENDS)) {
  describe(`vfs (${kind} backend)`, () => {
    const make = (limits: Partial<VfsLimits> = {}, task?: StorageBackend): Vfs => {
      const vfs = new Vfs({ limits: { ...LIMITS, ...limits }, tmp: makeBackend(), task });
      open.push(vfs);
      return vfs;
    };

    it('Vfs: files and directories round-trip with Node error codes and guest paths in messages', () => {
      const vfs = make();
      vfs.mkdir('/tmp/a/b', true);
      vfs.writeFile('/tmp/a/b/f.txt', Buffer.from('hello'), 'w');
      vfs.writeFile('/tmp/a/b/f.txt', Buffer.from(' world'), 'a');
      expect(vfs.readFile('/tmp/a/b/f.txt').toString()).toBe('hello world');
      expect(vfs.readdir('/tmp/a')).toEqual([['b', 'd']]);
      expect(vfs.stat('/tmp/a/b/f.txt').size).toBe(11);
      expect(code(() => vfs.readFile('/tmp/missing'))).toBe('ENOENT');
      expect(() => vfs.readFile('/tmp/missing')).toThrow("ENOENT: no such file or directory, open '/tmp/missing'");
      expect(code(() => vfs.mkdir('/tmp/a', false))).toBe('EEXIST');
      expect(code(() => vfs.writeFile('/tmp/a/b/f.txt/x', Buffer.from('x'), 'w'))).toBe('ENOTDIR');
      expect(code(() => vfs.writeFile('/tmp/a', Buffer.from('x'), 'w'))).toBe('EISDIR');
      expect(code(() => vfs.readFile('/tmp/a'))).toBe('EISDIR');
      expect(code(() => vfs.rmdir('/tmp/a'))).toBe('ENOTEMPTY');
      expect(code(() => vfs.writeFile('/tmp/a/b/f.txt', Buffer.from('x'), 'wx'))).toBe('EEXIST');
      expect(code(() => vfs.rm('/tmp/a', false, false))).toBe('EISDIR');
      vfs.rename('/tmp/a/b/f.txt', '/tmp/g.txt');
      vfs.copyFile('/tmp/g.txt', '/tmp/h.txt', 0);
      expect(code(() => vfs.copyFile('/tmp/g.txt', '/tmp/h.txt', 1))).toBe('EEXIST');
      vfs.rm('/tmp/a', true, false);
      vfs.rm('/tmp/nothing', false, true);
      expect(vfs.readdir('/tmp').map(([n]) => n)).toEqual(['g.txt', 'h.txt']);
      expect(vfs.usage()).toEqual({ bytes: 22, entries: 2, quotaBytes: 1000 });
    });

    it('Vfs: /var/task and /opt are read-only (EROFS), and so is everything outside /tmp', () => {
      const vfs = make({}, memoryBackend({ 'index.mjs': 'export {}', 'data/x.json': '{}' }));
      expect(vfs.readFile('/var/task/data/x.json').toString()).toBe('{}');
      expect(vfs.readFile('data/x.json').toString()).toBe('{}'); // relative to the cwd, /var/task
      expect(vfs.readdir('/')).toEqual([['opt', 'd'], ['tmp', 'd'], ['var', 'd']]);
      expect(code(() => vfs.writeFile('/var/task/index.mjs', Buffer.from('x'), 'w'))).toBe('EROFS');
      expect(code(() => vfs.mkdir('/opt/layer', false))).toBe('EROFS');
      expect(code(() => vfs.unlink('/var/task/index.mjs'))).toBe('EROFS');
      expect(code(() => vfs.open('/var/task/index.mjs', 'r+'))).toBe('EROFS');
      expect(code(() => vfs.writeFile('/etc/passwd', Buffer.from('x'), 'w'))).toBe('EROFS');
      expect(code(() => vfs.readFile('/etc/passwd'))).toBe('ENOENT');
      expect(code(() => vfs.rename('/var/task/index.mjs', '/tmp/i.mjs'))).toBe('EXDEV');
      expect(code(() => vfs.access('/var/task/index.mjs', 2))).toBe('EROFS');
      expect(code(() => vfs.rmdir('/tmp'))).toBe('EACCES');
    });

    it('Vfs: every escape spelling stays inside the guest tree', () => {
      const vfs = make();
      vfs.writeFile('/tmp/../tmp/./x', Buffer.from('1'), 'w');
      expect(vfs.readFile('/tmp/x').toString()).toBe('1');
      for (const path of ['/tmp/../../../../etc/passwd', '../../etc/passwd', '/tmp/../../root', '//etc/passwd', '/tmp/..\\..\\etc\\passwd']) {
        expect(['ENOENT', 'EROFS']).toContain(code(() => vfs.readFile(path)));
      }
      expect(code(() => vfs.readFile('/tmp/x\0/etc/passwd'))).toBe('EINVAL');
      expect(code(() => vfs.writeFile(`/tmp/${'../'.repeat(50)}escape`, Buffer.from('x'), 'w'))).toBe('EROFS');
      expect(code(() => vfs.readFile(''))).toBe('ENOENT');
    });

    it('Vfs: the quota allows a write up to it and refuses one past it with ENOSPC, leaving nothing partial', () => {
      const vfs = make();
      vfs.writeFile('/tmp/under', Buffer.alloc(999), 'w');
      vfs.writeFile('/tmp/at', Buffer.alloc(1), 'w'); // exactly 1000
      expect(vfs.usage().bytes).toBe(1000);
      expect(code(() => vfs.writeFile('/tmp/over', Buffer.alloc(1), 'w'))).toBe('ENOSPC');
      expect(vfs.exists('/tmp/over')).toBe(false);
      expect(code(() => vfs.writeFile('/tmp/under', Buffer.alloc(1), 'a'))).toBe('ENOSPC');
      expect(vfs.stat('/tmp/under').size).toBe(999);
      // Overwriting frees the old size first.
      vfs.writeFile('/tmp/under', Buffer.alloc(500), 'w');
      expect(vfs.usage().bytes).toBe(501);
      const fd = vfs.open('/tmp/fd', 'w');
      expect(vfs.write(fd, Buffer.alloc(499), null)).toBe(499);
      expect(code(() => vfs.write(fd, Buffer.alloc(1), null))).toBe('ENOSPC');
      expect(code(() => vfs.ftruncate(fd, 500))).toBe('ENOSPC');
      vfs.close(fd);
      vfs.unlink('/tmp/under');
      expect(vfs.usage().bytes).toBe(500);
    });

    it("Vfs: read allocates no more of the host's memory than the file holds past the position (issue #15)", () => {
      const vfs = make();
      vfs.writeFile('/tmp/five', Buffer.from('hello'), 'w');
      const fd = vfs.open('/tmp/five', 'r');
      const all = vfs.read(fd, 64 * 1024 * 1024, 0);
      expect(all.toString()).toBe('hello');
      expect(all.buffer.byteLength).toBe(5);
      expect(vfs.read(fd, 64 * 1024 * 1024, 3).toString()).toBe('lo');
      expect(vfs.read(fd, 64 * 1024 * 1024, 9).length).toBe(0);
      expect(vfs.read(fd, 2, null).toString()).toBe('he');
      expect(vfs.read(fd, 10, null).toString()).toBe('llo');
      expect(vfs.read(fd, 10, null).length).toBe(0);
      expect(code(() => vfs.read(fd, 1, Number.NaN))).toBe('EINVAL');
      vfs.close(fd);
    });

    it('Vfs: write at a negative position writes at the descriptor\'s own and is counted; a position or length that is not a byte offset is EINVAL; ftruncate clamps a negative length to 0 (issue #15)', () => {
      const vfs = make({ quotaBytes: 1000 });
      const fd = vfs.open('/tmp/f', 'w+');
      expect(vfs.write(fd, Buffer.alloc(400), -1)).toBe(400);
      expect(vfs.write(fd, Buffer.alloc(400), -1e12)).toBe(400);
      expect(vfs.fstat(fd).size).toBe(800);
      expect(vfs.usage().bytes).toBe(800);
      expect(code(() => vfs.write(fd, Buffer.alloc(400), -1))).toBe('ENOSPC');
      for (const bad of [1.5, Number.NaN, 2 ** 53, Infinity]) expect(code(() => vfs.write(fd, Buffer.alloc(1), bad))).toBe('EINVAL');
      vfs.ftruncate(fd, -1e9);
      expect(vfs.fstat(fd).size).toBe(0);
      expect(vfs.usage().bytes).toBe(0);
      for (const bad of [1.5, Number.NaN, 2 ** 60]) expect(code(() => vfs.ftruncate(fd, bad))).toBe('EINVAL');
      expect(vfs.usage().bytes).toBe(0);
      expect(code(() => vfs.write(fd, Buffer.alloc(1001), 0))).toBe('ENOSPC');
      vfs.close(fd);
    });

    it('Vfs: a file unlinked, replaced by a rename or removed with its directory while a descriptor has it open keeps its bytes in the usage until its last descriptor closes (issue #15)', () => {
      const vfs = make({ quotaBytes: 1000, maxOpenFiles: 8 });
      // unlink: the descriptor still writes the file, and the quota still counts it.
      const a = vfs.open('/tmp/a', 'w');
      const a2 = vfs.open('/tmp/a', 'r');
      vfs.write(a, Buffer.alloc(600), null);
      vfs.unlink('/tmp/a');
      expect(vfs.usage().bytes).toBe(600);
      expect(code(() => vfs.writeFile('/tmp/b', Buffer.alloc(401), 'w'))).toBe('ENOSPC');
      vfs.writeFile('/tmp/b', Buffer.alloc(400), 'w'); // at the quota
      expect(code(() => vfs.write(a, Buffer.alloc(1), null))).toBe('ENOSPC');
      vfs.unlink('/tmp/b');
      // A new file may be given the freed inode number: it is not the orphan's.
      const c = vfs.open('/tmp/c', 'w');
      vfs.write(c, Buffer.alloc(100), null);
      vfs.write(a, Buffer.alloc(50), null); // the orphan grows through its descriptor
      expect(vfs.usage().bytes).toBe(750);
      vfs.close(a);
      expect(vfs.usage().bytes).toBe(750); // a2 still has it
      vfs.close(a2);
      expect(vfs.usage().bytes).toBe(100);
      // rename over an open file
      vfs.writeFile('/tmp/d', Buffer.alloc(200), 'w');
      vfs.rename('/tmp/d', '/tmp/c');
      expect(vfs.usage().bytes).toBe(300);
      vfs.close(c);
      expect(vfs.usage().bytes).toBe(200);
      // rm -r of the directory holding an open file
      vfs.mkdir('/tmp/dir', true);
      const e = vfs.open('/tmp/dir/e', 'w');
      vfs.write(e, Buffer.alloc(300), null);
      vfs.rm('/tmp/dir', true, false);
      expect(vfs.usage().bytes).toBe(500);
      vfs.close(e);
      expect(vfs.usage().bytes).toBe(200);
      vfs.unlink('/tmp/c');
      expect(vfs.usage()).toMatchObject({ bytes: 0, entries: 0 });
    });

    it("Vfs: mkdir's answers as Node's (recursive returns the first directory made; EEXIST, ENOENT, ENOTDIR) and its entries are counted", () => {
      const vfs = make({ maxEntries: 10 });
      expect(vfs.mkdir('/tmp/a/b/c', true)).toBe('/tmp/a');
      expect(vfs.mkdir('/tmp/a/b/c/d/e', true)).toBe('/tmp/a/b/c/d');
      expect(vfs.mkdir('/tmp/a/b', true)).toBeUndefined();
      expect(vfs.mkdir('/tmp', true)).toBeUndefined();
      expect(vfs.usage().entries).toBe(5);
      expect(code(() => vfs.mkdir('/tmp/a/b', false))).toBe('EEXIST');
      expect(code(() => vfs.mkdir('/tmp/x/y', false))).toBe('ENOENT');
      vfs.writeFile('/tmp/a/f', Buffer.from(''), 'w');
      expect(code(() => vfs.mkdir('/tmp/a/f', true))).toBe('EEXIST');
      expect(code(() => vfs.mkdir('/tmp/a/f/g', false))).toBe('ENOTDIR');
      expect(code(() => vfs.mkdir('/tmp/a/f/g/h', true))).toBe('ENOTDIR');
      expect(vfs.mkdir('/tmp/a/g', false)).toBeUndefined();
      expect(vfs.usage().entries).toBe(7);
      expect(vfs.readdir('/tmp/a/b/c/d')).toEqual([['e', 'd']]);
    });

    it('Vfs: a recursive mkdir of a path as deep as PATH_MAX allows costs the host O(log depth) lookups and one backend mkdir', () => {
      const backend = makeBackend();
      // The backend's calls, counted (node:fs's own functions cannot be spied on).
      const calls = { lstatSync: 0, mkdirSync: 0 };
      const fs = new Proxy(backend.fs, {
        get: (target, key: string) => {
          const value = Reflect.get(target, key) as unknown;
          if (typeof value !== 'function') return value;
          return (...args: unknown[]): unknown => {
            if (key in calls) calls[key as keyof typeof calls]++;
            return (value as (...a: unknown[]) => unknown).apply(target, args);
          };
        },
      });
      const vfs = new Vfs({ limits: { ...LIMITS, maxEntries: 4096 }, tmp: { ...backend, fs } });
      open.push(vfs);
      vfs.mkdir('/tmp/a/a', true);
      // ~1,950 one-letter directories: near PATH_MAX, with room for the disk backend's own directory
      // (its host path must fit in the host's PATH_MAX too).
      const depth = Math.floor((LIMITS.pathMaxBytes - 200) / 2);
      const path = `/tmp${'/a'.repeat(depth)}`;
      calls.lstatSync = 0;
      calls.mkdirSync = 0;
      expect(vfs.mkdir(path, true)).toBe('/tmp/a/a/a');
      // One by one, it was a lookup per ancestor and a mkdir per missing directory (16 s of the host's thread on memfs).
      expect(calls.lstatSync).toBeLessThanOrEqual(2 * Math.ceil(Math.log2(depth)) + 4);
      expect(calls.mkdirSync).toBe(1);
      expect(vfs.usage().entries).toBe(depth);
      expect(vfs.stat(path).mode & 0o170000).toBe(0o040000);
    });

    it('Vfs: the entry limit allows entries up to it and refuses one past it with ENOSPC', () => {
      const vfs = make({ maxEntries: 3 });
      vfs.mkdir('/tmp/d', false);
      vfs.writeFile('/tmp/d/1', Buffer.from(''), 'w');
      vfs.writeFile('/tmp/d/2', Buffer.from(''), 'w'); // at: 3 entries
      expect(code(() => vfs.writeFile('/tmp/d/3', Buffer.from(''), 'w'))).toBe('ENOSPC');
      expect(code(() => vfs.mkdir('/tmp/e/f', true))).toBe('ENOSPC');
      expect(vfs.exists('/tmp/e')).toBe(false);
      vfs.writeFile('/tmp/d/2', Buffer.from('again'), 'w'); // not a new entry
      vfs.rm('/tmp/d', true, false);
      expect(vfs.usage().entries).toBe(0);
    });

    it('Vfs: path and name length limits: at the limit is allowed, one byte over is ENAMETOOLONG', () => {
      const vfs = make({ pathMaxBytes: 64 });
      const name255 = 'n'.repeat(255);
      const big = make();
      big.writeFile(`/tmp/${name255}`, Buffer.from('x'), 'w');
      expect(code(() => big.writeFile(`/tmp/${name255}n`, Buffer.from('x'), 'w'))).toBe('ENAMETOOLONG');
      const at = `/tmp/${'p'.repeat(64 - 5)}`;
      expect(Buffer.byteLength(at)).toBe(64);
      vfs.writeFile(at, Buffer.from('x'), 'w');
      expect(code(() => vfs.writeFile(`${at}q`, Buffer.from('x'), 'w'))).toBe('ENAMETOOLONG');
      // Counted in UTF-8 bytes, as Linux does.
      expect(code(() => vfs.writeFile(`/tmp/${'é'.repeat(30)}`, Buffer.from('x'), 'w'))).toBe('ENAMETOOLONG');
    });

    it('Vfs: descriptors read and write at positions, EBADF after close, EMFILE past the limit', () => {
      const vfs = make();
      const fd = vfs.open('/tmp/f', 'w+');
      vfs.write(fd, Buffer.from('abcdef'), null);
      expect(vfs.read(fd, 3, 1).toString()).toBe('bcd');
      vfs.write(fd, Buffer.from('XY'), 0);
      expect(vfs.readFile('/tmp/f').toString()).toBe('XYcdef');
      expect(vfs.fstat(fd).size).toBe(6);
      const append = vfs.open('/tmp/f', 'a');
      vfs.write(append, Buffer.from('!'), 0);
      expect(vfs.readFile('/tmp/f').toString()).toBe('XYcdef!');
      expect(code(() => vfs.read(append, 1, 0))).toBe('EBADF');
      vfs.close(append);
      vfs.close(fd);
      expect(code(() => vfs.close(fd))).toBe('EBADF');
      const fds = [1, 2, 3, 4].map(() => vfs.open('/tmp/f', 'r'));
      expect(code(() => vfs.open('/tmp/f', 'r'))).toBe('EMFILE');
      fds.forEach((d) => vfs.close(d));
      expect(code(() => vfs.open('/tmp/nope', 'r'))).toBe('ENOENT');
      expect(code(() => vfs.open('/tmp/f', 'wx'))).toBe('EEXIST');
    });
  });
}

describe('vfs backends', () => {
  it('Vfs: the disk backend lives in a private directory that dispose() removes', () => {
    const backend = diskBackend();
    const vfs = new Vfs({ limits: LIMITS, tmp: backend });
    vfs.writeFile('/tmp/x', Buffer.from('1'), 'w');
    const root = backend.toBackend('');
    expect(existsSync(join(root, 'x'))).toBe(true);
    vfs.dispose();
    expect(existsSync(root)).toBe(false);
  });

  it('Vfs: a host directory mounted at /var/task cannot be left through its own symbolic links', () => {
    const dir = mkdtempSync(join(tmpdir(), 'lambdalet-task-'));
    try {
      mkdirSync(join(dir, 'lib'));
      writeFileSync(join(dir, 'lib', 'a.txt'), 'inside');
      symlinkSync('/etc', join(dir, 'etc-link'));
      const vfs = new Vfs({ limits: LIMITS, tmp: memoryBackend(), task: hostDirectoryBackend(dir) });
      expect(vfs.readFile('/var/task/lib/a.txt').toString()).toBe('inside');
      expect(code(() => vfs.readFile('/var/task/etc-link/passwd'))).toBe('ENOENT');
      expect(code(() => vfs.readdir('/var/task/etc-link'))).toBe('ENOENT');
      vfs.dispose();
      expect(existsSync(join(dir, 'lib', 'a.txt'))).toBe(true); // the package is not the vfs's to remove
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
