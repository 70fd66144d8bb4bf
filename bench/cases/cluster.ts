/**
 * cluster/*: several runtimes as one region through Redis (issue 20; docs/cluster.md).
 *   cluster/redis-ping/baseline: one ioredis PING to the bench's Redis — the floor of any check
 *     that asks Redis.
 *   cluster/warm-invoke/{standalone,member,member-reserved}/v8: rt.invoke of a warm trivial
 *     function on a runtime without `cluster`, on a cluster member (the unreserved pool's lease:
 *     one Lua acquire before the run, one ZREM after it) and on a member for a function with
 *     reserved concurrency. The ratios member/standalone are the cluster-wide concurrency check's
 *     cost per invoke.
 * Redis: LAMBDALET_TEST_REDIS_URL when set (as `.ci/run` sets it), otherwise a private
 * redis-server started for the area (Debian's package must be installed).
 */
import { randomUUID } from 'node:crypto';
import { Redis } from 'ioredis';
import { createRuntime, silentSink, type Runtime } from '../../src/index.ts';
import { startRedis, type TestRedis } from '../../test/helpers/redis.ts';
import { TRIVIAL, TRIVIAL_EVENT } from '../lib/handlers.ts';
import type { Suite } from '../lib/suite.ts';

export async function benchRedis(): Promise<TestRedis> {
  const url = process.env.LAMBDALET_TEST_REDIS_URL;
  if (url) return { url, clusterName: () => `bench-${randomUUID().slice(0, 8)}`, stop: () => Promise.resolve(), process: undefined };
  return startRedis();
}

export async function clusterArea(suite: Suite): Promise<void> {
  const redis = await benchRedis();
  const runtimes: Runtime[] = [];
  const client = new Redis(redis.url);
  try {
    const time = suite.pick(1500, 400);
    const iterations = suite.pick(2000, 300);
    await suite.measure('cluster/redis-ping/baseline', () => client.ping(), { iterations, time });

    const standalone = await createRuntime({ logSink: silentSink });
    const member = await createRuntime({ logSink: silentSink, cluster: { redis: redis.url, name: redis.clusterName() } });
    runtimes.push(standalone, member);
    const code = { files: { 'index.mjs': TRIVIAL.module } };
    for (const rt of [standalone, member]) {
      await rt.deploy({ name: 'trivial', code });
      await rt.deploy({ name: 'reserved', code, reservedConcurrency: 10 });
      for (let i = 0; i < 5; i++) await rt.invoke('trivial', TRIVIAL_EVENT);
      for (let i = 0; i < 5; i++) await rt.invoke('reserved', TRIVIAL_EVENT);
    }
    await suite.measure('cluster/warm-invoke/standalone/v8', () => standalone.invoke('trivial', TRIVIAL_EVENT), { iterations, time });
    await suite.measure('cluster/warm-invoke/member/v8', () => member.invoke('trivial', TRIVIAL_EVENT), { iterations, time });
    await suite.measure('cluster/warm-invoke/member-reserved/v8', () => member.invoke('reserved', TRIVIAL_EVENT), { iterations, time });
    suite.ratio('cluster/warm-invoke/member/v8', 'cluster/warm-invoke/standalone/v8');
    suite.ratio('cluster/warm-invoke/member-reserved/v8', 'cluster/warm-invoke/standalone/v8');
    suite.ratio('cluster/warm-invoke/member/v8', 'cluster/redis-ping/baseline');
  } finally {
    client.disconnect();
    await Promise.all(runtimes.map((rt) => rt.close()));
    await redis.stop();
  }
}
