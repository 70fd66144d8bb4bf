/**
 * Where the host's v8 engine runs SnapStart restores: a pool of engine servers in worker threads of
 * this process (engines/remote/), each loading isolated-vm and keeping its own pool of isolates
 * deserialised from every image (V8Image, demand-following).
 *
 * Why: isolated-vm deserialises a snapshot's isolate and a default context synchronously on the
 * thread that calls `new Isolate({ snapshot })` (v8/snapshot.ts `deserialise`): 170-310 ms for a
 * 16 MB snapshot of a 300,000-object INIT. On the host's thread that stalled every other tenant and
 * the host itself (issue 21). In a restore server it stalls that worker's event loop only; the
 * isolates' own work runs on isolated-vm's threads wherever they were created.
 *
 * A restored sandbox stays in its server for life (remote/remote-sandbox.ts): its calls cross to
 * the worker by message and its host calls come back by `Atomics.wait` (tens of microseconds each,
 * docs/architecture.md), as under process isolation. Sandboxes that boot and run INIT stay on the
 * host's isolated-vm (v8-engine.ts).
 *
 * The restore servers are threads of this process: isolated-vm's catastrophic error in one of them
 * degrades in-process v8 to process isolation (in-process-health.ts), as one on the host's thread
 * does; from then on restores go to child processes and the restore servers' sandboxes are retired.
 */
import { availableParallelism } from 'node:os';
import { EnginePool } from '../remote/engine-pool.ts';
import { WorkerHost } from '../remote/worker-host.ts';
import { degradeInProcessV8, onInProcessV8Degraded } from './in-process-health.ts';

/** How an engine server's v8 engine words its catastrophe (v8-engine.ts #stoppedMessage): the error follows. */
const SERVER_ENGINE_WORDS = /^The v8 engine stopped admitting work after a catastrophic isolated-vm error: /;

/** One pool per process (and per size), created on first use: the first SnapStart deploy on v8. */
const pools = new Map<number, EnginePool>();

/**
 * The process's restore servers. `threads`: worker threads (default the host's available
 * parallelism).
 */
export function v8RestoreServers(threads = availableParallelism()): EnginePool {
  let pool = pools.get(threads);
  if (!pool) {
    // At most threads - 1 pool refills at a time across the servers: a refill holds its server's
    // thread (a 37 MB heap's ~100 ms), and a restore routed to a free server does not wait for it
    // (engine-pool.ts #pickForRestore). With one thread, refills run there as before.
    const refills = new SharedArrayBuffer(4 * Math.max(1, threads - 1));
    pool = new EnginePool(threads, (handlers) => WorkerHost.start({ quickjs: {}, precompileQuickJS: false, refills }, handlers), {
      onUnhealthy: (reason) => degradeInProcessV8(`${reason.replace(SERVER_ENGINE_WORDS, '').replace(/\.$/, '')} (in a SnapStart restore server)`),
    });
    pools.set(threads, pool);
    const made = pool;
    // Its sandboxes are in-process isolates too: each ends when next idle (the pool replaced the server that failed).
    onInProcessV8Degraded(() => made.retireAll());
  }
  return pool;
}
