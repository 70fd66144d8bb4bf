/**
 * The Redis the cluster tests use is real: a PING and a round trip through ioredis. Under CI
 * (`.ci/run`) this file fails when Redis is missing — testRedis() throws — rather than skipping.
 */
import { afterAll, describe, expect, it } from 'vitest';
import { Redis } from 'ioredis';
import { SKIP_REASON, testRedis } from '../helpers/redis.ts';

const redis = await testRedis();
afterAll(() => redis?.stop());

describe.skipIf(!redis)(redis ? 'test Redis' : `test Redis (skipped: ${SKIP_REASON})`, () => {
  it('answers PING and keeps a value', async () => {
    const client = new Redis(redis!.url);
    try {
      expect(await client.ping()).toBe('PONG');
      const key = `${redis!.clusterName()}:probe`;
      await client.set(key, 'v', 'PX', 10_000);
      expect(await client.get(key)).toBe('v');
      expect(redis!.clusterName()).not.toBe(redis!.clusterName());
    } finally {
      client.disconnect();
    }
  });
});
