/**
 * Tenant isolation in the dispatcher (Lambda's tenant isolation mode): an environment serves only
 * the tenant it was started for and is reused for it; tenant-aware environments (active or idle)
 * are limited to 2,500 per 1,000 of the function's concurrency, past which an invoke is
 * TooManyRequestsException "Rate exceeded" (tenant-isolation-troubleshooting.html); per-tenant metrics.
 */
import { describe, expect, it } from 'vitest';
import { TENANT_ENVIRONMENTS_PER_1000_CONCURRENCY } from '../../src/dispatch/index.ts';
import { TooManyRequestsException } from '../../src/errors.ts';
import { FakeEnv, pool, report, setup, type TestDispatcher, type TestLease, type TestPool } from './helpers.ts';

function takeFor(d: TestDispatcher, p: TestPool, tenantId: string): TestLease {
  const lease = d.acquire(p, 0, tenantId);
  if (lease instanceof Promise) throw new Error('expected a synchronous lease');
  if (lease.env === undefined) d.attach(lease, new FakeEnv(`${p.name}/${tenantId}`));
  return lease;
}

describe('Dispatcher: tenant isolation', () => {
  it('an environment serves only its tenant and is reused for it (most recently used first)', () => {
    const { d } = setup({ concurrency: 10 });
    const p = pool(d, 't', { perTenant: true });
    const blue = takeFor(d, p, 'blue');
    d.release(blue, report(1));
    // Green finds blue's idle environment and may not take it: a cold start of its own.
    const green = takeFor(d, p, 'green');
    expect(green.coldStart).toBe(true);
    expect(green.env).not.toBe(blue.env);
    d.release(green, report(1));
    const blueAgain = takeFor(d, p, 'blue');
    expect(blueAgain.coldStart).toBe(false);
    expect(blueAgain.env).toBe(blue.env);
    expect(blueAgain.tenantId).toBe('blue');
    // A second concurrent blue invoke needs a second blue environment.
    const blueTwo = takeFor(d, p, 'blue');
    expect(blueTwo.coldStart).toBe(true);
    expect(blueTwo.tenantId).toBe('blue');
    d.release(blueAgain, report(1));
    d.release(blueTwo, report(1));
    expect(d.metrics().functions[0]!.tenancy!.environments).toBe(3);
  });

  it('functions without tenancy keep plain MRU reuse, whatever is passed', () => {
    const { d } = setup({ concurrency: 10 });
    const p = pool(d, 'plain');
    const a = takeFor(d, p, 'ignored');
    d.release(a, report(1));
    const b = d.acquire(p) as TestLease;
    expect(b.env).toBe(a.env);
    expect(b.tenantId).toBeUndefined();
    expect(d.metrics().functions[0]!.tenancy).toBeUndefined();
  });

  it(`limit: ${TENANT_ENVIRONMENTS_PER_1000_CONCURRENCY} environments per 1,000 of concurrency — at, under and over; idle ones count`, () => {
    // concurrency 2 → floor(2500 × 2 / 1000) = 5 tenant environments.
    const { d } = setup({ concurrency: 2 });
    const p = pool(d, 't', { perTenant: true });
    expect(d.tenantEnvironmentLimit(p)).toBe(5);
    for (let i = 0; i < 4; i++) d.release(takeFor(d, p, `tenant-${i}`), report(1));
    // Just under: the 5th tenant gets its environment.
    d.release(takeFor(d, p, 'tenant-4'), report(1));
    expect(d.metrics().functions[0]!.tenancy).toMatchObject({ environments: 5, environmentsMax: 5 });
    // At the limit: a 6th tenant is refused with Lambda's words, although every environment is idle.
    let error: unknown;
    try {
      void d.acquire(p, 0, 'tenant-5');
    } catch (caught) {
      error = caught;
    }
    expect(error).toBeInstanceOf(TooManyRequestsException);
    expect((error as Error).message).toBe('Rate exceeded');
    // A known tenant still reuses its idle environment.
    const known = takeFor(d, p, 'tenant-2');
    expect(known.coldStart).toBe(false);
    d.release(known, report(1));
    expect(d.metrics().functions[0]!.Throttles).toBe(1);
  });

  it('limit: the reservation is the function’s concurrency when it has one; reaped environments free room', () => {
    const { d, clock } = setup({ concurrency: 100, idleTtlMs: 1000 });
    const p = pool(d, 't', { perTenant: true, reservedConcurrency: 1 });
    expect(d.tenantEnvironmentLimit(p)).toBe(2);
    d.release(takeFor(d, p, 'a'), report(1));
    d.release(takeFor(d, p, 'b'), report(1));
    expect(() => d.acquire(p, 0, 'c')).toThrow('Rate exceeded');
    clock.advance(2000);
    expect(d.metrics().functions[0]!.tenancy!.environments).toBe(0);
    const c = takeFor(d, p, 'c');
    expect(c.coldStart).toBe(true);
    d.release(c, report(1));
  });

  it('a dead environment leaves its tenant (fatal outcome): the next invoke of the tenant cold-starts', () => {
    const { d } = setup({ concurrency: 10 });
    const p = pool(d, 't', { perTenant: true });
    const lease = takeFor(d, p, 'blue');
    lease.env!.fail();
    d.release(lease, report(1, true));
    expect(d.metrics().functions[0]!.tenancy!.environments).toBe(0);
    expect(takeFor(d, p, 'blue').coldStart).toBe(true);
  });

  it('per-tenant metrics: invocations, errors, cold starts, duration, GB-seconds and environments', () => {
    const { d } = setup({ concurrency: 10 });
    const p = pool(d, 't', { perTenant: true, memoryMb: 1024 });
    d.release(takeFor(d, p, 'blue'), report(10));
    d.release(takeFor(d, p, 'blue'), report(5, true));
    d.release(takeFor(d, p, 'green'), report(2));
    const tenants = d.metrics().functions[0]!.tenancy!.tenants;
    expect(tenants.blue).toEqual({ Invocations: 2, Errors: 1, ColdStarts: 1, DurationMs: 15, GBSeconds: 0.015, environments: 1 });
    expect(tenants.green).toEqual({ Invocations: 1, Errors: 0, ColdStarts: 1, DurationMs: 2, GBSeconds: 0.002, environments: 1 });
  });

  /** One invocation of `tenantId` whose environment then dies: the tenant has no environment left (retired). */
  function retire(d: TestDispatcher, p: TestPool, tenantId: string): void {
    const lease = takeFor(d, p, tenantId);
    lease.env!.fail();
    d.release(lease, report(1, true));
  }
  const tenantsOf = (d: TestDispatcher): Record<string, { Invocations: number; environments: number }> => d.metrics().functions[0]!.tenancy!.tenants;

  it('per-tenant metrics are bounded (issue #15): retired tenants, the limit’s worth most recently retired — under, at and over', () => {
    // concurrency 2 → 5 tenant environments, and 5 retired tenants kept.
    const { d } = setup({ concurrency: 2 });
    const p = pool(d, 't', { perTenant: true });
    for (let i = 0; i < 4; i++) retire(d, p, `tenant-${i}`);
    // Under: every retired tenant keeps its figures.
    expect(Object.keys(tenantsOf(d))).toEqual(['tenant-0', 'tenant-1', 'tenant-2', 'tenant-3']);
    // tenant-0 comes back (a cold start) and retires again: it keeps its figures and is now the most recent.
    retire(d, p, 'tenant-0');
    expect(tenantsOf(d)['tenant-0']).toMatchObject({ Invocations: 2, environments: 0 });
    // At: five retired tenants, all kept.
    retire(d, p, 'tenant-4');
    expect(Object.keys(tenantsOf(d)).sort()).toEqual(['tenant-0', 'tenant-1', 'tenant-2', 'tenant-3', 'tenant-4']);
    // Over: a sixth forgets the least recently retired (tenant-1), not tenant-0, retired again since.
    retire(d, p, 'tenant-5');
    expect(Object.keys(tenantsOf(d)).sort()).toEqual(['tenant-0', 'tenant-2', 'tenant-3', 'tenant-4', 'tenant-5']);
    expect(tenantsOf(d)['tenant-0']).toMatchObject({ Invocations: 2 });
    // A forgotten tenant that comes back starts again from zero; the function's own figures count everything.
    retire(d, p, 'tenant-1');
    expect(tenantsOf(d)['tenant-1']).toMatchObject({ Invocations: 1, environments: 0 });
    expect(d.metrics().functions[0]!.Invocations).toBe(8);
  });

  it('tenants with a live environment are never forgotten: at most 2 × the limit entries', () => {
    const { d } = setup({ concurrency: 2 });
    const p = pool(d, 't', { perTenant: true });
    for (let i = 0; i < 4; i++) d.release(takeFor(d, p, `live-${i}`), report(1)); // idle environments: live
    for (let i = 0; i < 7; i++) retire(d, p, `gone-${i}`); // through the fifth environment slot, one at a time
    const gone = (): string[] => Object.keys(tenantsOf(d)).filter((id) => id.startsWith('gone-')).sort();
    expect(Object.keys(tenantsOf(d))).toHaveLength(9);
    expect(gone()).toEqual(['gone-2', 'gone-3', 'gone-4', 'gone-5', 'gone-6']);
    // The fifth slot taken by a live tenant: 5 live + 5 retired, the bound.
    d.release(takeFor(d, p, 'live-4'), report(1));
    const tenants = tenantsOf(d);
    expect(Object.keys(tenants)).toHaveLength(2 * d.tenantEnvironmentLimit(p));
    for (let i = 0; i < 5; i++) expect(tenants[`live-${i}`]).toMatchObject({ Invocations: 1, environments: 1 });
    expect(gone()).toEqual(['gone-2', 'gone-3', 'gone-4', 'gone-5', 'gone-6']);
  });

  it("tenant ids named like Object.prototype's members (`__proto__`, `constructor`) are entries like any other", () => {
    const { d } = setup({ concurrency: 2 });
    const p = pool(d, 't', { perTenant: true });
    retire(d, p, '__proto__');
    retire(d, p, 'constructor');
    const tenants = tenantsOf(d);
    // An assignment `tenants['__proto__'] = ...` would have set the record's prototype, not an entry.
    expect(Object.getPrototypeOf(tenants)).toBe(Object.prototype);
    expect(Object.keys(tenants).sort()).toEqual(['__proto__', 'constructor']);
    expect(Object.getOwnPropertyDescriptor(tenants, '__proto__')?.value).toMatchObject({ Invocations: 1, environments: 0 });
    expect(Object.getOwnPropertyDescriptor(tenants, 'constructor')?.value).toMatchObject({ Invocations: 1, environments: 0 });
    expect(JSON.stringify(tenants)).toContain('"__proto__":{"Invocations":1');
  });

  it('memory: 100,000 distinct tenant ids (a client sending random ones) leave the store at its bound, not growing with them', () => {
    const { d, clock } = setup({ concurrency: 2 });
    const p = pool(d, 't', { perTenant: true });
    const sizes = new Set<number>();
    for (let i = 0; i < 100_000; i++) {
      if (i % 1000 === 0) clock.advance(1000); // the scale-up rate: 1,000 new environments a second
      retire(d, p, `random-${i}`);
      if (i >= 5 && i % 10_000 === 0) sizes.add(p.tenants.size);
    }
    // Past the first five, the store holds exactly the five most recently retired, whatever the count.
    expect([...sizes]).toEqual([5]);
    expect(p.tenants.size).toBe(5);
    expect(Object.keys(tenantsOf(d)).sort()).toEqual(['random-99995', 'random-99996', 'random-99997', 'random-99998', 'random-99999']);
    expect(d.metrics().functions[0]!.Invocations).toBe(100_000);
  });
});
