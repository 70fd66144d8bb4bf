/**
 * The `quickjs` engine: QuickJS compiled to WebAssembly, its sandboxes living in a pool of worker
 * threads (engines/remote/), each hosting many: guest code never runs on the host's thread, so a
 * spinning tenant holds a worker, not the host's event loop. The sandboxes themselves are
 * in-thread.ts's, run inside the workers (isolation modes, memory caps, SnapStart images there).
 */
import { availableParallelism } from 'node:os';
import { ENGINE_THREADS_MAX, type QuickJSIsolation } from '../../config/index.ts';
import { BACKGROUND_NICE, EnginePool, HEAVY_CALL_CPU_MS } from '../remote/engine-pool.ts';
import { RemoteEngine } from '../remote/remote-engine.ts';
import { WorkerHost } from '../remote/worker-host.ts';

export type { QuickJSIsolation };
export { liveQuickJSInstances, spareQuickJSInstances, MAX_LIVE_QUICKJS_INSTANCES, QUICKJS_MAX_STACK_BYTES, SHARED_RUNTIMES_PER_INSTANCE } from './in-thread.ts';

export interface QuickJSEngineOptions {
  /** `instance` (default): one WebAssembly instance per sandbox; `shared`: many sandboxes per instance. */
  readonly isolation?: QuickJSIsolation;
  /** SnapStart: blank instances kept ready per memory size in each worker; 0 instantiates at each restore. Default 2. */
  readonly blanksPerMemorySize?: number;
  /** Worker threads kept hosting the sandboxes (the pool grows to {@link QUICKJS_THREAD_GROWTH} times as many). Default: the host's available parallelism. */
  readonly threads?: number;
  /**
   * Most worker threads the pool grows to (never fewer than `threads`); under process isolation,
   * each child's (process-host.ts). Default: {@link QUICKJS_THREAD_GROWTH} times `threads`, at most ENGINE_THREADS_MAX.
   */
  readonly maxThreads?: number;
  /**
   * The nice value CPU-heavy functions' background workers lower their threads to (engine-pool.ts
   * `background`; 1 to 19); 0: no background workers. Default BACKGROUND_NICE (10).
   */
  readonly cpuHeavyNice?: number;
}

/**
 * The pool keeps `threads` workers and grows to this many times as many (at most
 * ENGINE_THREADS_MAX) while every worker hosts a sandbox, so CPU-bound tenants do not queue their
 * neighbours' calls behind theirs in one worker (engine-pool.ts #pick).
 */
export const QUICKJS_THREAD_GROWTH = 4;

/** Worker pools by configuration, shared by every engine (and runtime) of the process that asks for the same. */
const pools = new Map<string, EnginePool>();

/** The process's worker pool for these options (created on first use). */
export function quickjsWorkerPool(options: QuickJSEngineOptions = {}): EnginePool {
  const threads = options.threads ?? availableParallelism();
  const quickjs = {
    ...(options.isolation ? { isolation: options.isolation } : {}),
    ...(options.blanksPerMemorySize === undefined ? {} : { blanksPerMemorySize: options.blanksPerMemorySize }),
  };
  const nice = options.cpuHeavyNice ?? BACKGROUND_NICE;
  const maxSize = Math.max(threads, options.maxThreads ?? Math.min(ENGINE_THREADS_MAX, threads * QUICKJS_THREAD_GROWTH));
  const key = JSON.stringify([threads, quickjs.isolation ?? 'instance', quickjs.blanksPerMemorySize ?? null, nice, maxSize]);
  let pool = pools.get(key);
  if (!pool) {
    // Calls are weighed only with background servers; their CPU time is read only after a busy call
    // (ServerData guestCpuTime 'after-busy'), so a trivial warm call pays no getrusage pair.
    const guestCpuTime = nice > 0 ? ('after-busy' as const) : false;
    pool = new EnginePool(threads, (handlers) => WorkerHost.start({ quickjs, hostCallBytes: true, guestCpuTime, textCalls: true }, handlers), {
      maxSize,
      // CPU-heavy functions' sandboxes: in workers that lower their own thread's priority.
      ...(nice > 0
        ? {
            background: {
              factory: (handlers) => WorkerHost.start({ quickjs, hostCallBytes: true, guestCpuTime, textCalls: true, nice }, handlers),
              heavyCallCpuMs: HEAVY_CALL_CPU_MS,
            },
          }
        : {}),
    });
    pools.set(key, pool);
  }
  return pool;
}

export class QuickJSEngine extends RemoteEngine {
  readonly isolation: QuickJSIsolation;
  readonly pool: EnginePool;

  constructor(options: QuickJSEngineOptions = {}) {
    const pool = quickjsWorkerPool(options);
    super('quickjs', () => pool);
    this.isolation = options.isolation ?? 'instance';
    this.pool = pool;
  }
}
