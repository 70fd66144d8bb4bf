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
});
