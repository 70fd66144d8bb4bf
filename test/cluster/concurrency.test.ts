/**
 * Cluster-wide concurrency (issue 20): Lambda's reserved and account (unreserved) limits hold across
 * members, refusals are the TooManyRequestsException the local dispatcher throws (same `reason`:
 * Lambda's Invoke API error reasons `ReservedFunctionConcurrentInvocationLimitExceeded` and
 * `ConcurrentInvocationLimitExceeded`), a member killed with SIGKILL gives its share back when its
 * leases expire, and an unreachable Redis never stops synchronous invokes.
 * Needs Redis (test/helpers/redis.ts).
 */
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { Redis } from 'ioredis';
import { createRuntime, silentSink, TooManyRequestsException, type Runtime } from '../../src/index.ts';
import { CLOCK_SKEW_WARN_MS, clockSkewWarning, keyPrefix } from '../../src/cluster/connect.ts';
import { SKIP_REASON, startRedis, testRedis } from '../helpers/redis.ts';
import { taggedCode } from '../registry/helpers.ts';
import { eventually } from '../helpers/eventually.ts';

const redis = await testRedis();
afterAll(() => redis?.stop());

const open: Runtime[] = [];
afterEach(async () => {
  await Promise.all(open.splice(0).map((rt) => rt.close()));
});

async function member(url: string, name: string, extra: { concurrency?: number; leaseTtlMs?: number } = {}): Promise<Runtime> {
  const rt = await createRuntime({
    logSink: silentSink,
    closeTimeoutMs: 0, // cut off the long invocations these tests leave running
    ...(extra.concurrency ? { concurrency: extra.concurrency } : {}),
    cluster: { redis: url, name, ...(extra.leaseTtlMs ? { leaseTtlMs: extra.leaseTtlMs } : {}) },
  });
  open.push(rt);
  return rt;
}

const HOLD = { waitMs: 60_000 }; // longer than any test: the lease is held until close cuts it off

describe.skipIf(!redis)(redis ? 'cluster concurrency' : `cluster concurrency (skipped: ${SKIP_REASON})`, () => {
  it('reserved concurrency 2 holds across two members: 1 and 2 in flight are admitted, a 3rd is throttled on either member', async () => {
    const name = redis!.clusterName();
    const client = new Redis(redis!.url);
    const [a, b] = [await member(redis!.url, name), await member(redis!.url, name)];
    await a.deploy({ name: 'slow', code: taggedCode('r'), timeoutMs: 120_000, reservedConcurrency: 2 });
    await eventually(() => b.getFunction('slow'));
    const leases = (): Promise<number> => client.zcard(`${keyPrefix(name)}conc:fn:slow`);
    const inFlight = [a.invoke('slow', HOLD).catch(() => undefined)];
    await eventually(async () => expect(await leases()).toBe(1)); // under the limit
    inFlight.push(b.invoke('slow', HOLD).catch(() => undefined));
    await eventually(async () => expect(await leases()).toBe(2)); // at the limit
    for (const rt of [a, b]) {
      const error = await rt.invoke('slow', {}).catch((e: unknown) => e); // over it
      expect(error).toBeInstanceOf(TooManyRequestsException);
      expect((error as TooManyRequestsException).reason).toBe('ReservedFunctionConcurrentInvocationLimitExceeded');
      expect((error as Error).message).toBe(`Rate Exceeded. Function slow is at its reserved concurrency (2) across cluster ${name}, shared by all its versions.`);
    }
    // each member runs one: alone, either would have admitted a second (its own limit is 2)
    await eventually(() => expect([a.metrics().ConcurrentExecutions, b.metrics().ConcurrentExecutions]).toEqual([1, 1]));
    client.disconnect();
  });

  it('the account (unreserved) limit holds across members: concurrency 2, two in flight on two members, a 3rd throttled', async () => {
    const name = redis!.clusterName();
    const client = new Redis(redis!.url);
    const [a, b] = [await member(redis!.url, name, { concurrency: 2 }), await member(redis!.url, name, { concurrency: 2 })];
    await a.deploy({ name: 'slow', code: taggedCode('u'), timeoutMs: 120_000 });
    await eventually(() => b.getFunction('slow'));
    const leases = (): Promise<number> => client.zcard(`${keyPrefix(name)}conc:unreserved`);
    void a.invoke('slow', HOLD).catch(() => undefined);
    await eventually(async () => expect(await leases()).toBe(1));
    void b.invoke('slow', HOLD).catch(() => undefined);
    await eventually(async () => expect(await leases()).toBe(2));
    const error = await b.invoke('slow', {}).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(TooManyRequestsException);
    expect((error as TooManyRequestsException).reason).toBe('ConcurrentInvocationLimitExceeded');
    expect((error as Error).message).toBe(`Rate Exceeded. The unreserved concurrency pool (2 of concurrency 2) is in use across cluster ${name}.`);
    client.disconnect();
  });

  it('a lease is given back when its invocation ends: sequential invokes at reserved concurrency 1 never throttle', async () => {
    const name = redis!.clusterName();
    const a = await member(redis!.url, name);
    await a.deploy({ name: 'one', code: taggedCode('s'), reservedConcurrency: 1 });
    for (let i = 0; i < 5; i++) expect((await a.invoke('one', {})).functionError).toBeUndefined();
    const client = new Redis(redis!.url);
    await eventually(async () => expect(await client.zcard(`${keyPrefix(name)}conc:fn:one`)).toBe(0));
    client.disconnect();
  });

  it('a member killed with SIGKILL mid-invocation: its lease expires (leaseTtlMs) and another member is admitted', async () => {
    const name = redis!.clusterName();
    const client = new Redis(redis!.url);
    const a = await member(redis!.url, name, { leaseTtlMs: 1000 });
    await a.deploy({ name: 'hold', code: taggedCode('k'), timeoutMs: 120_000, reservedConcurrency: 1 });
    const fixture = fileURLToPath(new URL('./fixtures/member.ts', import.meta.url));
    const child = spawn(process.execPath, ['--no-node-snapshot', fixture, redis!.url, name, '1000', 'hold', '60000'], { stdio: ['ignore', 'pipe', 'pipe'] });
    let stderr = '';
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    const exited = new Promise((resolve) => child.once('exit', resolve));
    try {
      const key = `${keyPrefix(name)}conc:fn:hold`;
      const [lease] = await eventually(async () => {
        const members = await client.zrange(key, '0', '-1');
        if (members.length !== 1) throw new Error(`leases: ${members.length}; child stderr: ${stderr}`);
        return members;
      });
      child.kill('SIGKILL');
      await exited;
      // No release ran in the killed process; the lease goes when it expires, then `a` gets the slot.
      const result = await eventually(async () => a.invoke('hold', {}));
      expect(result.functionError).toBeUndefined();
      expect(await client.zscore(key, lease!)).toBeNull();
    } finally {
      child.kill('SIGKILL');
      client.disconnect();
    }
  });

  it('clock skew warning bound: at 1000 ms (after the round-trip uncertainty) none, 1 ms over one, ahead or behind', () => {
    expect(CLOCK_SKEW_WARN_MS).toBe(1000);
    expect(clockSkewWarning('c', 999, 0)).toBeUndefined();
    expect(clockSkewWarning('c', 1000, 0)).toBeUndefined();
    expect(clockSkewWarning('c', -1000, 0)).toBeUndefined();
    expect(clockSkewWarning('c', 1001, 0)).toContain("this member's clock is 1.0 s ahead of Redis's (±0 ms)");
    expect(clockSkewWarning('c', -1001, 0)).toContain("this member's clock is 1.0 s behind Redis's");
    // a slow round trip widens the bound by its uncertainty
    expect(clockSkewWarning('c', 1040, 40)).toBeUndefined();
    expect(clockSkewWarning('c', 1041, 40)).toContain('ahead of');
  });

  it('clock skew: a member whose clock is an hour behind is warned at join, and its lease still counts (leases run on Redis TIME)', async () => {
    const name = redis!.clusterName();
    const client = new Redis(redis!.url);
    const a = await member(redis!.url, name);
    await a.deploy({ name: 'hold', code: taggedCode('k'), timeoutMs: 120_000, reservedConcurrency: 1 });
    const fixture = fileURLToPath(new URL('./fixtures/member.ts', import.meta.url));
    const hourBehind = String(-3_600_000);
    const child = spawn(process.execPath, ['--no-node-snapshot', fixture, redis!.url, name, '10000', 'hold', '60000', hourBehind], { stdio: ['ignore', 'pipe', 'pipe'] });
    let stderr = '';
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    const exited = new Promise((resolve) => child.once('exit', resolve));
    try {
      const key = `${keyPrefix(name)}conc:fn:hold`;
      await eventually(async () => {
        if ((await client.zcard(key)) !== 1) throw new Error(`no lease yet; child stderr: ${stderr}`);
      });
      expect(stderr).toMatch(/\[LAMBDALET_CLUSTER_CLOCK\].*this member's clock is 36\d\d\.\d s behind Redis's/);
      // Scored by the child's own clock, its lease would have expired an hour ago for everyone else;
      // by Redis's it is live, so the one slot is taken.
      const error = await a.invoke('hold', {}).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(TooManyRequestsException);
      expect((error as TooManyRequestsException).reason).toBe('ReservedFunctionConcurrentInvocationLimitExceeded');
    } finally {
      child.kill('SIGKILL');
      await exited;
      client.disconnect();
    }
  });

  it('Redis lost: a member keeps serving synchronous invokes of what it holds (the cluster check is skipped, with a warning)', async () => {
    const own = await startRedis(); // a private Redis this test may kill
    const warnings: string[] = [];
    const onWarning = (w: Error): void => void warnings.push(w.message);
    process.on('warning', onWarning);
    try {
      const a = await member(own.url, redis!.clusterName());
      await a.deploy({ name: 'fn', code: taggedCode('alive'), reservedConcurrency: 1 });
      expect((await a.invoke('fn', {})).payload).toMatchObject({ tag: 'alive' });
      own.process!.kill('SIGKILL');
      await new Promise((resolve) => own.process!.once('exit', resolve));
      for (let i = 0; i < 3; i++) expect((await a.invoke('fn', {})).payload).toMatchObject({ tag: 'alive' });
      await eventually(() => expect(warnings.some((w) => w.includes('the cluster-wide concurrency check is skipped'))).toBe(true));
    } finally {
      process.off('warning', onWarning);
      await own.stop();
    }
  });
});
