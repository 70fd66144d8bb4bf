/**
 * An environment's file system, built on first use. Most handlers never touch the file system, and
 * building one (a memfs volume for /tmp, /var/task's files copied in) costs about a tenth of a cold
 * start: the environment holds this instead and only pays when the guest's fs asks.
 */
import { createEnvironmentVfs, type EnvironmentVfsOptions } from './create.ts';
import type { TmpUsage, Vfs } from './vfs.ts';

const MIB = 1024 * 1024;

export class LazyVfs {
  readonly #options: EnvironmentVfsOptions;
  #vfs: Vfs | undefined;
  #disposed = false;

  constructor(options: EnvironmentVfsOptions) {
    this.#options = options;
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

  /** Frees the file system if it was built (the disk backend removes its directory). Idempotent. */
  dispose(): void {
    this.#disposed = true;
    this.#vfs?.dispose();
    this.#vfs = undefined;
  }
}
