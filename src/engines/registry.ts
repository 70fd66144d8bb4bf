/**
 * Engines by name, for one runtime's isolation mode. Each is created on first use, so a runtime
 * whose functions never ask for an engine never loads it: isolated-vm (a native addon, optional) is
 * loaded by the v8 engine only when a function deploys with it; the QuickJS WebAssembly module is
 * compiled on first use; jco (the wasm engine) is loaded when a component is first deployed.
 *
 * - `in-process`: v8 isolates in this process (isolated-vm's threads), quickjs sandboxes in the
 *   process's worker-thread pool (quickjs/quickjs-engine.ts).
 * - `process`: v8 and quickjs sandboxes in a pool of child processes (remote/process-host.ts); the
 *   wasm engine keeps its own pool of worker threads in either mode (wasm/wasm-engine.ts).
 *
 * In both, CPU-heavy functions' sandboxes move to background servers at a lower OS priority
 * (`cpuHeavyNice`): children at that nice value (process isolation, and in-process v8, whose
 * isolates all share isolated-vm's threads), or quickjs worker threads that lower their own.
 */
import type { EngineName, IsolationMode } from '../config/index.ts';
import type { Engine } from './engine.ts';
import { QuickJSEngine, type QuickJSEngineOptions } from './quickjs/quickjs-engine.ts';
import { BACKGROUND_NICE, HEAVY_CALL_CPU_MS } from './remote/engine-pool.ts';
import { backgroundChildren, processEngine, processPool } from './remote/process-host.ts';
import { inProcessV8DegradedBy } from './v8/in-process-health.ts';
import { v8RestoreServers } from './v8/restore-servers.ts';
import { V8Engine } from './v8/v8-engine.ts';
import { WasmEngine, type WasmEngineOptions } from './wasm/wasm-engine.ts';

/** Per-engine options, from the runtime's options. */
export interface EngineRegistryOptions {
  readonly quickjs?: QuickJSEngineOptions;
  readonly wasm?: WasmEngineOptions;
  /** Where sandboxes live. Default `in-process`. */
  readonly isolation?: IsolationMode;
  /** Child processes under `process` isolation. Default: available parallelism, at most 4. */
  readonly processes?: number;
  /**
   * The nice value of the background servers CPU-heavy functions move to (engine-pool.ts
   * `background`, v8-engine.ts `background`); 0: they do not move. Default BACKGROUND_NICE (10).
   */
  readonly cpuHeavyNice?: number;
}

/** rt.metrics().isolation: see {@link EngineRegistry.isolation}. */
export interface EngineIsolation {
  readonly v8: IsolationMode;
  /** isolated-vm's catastrophic error that moved in-process v8 to child processes, once one has. */
  readonly v8DegradedBy?: string;
}

export class EngineRegistry {
  readonly #engines = new Map<EngineName, Engine>();
  readonly #factories: Record<EngineName, () => Engine>;
  readonly #mode: IsolationMode;

  constructor(options: EngineRegistryOptions = {}) {
    this.#mode = options.isolation ?? 'in-process';
    const wasm = (): Engine => new WasmEngine(options.wasm);
    const nice = options.cpuHeavyNice ?? BACKGROUND_NICE;
    const remote = { processes: options.processes, quickjs: options.quickjs, cpuHeavyNice: nice };
    this.#factories =
      options.isolation === 'process'
        ? {
            v8: () => processEngine('v8', remote),
            quickjs: () => processEngine('quickjs', remote),
            wasm,
          }
        : {
            // SnapStart restores in worker threads: a restore's deserialisation never stalls the host's thread.
            v8: () =>
              new V8Engine({
                restoreServers: () => v8RestoreServers(),
                // After isolated-vm's catastrophic error in this process: process isolation's children (v8/in-process-health.ts).
                fallback: () => processPool(remote),
                ...(nice > 0 ? { background: { pool: () => backgroundChildren(nice), heavyCallCpuMs: HEAVY_CALL_CPU_MS } } : {}),
              }),
            quickjs: () => new QuickJSEngine({ ...options.quickjs, cpuHeavyNice: nice }),
            wasm,
          };
  }

  /**
   * Where v8 sandboxes run now (rt.metrics().isolation): the runtime's isolation mode, or `process`
   * once in-process v8 has degraded to process isolation after isolated-vm's catastrophic error in
   * this process, with that error (`v8DegradedBy`).
   */
  isolation(): EngineIsolation {
    if (this.#mode === 'process') return { v8: 'process' };
    const degradedBy = inProcessV8DegradedBy();
    return degradedBy === undefined ? { v8: 'in-process' } : { v8: 'process', v8DegradedBy: degradedBy };
  }

  get(name: EngineName): Engine {
    let engine = this.#engines.get(name);
    if (!engine) {
      engine = this.#factories[name]();
      this.#engines.set(name, engine);
    }
    return engine;
  }
}
