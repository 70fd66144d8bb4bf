/**
 * A host process that exits while isolated-vm still runs guest code must end promptly, with its own
 * exit code, and not crash (issue #15).
 *
 * What happens without this (Node 24, isolated-vm 7.0.1, Linux; a guest FinalizationRegistry
 * callback spinning on one of isolated-vm's threads, the host calling `process.exit(3)` right after
 * `rt.close()`): Node's exit path disposes V8's platform, then runs C++ static destructors, among
 * them isolated-vm's thread pool (`thread_pool_t::~thread_pool_t`), which joins every pool thread.
 * The thread still running the guest either touches the disposed platform at its next interrupt
 * check (SIGSEGV in `TraceEventHelper::GetTracingController` from
 * `Runtime_HandleNoHeapWritesInterrupts`, read from a core file) or never returns, and the join
 * waits for ever. Measured: 24 runs, 6 exit 139 (SIGSEGV), 3 hung until killed at 60 s, 15 exit 3
 * (load 7-15). The isolate was only going to be disposed later (v8-sandbox.ts releaseIsolate waits
 * 16 event-loop turns, which never come after `process.exit`), and nothing disposes an isolate
 * whose call is in flight when the host exits. isolated-vm's own exit hook (an environment cleanup
 * hook that disposes every isolate and joins them) runs only when the event loop ends by itself, not
 * on `process.exit` (laverdet/isolated-vm#260 reports the hang, open since 2021).
 *
 * After a catastrophic error (in-process-health.ts) isolated-vm parks the isolate's thread in a
 * sleep loop for ever: the same join never returns, so `process.exit` hangs every time (and the
 * event loop never ends by itself either: the parked task keeps its libuv reference).
 *
 * So, on the process's `exit` event (main thread only; listeners run synchronously before Node
 * tears anything down):
 * 1. every isolate lambdalet's sandboxes still hold, and every one waiting for its deferred
 *    disposal, is disposed now (`terminate`: isolated-vm interrupts the guest);
 * 2. the host's thread waits, up to {@link EXIT_SETTLE_MAX_MS}, until none of isolated-vm's pool
 *    threads is running (Linux: /proc/self/task; they carry the name of the thread that started
 *    them, the main thread's; Node's own threads are named V8Worker, libuv-worker...);
 * 3. if a thread is still running after that, or one is parked by a catastrophe, the process ends
 *    without Node's C++ teardown: `process.execve` of `/bin/sh -c 'exit <code>'` (the same process,
 *    its exit code kept; the kernel ends the other threads; stdout and stderr writes to pipes and
 *    files are synchronous on Linux, so nothing written is lost). It happens in `process.reallyExit`
 *    (after every other `exit` listener has run), or at once when this listener is the last one.
 * Elsewhere (no /proc, no execve: Windows) only step 1 runs.
 */
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { isMainThread } from 'node:worker_threads';

/** How long the exit waits for isolated-vm's threads to stop running before ending the process itself. */
export const EXIT_SETTLE_MAX_MS = 3000;
/** Looks in a row that must find no isolated-vm thread running. */
const SETTLED_LOOKS = 2;
const LOOK_INTERVAL_MS = 5;

export interface ExitGuardHooks {
  /** Disposes every isolate still held (called once, in the `exit` listener). */
  readonly disposeAll: () => void;
  /** Whether a thread of this process is parked for ever by a catastrophic error. */
  readonly parked: () => boolean;
}

let installed = false;

/** Installs the `exit` listener once per process (main thread only; a worker's exit is Node's business). */
export function installExitGuard(hooks: ExitGuardHooks): void {
  if (installed || !isMainThread) return;
  installed = true;
  const listener = (code: number): void => {
    try {
      hooks.disposeAll();
    } catch {
      // Disposal failures must not stop the exit.
    }
    const settled = waitForIsolateThreads(EXIT_SETTLE_MAX_MS);
    if (settled && !hooks.parked()) return;
    if (process.listeners('exit').at(-1) === listener) hardExit(typeof process.exitCode === 'number' ? process.exitCode : code);
    else {
      const proc = process as unknown as { reallyExit: (code: number) => void };
      const really = proc.reallyExit.bind(process);
      proc.reallyExit = (final: number) => {
        hardExit(final);
        really(final);
      };
    }
  };
  process.on('exit', listener);
}

/**
 * Waits (blocking this thread) until none of isolated-vm's threads runs, for {@link SETTLED_LOOKS}
 * looks in a row, or `limitMs` passed. Returns whether they settled (true where /proc is absent).
 */
export function waitForIsolateThreads(limitMs: number): boolean {
  const deadline = performance.now() + limitMs;
  const pause = new Int32Array(new SharedArrayBuffer(4));
  let clean = 0;
  for (;;) {
    const running = runningPoolThreads();
    if (running === undefined) return true;
    clean = running === 0 ? clean + 1 : 0;
    if (clean >= SETTLED_LOOKS) return true;
    if (performance.now() >= deadline) return false;
    Atomics.wait(pause, 0, 0, LOOK_INTERVAL_MS);
  }
}

/**
 * How many threads of this process, other than the main thread, carry the main thread's name and
 * are running (state R or D): isolated-vm's pool threads. Undefined without /proc.
 */
export function runningPoolThreads(): number | undefined {
  const self = `/proc/self/task`;
  let tids: string[];
  let mainName: string;
  try {
    tids = readdirSync(self);
    mainName = readFileSync(`${self}/${process.pid}/comm`, 'utf8');
  } catch {
    return undefined;
  }
  let running = 0;
  for (const tid of tids) {
    if (tid === String(process.pid)) continue;
    try {
      if (readFileSync(`${self}/${tid}/comm`, 'utf8') !== mainName) continue;
      const stat = readFileSync(`${self}/${tid}/stat`, 'utf8');
      // "tid (comm) S ...": the state follows the last ')'.
      const state = stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3);
      if (state === 'R' || state === 'D') running++;
    } catch {
      // The thread ended meanwhile.
    }
  }
  return running;
}

/** Ends the process with `code` without Node's C++ teardown (see the module comment); returns if it cannot. */
function hardExit(code: number): void {
  const status = String(code & 0xff);
  const execve = (process as { execve?: (file: string, args: string[], env: Record<string, string>) => never }).execve;
  if (typeof execve !== 'function') return;
  try {
    if (existsSync('/bin/sh')) execve.call(process, '/bin/sh', ['sh', '-c', `exit ${status}`], {});
    else execve.call(process, process.execPath, [process.execPath, '-e', `process.exit(${status})`], {});
  } catch {
    // Not available here: Node's own exit path follows.
  }
}
