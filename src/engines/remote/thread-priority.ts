/**
 * One thread's OS priority (issue #15 fairness): an engine server that hosts CPU-heavy functions
 * (engine-pool.ts `background`) lowers its own thread's priority, so under contention the OS runs
 * the host's thread and the other tenants' threads first; an idle machine still gives it a core.
 *
 * Linux only. There `setpriority(PRIO_PROCESS, tid, n)` with a thread id sets that one thread's nice
 * value (setpriority(2), "BUGS": the Linux threading implementation makes the priority a per-thread
 * attribute), and raising one's nice value needs no privilege (lowering it back would: the change
 * is one way, which is why it is made only in threads that never run anything else). The thread
 * finds its own id in /proc/thread-self. Elsewhere (macOS, Windows) `setpriority` with pid 0 would
 * change the whole process, the host's own thread included, so nothing is changed there and the
 * outcome says why: the server simply runs at normal priority.
 */
import { readdirSync, readFileSync, readlinkSync, writeFileSync } from 'node:fs';
import { getPriority, setPriority } from 'node:os';

/** The nice values a background thread may take: lower than normal (0), at most the lowest (19). */
export const BACKGROUND_NICE_MIN = 1;
export const BACKGROUND_NICE_MAX = 19;

/** What a background engine server names its thread (Linux `comm`: `top -H` shows it). */
export const BACKGROUND_THREAD_NAME = 'lambdalet-bg';

export type ThreadPriorityOutcome =
  | { readonly lowered: true; readonly tid: number; readonly nice: number }
  | { readonly lowered: false; readonly reason: string };

/**
 * Lowers the calling thread's priority to `nice` (an integer, {@link BACKGROUND_NICE_MIN} to
 * {@link BACKGROUND_NICE_MAX}; RangeError otherwise) and, when `name` is given, names the thread
 * (its `comm`, at most 15 bytes: `top -H` and `ps -L` show it). Never makes a priority higher: a
 * thread already at `nice` or above keeps its value. Never throws for an unsupported platform or a refusal
 * by the OS: the outcome says what happened.
 */
export function lowerThisThreadPriority(nice: number, name?: string): ThreadPriorityOutcome {
  assertBackgroundNice(nice);
  if (process.platform !== 'linux') return { lowered: false, reason: `per-thread priorities are Linux-only (this is ${process.platform})` };
  let tid: number;
  try {
    // "/proc/<pid>/task/<tid>"
    tid = Number(readlinkSync('/proc/thread-self').split('/').pop());
  } catch (error) {
    return { lowered: false, reason: `/proc/thread-self is unreadable (${(error as Error).message})` };
  }
  if (!Number.isInteger(tid) || tid <= 0) return { lowered: false, reason: '/proc/thread-self names no thread id' };
  if (tid === process.pid) return { lowered: false, reason: "this is the process's main thread, whose priority is never changed here" };
  try {
    if (getPriority(tid) < nice) setPriority(tid, nice);
  } catch (error) {
    return { lowered: false, reason: `setpriority refused: ${(error as Error).message}` };
  }
  if (name !== undefined) {
    try {
      writeFileSync(`/proc/thread-self/comm`, name.slice(0, 15));
    } catch {
      // A name is for operators only.
    }
  }
  return { lowered: true, tid, nice: getPriority(tid) };
}

/** RangeError unless `nice` is an integer from {@link BACKGROUND_NICE_MIN} to {@link BACKGROUND_NICE_MAX}. */
export function assertBackgroundNice(nice: unknown): asserts nice is number {
  if (!(typeof nice === 'number' && Number.isInteger(nice) && nice >= BACKGROUND_NICE_MIN && nice <= BACKGROUND_NICE_MAX)) {
    throw new RangeError(`a background nice value must be an integer from ${BACKGROUND_NICE_MIN} to ${BACKGROUND_NICE_MAX}, got ${String(nice)}`);
  }
}

/** Threads of this process named `name` (their `comm`), with their nice values: Linux only, else []. */
export function threadsNamed(name: string): { readonly tid: number; readonly nice: number }[] {
  if (process.platform !== 'linux') return [];
  const found: { tid: number; nice: number }[] = [];
  let tids: string[];
  try {
    tids = readdirSync('/proc/self/task');
  } catch {
    return [];
  }
  for (const entry of tids) {
    try {
      const stat = readFileSync(`/proc/self/task/${entry}/stat`, 'utf8');
      const open = stat.indexOf('(');
      const close = stat.lastIndexOf(')');
      if (stat.slice(open + 1, close) !== name) continue;
      // Fields after the command: state is field 3, nice field 19 (proc_pid_stat(5)).
      found.push({ tid: Number(entry), nice: Number(stat.slice(close + 2).split(' ')[16]) });
    } catch {
      // The thread ended while we looked.
    }
  }
  return found;
}
