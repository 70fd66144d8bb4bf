/**
 * Cluster-wide concurrency: Lambda's account and reserved limits held across every member, with a
 * Redis semaphore of leases that expire when their member dies.
 *
 * - A lease is a member of a sorted set scored by its expiry: `conc:fn:<name>` for a function with
 *   reserved concurrency (at most `reservedConcurrency` leases, shared by all its versions, as
 *   Lambda's PutFunctionConcurrency says), `conc:unreserved` for the others (at most the account's
 *   `concurrency` minus every reservation). One Lua script drops expired leases, counts and adds:
 *   atomic, so two members never both take the last slot.
 * - Time is Redis's (`TIME` inside the scripts), never a member's clock: members whose clocks
 *   disagree still agree on when a lease expires.
 * - A live member renews its leases every third of `leaseTtlMs`; a member killed with SIGKILL stops
 *   renewing and its leases are dropped by the first acquire after they expire — its share comes
 *   back within `leaseTtlMs`.
 * - Refusal is the TooManyRequestsException the local dispatcher throws, with the same `reason`
 *   (`ReservedFunctionConcurrentInvocationLimitExceeded` or `ConcurrentInvocationLimitExceeded`).
 * - Redis unreachable: admitted without a lease (fail open, one warning per outage): synchronous
 *   invokes keep working, bounded by each member's own dispatcher, and the cluster-wide limit
 *   holds again once Redis is back.
 * - Every member must be given the same `concurrency`: each computes the unreserved limit from its own.
 */
import { randomUUID } from 'node:crypto';
import type { Redis } from 'ioredis';
import { TooManyRequestsException } from '../errors.ts';
import type { AdmissionGate } from '../invoke/invoker.ts';
import type { FunctionRegistry } from '../registry/registry.ts';
import type { VersionRecord } from '../registry/records.ts';

const NOW = `local t = redis.call('TIME'); local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)`;

/** ARGV: key, leaseId, ttlMs, limit. Returns 1 (taken) or 0 (full). */
const ACQUIRE = `${NOW}
local key, id, ttl, limit = ARGV[1], ARGV[2], tonumber(ARGV[3]), tonumber(ARGV[4])
redis.call('ZREMRANGEBYSCORE', key, '-inf', now)
if redis.call('ZCARD', key) >= limit then return 0 end
redis.call('ZADD', key, now + ttl, id)
return 1
`;

/** ARGV: ttlMs, then key, leaseId pairs. Extends the leases still held (XX: an expired one stays gone). */
const RENEW = `${NOW}
local ttl = tonumber(ARGV[1])
local renewed = 0
for i = 2, #ARGV, 2 do renewed = renewed + redis.call('ZADD', ARGV[i], 'XX', 'CH', now + ttl, ARGV[i + 1]) end
return renewed
`;

/** How long an acquire may wait for Redis before the invoke is admitted without a lease. */
const ACQUIRE_TIMEOUT_MS = 2_000;

export class ClusterSemaphore implements AdmissionGate {
  readonly #redis: Redis;
  readonly #prefix: string;
  readonly #cluster: string;
  readonly #ttlMs: number;
  readonly #concurrency: number;
  #registry: FunctionRegistry | undefined;
  /** Leases held by this member: id → key. */
  readonly #held = new Map<string, string>();
  readonly #timer: NodeJS.Timeout;
  #warned = false;

  constructor(redis: Redis, prefix: string, cluster: string, ttlMs: number, concurrency: number) {
    this.#redis = redis;
    this.#prefix = prefix;
    this.#cluster = cluster;
    this.#ttlMs = ttlMs;
    this.#concurrency = concurrency;
    this.#timer = setInterval(() => void this.#renew(), Math.max(1, Math.floor(ttlMs / 3)));
    this.#timer.unref();
  }

  /** The registry reservations are read from (set when the member attaches to its runtime). */
  attach(registry: FunctionRegistry): void {
    this.#registry = registry;
  }

  /** Leases this member holds now. */
  get held(): number {
    return this.#held.size;
  }

  /**
   * Takes a lease for one invocation of `fn`; resolves with its release (call it exactly once).
   * @throws TooManyRequestsException when the cluster is at the function's reserved concurrency or
   *   at the unreserved pool.
   */
  async acquire(fn: VersionRecord): Promise<() => void> {
    const name = fn.config.name;
    const reserved = this.#registry?.get(name)?.latest.config.reservedConcurrency ?? fn.config.reservedConcurrency;
    const key = reserved === undefined ? `${this.#prefix}conc:unreserved` : `${this.#prefix}conc:fn:${name}`;
    const limit = reserved ?? this.#unreserved();
    if (this.#redis.status !== 'ready') return this.#failOpen(`Redis is ${this.#redis.status}`);
    const id = randomUUID();
    let taken: unknown;
    try {
      taken = await withTimeout(this.#redis.eval(ACQUIRE, 0, key, id, String(this.#ttlMs), String(limit)), ACQUIRE_TIMEOUT_MS);
    } catch (error) {
      return this.#failOpen((error as Error).message);
    }
    this.#warned = false;
    if (taken !== 1) {
      if (reserved !== undefined) {
        throw new TooManyRequestsException(
          'ReservedFunctionConcurrentInvocationLimitExceeded',
          reserved === 0
            ? `Rate Exceeded. Function ${name} has reserved concurrency 0: every invoke is throttled.`
            : `Rate Exceeded. Function ${name} is at its reserved concurrency (${reserved}) across cluster ${this.#cluster}, shared by all its versions.`,
        );
      }
      throw new TooManyRequestsException(
        'ConcurrentInvocationLimitExceeded',
        `Rate Exceeded. The unreserved concurrency pool (${limit} of concurrency ${this.#concurrency}) is in use across cluster ${this.#cluster}.`,
      );
    }
    this.#held.set(id, key);
    let released = false;
    return () => {
      if (released) return;
      released = true;
      this.#held.delete(id);
      // Not awaited: the invocation's result does not wait for the bookkeeping. A release lost to
      // an outage expires with the lease's TTL.
      this.#redis.zrem(key, id).catch(() => {});
    };
  }

  /** Stops renewing and gives back every lease held. */
  async close(): Promise<void> {
    clearInterval(this.#timer);
    const held = [...this.#held];
    this.#held.clear();
    if (this.#redis.status !== 'ready') return;
    await Promise.all(held.map(([id, key]) => this.#redis.zrem(key, id).catch(() => 0)));
  }

  #unreserved(): number {
    let reserved = 0;
    for (const entry of this.#registry?.values() ?? []) reserved += entry.latest.config.reservedConcurrency ?? 0;
    return Math.max(0, this.#concurrency - reserved);
  }

  #failOpen(why: string): () => void {
    if (!this.#warned) {
      this.#warned = true;
      process.emitWarning(`lambdalet cluster ${this.#cluster}: the cluster-wide concurrency check is skipped while Redis cannot answer (${why}); each member's own limits still apply`, {
        code: 'LAMBDALET_CLUSTER_CONCURRENCY',
      });
    }
    return () => {};
  }

  async #renew(): Promise<void> {
    if (this.#held.size === 0 || this.#redis.status !== 'ready') return;
    const args: string[] = [String(this.#ttlMs)];
    for (const [id, key] of this.#held) args.push(key, id);
    await this.#redis.eval(RENEW, 0, ...args).catch(() => {});
  }
}

function withTimeout<T>(promise: Promise<T>, ms: number): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`no answer within ${ms} ms`)), ms);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}
