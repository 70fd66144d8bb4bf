/**
 * A vitest setup file (vitest.config.ts `setupFiles`): ends a test process whose main thread has
 * stopped turning its event loop, so a host-thread deadlock fails the run within minutes, naming
 * the test, instead of hanging it forever.
 *
 * Why: a deadlock on the host's main thread (seen in CI and under load: the main thread parked in a
 * futex inside isolated-vm's `new Isolate()`, issue #15) also stops vitest's own timers, so no
 * `testTimeout` can fire and the whole run waits until someone kills it. Here a worker thread, which
 * does not need the main thread, watches a heartbeat the main thread bumps every second; after
 * {@link HANG_MS} without one it writes what was running (and, where gdb is installed, every
 * thread's native stack, to a file) to stderr, then kills the process. vitest then reports that
 * file's fork as exited unexpectedly and goes on with the others.
 *
 * The watcher sleeps in `Atomics.wait` and allocates almost nothing: in the deadlock seen, threads
 * that garbage-collected blocked on V8's wasm engine lock too, so it must not need a GC to act.
 *
 * `LAMBDALET_TEST_HANG_MS` overrides the threshold (test/tooling/hang-watchdog.test.ts uses 1500);
 * `LAMBDALET_TEST_HANG_STACKS=0` skips gdb.
 */
import { beforeEach, expect } from 'vitest';
import { Worker } from 'node:worker_threads';

/** No event-loop turn on the main thread for this long is a hang (no test blocks it for more than seconds). */
const HANG_MS = Number(process.env.LAMBDALET_TEST_HANG_MS) || 120_000;
const NAME_BYTES = 4096;
const STARTED = Symbol.for('lambdalet.test.hangWatchdog');

interface Shared {
  /** [0] heartbeat (seconds since start, bumped by the main thread), [1] bytes of the name. */
  readonly state: Int32Array;
  readonly name: Uint8Array;
}

const registry = globalThis as { [STARTED]?: Shared };

function start(): Shared {
  const shared: Shared = {
    state: new Int32Array(new SharedArrayBuffer(8)),
    name: new Uint8Array(new SharedArrayBuffer(NAME_BYTES)),
  };
  const started = Date.now();
  setInterval(() => Atomics.store(shared.state, 0, Math.floor((Date.now() - started) / 1000)), 1000).unref();
  const worker = new Worker(WATCHER, { eval: true, workerData: { ...shared, hangMs: HANG_MS, stacks: process.env.LAMBDALET_TEST_HANG_STACKS !== '0' }, stdout: false, stderr: false });
  worker.unref();
  return shared;
}

// Runs in the worker: no event loop, no timers, only Atomics.wait between checks.
const WATCHER = `
const { workerData } = require('node:worker_threads');
const { writeSync, writeFileSync } = require('node:fs');
const { spawnSync } = require('node:child_process');
const { tmpdir } = require('node:os');
const { join } = require('node:path');
const { state, name, hangMs, stacks: wantStacks } = workerData;
const nap = new Int32Array(new SharedArrayBuffer(4));
const step = Math.min(1000, hangMs / 4);
let last = Atomics.load(state, 0);
let still = 0;
for (;;) {
  Atomics.wait(nap, 0, 0, step);
  const now = Atomics.load(state, 0);
  if (now !== last) { last = now; still = 0; continue; }
  still += step;
  if (still < hangMs) continue;
  const running = Buffer.from(name.subarray(0, Atomics.load(state, 1))).toString('utf8') || '(no test started yet: collecting or a hook)';
  let stacks = '';
  const gdb = wantStacks && spawnSync('gdb', ['-p', String(process.pid), '-batch', '-ex', 'thread apply all bt 30'], { encoding: 'utf8', timeout: 60000 });
  if (gdb && !gdb.error && gdb.stdout) {
    const file = join(tmpdir(), 'lambdalet-hang-' + process.pid + '.txt');
    writeFileSync(file, gdb.stdout);
    stacks = '\\nnative stacks of every thread: ' + file;
  }
  writeSync(2, '\\n[lambdalet test watchdog] the main thread of test process ' + process.pid + ' has not turned its event loop for ' +
    (hangMs / 1000) + ' s: a deadlock on the host thread (issue #15). Running: ' + running + stacks +
    '\\nKilling this test process so the run ends; vitest reports its file as failed.\\n');
  process.kill(process.pid, 'SIGKILL');
}
`;

const shared = (registry[STARTED] ??= start());

beforeEach(() => {
  const { testPath, currentTestName } = expect.getState();
  const { written } = new TextEncoder().encodeInto(`${testPath ?? '?'} > ${currentTestName ?? '?'}`, shared.name);
  Atomics.store(shared.state, 1, written);
});
