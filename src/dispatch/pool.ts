/**
 * One function's pool: its warm idle environments (most recently used last), its provisioned
 * environments, and the counters admission reads. A pool lives as long as its function name; a
 * redeploy starts a new generation (`configure`), and environments of an older generation are
 * disposed instead of reused.
 */
import type { TokenBucket } from './token-bucket.ts';
import { FunctionCounters } from './metrics.ts';
import { TenantTable } from './tenants.ts';

/** What the dispatcher needs of an environment. */
export interface PooledEnvironment {
  /** `ready` when it may serve another invocation; anything else after a use means discard it. */
  readonly state: string;
  /** Frees the sandbox; may be called on a busy environment (the invocation then fails). */
  dispose(): void;
  /** Bytes held in the host's memory beside the sandbox (a memory-backed /tmp, fetch bodies). */
  hostBytes?(): number;
  /** Set by the dispatcher: asked before a memory-backed /tmp or fetch bodies grow, with what hostBytes() would then be. */
  setHostRoom?(room: ((bytes: number) => boolean) | undefined): void;
}

/** The limits of one function version, from its config. */
export interface PoolConfig {
  readonly memoryMb: number;
  /**
   * The function's reservation, shared by all its versions (its ConcurrencyGroup). Read only from
   * the function's own pool (the one named without `:version`); a version's pool leaves it
   * undefined. Undefined there: the function shares the unreserved pool.
   */
  readonly reservedConcurrency: number | undefined;
  readonly provisionedConcurrency: number;
  /**
   * Tenant isolation (`tenancy: { isolationMode: 'PER_TENANT' }`): every environment belongs to the
   * tenant it was started for and serves only that tenant. Default false.
   */
  readonly perTenant?: boolean;
}

/**
 * One environment's place in the pool, and the handle an admitted invocation holds. While an
 * invocation holds it (`busy`), nothing else can get the environment: one invocation per
 * environment, always. `env` is undefined until a cold start has booted it.
 */
export class Lease<E extends PooledEnvironment, T> {
  env: E | undefined = undefined;
  /** What the generation that made this environment deployed (the runtime's function record). */
  readonly target: T;
  readonly pool: FunctionPool<E, T>;
  readonly generation: number;
  readonly memoryMb: number;
  readonly provisioned: boolean;
  /** Tenant isolation: the only tenant this environment serves (undefined for other functions). */
  readonly tenantId: string | undefined;
  /** The current invocation started this environment. */
  coldStart = true;
  /**
   * An invocation renewed it (Dispatcher.renew): its environment had served, so a provisioned one
   * that dies from here on is replaced even though `coldStart` is true (its INIT did not fail).
   */
  renewed = false;
  busy = false;
  /** The current invocation counts against the unreserved pool. */
  unreserved = false;
  /** When it last became idle (clock ms). */
  lastUsed = 0;
  /** MB its environment holds in the host's memory beside the sandbox, as last counted (PooledEnvironment.hostBytes). */
  hostMb = 0;
  dead = false;

  constructor(pool: FunctionPool<E, T>, target: T, generation: number, memoryMb: number, provisioned: boolean, tenantId?: string) {
    this.pool = pool;
    this.tenantId = tenantId;
    this.target = target;
    this.generation = generation;
    this.memoryMb = memoryMb;
    this.provisioned = provisioned;
  }
}

/**
 * One function's versions together: Lambda's reserved concurrency "applies to the function as a
 * whole, including all published versions and the unpublished version" (PutFunctionConcurrency,
 * API reference). Pools are keyed `function` ($LATEST) or `function:version`; the group is the part
 * before the colon.
 */
export class ConcurrencyGroup {
  readonly name: string;
  /** The function's reservation ($LATEST's pool config); undefined: none. */
  reserved: number | undefined = undefined;
  /** Invocations running in any of its pools. */
  active = 0;
  readonly pools = new Set<FunctionPool<PooledEnvironment, unknown>>();

  constructor(name: string) {
    this.name = name;
  }

  /** Σ provisioned concurrency of its pools. */
  get provisioned(): number {
    let sum = 0;
    for (const pool of this.pools) sum += pool.config.provisionedConcurrency;
    return sum;
  }

  /** Slots held out of the account limit: the reservation, or else every version's provisioned concurrency. */
  get guaranteed(): number {
    return this.reserved ?? this.provisioned;
  }
}

/** The group a pool key belongs to: `orders:3` → `orders`. */
export function groupName(poolName: string): string {
  const colon = poolName.indexOf(':');
  return colon < 0 ? poolName : poolName.slice(0, colon);
}

export class FunctionPool<E extends PooledEnvironment, T> {
  readonly name: string;
  /** The function this pool is a version of; shares its reservation. */
  readonly group: ConcurrencyGroup;
  config: PoolConfig;
  target: T;
  generation = 0;
  /** On-demand idle environments, least recently used first. */
  readonly idle: Lease<E, T>[] = [];
  /** Provisioned idle environments (never reaped, never evicted). */
  readonly provisionedIdle: Lease<E, T>[] = [];
  /** Leases held by invocations (cold starts still booting included). */
  readonly busy = new Set<Lease<E, T>>();
  /** Running invocations: `active - unreservedActive` of them use guaranteed slots. */
  active = 0;
  unreservedActive = 0;
  provisionedActive = 0;
  /** Live provisioned environments of this generation (booting, idle or busy). */
  provisionedLive = 0;
  /** Environments being booted for provisioned concurrency. */
  provisioning = 0;
  readonly bucket: TokenBucket;
  readonly counters = new FunctionCounters();
  /** Tenant isolation: live environments (busy, idle or starting), Lambda's "tenant-aware execution environments". */
  tenantEnvironments = 0;
  /** Tenant isolation: per-tenant figures, by tenant id, bounded (tenants.ts). */
  readonly tenants = new TenantTable();
  /** Boots a provisioned environment; set by the first provision(). */
  create: (() => Promise<E>) | undefined = undefined;

  constructor(name: string, config: PoolConfig, target: T, bucket: TokenBucket, group: ConcurrencyGroup) {
    this.name = name;
    this.group = group;
    this.config = config;
    this.target = target;
    this.bucket = bucket;
  }
}
