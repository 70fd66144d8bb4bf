/**
 * The worker watchdog's rule (worker-host.ts): when is a worker whose synchronous call (QuickJS, a
 * wasm component) is still running past its deadline stuck, rather than slow?
 *
 * QuickJS's interrupt handler stops a guest within milliseconds of the deadline, provided its
 * thread runs; a call still running well past it is inside something that never polls the handler
 * (an uninterruptible built-in: a 2e6-element `Array.prototype.join`, a naive `indexOf` of 10^10
 * comparisons). Counting that grace in wall time ended healthy workers on a loaded machine: a
 * thread merely starved of CPU (a background server at nice 19, 2 cores at load 20) had no chance to
 * take the interrupt, and its neighbours' calls failed with it (issue #15). So on Linux the grace is
 * the worker thread's own CPU time: the thread is stuck once it has burned {@link STUCK_GRACE_MS} of
 * CPU since the watchdog first saw the call past its deadline (utime + stime of
 * /proc/self/task/<tid>/stat, the thread's id read by the worker itself from /proc/thread-self).
 * Counting from that first look, not from the deadline, errs on the side of the worker: up to one
 * watchdog tick (250 ms) of CPU is not counted.
 *
 * A thread that burns nothing (blocked on a host call's answer that a starved host has not sent) is
 * ended by the wall-time backstop, {@link STUCK_BACKSTOP_MS} past the deadline. Where the thread's
 * CPU time cannot be read (not Linux, no /proc, the worker could not name its thread) the rule is
 * wall time: {@link STUCK_GRACE_MS} past the deadline, as before.
 */
import { readFileSync, readlinkSync } from 'node:fs';

/**
 * How much past its deadline a synchronous call may go on before its worker is deemed stuck and
 * terminated: CPU time of the worker's thread where it can be read (Linux), else wall time.
 */
export const STUCK_GRACE_MS = 1000;

/**
 * Where the grace is CPU time: how long (wall time) past its deadline a call may go on however
 * little CPU its thread got. Below the pool's own bound it would be moot (engine-pool.ts
 * `callGraceMs`, 5 s: the pool leaves a server alone while its watchdog holds a call, the `overdue`
 * event); 30 s is past any starvation seen on this project's 2-core machine at load 40.
 */
export const STUCK_BACKSTOP_MS = 30_000;

/** Reads a thread's CPU time (user + system) in ms, or undefined when it cannot. */
export type ThreadCpuReader = (tid: number) => number | undefined;

/** What the watchdog decided about the call it looked at. */
export type StuckVerdict =
  /** Not past its deadline, or no call running: nothing to do. */
  | { readonly kind: 'ok' }
  /** Past its deadline, its thread has not yet burned the grace (CPU rule only): the watchdog holds it. */
  | { readonly kind: 'held'; readonly cpuMs: number }
  /** Stuck: terminate the worker, saying `reason`. */
  | { readonly kind: 'stuck'; readonly reason: string };

const OK: StuckVerdict = { kind: 'ok' };

export interface StuckWatchOptions {
  /** The grace past the deadline ({@link STUCK_GRACE_MS}); 0: terminate at the deadline itself, in wall time (wasm components). */
  readonly graceMs: number;
  /** {@link STUCK_BACKSTOP_MS} unless a test says otherwise. */
  readonly backstopMs?: number;
  /** The worker thread's OS id, or undefined where it is unknown (the wall-time rule then). */
  readonly tid: number | undefined;
  /** The thread CPU clock ({@link readThreadCpuMs} unless a test injects one). */
  readonly cpuMs?: ThreadCpuReader;
  /** Epoch ms (performance's clock unless a test injects one). */
  readonly now?: () => number;
}

/** The stuck message's common part, whichever rule ended the worker: test/adversarial/harness.ts and the runtime helpers look for it. */
export const STUCK_WORDS = 'past a deadline and was terminated';

export class StuckWatch {
  readonly #graceMs: number;
  readonly #backstopMs: number;
  readonly #tid: number | undefined;
  readonly #cpuMs: ThreadCpuReader;
  readonly #now: () => number;
  /** The call seen past its deadline, and its thread's CPU time then. */
  #held: { readonly id: number; readonly cpuMs: number } | undefined;

  constructor(options: StuckWatchOptions) {
    this.#graceMs = options.graceMs;
    this.#backstopMs = options.backstopMs ?? STUCK_BACKSTOP_MS;
    this.#tid = options.graceMs === 0 ? undefined : options.tid;
    this.#cpuMs = options.cpuMs ?? readThreadCpuMs;
    this.#now = options.now ?? (() => performance.timeOrigin + performance.now());
  }

  /** Whether the CPU rule applies (the worker's thread is known). */
  get cpuRule(): boolean {
    return this.#tid !== undefined;
  }

  /** One look at call `running` (0: none) with its `deadline` (epoch ms; undefined: not watched). */
  check(running: number, deadline: number | undefined): StuckVerdict {
    if (running === 0 || deadline === undefined) {
      this.#held = undefined;
      return OK;
    }
    const pastMs = this.#now() - deadline;
    if (pastMs <= 0) return OK;
    const cpu = this.#tid === undefined ? undefined : this.#cpuMs(this.#tid);
    if (cpu === undefined) {
      this.#held = undefined;
      if (pastMs <= this.#graceMs) return OK;
      return {
        kind: 'stuck',
        reason:
          this.#graceMs === 0
            ? 'the engine worker was still running a call at its deadline and was terminated'
            : `the engine worker was stuck ${this.#graceMs} ms ${STUCK_WORDS}`,
      };
    }
    if (this.#held?.id !== running) this.#held = { id: running, cpuMs: cpu };
    const burned = cpu - this.#held.cpuMs;
    if (burned >= this.#graceMs) {
      this.#held = undefined;
      return { kind: 'stuck', reason: `the engine worker was stuck ${this.#graceMs} ms ${STUCK_WORDS} (its thread ran ${Math.round(burned)} ms of CPU past it)` };
    }
    if (pastMs > this.#backstopMs) {
      this.#held = undefined;
      return {
        kind: 'stuck',
        reason: `the engine worker was stuck ${this.#backstopMs} ms ${STUCK_WORDS} (wall time; its thread ran ${Math.round(burned)} ms of CPU past it)`,
      };
    }
    return { kind: 'held', cpuMs: burned };
  }
}

/**
 * The OS's clock ticks per second for /proc's CPU times (USER_HZ, sysconf(_SC_CLK_TCK)), read from
 * this process's auxiliary vector (AT_CLKTCK = 17: 64-bit little-endian pairs of type and value);
 * 100 when it cannot be read, which is USER_HZ on every architecture Node runs on.
 */
function clockTicksPerSecond(): number {
  try {
    const auxv = readFileSync('/proc/self/auxv');
    for (let at = 0; at + 16 <= auxv.length; at += 16) {
      const type = auxv.readBigUInt64LE(at);
      if (type === 0n) break;
      if (type === 17n) {
        const hz = Number(auxv.readBigUInt64LE(at + 8));
        return hz > 0 ? hz : 100;
      }
    }
  } catch {
    // Not Linux, or no /proc.
  }
  return 100;
}

let msPerTick: number | undefined;

/**
 * Thread `tid`'s CPU time in ms (utime + stime, fields 14 and 15 of /proc/self/task/<tid>/stat:
 * proc_pid_stat(5)), at USER_HZ resolution (10 ms); undefined when it cannot be read (not Linux, the
 * thread ended). One read is a ~0.3 KB procfs file: a few µs.
 */
export function readThreadCpuMs(tid: number): number | undefined {
  let stat: string;
  try {
    stat = readFileSync(`/proc/self/task/${tid}/stat`, 'latin1');
  } catch {
    return undefined;
  }
  // The command (field 2) is in parentheses and may hold spaces or parentheses: fields after it are counted from its last ')'.
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  // fields[0] is field 3 (state): utime is field 14, stime field 15.
  const ticks = Number(fields[11]) + Number(fields[12]);
  if (!Number.isFinite(ticks)) return undefined;
  msPerTick ??= 1000 / clockTicksPerSecond();
  return ticks * msPerTick;
}

/**
 * The calling thread's OS id (Linux: "/proc/thread-self" links to "<pid>/task/<tid>"), or
 * undefined where it cannot be known.
 */
export function thisThreadId(): number | undefined {
  if (process.platform !== 'linux') return undefined;
  try {
    const tid = Number(readlinkSync('/proc/thread-self').split('/').pop());
    return Number.isInteger(tid) && tid > 0 ? tid : undefined;
  } catch {
    return undefined;
  }
}
