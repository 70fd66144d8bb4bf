/**
 * Per-tenant figures of one tenant-isolation pool, bounded (issue #15: one entry per tenant id ever
 * seen, so a client sending random tenant ids grew the host's memory without end).
 *
 * A tenant with a live environment (busy, idle or starting) always has its entry; there are at most
 * the pool's tenant environment limit of those (2,500 per 1,000 of the function's concurrency, the
 * limit the dispatcher enforces). A tenant whose last environment has gone is retired: its entry is
 * kept among the most recently retired, at most as many as that same limit, and the least recently
 * retired is forgotten past it. So the table holds at most twice the limit. A retired tenant that
 * comes back keeps its figures; a forgotten one starts again from zero (the function's own figures
 * count every invocation either way).
 */
import type { TenantCounters } from './metrics.ts';

export class TenantTable {
  readonly #entries = new Map<string, TenantCounters>();
  /** Tenants without an environment, least recently retired first (a Set keeps insertion order). */
  readonly #retired = new Set<string>();

  /** Tenants with an entry now. */
  get size(): number {
    return this.#entries.size;
  }

  /** Retired tenants with an entry now (no environment). */
  get retired(): number {
    return this.#retired.size;
  }

  /** The tenant's counters, made (at zero) if it has none. Call {@link settle} after changing them. */
  counters(tenantId: string): TenantCounters {
    let counters = this.#entries.get(tenantId);
    if (counters === undefined) {
      counters = { invocations: 0, errors: 0, coldStarts: 0, durationMs: 0, gbSeconds: 0, environments: 0 };
      this.#entries.set(tenantId, counters);
    }
    return counters;
  }

  /**
   * After the tenant's counters changed: a tenant with an environment is live; one without is
   * (again) the most recently retired, and past `retiredMax` retired tenants the least recent is
   * forgotten.
   */
  settle(tenantId: string, retiredMax: number): void {
    const counters = this.#entries.get(tenantId);
    this.#retired.delete(tenantId);
    if (counters === undefined || counters.environments > 0) return;
    this.#retired.add(tenantId);
    for (const oldest of this.#retired) {
      if (this.#retired.size <= retiredMax) break;
      this.#retired.delete(oldest);
      this.#entries.delete(oldest);
    }
  }

  entries(): IterableIterator<[string, TenantCounters]> {
    return this.#entries.entries();
  }
}
