/**
 * A bound on the bundler's memory. esbuild runs in one service process for the whole host, and a
 * package's code sizes its memory: 10 MB of `x=1;` lines (a 15 KB zip) took it to 2.4 GB RSS, 40 MB
 * (61 KB) to 9.4 GB — Lambda's 250 MB of unzipped code would be several times the memory of most
 * hosts (issue #15). While builds run, the service's resident memory is read every
 * {@link BUNDLER_POLL_MS}; past {@link BUNDLER_MAX_RSS_BYTES} the service is killed, so the
 * builds in flight fail (build.ts refuses them as InvalidParameterValueException) and the next
 * build starts a new one. Linux only (it reads /proc); elsewhere nothing is watched.
 */
import { readdirSync, readFileSync } from 'node:fs';

/** Resident memory the esbuild service may reach while bundling (4 GiB: real bundles stay far under it). */
export const BUNDLER_MAX_RSS_BYTES = 4 * 1024 ** 3;
/** How often the service's memory is read while a build runs. */
export const BUNDLER_POLL_MS = 200;

const WATCHED = process.platform === 'linux';

/** The pid of this process's esbuild child, or undefined. */
export function esbuildServicePid(): number | undefined {
  if (!WATCHED) return undefined;
  let entries: string[];
  try {
    entries = readdirSync('/proc/self/task').flatMap((task) => readFileSync(`/proc/self/task/${task}/children`, 'utf8').split(' '));
  } catch {
    return undefined;
  }
  for (const pid of entries) {
    if (!/^\d+$/.test(pid)) continue;
    try {
      if (readFileSync(`/proc/${pid}/comm`, 'utf8').trim() === 'esbuild') return Number(pid);
    } catch {
      // gone meanwhile
    }
  }
  return undefined;
}

/** Resident bytes of `pid`, or undefined when it is gone. */
function residentBytes(pid: number): number | undefined {
  try {
    const match = /^VmRSS:\s+(\d+) kB/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return match ? Number(match[1]) * 1024 : undefined;
  } catch {
    return undefined;
  }
}

/**
 * Watches the service while builds run: `begin(limit)` per build, `end(limit)` when it settles; the
 * bound is the lowest of the running builds' limits. Calls `overLimit(pid, bytes, limit)` when the
 * service passes it (the caller ends the service).
 */
export class BundlerMemoryWatch {
  readonly #overLimit: (pid: number, bytes: number, limit: number) => void;
  readonly #limits: number[] = [];
  #timer: NodeJS.Timeout | undefined;

  constructor(overLimit: (pid: number, bytes: number, limit: number) => void) {
    this.#overLimit = overLimit;
  }

  begin(limit: number): void {
    if (!WATCHED) return;
    this.#limits.push(limit);
    if (this.#timer !== undefined) return;
    this.#timer = setInterval(() => this.#check(), BUNDLER_POLL_MS);
    this.#timer.unref();
  }

  end(limit: number): void {
    if (!WATCHED) return;
    this.#limits.splice(this.#limits.indexOf(limit), 1);
    if (this.#limits.length > 0) return;
    clearInterval(this.#timer);
    this.#timer = undefined;
  }

  #check(): void {
    const limit = Math.min(...this.#limits);
    const pid = esbuildServicePid();
    const bytes = pid === undefined ? undefined : residentBytes(pid);
    if (pid !== undefined && bytes !== undefined && bytes > limit) this.#overLimit(pid, bytes, limit);
  }
}
