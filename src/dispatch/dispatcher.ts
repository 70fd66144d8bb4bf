/**
 * Admission control across all functions, and the warm pools behind it.
 *
 * An invoke is admitted when (1) the account has a free slot (`concurrency`), (2) its function is
 * under its reservation — or, without one, under its provisioned concurrency or else the
 * unreserved pool has room — and (3) it gets an environment: a provisioned idle one, else the most
 * recently used warm one, else a new one, which needs a scale-up token and room in the memory
 * budget (idle environments of any function are evicted, least recently used first, to make it).
 * Otherwise it is throttled (TooManyRequestsException) or, when the caller asked, waits in a
 * bounded FIFO and is admitted by the first release that makes room.
 *
 * The warm path (capacity free, an idle environment there) is synchronous and allocation-free: no
 * queue, no promise, no timer. Everything that involves time reads the injected Clock.
 */
import PQueue from 'p-queue';
import { InvalidParameterValueException, RuntimeClosedError, TooManyRequestsException, type ThrottleReason } from '../errors.ts';
import { minUnreservedConcurrency, type RuntimeOptions } from '../config/index.ts';
import { systemClock, type Clock, type TimerHandle } from './clock.ts';
import type { FunctionMetrics, InvocationReport, RuntimeMetrics, TenantCounters, TenantMetrics } from './metrics.ts';
import { ConcurrencyGroup, FunctionPool, groupName, Lease, type PoolConfig, type PooledEnvironment } from './pool.ts';
import { TokenBucket } from './token-bucket.ts';

/** The runtime options the dispatcher enforces (documented on RuntimeOptions), and a clock. */
export interface DispatcherOptions
  extends Pick<RuntimeOptions, 'concurrency' | 'memoryBudgetMb' | 'idleTtlMs' | 'scaleUpRate' | 'scaleUpBurst' | 'maxQueueLength'> {
  /** Time source; the system clock unless a test gives one. */
  readonly clock?: Clock;
}

/** Boots and initialises one environment for provisioned concurrency. */
export type CreateEnvironment<E> = () => Promise<E>;

/** How many provisioned environments boot at once (INIT may wait on I/O; boots are CPU work). */
const PROVISION_PARALLELISM = 4;
/** The idle reaper checks every ttl / 4 (an environment lives at most 1.25 × ttl idle), within these bounds. */
const REAP_INTERVAL_MIN_MS = 1;
const REAP_INTERVAL_MAX_MS = 10_000;

/** Why the last admission failed; turned into an exception only when the invoke is throttled. */
const REFUSAL = {
  account: 0,
  unreserved: 1,
  reserved: 2,
  scaleUp: 3,
  memory: 4,
  tenants: 5,
} as const;

/**
 * Lambda's limit on tenant-aware environments (active or idle): 2,500 for every 1,000 of the
 * function's concurrency (tenant-isolation-troubleshooting.html, TooManyRequestsException).
 */
export const TENANT_ENVIRONMENTS_PER_1000_CONCURRENCY = 2_500;
type Refusal = (typeof REFUSAL)[keyof typeof REFUSAL];

interface Waiter<E extends PooledEnvironment, T> {
  readonly pool: FunctionPool<E, T>;
  readonly tenantId: string | undefined;
  readonly resolve: (lease: Lease<E, T>) => void;
  readonly reject: (error: Error) => void;
  timer: TimerHandle;
  refusal: Refusal;
}

const MIB = 1024 * 1024;

export class Dispatcher<E extends PooledEnvironment, T> {
  readonly #options: DispatcherOptions;
  readonly #clock: Clock;
  readonly #minUnreserved: number;
  readonly #pools = new Map<string, FunctionPool<E, T>>();
  /** Each function's versions' pools and the reservation they share, by function name. */
  readonly #groups = new Map<string, ConcurrencyGroup>();
  #active = 0;
  #activeMax = 0;
  #unreservedActive = 0;
  #unreservedMax = 0;
  /** Σ of every function's guaranteed slots (its reservation, or else its versions' provisioned concurrency). */
  #guaranteed = 0;
  #liveMb = 0;
  /** MB live environments hold in the host's memory beside their sandboxes (Lease.hostMb summed). */
  #hostMb = 0;
  #liveEnvironments = 0;
  #provisionedLiveMb = 0;
  /** Σ provisionedConcurrency × memoryMb of current generations: kept free for provisioned environments. */
  #provisionedReserveMb = 0;
  #waiters: Waiter<E, T>[] = [];
  #refusal: Refusal = REFUSAL.account;
  #refusalRetryMs = 0;
  #reaper: TimerHandle = undefined;
  #pumpTimer: TimerHandle = undefined;
  #closed = false;
  #closing: Promise<number> | undefined;
  #drained: (() => void) | undefined;
  /** Provisioned environments being booted, and the boots themselves (close waits for them). */
  readonly #booting = new Set<Lease<E, T>>();
  readonly #boots = new Set<Promise<void>>();
  #evictions = 0;
  #reaped = 0;

  constructor(options: DispatcherOptions) {
    this.#options = options;
    this.#clock = options.clock ?? systemClock;
    this.#minUnreserved = minUnreservedConcurrency(options.concurrency);
  }

  /** The unreserved pool: what reservations (and provisioned concurrency of unreserved functions) leave. */
  get #unreservedPool(): number {
    return this.#options.concurrency - this.#guaranteed;
  }

  /**
   * Creates a function version's pool, or starts a new generation of it on redeploy: idle
   * environments of the old code are disposed now, busy ones when their invocation ends. Pools
   * keyed `name` and `name:version` share one ConcurrencyGroup; the `name` pool's
   * `reservedConcurrency` is the group's reservation. Checks the account rules first and changes
   * nothing when they fail.
   * @throws InvalidParameterValueException (Lambda's words) when the reservations would leave less
   *   than the minimum unreserved, the versions' provisioned concurrency would exceed the
   *   reservation, or provisioned environments would not fit the memory budget.
   */
  configure(name: string, config: PoolConfig, target: T): FunctionPool<E, T> {
    if (this.#closed) throw new RuntimeClosedError();
    const pool = this.#pools.get(name);
    this.#checkLimits(name, pool, config);
    const group = this.#groupOf(name);
    this.#guaranteed -= group.guaranteed;
    if (pool === undefined) {
      const bucket = new TokenBucket(this.#options.scaleUpRate, this.#options.scaleUpBurst, this.#clock.now());
      const created = new FunctionPool<E, T>(name, config, target, bucket, group);
      this.#pools.set(name, created);
      group.pools.add(created);
      if (name === group.name) group.reserved = config.reservedConcurrency;
      this.#guaranteed += group.guaranteed;
      this.#provisionedReserveMb += config.provisionedConcurrency * config.memoryMb;
      this.#makeRoom(0);
      return created;
    }
    this.#provisionedReserveMb -= pool.config.provisionedConcurrency * pool.config.memoryMb;
    pool.config = config;
    pool.target = target;
    pool.generation += 1;
    pool.provisionedLive = 0;
    if (name === group.name) group.reserved = config.reservedConcurrency;
    this.#guaranteed += group.guaranteed;
    this.#provisionedReserveMb += config.provisionedConcurrency * config.memoryMb;
    for (const lease of pool.idle.splice(0)) this.#discard(lease);
    for (const lease of pool.provisionedIdle.splice(0)) this.#discard(lease);
    this.#makeRoom(0);
    if (this.#waiters.length > 0) this.#pump();
    return pool;
  }

  /**
   * Forgets a pool (its function or version was deleted): idle environments are disposed now,
   * busy ones when their invocation ends (their lease belongs to an older generation), and its
   * guaranteed slots go back to the unreserved pool. Its metrics disappear with it.
   */
  remove(pool: FunctionPool<E, T>): void {
    if (this.#pools.get(pool.name) !== pool) return;
    this.#pools.delete(pool.name);
    const group = pool.group;
    this.#guaranteed -= group.guaranteed;
    group.pools.delete(pool);
    if (pool.name === group.name) group.reserved = undefined;
    if (group.pools.size === 0) this.#groups.delete(group.name);
    else this.#guaranteed += group.guaranteed;
    this.#provisionedReserveMb -= pool.config.provisionedConcurrency * pool.config.memoryMb;
    pool.generation += 1;
    pool.provisionedLive = 0;
    pool.create = undefined;
    for (const lease of pool.idle.splice(0)) this.#discard(lease);
    for (const lease of pool.provisionedIdle.splice(0)) this.#discard(lease);
  }

  /**
   * Sets or removes a function's reservation (Lambda's PutFunctionConcurrency /
   * DeleteFunctionConcurrency) on its own pool `name`, without a new generation: its environments
   * stay. Invocations running over a lowered reservation finish; new ones wait for room.
   * @throws InvalidParameterValueException as {@link configure}; Error for an unknown pool (a bug).
   */
  reserve(name: string, reservedConcurrency: number | undefined): void {
    const pool = this.#pools.get(name);
    if (pool === undefined || pool.group.name !== name) throw new Error(`lambdalet bug: no function pool ${name}`);
    const config = { ...pool.config, reservedConcurrency };
    this.#checkLimits(name, pool, config);
    const group = pool.group;
    this.#guaranteed -= group.guaranteed;
    pool.config = config;
    group.reserved = reservedConcurrency;
    this.#guaranteed += group.guaranteed;
    if (this.#waiters.length > 0) this.#pump();
  }

  /** Throws what {@link configure} would throw for these limits, changing nothing. */
  check(name: string, config: PoolConfig): void {
    this.#checkLimits(name, this.#pools.get(name), config);
  }

  #groupOf(name: string): ConcurrencyGroup {
    const key = groupName(name);
    let group = this.#groups.get(key);
    if (group === undefined) this.#groups.set(key, (group = new ConcurrencyGroup(key)));
    return group;
  }

  #checkLimits(name: string, pool: FunctionPool<E, T> | undefined, config: PoolConfig): void {
    const { concurrency, memoryBudgetMb } = this.#options;
    const group = this.#groups.get(groupName(name));
    const own = name === groupName(name);
    const reserved = own ? config.reservedConcurrency : group?.reserved;
    const provisioned = (group?.provisioned ?? 0) - (pool?.config.provisionedConcurrency ?? 0) + config.provisionedConcurrency;
    const others = this.#guaranteed - (group?.guaranteed ?? 0);
    const available = concurrency - this.#minUnreserved - others;
    if ((reserved ?? provisioned) > available) {
      // Lambda's words: PutFunctionConcurrency (Reserved…) and PutProvisionedConcurrencyConfig
      // (Specified ConcurrentExecutions…) refused with InvalidParameterValueException.
      const field = reserved !== undefined ? 'reservedConcurrency' : 'provisionedConcurrency';
      throw new InvalidParameterValueException(
        field,
        `Specified ${reserved !== undefined ? 'ReservedConcurrentExecutions' : 'ConcurrentExecutions'} for function decreases account's ` +
          `UnreservedConcurrentExecution below its minimum value of [${this.#minUnreserved}].`,
      );
    }
    if (reserved !== undefined && provisioned > reserved) {
      // Lambda's words (LocalStack's AWS-validated provider): every version's provisioned concurrency counts against the reservation.
      throw new InvalidParameterValueException(
        own && pool !== undefined && config.reservedConcurrency !== pool.config.reservedConcurrency ? 'reservedConcurrency' : 'provisionedConcurrency',
        'Requested Provisioned Concurrency should not be greater than the reservedConcurrentExecution for function',
      );
    }
    const othersMb = this.#provisionedReserveMb - (pool ? pool.config.provisionedConcurrency * pool.config.memoryMb : 0);
    const fit = Math.floor((memoryBudgetMb - othersMb) / config.memoryMb);
    if (config.provisionedConcurrency > fit) {
      throw new InvalidParameterValueException(
        'provisionedConcurrency',
        `Expected \`provisionedConcurrency\` to be at most ${Math.max(0, fit)} (environments of ${config.memoryMb} MB that fit ` +
          `in memoryBudgetMb ${memoryBudgetMb} beside ${othersMb} MB provisioned by other functions), got ` +
          `\`${config.provisionedConcurrency}\` (number)`,
      );
    }
  }

  /**
   * Admits an invocation of `pool`'s function: a lease on a warm environment (`lease.env` set,
   * `coldStart` false) or on a new one the caller must boot and {@link attach}. Synchronous when
   * there is capacity; with `waitMs` > 0 and none, a promise that settles when a release makes
   * room or the wait ends. Every lease must be given back with {@link release}.
   * @throws TooManyRequestsException (returned as a rejection after a wait), RuntimeClosedError.
   */
  acquire(pool: FunctionPool<E, T>, waitMs = 0, tenantId?: string): Lease<E, T> | Promise<Lease<E, T>> {
    if (this.#closed) throw new RuntimeClosedError();
    const lease = this.#admit(pool, tenantId);
    if (lease !== undefined) return lease;
    if (waitMs > 0 && pool.group.reserved !== 0 && this.#waiters.length < this.#options.maxQueueLength) {
      return this.#wait(pool, waitMs, tenantId);
    }
    throw this.#throttle(pool, this.#refusal, this.#refusalRetryMs);
  }

  /**
   * The most invocations of function `name` (all its versions) the concurrency rules admit at once:
   * its reservation, else its provisioned concurrency and the unreserved pool. The asynchronous
   * layer runs no more attempts of a function than this, so those the dispatcher would only hold
   * waiting do not take the slots other functions' events need (issue #15).
   */
  concurrencyCeiling(name: string): number {
    const group = this.#groups.get(groupName(name));
    if (group?.reserved !== undefined) return group.reserved;
    return (group?.provisioned ?? 0) + this.#unreservedPool;
  }

  /**
   * The function's concurrency for the tenant limit: its reservation, else the account's limit.
   * Tenant environments allowed = floor(2,500 × that / 1,000).
   */
  tenantEnvironmentLimit(pool: FunctionPool<E, T>): number {
    const concurrency = pool.group.reserved ?? this.#options.concurrency;
    return Math.floor((TENANT_ENVIRONMENTS_PER_1000_CONCURRENCY * concurrency) / 1000);
  }

  #admit(pool: FunctionPool<E, T>, tenantId?: string): Lease<E, T> | undefined {
    const { config } = pool;
    let unreserved = false;
    const group = pool.group;
    if (group.reserved !== undefined) {
      if (group.active >= group.reserved) return this.#refuse(REFUSAL.reserved);
    } else if (pool.active - pool.unreservedActive >= config.provisionedConcurrency) {
      if (this.#unreservedActive >= this.#unreservedPool) return this.#refuse(REFUSAL.unreserved);
      unreserved = true;
    }
    // The rules above keep the total within the limit; this holds it while a redeploy shrinks a
    // reservation under invocations still running.
    if (this.#active >= this.#options.concurrency) return this.#refuse(REFUSAL.account);
    let lease = pool.config.perTenant ? this.#takeTenantIdle(pool, tenantId) : this.#takeIdle(pool);
    if (lease !== undefined) lease.coldStart = false;
    else {
      lease = this.#coldLease(pool, tenantId);
      if (lease === undefined) return undefined;
    }
    if (lease.busy) throw new Error(`lambdalet bug: environment of ${pool.name} handed to two invocations`);
    lease.busy = true;
    lease.unreserved = unreserved;
    pool.busy.add(lease);
    const counters = pool.counters;
    if (++pool.active > counters.concurrentMax) counters.concurrentMax = pool.active;
    group.active += 1;
    if (++this.#active > this.#activeMax) this.#activeMax = this.#active;
    if (unreserved) {
      pool.unreservedActive += 1;
      if (++this.#unreservedActive > this.#unreservedMax) this.#unreservedMax = this.#unreservedActive;
    }
    if (lease.provisioned) {
      pool.provisionedActive += 1;
      counters.provisionedInvocations += 1;
    } else if (config.provisionedConcurrency > 0) {
      counters.spilloverInvocations += 1;
    }
    if (lease.coldStart) counters.coldStarts += 1;
    return lease;
  }

  #coldLease(pool: FunctionPool<E, T>, tenantId: string | undefined): Lease<E, T> | undefined {
    const perTenant = pool.config.perTenant === true;
    if (perTenant && pool.tenantEnvironments >= this.tenantEnvironmentLimit(pool)) return this.#refuse(REFUSAL.tenants);
    const now = this.#clock.now();
    if (!pool.bucket.available(now)) {
      this.#refusalRetryMs = pool.bucket.msUntilToken(now);
      return this.#refuse(REFUSAL.scaleUp);
    }
    const memoryMb = pool.config.memoryMb;
    if (!this.#makeRoom(memoryMb)) return this.#refuse(REFUSAL.memory);
    pool.bucket.take();
    this.#liveMb += memoryMb;
    this.#liveEnvironments += 1;
    if (!perTenant) return new Lease<E, T>(pool, pool.target, pool.generation, memoryMb, false);
    pool.tenantEnvironments += 1;
    pool.tenants.counters(tenantId!).environments += 1;
    pool.tenants.settle(tenantId!, this.tenantEnvironmentLimit(pool));
    return new Lease<E, T>(pool, pool.target, pool.generation, memoryMb, false, tenantId);
  }

  #refuse(refusal: Refusal): undefined {
    this.#refusal = refusal;
    if (refusal !== REFUSAL.scaleUp) this.#refusalRetryMs = 0;
    return undefined;
  }

  /**
   * MB counted against the budget: on-demand environments plus the provisioned reserve (or more,
   * while old provisioned ones live), plus what live environments hold in host memory beside their sandboxes.
   */
  #usedMb(): number {
    return this.#liveMb - this.#provisionedLiveMb + Math.max(this.#provisionedReserveMb, this.#provisionedLiveMb) + this.#hostMb;
  }

  /** Evicts idle on-demand environments, least recently used first, until `memoryMb` more fits. */
  #makeRoom(memoryMb: number): boolean {
    const budget = this.#options.memoryBudgetMb;
    while (this.#usedMb() + memoryMb > budget) {
      let oldest: FunctionPool<E, T> | undefined;
      for (const pool of this.#pools.values()) {
        const candidate = pool.idle[0];
        if (candidate !== undefined && (oldest === undefined || candidate.lastUsed < oldest.idle[0]!.lastUsed)) oldest = pool;
      }
      if (oldest === undefined) return false;
      this.#discard(oldest.idle.shift()!);
      this.#evictions += 1;
    }
    return true;
  }

  /** Gives a booted environment to a cold lease. False when the runtime closed meanwhile: the environment was disposed. */
  attach(lease: Lease<E, T>, env: E): boolean {
    lease.env = env;
    if (lease.dead) {
      env.dispose();
      return false;
    }
    this.#countHost(lease, env);
    return true;
  }

  /**
   * The lease's environment died before its invocation's user code started (a neighbour's call got
   * the engine worker they shared terminated: invoke/run.ts): it is disposed, and the lease, still
   * holding its admission, becomes a cold one the caller boots a fresh environment for (a cold
   * start from then on, counted once). The invocation is neither admitted nor recorded twice.
   * False, changing nothing, when the lease was discarded meanwhile (the runtime closed).
   */
  renew(lease: Lease<E, T>): boolean {
    if (!lease.busy) throw new Error('lambdalet bug: renew of a lease that is not in use');
    if (lease.dead) return false;
    const env = lease.env;
    lease.env = undefined;
    env?.dispose();
    this.#hostMb -= lease.hostMb;
    lease.hostMb = 0;
    if (!lease.coldStart) {
      lease.coldStart = true;
      lease.pool.counters.coldStarts += 1;
    }
    lease.renewed = true;
    return true;
  }

  /**
   * An environment's host memory beside its sandbox (a memory-backed /tmp, fetch bodies) is
   * counted against the budget with its memoryMb (issue #15: four tenants' /tmp grew the host by
   * 2.1 GB under memoryBudgetMb 1024): recounted now and whenever its invocation ends, and /tmp and
   * fetch ask before they grow into another MiB — granted after evicting idle environments if need
   * be, refused (ENOSPC to the guest as a full disk; a failed fetch) when nothing idle is left to evict.
   */
  #countHost(lease: Lease<E, T>, env: E): void {
    this.#recountHost(lease);
    env.setHostRoom?.((bytes) => this.#growHost(lease, bytes));
  }

  /** Sets the lease's host MB to what its environment holds now. */
  #recountHost(lease: Lease<E, T>): void {
    const env = lease.env;
    if (lease.dead || env?.hostBytes === undefined) return;
    const mb = Math.ceil(env.hostBytes() / MIB);
    this.#hostMb += mb - lease.hostMb;
    lease.hostMb = mb;
  }

  /**
   * `lease`'s environment would hold `bytes` of host memory (its /tmp or its fetches grow): true when
   * that fits the budget (idle environments evicted to make room). A fetch can grow an idle
   * environment (a body still arriving after its invocation), which making room may evict itself.
   */
  #growHost(lease: Lease<E, T>, bytes: number): boolean {
    if (lease.dead) return false;
    const mb = Math.ceil(bytes / MIB);
    if (mb <= lease.hostMb) return true;
    if (!this.#makeRoom(mb - lease.hostMb) || lease.dead) return false;
    this.#hostMb += mb - lease.hostMb;
    lease.hostMb = mb;
    return true;
  }

  /**
   * Ends an invocation: the environment goes back to its pool (most recently used), or is
   * disposed when it died, belongs to an older deploy, the budget is over, or the runtime closed.
   * A waiting invoke that now fits is admitted.
   */
  release(lease: Lease<E, T>, report?: InvocationReport): void {
    if (!lease.busy) throw new Error('lambdalet bug: a lease was released twice');
    const pool = lease.pool;
    lease.busy = false;
    pool.busy.delete(lease);
    pool.active -= 1;
    pool.group.active -= 1;
    this.#active -= 1;
    if (lease.unreserved) {
      lease.unreserved = false;
      pool.unreservedActive -= 1;
      this.#unreservedActive -= 1;
    }
    if (lease.provisioned) pool.provisionedActive -= 1;
    if (report !== undefined) {
      pool.counters.record(report, lease.memoryMb);
      if (lease.tenantId !== undefined) {
        recordTenant(pool.tenants.counters(lease.tenantId), report, lease.memoryMb, lease.coldStart);
        pool.tenants.settle(lease.tenantId, this.tenantEnvironmentLimit(pool));
      }
    }
    this.#recountHost(lease);
    const env = lease.env;
    if (
      env === undefined ||
      lease.dead ||
      env.state !== 'ready' ||
      lease.generation !== pool.generation ||
      this.#closed ||
      (!lease.provisioned && this.#usedMb() > this.#options.memoryBudgetMb)
    ) {
      this.#discard(lease);
    } else {
      lease.lastUsed = this.#clock.now();
      if (lease.provisioned) pool.provisionedIdle.push(lease);
      else {
        pool.idle.push(lease);
        if (this.#reaper === undefined) this.#armReaper();
      }
    }
    if (this.#waiters.length > 0) this.#pump();
    else if (this.#drained !== undefined && this.#active === 0) this.#drained();
  }

  /** Records an invocation that needed no environment (a function whose code failed to bundle). */
  record(pool: FunctionPool<E, T>, report: InvocationReport): void {
    pool.counters.record(report, pool.config.memoryMb);
  }

  /** Disposes a lease's environment (if any) and frees its memory; a provisioned one that served is replaced. */
  /** A warm idle environment; one that ended while idle (its engine process died) is discarded, not handed out. */
  /**
   * Tenant isolation: the tenant's most recently used idle environment that is still ready, taken
   * out of the pool's idle list (which stays the one list the reaper and the memory budget walk).
   */
  #takeTenantIdle(pool: FunctionPool<E, T>, tenantId: string | undefined): Lease<E, T> | undefined {
    for (;;) {
      const lease = takeTenantIdle(pool, tenantId);
      if (lease?.env === undefined || lease.env.state === 'ready') return lease;
      this.#discard(lease);
    }
  }

  #takeIdle(pool: FunctionPool<E, T>): Lease<E, T> | undefined {
    for (;;) {
      const lease = pool.provisionedIdle.pop() ?? pool.idle.pop();
      if (lease?.env === undefined || lease.env.state === 'ready') return lease;
      this.#discard(lease);
    }
  }

  #discard(lease: Lease<E, T>): void {
    if (lease.dead) return;
    lease.dead = true;
    lease.env?.dispose();
    this.#liveMb -= lease.memoryMb;
    this.#hostMb -= lease.hostMb;
    this.#liveEnvironments -= 1;
    if (lease.tenantId !== undefined) {
      lease.pool.tenantEnvironments -= 1;
      lease.pool.tenants.counters(lease.tenantId).environments -= 1;
      lease.pool.tenants.settle(lease.tenantId, this.tenantEnvironmentLimit(lease.pool));
    }
    if (!lease.provisioned) return;
    this.#provisionedLiveMb -= lease.memoryMb;
    const pool = lease.pool;
    if (lease.generation !== pool.generation) return;
    pool.provisionedLive -= 1;
    // An environment that served and then died (timeout, out of memory) is replaced, as Lambda
    // keeps provisioned concurrency allocated; one whose INIT failed is not (it would fail again).
    // A renewed lease (renew: its environment served, then died before an invocation started)
    // counts as one that served, whatever its fresh environment did: else a neighbour's stuck call
    // took a provisioned environment away for good.
    if (!this.#closed && (lease.renewed || (lease.env !== undefined && !lease.coldStart)) && pool.create !== undefined) {
      void this.provision(pool, pool.create);
    }
  }

  /**
   * Boots and initialises environments until the function has its provisioned concurrency
   * (at most PROVISION_PARALLELISM at a time). Resolves when they are ready; environments whose
   * INIT fails are discarded and not retried (their invokes spill over and report the INIT error).
   */
  async provision(pool: FunctionPool<E, T>, create: CreateEnvironment<E>): Promise<void> {
    pool.create = create;
    const missing = pool.config.provisionedConcurrency - pool.provisionedLive;
    if (missing <= 0 || this.#closed) return;
    const queue = new PQueue({ concurrency: PROVISION_PARALLELISM });
    for (let i = 0; i < missing; i++) {
      const lease = new Lease<E, T>(pool, pool.target, pool.generation, pool.config.memoryMb, true);
      pool.provisionedLive += 1;
      this.#liveMb += lease.memoryMb;
      this.#liveEnvironments += 1;
      this.#provisionedLiveMb += lease.memoryMb;
      const boot = queue.add(() => this.#bootProvisioned(lease, create));
      this.#boots.add(boot);
      void boot.finally(() => this.#boots.delete(boot));
    }
    await queue.onIdle();
  }

  async #bootProvisioned(lease: Lease<E, T>, create: CreateEnvironment<E>): Promise<void> {
    if (this.#closed || lease.dead) return this.#discard(lease);
    const started = this.#clock.now();
    this.#booting.add(lease);
    let env: E;
    try {
      env = await create();
    } catch {
      this.#discard(lease);
      return;
    } finally {
      this.#booting.delete(lease);
    }
    lease.env = env;
    // Discarded while booting (the runtime closed): dispose what arrived.
    if (lease.dead) return env.dispose();
    this.#countHost(lease, env);
    lease.pool.counters.initDuration.record(this.#clock.now() - started);
    if (env.state !== 'ready' || lease.generation !== lease.pool.generation || this.#closed) {
      this.#discard(lease);
      return;
    }
    lease.coldStart = false;
    lease.lastUsed = this.#clock.now();
    lease.pool.provisionedIdle.push(lease);
    if (this.#waiters.length > 0) this.#pump();
  }

  // ---- waiting ------------------------------------------------------------------------------

  #wait(pool: FunctionPool<E, T>, waitMs: number, tenantId: string | undefined): Promise<Lease<E, T>> {
    return new Promise<Lease<E, T>>((resolve, reject) => {
      const waiter: Waiter<E, T> = { pool, tenantId, resolve, reject, timer: undefined, refusal: this.#refusal };
      waiter.timer = this.#clock.setTimeout(() => this.#expire(waiter), waitMs, false);
      this.#waiters.push(waiter);
      if (this.#refusal === REFUSAL.scaleUp) this.#schedulePump(this.#refusalRetryMs);
    });
  }

  #expire(waiter: Waiter<E, T>): void {
    const index = this.#waiters.indexOf(waiter);
    if (index < 0) return;
    this.#waiters.splice(index, 1);
    waiter.reject(this.#throttle(waiter.pool, waiter.refusal, 0));
  }

  /** Admits waiters in arrival order; one that still does not fit does not block those behind it. */
  #pump(): void {
    let retryMs = Infinity;
    for (let i = 0; i < this.#waiters.length; ) {
      if (this.#active >= this.#options.concurrency) break;
      const waiter = this.#waiters[i]!;
      const lease = this.#admit(waiter.pool, waiter.tenantId);
      if (lease === undefined) {
        waiter.refusal = this.#refusal;
        if (this.#refusal === REFUSAL.scaleUp) retryMs = Math.min(retryMs, this.#refusalRetryMs);
        i += 1;
        continue;
      }
      this.#waiters.splice(i, 1);
      this.#clock.clearTimeout(waiter.timer);
      waiter.resolve(lease);
    }
    if (retryMs < Infinity) this.#schedulePump(retryMs);
  }

  #schedulePump(ms: number): void {
    if (this.#pumpTimer !== undefined) return;
    this.#pumpTimer = this.#clock.setTimeout(
      () => {
        this.#pumpTimer = undefined;
        if (this.#waiters.length > 0) this.#pump();
      },
      Math.max(1, ms),
      false,
    );
  }

  #throttle(pool: FunctionPool<E, T>, refusal: Refusal, retryMs: number): TooManyRequestsException {
    pool.counters.throttles += 1;
    // Lambda's words for the tenant limit, exactly (tenant-isolation-troubleshooting.html).
    if (refusal === REFUSAL.tenants) return new TooManyRequestsException('ConcurrentInvocationLimitExceeded', 'Rate exceeded');
    const { concurrency, memoryBudgetMb, scaleUpRate, scaleUpBurst } = this.#options;
    let reason: ThrottleReason = 'ConcurrentInvocationLimitExceeded';
    let detail: string;
    switch (refusal) {
      case REFUSAL.reserved:
        reason = 'ReservedFunctionConcurrentInvocationLimitExceeded';
        detail =
          pool.group.reserved === 0
            ? `Function ${pool.group.name} has reserved concurrency 0: every invoke is throttled.`
            : `Function ${pool.group.name} is at its reserved concurrency (${pool.group.reserved}), shared by all its versions.`;
        break;
      case REFUSAL.unreserved:
        detail = `The unreserved concurrency pool (${this.#unreservedPool} of concurrency ${concurrency}) is in use.`;
        break;
      case REFUSAL.scaleUp:
        detail = `Function ${pool.name} may start at most ${scaleUpRate} new environments per second (burst ${scaleUpBurst}).`;
        break;
      case REFUSAL.memory:
        detail = `The memory budget (${memoryBudgetMb} MB) is taken by busy and provisioned environments and what they hold in host memory (/tmp, unread fetch bodies).`;
        break;
      default:
        detail = `The runtime is at its concurrency limit (${concurrency}).`;
    }
    return new TooManyRequestsException(reason, `Rate Exceeded. ${detail}`, retryMs > 0 ? { retryAfterSeconds: Math.ceil(retryMs / 1000) } : undefined);
  }

  // ---- idle reaping -------------------------------------------------------------------------

  #armReaper(): void {
    if (this.#closed) return;
    const interval = Math.min(REAP_INTERVAL_MAX_MS, Math.max(REAP_INTERVAL_MIN_MS, Math.floor(this.#options.idleTtlMs / 4)));
    this.#reaper = this.#clock.setTimeout(
      () => {
        this.#reaper = undefined;
        this.reap();
        for (const pool of this.#pools.values()) {
          if (pool.idle.length > 0) return this.#armReaper();
        }
      },
      interval,
      true,
    );
  }

  /** Disposes on-demand environments idle for `idleTtlMs` or longer; returns how many. */
  reap(): number {
    const cutoff = this.#clock.now() - this.#options.idleTtlMs;
    let reaped = 0;
    for (const pool of this.#pools.values()) {
      while (pool.idle.length > 0 && pool.idle[0]!.lastUsed <= cutoff) {
        this.#discard(pool.idle.shift()!);
        reaped += 1;
      }
    }
    this.#reaped += reaped;
    if (reaped > 0 && this.#waiters.length > 0) this.#pump();
    return reaped;
  }

  // ---- shutdown -----------------------------------------------------------------------------

  /**
   * Stops admitting (waiting invokes fail with RuntimeClosedError), disposes idle environments,
   * lets in-flight invocations finish for up to `graceMs`, then disposes every environment left.
   * Idempotent. Resolves to how many invocations were cut off at the deadline.
   */
  close(graceMs: number): Promise<number> {
    this.#closing ??= this.#close(graceMs);
    return this.#closing;
  }

  async #close(graceMs: number): Promise<number> {
    this.#closed = true;
    for (const waiter of this.#waiters.splice(0)) {
      this.#clock.clearTimeout(waiter.timer);
      waiter.reject(new RuntimeClosedError());
    }
    if (this.#pumpTimer !== undefined) this.#clock.clearTimeout(this.#pumpTimer);
    if (this.#reaper !== undefined) this.#clock.clearTimeout(this.#reaper);
    this.#pumpTimer = this.#reaper = undefined;
    for (const pool of this.#pools.values()) {
      for (const lease of pool.idle.splice(0)) this.#discard(lease);
      for (const lease of pool.provisionedIdle.splice(0)) this.#discard(lease);
    }
    if (this.#active > 0 && graceMs > 0) {
      await new Promise<void>((resolve) => {
        const timer = this.#clock.setTimeout(resolve, graceMs, false);
        this.#drained = () => {
          this.#clock.clearTimeout(timer);
          resolve();
        };
      });
      this.#drained = undefined;
    }
    // Provisioned environments still booting are disposed as they arrive; wait for that.
    for (const lease of this.#booting) this.#discard(lease);
    while (this.#boots.size > 0) await Promise.allSettled([...this.#boots]);
    // Past the deadline: dispose what is still busy (its invocation fails) or booting.
    let cutOff = 0;
    for (const pool of this.#pools.values()) {
      for (const lease of pool.busy) {
        cutOff += 1;
        this.#discard(lease);
      }
    }
    return cutOff;
  }

  get closed(): boolean {
    return this.#closed;
  }

  // ---- metrics ------------------------------------------------------------------------------

  metrics(): RuntimeMetrics {
    const functions: FunctionMetrics[] = [];
    for (const pool of this.#pools.values()) functions.push(functionMetrics(pool, this.tenantEnvironmentLimit(pool)));
    return {
      ConcurrentExecutions: this.#active,
      ConcurrentExecutionsMax: this.#activeMax,
      UnreservedConcurrentExecutions: this.#unreservedActive,
      UnreservedConcurrentExecutionsMax: this.#unreservedMax,
      concurrency: this.#options.concurrency,
      unreservedConcurrency: this.#unreservedPool,
      queued: this.#waiters.length,
      memoryUsedMb: this.#liveMb,
      memoryBudgetMb: this.#options.memoryBudgetMb,
      environments: this.#liveEnvironments,
      evictions: this.#evictions,
      reaped: this.#reaped,
      functions,
    };
  }
}

function functionMetrics<E extends PooledEnvironment, T>(pool: FunctionPool<E, T>, limit: number): FunctionMetrics {
  const c = pool.counters;
  const provisioned = pool.config.provisionedConcurrency;
  let starting = 0;
  for (const lease of pool.busy) if (lease.env === undefined) starting += 1;
  // A published version's pool is keyed `name:version` (a function name never holds a colon).
  const colon = pool.name.indexOf(':');
  return {
    functionName: colon < 0 ? pool.name : pool.name.slice(0, colon),
    version: colon < 0 ? '$LATEST' : pool.name.slice(colon + 1),
    Invocations: c.invocations,
    Errors: c.errors,
    Throttles: c.throttles,
    Duration: c.duration.stats(),
    ConcurrentExecutions: pool.active,
    ConcurrentExecutionsMax: c.concurrentMax,
    UnreservedConcurrentExecutions: pool.unreservedActive,
    ProvisionedConcurrentExecutions: pool.provisionedActive,
    ProvisionedConcurrencyUtilization: provisioned > 0 ? pool.provisionedActive / provisioned : 0,
    ProvisionedConcurrencyInvocations: c.provisionedInvocations,
    ProvisionedConcurrencySpilloverInvocations: c.spilloverInvocations,
    ColdStarts: c.coldStarts,
    InitDuration: c.initDuration.stats(),
    GBSeconds: c.gbSeconds,
    environments: {
      idle: pool.idle.length,
      busy: pool.busy.size - starting,
      provisioned: pool.provisionedLive,
      starting,
    },
    ...(pool.config.perTenant ? { tenancy: tenancyMetrics(pool, limit) } : {}),
    reservedConcurrency: pool.group.reserved,
    provisionedConcurrency: provisioned,
  };
}

function tenancyMetrics<E extends PooledEnvironment, T>(pool: FunctionPool<E, T>, limit: number): FunctionMetrics['tenancy'] {
  // Object.fromEntries defines own properties: a tenant named `__proto__` (its characters are
  // allowed) is an entry like any other, where an assignment would set the record's prototype.
  const tenants: Record<string, TenantMetrics> = Object.fromEntries(
    [...pool.tenants.entries()].map(([id, t]): [string, TenantMetrics] => [
      id,
      {
        Invocations: t.invocations,
        Errors: t.errors,
        ColdStarts: t.coldStarts,
        DurationMs: t.durationMs,
        GBSeconds: t.gbSeconds,
        environments: t.environments,
      },
    ]),
  );
  return { environments: pool.tenantEnvironments, environmentsMax: limit, tenants };
}

/**
 * Tenant isolation: the tenant's most recently used idle environment, taken out of the pool's idle
 * list (which stays the one list the reaper and the memory budget walk). Undefined: none idle.
 */
function takeTenantIdle<E extends PooledEnvironment, T>(pool: FunctionPool<E, T>, tenantId: string | undefined): Lease<E, T> | undefined {
  const idle = pool.idle;
  for (let i = idle.length - 1; i >= 0; i--) {
    if (idle[i]!.tenantId === tenantId) return idle.splice(i, 1)[0];
  }
  return undefined;
}

function recordTenant(counters: TenantCounters, report: InvocationReport, memoryMb: number, coldStart: boolean): void {
  counters.invocations += 1;
  if (report.error) counters.errors += 1;
  if (coldStart) counters.coldStarts += 1;
  counters.durationMs += report.durationMs;
  counters.gbSeconds += (report.billedDurationMs * memoryMb) / 1024 / 1000;
}
