/**
 * vitest setup file (every project): with `LAMBDALET_TEST_CPU_LOG=<file>` set, each test file
 * appends one JSON line to that file saying how much CPU it cost; without it, nothing happens.
 *
 * Why CPU and not vitest's durations: on the shared 2-core machine this suite is built on, a file's
 * wall time mostly measures the load (the same file took 85 s and 188 s of wall time for 20 CPU-s in
 * two runs, issue #12), while its CPU time barely moves. CPU per file says where the suite's cost is;
 * wall minus CPU hints at real waits (timers, child processes, Redis). Summarise a log with
 * `node test/helpers/cpu-log-report.ts <file>`.
 *
 * One line: `{ file, pid, cpuS, childrenCpuS, wallS, endedAt }` —
 * - `cpuS`: CPU seconds (user + system, every thread: isolated-vm's, the engine workers') of this
 *   process since the previous test file in it ended, or since the process started for its first
 *   file (then it includes Node's start-up, vitest's and the import of src/);
 * - `childrenCpuS`: CPU seconds of child processes this one reaped meanwhile (CLIs, npm, engine
 *   children; Linux only, from /proc/self/stat; 0 elsewhere);
 * - `wallS`: seconds from the file's first hook to its last (imports excluded);
 * - `endedAt`: when the file's last hook ran (epoch ms): with `wallS`, a timeline of the run (how
 *   many files ran at once, and when the forks sat idle).
 *
 * With `LAMBDALET_TEST_CPU_LOG_CASES=<file>` set too, each test case appends one line there:
 * `{ file, test, cpuS, wallS }` — this process's CPU seconds from the case's start to its end
 * (hooks included; cases running concurrently in one file are each charged all of it).
 */
import { appendFileSync, readFileSync } from 'node:fs';
import { afterAll, afterEach, beforeAll, beforeEach, expect } from 'vitest';

/** One test file's line in the CPU log. */
export interface CpuLogLine {
  readonly file: string;
  readonly pid: number;
  readonly cpuS: number;
  readonly childrenCpuS: number;
  readonly wallS: number;
  /** Epoch ms of the file's last hook (absent in logs written before it was added). */
  readonly endedAt?: number;
}

const LOG = process.env.LAMBDALET_TEST_CPU_LOG;
const CASES_LOG = process.env.LAMBDALET_TEST_CPU_LOG_CASES;

/** One test case's line in the per-case CPU log. */
export interface CpuCaseLine {
  readonly file: string;
  readonly test: string;
  readonly cpuS: number;
  readonly wallS: number;
}

/** Reaped children's CPU seconds (cutime + cstime, proc(5)); 0 where /proc is missing. */
function childrenCpuSeconds(): number {
  try {
    const fields = readFileSync('/proc/self/stat', 'utf8').split(') ')[1]!.split(' ');
    return (Number(fields[13]) + Number(fields[14])) / 100; // USER_HZ is 100 on Linux
  } catch {
    return 0;
  }
}

function cpuSeconds(): number {
  const { user, system } = process.cpuUsage();
  return (user + system) / 1e6;
}

if (LOG) {
  // Kept on globalThis: in a shared fork (isolate: false) this module runs again for every file.
  const state = globalThis as { __lambdaletCpuLogEnd?: number };
  let children = 0;
  let startedAt = 0;
  beforeAll(() => {
    children = childrenCpuSeconds();
    startedAt = performance.now();
  });
  afterAll(() => {
    const now = cpuSeconds();
    const line: CpuLogLine = {
      file: expect.getState().testPath ?? 'unknown',
      pid: process.pid,
      cpuS: now - (state.__lambdaletCpuLogEnd ?? 0),
      childrenCpuS: childrenCpuSeconds() - children,
      wallS: (performance.now() - startedAt) / 1000,
      endedAt: Date.now(),
    };
    state.__lambdaletCpuLogEnd = now;
    appendFileSync(LOG, `${JSON.stringify(line)}\n`);
  });
}

if (CASES_LOG) {
  const started = new Map<string, { cpu: number; at: number }>();
  beforeEach((context) => {
    started.set(context.task.id, { cpu: cpuSeconds(), at: performance.now() });
  });
  afterEach((context) => {
    const start = started.get(context.task.id);
    if (start === undefined) return;
    started.delete(context.task.id);
    const line: CpuCaseLine = {
      file: expect.getState().testPath ?? 'unknown',
      test: context.task.fullTestName ?? context.task.name,
      cpuS: cpuSeconds() - start.cpu,
      wallS: (performance.now() - start.at) / 1000,
    };
    appendFileSync(CASES_LOG, `${JSON.stringify(line)}\n`);
  });
}
