/**
 * `rt.clusterMetrics()` (issue 20): a member's view of the whole cluster — every live member's
 * `rt.metrics()` and the totals that add up, from Redis; a member that closes leaves, one killed
 * without closing drops out once its report is older than `leaseTtlMs` (Redis's clock).
 * Lambda's CloudWatch metrics for a function are region-wide (Invocations, Errors, Throttles,
 * ConcurrentExecutions: "AWS Lambda function metrics", Lambda developer guide): the totals are
 * that view. Needs Redis (test/helpers/redis.ts).
 */
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { createRuntime, InvalidParameterValueException, silentSink, type Runtime } from '../../src/index.ts';
import { liveReports, type ReportedMetrics } from '../../src/cluster/metrics.ts';
import { SKIP_REASON, testRedis } from '../helpers/redis.ts';
import { eventually } from '../helpers/eventually.ts';
import { taggedCode } from '../registry/helpers.ts';

const redis = await testRedis();
afterAll(() => redis?.stop());

const open: Runtime[] = [];
afterEach(async () => {
  await Promise.all(open.splice(0).map((rt) => rt.close()));
});

async function member(name: string): Promise<Runtime> {
  const rt = await createRuntime({ logSink: silentSink, cluster: { redis: redis!.url, name } });
  open.push(rt);
  return rt;
}

const none: ReportedMetrics = { ConcurrentExecutions: 0, functions: [], async: {} };

describe('which reports are live', () => {
  it('a report exactly leaseTtlMs old counts, one 1 ms older does not; ages under it count', () => {
    const entries: [string, string][] = [
      ['under', `${10_000 - 9_999}\n${JSON.stringify(none)}`],
      ['at', `${10_000 - 10_000}\n${JSON.stringify(none)}`],
      ['over', `${10_000 - 10_001}\n${JSON.stringify(none)}`],
    ];
    expect(liveReports(entries, 10_000, 10_000).map((r) => r.member)).toEqual(['under', 'at']);
    expect(liveReports(entries, 10_000, 10_000)[0]!.reportedAt).toBe(new Date(1).toISOString());
  });
});

describe.skipIf(!redis)(redis ? 'clusterMetrics' : `clusterMetrics (skipped: ${SKIP_REASON})`, () => {
  it('every member reports; totals add up per function version; a closed member leaves', async () => {
    const name = redis!.clusterName();
    const [a, b] = [await member(name), await member(name)];
    await a.deploy({ name: 'fn', code: taggedCode('x') });
    await eventually(() => b.getFunction('fn'));
    for (let i = 0; i < 3; i++) await a.invoke('fn', {});
    for (let i = 0; i < 2; i++) await b.invoke('fn', {});
    const view = await a.clusterMetrics();
    expect(view.cluster).toBe(name);
    expect(view.members).toHaveLength(2);
    expect(view.members[0]!.metrics.functions.find((f) => f.functionName === 'fn')?.Invocations).toBe(3); // a's own first, fresh
    const total = view.totals.functions.find((f) => f.functionName === 'fn' && f.version === '$LATEST');
    // b's report may be up to a third of leaseTtlMs old: wait for the one that has its invokes
    await eventually(async () => {
      const fresh = await a.clusterMetrics();
      expect(fresh.totals.functions.find((f) => f.functionName === 'fn' && f.version === '$LATEST')?.Invocations).toBe(5);
      expect(fresh.totals.functions.find((f) => f.functionName === 'fn')?.ColdStarts).toBe(2); // one environment per member
    });
    expect(total?.Errors).toBe(0);
    // b's own view sees the same members
    expect((await b.clusterMetrics()).members.map((m) => m.member).sort()).toEqual(view.members.map((m) => m.member).sort());
    await b.close();
    const after = await a.clusterMetrics();
    expect(after.members).toHaveLength(1);
    expect(after.totals.functions.find((f) => f.functionName === 'fn')?.Invocations).toBe(3);
  });

  it('a runtime outside a cluster: InvalidParameterValueException naming cluster', async () => {
    const rt = await createRuntime({ logSink: silentSink });
    open.push(rt);
    const error = await rt.clusterMetrics().catch((e: unknown) => e);
    expect(error).toBeInstanceOf(InvalidParameterValueException);
    expect((error as InvalidParameterValueException).field).toBe('cluster');
  });
});
