import { globSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { fileURLToPath } from 'node:url';
import { configDefaults, defineConfig } from 'vitest/config';
import LongestFirstSequencer from './test/helpers/sequencer.ts';

// Node's module compile cache (TypeScript stripped once, V8 code cache) for every process this run
// starts: the test forks, their worker threads (sandbox servers) and the children they spawn
// (examples, CLIs, cluster members, process-isolation hosts), which load src/ through Node's own
// loader. Importing src/index.ts took 0.70 CPU-s without it and 0.37 with it (node 24, measured).
// Set here, in vitest's process, so the forks inherit it from their start; an outer
// NODE_COMPILE_CACHE (or NODE_DISABLE_COMPILE_CACHE=1) wins.
process.env.NODE_COMPILE_CACHE ??= fileURLToPath(new URL('./node_modules/.cache/node-compile-cache', import.meta.url));

/**
 * Pure unit tests (config parsing, bundling, handler strings, the vfs, the dispatcher's admission
 * and pools, bench helpers, the guest protocol): no sandbox whose failure can poison the process,
 * no global patched. They share their forks (`isolate: false`), which saves a Node start-up and a
 * module-graph import per file (~0.25 CPU-s each, measured). Everything else — and every new
 * directory, by default — keeps one fresh fork per file.
 */
const SHARED_FORK_TESTS = [
  'test/config/**/*.test.ts',
  'test/code/**/*.test.ts',
  'test/vfs/**/*.test.ts',
  'test/bench/**/*.test.ts',
  'test/engines/guest/**/*.test.ts',
  'test/engines/guest-cache.test.ts',
  'test/dispatch/admission.test.ts',
  'test/dispatch/pools.test.ts',
  // Single pure files from folders that stay isolated (no sandbox, no engine, no global patched, no
  // child process): in a fork of their own each paid ~0.3-0.5 CPU-s of start-up for ~0.05 of tests
  // (CPU log, full run at 20265f9; issue #12).
  'test/dispatch/concurrency-ceiling.test.ts',
  'test/dispatch/host-memory.test.ts',
  'test/engines/isolation-options.test.ts',
  'test/engines/wasm-limits.test.ts',
  'test/observability/log-sink-bound.test.ts',
  'test/package/install-scripts.test.ts',
  'test/tooling/cpu-log.test.ts',
];

/**
 * Files that start runtimes and sandboxes the ordinary way (deploy, invoke, close) and leave the
 * process as they found it: they share forks too (`isolate: false`, the `shared` project). Besides
 * the start-up and the import of src/, they share what a process builds once — the quickjs engine's
 * worker threads, the compiled QuickJS module, the V8 code cache of the guest runtime. Same-run A/B
 * on the first 32 of them (registry, http, async, invoke, testing), one fork each: 38.8 → 19.4
 * CPU-s, all 428 cases passing both ways (issue #12).
 *
 * Kept out (fresh fork per file, project `isolated`): files that push a sandbox to its memory cap
 * or kill engines (adversarial/, bad-input, snapstart, catastrophe, process isolation...), files
 * that measure the host's own heap (memory-retention) or load (stress), files that set host-wide
 * state for their whole run (compat/time.test.ts sets the host's TZ), files that spawn or kill
 * processes (kill, the cluster files that spawn members, examples, package, cli, tooling), and every
 * new folder by default.
 * Move a file here only if it closes what it opens and restores any host global it changes.
 */
const SHARED_RUNTIME_TESTS = [
  'test/registry/**/*.test.ts',
  'test/http/**/*.test.ts',
  'test/async/**/*.test.ts',
  'test/invoke/**/*.test.ts',
  'test/testing/**/*.test.ts',
  'test/environment/**/*.test.ts',
  'test/conformance/**/*.test.ts',
  'test/compat/**/*.test.ts',
  'test/dispatch/runtime.test.ts',
  'test/dispatch/close-deadline.test.ts',
  'test/dispatch/tenancy.test.ts',
  'test/dispatch/tenancy-runtime.test.ts',
  // Single files from folders that stay isolated: each deploys, invokes and closes, patches no host
  // global, pushes no sandbox to its cap and kills no engine; here they skip a process start-up and
  // the quickjs engine's start (issue #12).
  'test/dispatch/host-memory-runtime.test.ts',
  'test/engines/binary-host-calls.test.ts',
  'test/engines/v8/deferred-host-calls.test.ts',
  'test/engines/quickjs/rejection-tracker.test.ts',
  // The CLI run in this process (test/cli/run-cli.ts: main() with in-memory streams; each invoke
  // closes its runtime; credentials.test.ts restores the AWS_* variables it sets after each case), the
  // docs' commands the same way, the unit-testing example (loadHandler, disposed in afterAll), the
  // shared standard library's buffer, and three engine-pool files that drive fake engine hosts (no
  // worker, no child: text-calls' codec, engine-pool-share's images, exact-deadlines' kills of a fake
  // server). Each took 0.4-1.4 CPU-s in a fork of its own, mostly start-up (issue #12).
  'test/cli/allow-host.test.ts',
  'test/cli/credentials.test.ts',
  'test/cli/invoke-hint.test.ts',
  'test/docs/commands.test.ts',
  'examples/unit-testing/orders.test.ts',
  'test/engines/shared-stdlib.test.ts',
  'test/engines/remote/text-calls.test.ts',
  'test/engines/remote/engine-pool-share.test.ts',
  'test/engines/remote/exact-deadlines.test.ts',
  // Engine-level files that run QuickJS or isolated-vm on the test's own thread and dispose every
  // sandbox, isolate and runtime they make, at no cap: free-heap and snapshot-pages (QuickJS
  // memories), strip-source and shared-memory-reading (InThreadQuickJS sandboxes), guest-code-cache
  // (two isolates of 64 MB), stuck-watch (the watchdog's rule on injected clocks). Kept isolated:
  // spare-boots (counts the process's live QuickJS instances), staging (its worker outlives the file),
  // pool-growth and the others that start workers of their own (issue #12).
  'test/engines/quickjs/free-heap.test.ts',
  'test/engines/quickjs/snapshot-pages.test.ts',
  'test/engines/quickjs/strip-source.test.ts',
  'test/engines/quickjs/shared-memory-reading.test.ts',
  'test/engines/v8/guest-code-cache.test.ts',
  'test/engines/remote/stuck-watch.test.ts',
  // Worker threads of their own that each case ends (host-answer terminates them after each case,
  // thread-priority's worker exits; the nice value it sets is that worker thread's alone), stand-in
  // images (refill-gate) and blank pools on the test's thread with their fake timers restored in
  // `finally` (pool-demand) (issue #12).
  'test/engines/remote/host-answer.test.ts',
  'test/engines/remote/thread-priority.test.ts',
  'test/engines/v8/refill-gate.test.ts',
  'test/engines/pool-demand.test.ts',
  // Cluster files that spawn nothing but their own redis-server (testRedis(), stopped in afterAll)
  // and close every runtime and connection they open; the rest of test/cluster spawns members
  // (fixtures) and kills them, and stays isolated. Same 7 files back to back, load 16: 7.0 -> 5.4
  // CPU-s (CPU log), 28 passed both (issue #12).
  'test/cluster/http-settings.test.ts',
  'test/cluster/metrics.test.ts',
  'test/cluster/redis-helper.test.ts',
  'test/cluster/registry.test.ts',
  'test/cluster/revisions.test.ts',
  'test/cluster/settings.test.ts',
  'test/cluster/streams.test.ts',
  // wasm files that deploy through runtimes (withRuntime) or test pure helpers: a component's memory
  // cap is the wasm engine's (a capped instance fails alone, in its worker thread), no isolated-vm
  // isolate is pushed to its heap limit, nothing is killed but what the engine replaces itself.
  // Kept isolated: memory-total-grow (grows capped memories in the test's own thread), shared-pool
  // (engines of its own outside any runtime), core-handle (transpile threads), build-limit and
  // native-build (componentize children killed, CI state). Same 7 files back to back, two passes
  // (load 4-14): 13.2 -> 11.7 and 13.6 -> 12.9 CPU-s (CPU log), 60 passed (issue #12).
  'test/engines/wasm/deploy.test.ts',
  'test/engines/wasm/entry-shape.test.ts',
  'test/engines/wasm/js-entry.test.ts',
  'test/engines/wasm/log-budget.test.ts',
  'test/engines/wasm/memory-total.test.ts',
  'test/engines/wasm/runtime.test.ts',
  'test/engines/wasm/wasi-imports.test.ts',
];
const NOT_SHARED = [
  // vi.mock replaces a module only for a file that imports it first: in a shared fork an earlier
  // file has loaded src/host-clock.ts already and the mock never applies (failed in a full run).
  'test/environment/answer-by-deadline.test.ts',
  // Fakes the host's timers (vi.useFakeTimers) around whole invocations: a timer another file's
  // runtime arms meanwhile on a global would be a fake one, dropped when the fakes are removed.
  'test/testing/fake-timers.test.ts',
  'test/async/kill.test.ts',
  'test/conformance/bad-input.test.ts',
  'test/conformance/snapstart.test.ts',
  'test/compat/time.test.ts',
];
/**
 * Pure, but long: the `unit` project runs last (after `isolated` and `shared`), so a long file
 * there ran alone at the end of the run — interruptible-sort.test.ts (QuickJS runs the sort
 * conformance program; ~12 s alone) was the last 20 s of a 545 s run (issue #12, CPU log timeline).
 * In `isolated` it starts among the first (test/helpers/sequencer.ts).
 */
const LONG_PURE_TESTS = ['test/engines/guest/interruptible-sort.test.ts'];
const ROOT = fileURLToPath(new URL('.', import.meta.url));
const SHARED_FORK_FILES = globSync(SHARED_FORK_TESTS, { cwd: ROOT })
  .filter((file) => !LONG_PURE_TESTS.includes(file))
  .sort();
// The files themselves (globbed now, so a file added to one of those folders is picked up): the
// `isolated` project runs everything not listed here, NOT_SHARED included.
const SHARED_RUNTIME_FILES = globSync(SHARED_RUNTIME_TESTS, { cwd: ROOT })
  .filter((file) => !NOT_SHARED.includes(file))
  .sort();

// isolated-vm needs `--no-node-snapshot`, a process start-up flag: the threads pool cannot pass it
// (Node rejects it in a Worker's execArgv), so every test file runs in a forked process that has it.
export default defineConfig({
  // `lambdalet/testing` resolves to src/ (package.json `exports` condition `lambdalet-source`), so
  // examples import it by its package name from a fresh clone, without a build.
  // No 'module' condition (Vite's default has it): vitest passes these to Node as --conditions, and
  // under 'module' Node picks the ESM builds of @smithy/* and @aws-sdk/* (dist-es), whose
  // extensionless imports its loader refuses — src/http/ loads @smithy/signature-v4.
  ssr: { resolve: { conditions: ['lambdalet-source', 'node', 'development|production'] } },
  test: {
    pool: 'forks',
    // --no-wasm-code-gc from the start: the v8 engine turns wasm code GC off when it loads
    // (src/engines/v8/flags.ts: V8's WasmEngine::TriggerGC can destroy an isolated-vm isolate under
    // its own lock and deadlock); test processes that run QuickJS before any v8 deploy are covered too.
    execArgv: ['--no-node-snapshot', '--no-wasm-code-gc'],
    // Two forks more than CPUs. The files wait for a good part of their time (npm and other child
    // processes, Redis, cluster leases, deadlines and timers): with one fork per CPU the node 24 CI
    // run on a quiet 2-core machine took 195 s for 216 CPU-s, which 2 cores run in 108 s; a replay
    // of that run's per-file CPU and wall (issue #12) gives 188 s with 2 forks, 133 s with 3, 116 s
    // with 4. On a busy machine (load 12-34) 2, 3 and 4 forks took 543, 331 and 446 s, and on a
    // later tree 2 and 4 forks 439 and 534 s: the load decides there. vitest's default (CPUs - 1) is
    // ONE fork on 2 cores. Cases whose work must finish have generous deadlines (test/README.md),
    // so the extra contention is not a race they can lose.
    maxWorkers: availableParallelism() + 2,
    // A limit for hangs, not a performance assertion: generous because a busy 2-core machine can
    // make a case that takes 2 s alone take 30 s (issue #12). Never assert on time in a test.
    testTimeout: 60_000,
    hookTimeout: 60_000,
    // A deadlocked main thread stops those timeouts too: this kills such a test process after 120 s
    // without an event-loop turn, naming the test, so the run ends instead of hanging (issue #15).
    // cpu-log.ts: with LAMBDALET_TEST_CPU_LOG=<file>, one JSON line of CPU cost per test file (what a
    // file costs, which its wall time on a busy machine does not say; test/README.md).
    setupFiles: ['test/helpers/hang-watchdog.ts', 'test/helpers/cpu-log.ts'],
    // The guest runtime is bundled once per run (cached by content in node_modules/.cache) and
    // installed in every isolated test process, instead of ~1 CPU-s of esbuild in each of them.
    globalSetup: ['test/helpers/global-setup.ts'],
    // Without vitest's cache (a fresh clone, CI), the longest files start first (test/helpers/sequencer.ts).
    sequence: { sequencer: LongestFirstSequencer },
    projects: [
      {
        extends: true,
        test: {
          // Sorted first (project names run in order within a group): the slow, isolated files start early.
          name: 'isolated',
          include: ['test/**/*.test.ts', 'examples/**/*.test.ts'],
          exclude: [...configDefaults.exclude, ...SHARED_FORK_FILES, ...SHARED_RUNTIME_FILES],
          setupFiles: ['test/helpers/shared-guest.ts'],
        },
      },
      {
        extends: true,
        test: {
          name: 'shared',
          include: SHARED_RUNTIME_FILES,
          isolate: false,
          setupFiles: ['test/helpers/shared-guest.ts'],
        },
      },
      {
        extends: true,
        test: { name: 'unit', include: SHARED_FORK_FILES, isolate: false },
      },
    ],
  },
});
