/**
 * Runtime defaults derived from the host, computed once when the module loads. The rules are
 * pure functions of (memory, CPUs) so they can be tested for any host.
 *
 *   memoryBudgetMb  = total memory in MB (the sum of memoryMb of live environments never exceeds
 *                     physical memory: each is a cap, so the host cannot be overcommitted)
 *   concurrency     = clamp(min(1000, floor(totalMb / 128), 100 × CPUs), 10, …) — Lambda's default
 *                     account limit, or as many 128 MB environments as fit in memory, or 100 per
 *                     CPU (most handlers wait on I/O; a busy one holds a CPU), never less than 10
 *   min unreserved  = ceil(concurrency × 0.1) (Lambda keeps 100 of 1000)
 *   scaleUpRate     = clamp(50 × CPUs, 10, 100) new environments per function per second (Lambda:
 *                     1000 per 10 s; a cold start costs a CPU a few ms, so scale with the CPUs)
 *   scaleUpBurst    = scaleUpRate
 *   maxQueueLength  = concurrency
 */
import { availableParallelism, totalmem } from 'node:os';
import { LAMBDA_ACCOUNT_CONCURRENCY, LAMBDA_SCALE_UP_PER_SECOND, MEMORY_MB_MIN, UNRESERVED_MIN_FRACTION } from './limits.ts';

/** The host facts the defaults are derived from. */
export interface HostFacts {
  readonly totalMemoryMb: number;
  readonly cpus: number;
}

/** The runtime defaults that depend on the host. */
export interface HostDefaults {
  readonly concurrency: number;
  readonly memoryBudgetMb: number;
  readonly scaleUpRate: number;
}

/** Fewest concurrent executions a default ever allows. */
const CONCURRENCY_FLOOR = 10;
/** Concurrent executions per CPU in the default. */
const CONCURRENCY_PER_CPU = 100;
/** New environments per second per CPU in the default scale-up rate. */
const SCALE_UP_PER_CPU = 50;
/** Slowest default scale-up rate. */
const SCALE_UP_FLOOR = 10;

export function hostDefaults(host: HostFacts): HostDefaults {
  const memoryBudgetMb = Math.max(MEMORY_MB_MIN, Math.floor(host.totalMemoryMb));
  const concurrency = Math.max(
    CONCURRENCY_FLOOR,
    Math.min(LAMBDA_ACCOUNT_CONCURRENCY, Math.floor(memoryBudgetMb / MEMORY_MB_MIN), CONCURRENCY_PER_CPU * host.cpus),
  );
  const scaleUpRate = Math.max(SCALE_UP_FLOOR, Math.min(LAMBDA_SCALE_UP_PER_SECOND, SCALE_UP_PER_CPU * host.cpus));
  return { concurrency, memoryBudgetMb, scaleUpRate };
}

/** Reservations may not take the account below this many unreserved executions. */
export function minUnreservedConcurrency(concurrency: number): number {
  return Math.max(1, Math.ceil(concurrency * UNRESERVED_MIN_FRACTION));
}

/** This host's defaults. */
export const HOST_DEFAULTS: HostDefaults = Object.freeze(
  hostDefaults({ totalMemoryMb: totalmem() / (1024 * 1024), cpus: availableParallelism() }),
);
