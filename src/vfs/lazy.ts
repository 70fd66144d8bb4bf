/**
 * An environment's file system, built on first use. Most handlers never touch the file system, and
 * building one (a memfs volume for /tmp, /var/task's files copied in) costs about a tenth of a cold
 * start: the environment holds this instead and only pays when the guest's fs asks.
 */
import { createEnvironmentVfs, type EnvironmentVfsOptions } from './create.ts';
import type { TmpUsage, Vfs } from './vfs.ts';

const MIB = 1024 * 1024;

/**
 * SnapStart: /tmp's contents after the template's INIT, written into every restored environment's
 * own /tmp (Lambda's snapshot holds the disk too). Directories parents-first; symbolic links and
 * special files are not carried.
 */
export interface TmpImage {
  readonly dirs: readonly string[];
  readonly files: readonly (readonly [path: string, data: Buffer])[];
}

export class LazyVfs {
  readonly #options: EnvironmentVfsOptions;
  #vfs: Vfs | undefined;
  #disposed = false;
  /**
   * Asked before /tmp grows into another MiB of the host's memory (memory backend only): set by the
   * dispatcher once the environment is its lease's. Unset, /tmp has only its own quota.
   */
  hostRoom: ((bytes: number) => boolean) | undefined;

  constructor(options: EnvironmentVfsOptions) {
    this.#options = { ...options, hostRoom: (bytes) => this.hostRoom?.(bytes) ?? true };
  }

  /** Bytes /tmp holds in the host's memory: its usage with the memory backend, 0 with the disk one. */
  hostBytes(): number {
    return this.#options.tmpBackend === 'disk' ? 0 : (this.#vfs?.usage().bytes ?? 0);
  }

  /** The file system, built now if it was not yet. */
  get(): Vfs {
    if (this.#disposed) throw new Error('The environment file system is disposed');
    this.#vfs ??= createEnvironmentVfs(this.#options);
    return this.#vfs;
  }

  /** /tmp's usage; an unbuilt file system holds nothing. */
  usage(): TmpUsage {
    return this.#vfs?.usage() ?? { bytes: 0, entries: 0, quotaBytes: this.#options.limits?.quotaBytes ?? this.#options.ephemeralStorageMb * MIB };
  }

  /** /tmp's directories and files, or undefined when /tmp is empty (or was never used). */
  snapshotTmp(): TmpImage | undefined {
    const vfs = this.#vfs;
    if (!vfs || vfs.usage().entries === 0) return undefined;
    const dirs: string[] = [];
    const files: [string, Buffer][] = [];
    const walk = (dir: string): void => {
      for (const [name, type] of vfs.readdir(dir)) {
        const path = `${dir}/${name}`;
        if (type === 'd') {
          dirs.push(path);
          walk(path);
        } else if (type === 'f') files.push([path, vfs.readFile(path)]);
      }
    };
    walk('/tmp');
    return { dirs, files };
  }

  /** Writes a template's /tmp into this one (under this environment's quota, as any write). */
  restoreTmp(image: TmpImage): void {
    const vfs = this.get();
    for (const dir of image.dirs) vfs.mkdir(dir, true);
    for (const [path, data] of image.files) vfs.writeFile(path, data, 'w');
  }

  /** Frees the file system if it was built (the disk backend removes its directory). Idempotent. */
  dispose(): void {
    this.#disposed = true;
    this.#vfs?.dispose();
    this.#vfs = undefined;
  }
}
