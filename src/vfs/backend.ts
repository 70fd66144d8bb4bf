/**
 * A storage backend: the synchronous node:fs calls the vfs makes, against paths the vfs has
 * already resolved and confined. Two implementations with identical behaviour, each a real
 * node:fs-compatible API: memfs's `Volume` (in memory) and node:fs itself on a private directory.
 *
 * Contract: `toBackend(rel)` maps a confined mount-relative path (`''` is the mount root, else
 * `a/b`, never `..`) to the backend's own path; every call may throw an error with a Node `code`,
 * which the vfs re-makes with the guest's path (a backend's messages may name host paths);
 * `dispose()` frees everything (the disk backend removes its directory). Symbolic links are never
 * created through the vfs, so none exist in a backend the guest writes.
 */
import { mkdirSync, mkdtempSync, realpathSync, rmSync } from 'node:fs';
import * as nodeFs from 'node:fs';
import { tmpdir } from 'node:os';
import { join, sep } from 'node:path';
import { Volume } from 'memfs';

/** The node:fs calls the vfs uses. */
export type BackendFs = Pick<
  typeof nodeFs,
  | 'statSync'
  | 'lstatSync'
  | 'readdirSync'
  | 'mkdirSync'
  | 'rmdirSync'
  | 'unlinkSync'
  | 'renameSync'
  | 'copyFileSync'
  | 'openSync'
  | 'closeSync'
  | 'readSync'
  | 'writeSync'
  | 'fstatSync'
  | 'ftruncateSync'
  | 'readFileSync'
  | 'writeFileSync'
  | 'utimesSync'
>;

export interface StorageBackend {
  readonly kind: 'memory' | 'disk';
  readonly fs: BackendFs;
  toBackend(rel: string): string;
  dispose(): void;
}

/** An in-memory tree (memfs): nothing touches the host's disk. */
export function memoryBackend(files?: Readonly<Record<string, string | Uint8Array>>): StorageBackend {
  const volume = new Volume();
  volume.mkdirSync('/root');
  if (files) {
    for (const [path, contents] of Object.entries(files)) {
      const target = `/root/${path.split(/[\\/]+/).filter((c) => c !== '' && c !== '.' && c !== '..').join('/')}`;
      volume.mkdirSync(target.slice(0, target.lastIndexOf('/')), { recursive: true });
      volume.writeFileSync(target, contents);
    }
  }
  return {
    kind: 'memory',
    fs: volume as unknown as BackendFs,
    toBackend: (rel) => (rel === '' ? '/root' : `/root/${rel}`),
    dispose: () => volume.reset(),
  };
}

/** A private directory under the OS temp dir, removed by dispose(). */
export function diskBackend(): StorageBackend {
  const root = realpathSync(mkdtempSync(join(tmpdir(), 'lambdalet-tmp-')));
  return directoryBackend(root, true);
}

/**
 * An existing directory (the function's package, mounted read-only at /var/task). Its own symbolic
 * links could point outside it: every path is checked against the directory's real path.
 */
export function hostDirectoryBackend(dir: string): StorageBackend {
  return directoryBackend(realpathSync(dir), false);
}

function directoryBackend(root: string, owned: boolean): StorageBackend {
  if (owned) mkdirSync(root, { recursive: true });
  return {
    kind: 'disk',
    fs: owned ? nodeFs : confinedFs(root),
    toBackend: (rel) => (rel === '' ? root : join(root, ...rel.split('/'))),
    dispose: () => {
      if (owned) rmSync(root, { recursive: true, force: true, maxRetries: 2 });
    },
  };
}

/** node:fs with a check that each path's real location is inside `root` (a link out reads as ENOENT). */
function confinedFs(root: string): BackendFs {
  const inside = (path: string): void => {
    let real: string;
    try {
      real = realpathSync(path);
    } catch {
      return; // does not exist (yet): the call itself reports it
    }
    if (real !== root && !real.startsWith(root + sep)) {
      throw Object.assign(new Error('outside the mount'), { code: 'ENOENT' });
    }
  };
  const guard =
    <A extends unknown[], R>(fn: (path: string, ...rest: A) => R) =>
    (path: string, ...rest: A): R => {
      inside(path);
      return fn(path, ...rest);
    };
  return {
    ...nodeFs,
    statSync: guard(nodeFs.statSync as (p: string) => nodeFs.Stats),
    lstatSync: guard(nodeFs.lstatSync as (p: string) => nodeFs.Stats),
    readdirSync: guard(nodeFs.readdirSync as (p: string) => string[]),
    openSync: guard(nodeFs.openSync as (p: string, f: string) => number),
    readFileSync: guard(nodeFs.readFileSync as (p: string) => Buffer),
  } as unknown as BackendFs;
}
