/**
 * isolated-vm on Node >= 20 needs `--no-node-snapshot`: V8's shared read-only heap crashes the
 * process when isolates use different snapshots (isolated-vm #420, #424, #472). It is a start-up
 * flag a library cannot set, so we detect it and say exactly how to fix it.
 */
import { setFlagsFromString } from 'node:v8';
import { EngineUnavailableError } from '../../errors.ts';

export const NO_NODE_SNAPSHOT = '--no-node-snapshot';

export function hasNoNodeSnapshotFlag(
  execArgv: readonly string[] = process.execArgv,
  nodeOptions: string | undefined = process.env.NODE_OPTIONS,
): boolean {
  if (execArgv.includes(NO_NODE_SNAPSHOT)) return true;
  return (nodeOptions ?? '').split(/\s+/).includes(NO_NODE_SNAPSHOT);
}

export function missingFlagError(): EngineUnavailableError {
  return new EngineUnavailableError(
    [
      `The v8 engine (isolated-vm) needs Node started with ${NO_NODE_SNAPSHOT}, and this process was not.`,
      `Fix: run \`node ${NO_NODE_SNAPSHOT} your-app.js\` (or NODE_OPTIONS=${NO_NODE_SNAPSHOT} for tools that spawn Node);`,
      `with vitest use \`pool: 'forks'\` and \`execArgv: ['${NO_NODE_SNAPSHOT}']\` in vitest.config.`,
      `Or deploy the function with \`engine: 'quickjs'\` (QuickJS compiled to WebAssembly), which needs no flag.`,
    ].join('\n'),
  );
}

export const NO_WASM_CODE_GC = '--no-wasm-code-gc';

/** V8 flags already set in this process (each is set once). */
const applied = new Set<string>();

function setOnce(flag: string): void {
  if (applied.has(flag)) return;
  setFlagsFromString(flag);
  applied.add(flag);
}

/**
 * Turns V8's WebAssembly code GC off for this process, before isolated-vm loads (v8-engine.ts) and
 * in every engine child (process-host.ts, snapshot.ts pass the flag at start-up too). Why: with it
 * on, a thread that frees WebAssembly code (QuickJS's module tiering up, in any thread of the
 * process) runs `WasmEngine::TriggerGC` holding the wasm engine's mutex and posts a task to EVERY
 * isolate (V8's wasm-engine.cc: "trigger a GC task in each known isolate"), isolated-vm's among them.
 * isolated-vm's task runner takes a strong reference to its isolate for the post
 * (IsolateTaskRunner::PostTaskImpl, `weak_env.lock()`); when that is the last one — the isolate was
 * disposed at that instant — the isolate is destroyed on that thread, inside TriggerGC, and its
 * destructor takes the same mutex (Isolate::Deinit → WasmEngine::RemoveIsolate): the thread
 * deadlocks, and every later `new ivm.Isolate()` (WasmEngine::AddIsolate) waits on it for ever (the
 * deadlock caught with gdb at stop 23, issue #15). No order of releases on the host's side can rule
 * that instant out; without wasm code GC, TriggerGC is never called.
 *
 * Node does not freeze V8's flags after start-up (`--freeze-flags-after-init` is off), and V8 reads
 * this one each time code becomes dead (WasmEngine::AddPotentiallyDeadCode), so setting it at run
 * time takes effect: measured with --trace-wasm-code-gc --stress-wasm-code-gc over 20 QuickJS
 * contexts, 377 "[wasm-gc]" lines (Node 24) and 462 (Node 26) with it on, 0 after this call
 * (test/engines/v8/flags.test.ts). The cost: WebAssembly code replaced by tier-up is kept, not
 * freed — bounded by the code of the modules the process compiles (QuickJS's is one module shared
 * by every thread); RSS 71 vs 70 MB after 60 QuickJS contexts in the same measurement.
 */
export function turnOffWasmCodeGc(): void {
  setOnce(NO_WASM_CODE_GC);
}

export const NO_TURBOSHAFT_LOOP_UNROLLING = '--no-turboshaft-loop-unrolling';

/**
 * Turns Turboshaft's loop unrolling off for this process, beside {@link turnOffWasmCodeGc} and at
 * the same moment (engine children and snapshot children get it at start-up too). Why: with it on,
 * an optimised guest loop can lose every interrupt check, and then neither a deadline nor
 * memoryMb can stop it (issue #15). `for (;;) new Array(64)` under isolated-vm (Node 24.22,
 * V8 13.6, raw `context.eval` with `timeout`) never times out — isolated-vm's own 5 s of repeated
 * TerminateExecution calls go unserviced and it reports "Script failed to terminate" — and the bomb
 * `for (;;) m.push(new Array(64).fill({ i }))` under memoryLimit 128 grew the isolate's heap past
 * 3 GB (isolated-vm's near-heap-limit callback raises the limit by 1 GB each time, expecting the
 * termination it requests to land). The same loops with this flag: the timeout fires at its
 * deadline and the bomb ends "disposed ... due to memory limit" in 0.6-2.0 s (1.0-1.2 CPU-s, load
 * ~9); so do they with --no-turbofan, and not with --no-maglev, --no-use-osr, --no-turbo-escape,
 * --no-turbo-allocation-folding or --no-turboshaft-load-elimination: the unrolled loop is the one
 * without a stack check (V8's loop-unrolling-reducer.h removes the stack check of all but one
 * folded iteration of a partially unrolled loop; here none was left). `new Array(8)` in the same
 * loop, or a call (`a.fill(i)`, `a.indexOf(5)`), kept it.
 *
 * The cost: optimised loops with small bodies are no longer unrolled — a nested loop whose inner
 * loop runs 8 times took 1.5-2.5x as long in microbenchmarks (on the host, and in an isolate
 * measured by its cpuTime, alternated processes, load 7-14); a string scan, building 200k objects,
 * JSON round trips and map/filter/reduce were within this machine's noise. The same hang and the
 * same fix on Node 26 (V8 14.6). Set at run time it takes effect for code optimised afterwards (Turboshaft
 * reads the flag per compilation); set it at start-up to cover the host's own code optimised earlier.
 */
export function turnOffLoopUnrolling(): void {
  setOnce(NO_TURBOSHAFT_LOOP_UNROLLING);
}

export const EXPOSE_GC = '--expose-gc';

/**
 * Exposes V8's gc extension as `gc` in contexts made from now on (engine children get the flag at
 * start-up; `--expose-gc-as=<name>` would not help: set at run time V8 keeps the name it registered
 * at its own start-up, and the global is non-configurable under any name), for v8 guests'
 * WebAssembly (guest/wasm-ledger.ts): an environment's WebAssembly memories reserve their maxima
 * against memoryMb until the GC has collected them, and without a way to collect, a handler that
 * instantiated a module per invocation (`await WebAssembly.instantiate(bytes)`, its memory
 * reserving memoryMb) failed every invocation after the first — the dropped instance was never
 * collected in between. The guest runtime takes the function and empties the global (`gc` stays,
 * `undefined`: it cannot be deleted) before any user code, and calls it only when a reservation
 * does not fit. The cost outside guests: a Node
 * worker thread started after this has a `gc` global (V8 reads the flag when a context is made;
 * the host's own main context, made before, has none).
 */
export function exposeGuestGc(): void {
  setOnce(EXPOSE_GC);
}

/**
 * The flags above, for the start-up flags of every child process that runs isolates (engine
 * children: process-host.ts; snapshot children: snapshot.ts), so a child never misses one.
 */
export const ISOLATE_PROCESS_V8_FLAGS: readonly string[] = [NO_WASM_CODE_GC, NO_TURBOSHAFT_LOOP_UNROLLING, EXPOSE_GC];
