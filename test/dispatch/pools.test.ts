import { describe, expect, it } from 'vitest';
import { DurationHistogram } from '../../src/dispatch/index.ts';
import { FakeEnv, pool, reasonOf, report, setup, take } from './helpers.ts';

describe('Dispatcher: warm pools', () => {
  it('MRU: the most recently used idle environment is reused first', () => {
    const { d, envs } = setup();
    const a = pool(d, 'a');
    const first = take(d, a, envs);
    const second = take(d, a, envs);
    d.release(first, report(1));
    d.release(second, report(1));
    expect(take(d, a).env).toBe(envs[1]);
    expect(take(d, a).env).toBe(envs[0]);
  });

  it('One invocation per environment: a busy environment is never handed out, a lease cannot be released twice', () => {
    const { d, envs } = setup();
    const a = pool(d, 'a');
    const leases = [take(d, a, envs), take(d, a, envs), take(d, a, envs)];
    expect(new Set(leases.map((l) => l.env)).size).toBe(3);
    d.release(leases[0]!, report(1));
    expect(() => d.release(leases[0]!, report(1))).toThrow(/released twice/);
  });

  it('Fatal outcome: a dead environment is disposed, not pooled; the next invoke cold-starts', () => {
    const { d, envs } = setup();
    const a = pool(d, 'a');
    const lease = take(d, a, envs);
    lease.env!.fail();
    d.release(lease, report(1, true));
    expect(envs[0]!.disposed).toBe(true);
    expect(take(d, a, envs).coldStart).toBe(true);
    expect(d.metrics().functions[0]).toMatchObject({ Invocations: 1, Errors: 1, ColdStarts: 2 });
  });

  it('Renew (issue #15): an environment that died before its invocation started is replaced in the same lease — admitted, counted and released once; a cold start from then on', () => {
    const { d, envs } = setup({ concurrency: 1 });
    const a = pool(d, 'a');
    d.release(take(d, a, envs), report(1));
    const lease = take(d, a, envs);
    expect(lease.coldStart).toBe(false);
    envs[0]!.fail();
    expect(d.renew(lease)).toBe(true);
    expect(envs[0]!.disposed).toBe(true);
    expect(lease.env).toBeUndefined();
    expect(lease.coldStart).toBe(true);
    // The slot stays taken (concurrency 1): nothing else is admitted meanwhile.
    expect(reasonOf(d, a)).toBe('ConcurrentInvocationLimitExceeded');
    const fresh = new FakeEnv('a');
    d.attach(lease, fresh);
    d.release(lease, report(1));
    expect(take(d, a).env).toBe(fresh);
    expect(d.metrics().functions[0]).toMatchObject({ Invocations: 2, Errors: 0, ColdStarts: 2 });
    // Only a lease in use; after close (its environment discarded) it changes nothing.
    const idle = lease;
    d.release(idle, report(1));
    expect(() => d.renew(idle)).toThrow(/not in use/);
    const busy = take(d, a);
    void d.close(0); // with no grace, busy leases are discarded before close() returns
    expect(d.renew(busy)).toBe(false);
  });

  it('Idle TTL: environments idle for idleTtlMs are reaped by an unref’d timer; scale to zero', () => {
    const { d, clock, envs } = setup({ idleTtlMs: 10_000 });
    const a = pool(d, 'a');
    const l1 = take(d, a, envs);
    const l2 = take(d, a, envs);
    d.release(l1, report(1));
    clock.advance(5_000);
    d.release(l2, report(1));
    expect(clock.pending().every((t) => t.unref)).toBe(true);
    clock.advance(5_000);
    expect(envs.map((e) => e.disposed)).toEqual([true, false]);
    clock.advance(5_000);
    expect(envs.map((e) => e.disposed)).toEqual([true, true]);
    expect(d.metrics()).toMatchObject({ environments: 0, reaped: 2 });
    clock.advance(60_000);
    expect(clock.pending()).toEqual([]); // the reaper stops when nothing is idle
  });

  it('Memory budget: evicts the least recently used idle environment of another function before throttling', () => {
    const { d, clock, envs } = setup({ memoryBudgetMb: 512 });
    const a = pool(d, 'a', { memoryMb: 128 });
    const b = pool(d, 'b', { memoryMb: 128 });
    const c = pool(d, 'c', { memoryMb: 256 });
    const la = take(d, a, envs);
    const lb = take(d, b, envs);
    d.release(la, report(1)); // a idle, older
    clock.advance(10);
    d.release(lb, report(1)); // b idle, newer
    const lc = take(d, c, envs); // 128 + 128 + 256 = 512: fits
    expect(envs.map((e) => e.disposed)).toEqual([false, false, false]);
    d.release(lc, report(1));
    clock.advance(10);
    const lc2 = take(d, c, envs); // warm: no memory needed
    expect(lc2.coldStart).toBe(false);
    take(d, c, envs); // another 256: evicts a (LRU) then b
    expect(envs.map((e) => e.disposed)).toEqual([true, true, false, false]);
    expect(d.metrics()).toMatchObject({ memoryUsedMb: 512, evictions: 2 });
    // Nothing idle left to evict: throttled.
    expect(reasonOf(d, a)).toBe('ConcurrentInvocationLimitExceeded');
  });

  it('Redeploy: idle environments of the old code are disposed at once, busy ones when they finish', () => {
    const { d, envs } = setup();
    const a = pool(d, 'a');
    const idle = take(d, a, envs);
    const busy = take(d, a, envs);
    d.release(idle, report(1));
    d.configure('a', { memoryMb: 128, reservedConcurrency: undefined, provisionedConcurrency: 0 }, 'a-v2');
    expect(envs.map((e) => e.disposed)).toEqual([true, false]);
    d.release(busy, report(1));
    expect(envs.map((e) => e.disposed)).toEqual([true, true]);
    const next = take(d, a, envs);
    expect(next.coldStart).toBe(true);
    expect(next.target).toBe('a-v2');
  });
});

describe('Dispatcher: provisioned concurrency', () => {
  it('Provisioned: N environments initialised ahead; invokes use them first, spillover is counted', async () => {
    const { d, envs } = setup({ concurrency: 20 });
    const a = pool(d, 'a', { provisionedConcurrency: 2 });
    await d.provision(a, async () => {
      const env = new FakeEnv('a');
      envs.push(env);
      return env;
    });
    expect(d.metrics().functions[0]).toMatchObject({ environments: { idle: 0, busy: 0, provisioned: 2, starting: 0 } });
    expect(d.metrics().functions[0]!.InitDuration.count).toBe(2);
    const p1 = take(d, a, envs);
    const p2 = take(d, a, envs);
    expect([p1.provisioned, p1.coldStart, p2.provisioned, p2.coldStart]).toEqual([true, false, true, false]);
    expect(d.metrics().functions[0]!.ProvisionedConcurrencyUtilization).toBe(1);
    const spill = take(d, a, envs);
    expect([spill.provisioned, spill.coldStart]).toEqual([false, true]);
    d.release(p1, report(1));
    expect(d.metrics().functions[0]).toMatchObject({
      ProvisionedConcurrentExecutions: 1,
      ProvisionedConcurrencyUtilization: 0.5,
      ProvisionedConcurrencyInvocations: 2,
      ProvisionedConcurrencySpilloverInvocations: 1,
      ColdStarts: 1,
      UnreservedConcurrentExecutions: 1,
    });
    // Provisioned environments are never reaped.
    expect(d.reap()).toBe(0);
  });

  it('Provisioned: one that dies in an invocation is replaced; one whose INIT failed is not', async () => {
    const { d, envs } = setup();
    const a = pool(d, 'a', { provisionedConcurrency: 1 });
    let initFails = false;
    const create = async () => {
      const env = new FakeEnv('a');
      if (initFails) env.state = 'dead';
      envs.push(env);
      return env;
    };
    await d.provision(a, create);
    const lease = take(d, a);
    lease.env!.fail();
    initFails = true;
    d.release(lease, report(1, true));
    await new Promise((r) => setImmediate(r));
    expect(envs.length).toBe(2);
    expect(d.metrics().functions[0]!.environments.provisioned).toBe(0);
    expect(envs[1]!.disposed).toBe(true);
  });

  it('Provisioned, renewed (issue #15): one whose invocation was renewed (its first environment died before the invocation started) and whose fresh environment then dies in it is replaced — it served; its INIT did not fail', async () => {
    const { d, envs } = setup();
    const a = pool(d, 'a', { provisionedConcurrency: 1 });
    const create = async () => {
      const env = new FakeEnv('a');
      envs.push(env);
      return env;
    };
    await d.provision(a, create);
    const lease = take(d, a);
    expect([lease.provisioned, lease.coldStart]).toEqual([true, false]);
    lease.env!.fail();
    expect(d.renew(lease)).toBe(true);
    const fresh = new FakeEnv('a');
    envs.push(fresh);
    d.attach(lease, fresh);
    // The invocation's run on the fresh environment ends it (a timeout, out of memory).
    fresh.fail();
    d.release(lease, report(1, true));
    await new Promise((r) => setImmediate(r));
    expect(envs.length).toBe(3);
    expect(envs[2]!.disposed).toBe(false);
    expect(d.metrics().functions[0]!.environments.provisioned).toBe(1);
    // The replacement serves warm.
    const next = take(d, a);
    expect([next.provisioned, next.coldStart, next.env]).toEqual([true, false, envs[2]]);
  });
});

describe('Metrics', () => {
  it('GB-seconds: billed ms × memoryMb / 1024 / 1000; Duration percentiles', () => {
    const { d } = setup();
    const a = pool(d, 'a', { memoryMb: 512 });
    for (let i = 1; i <= 100; i++) d.release(take(d, a), report(i));
    const m = d.metrics().functions[0]!;
    expect(m.GBSeconds).toBeCloseTo((5050 * 512) / 1024 / 1000, 10);
    expect(m.Duration.count).toBe(100);
    expect(m.Duration.p50).toBeCloseTo(50, 0);
    expect(m.Duration.p90).toBeCloseTo(90, 0);
    expect(m.Duration.p99).toBeCloseTo(99, 0);
    expect(m.Duration.max).toBe(100);
  });

  it('Histogram: percentiles within 1% over six orders of magnitude, fixed memory', () => {
    const h = new DurationHistogram();
    const values: number[] = [];
    for (let i = 0; i < 10_000; i++) values.push(0.001 * Math.pow(10, (6 * i) / 10_000));
    for (const v of values) h.record(v);
    values.sort((x, y) => x - y);
    for (const q of [0.5, 0.9, 0.99]) {
      const exact = values[Math.ceil(q * values.length) - 1]!;
      expect(Math.abs(h.percentile(q) - exact) / exact).toBeLessThan(0.01);
    }
    h.record(1e9); // past the last bucket: clamped, still counted
    expect(h.stats().max).toBe(1e9);
  });
});
