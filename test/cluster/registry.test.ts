/**
 * A cluster's shared registry (issue 20): runtimes with the same `cluster: { redis, name }` act as
 * one region — a function, version, alias or layer made through one member is served by the
 * others and by a member that joins later; code blobs are content-addressed and stored once; a
 * member of another lambdalet version and an unreachable Redis are refused with ClusterError.
 * Needs Redis (test/helpers/redis.ts: fails under CI without it, skips visibly locally).
 */
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { Redis } from 'ioredis';
import { ClusterError, createRuntime, InvalidParameterValueException, ResourceNotFoundException, silentSink, type Runtime } from '../../src/index.ts';
import { ClusterMember } from '../../src/cluster/member.ts';
import { keyPrefix, LAMBDALET_VERSION } from '../../src/cluster/connect.ts';
import { parseRuntimeOptions } from '../../src/config/index.ts';
import { freePort, SKIP_REASON, testRedis } from '../helpers/redis.ts';
import { taggedCode, type Tagged } from '../registry/helpers.ts';
import { eventually } from '../helpers/eventually.ts';

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

async function tag(rt: Runtime, name: string): Promise<Tagged> {
  const result = await rt.invoke(name, {});
  if (result.functionError) throw new Error(JSON.stringify(result.payload));
  return result.payload as Tagged;
}

describe('cluster options', () => {
  const base = { redis: 'redis://127.0.0.1:6379', name: 'prod' };
  it('name: 1 and 64 characters of [A-Za-z0-9_.-] are accepted; 0, 65 and other characters refused, naming cluster.name', () => {
    expect(parseRuntimeOptions({ cluster: { ...base, name: 'a' } }).cluster?.name).toBe('a');
    expect(parseRuntimeOptions({ cluster: { ...base, name: 'x'.repeat(64) } }).cluster?.name).toHaveLength(64);
    for (const name of ['', 'x'.repeat(65), 'a b', 'a{b}', 'a:b']) {
      expect(() => parseRuntimeOptions({ cluster: { ...base, name } })).toThrow(InvalidParameterValueException);
      try {
        parseRuntimeOptions({ cluster: { ...base, name } });
      } catch (error) {
        expect((error as InvalidParameterValueException).field).toBe('cluster.name');
      }
    }
  });
  it('leaseTtlMs: 1000 and 600000 accepted, 999 and 600001 refused; default 10000', () => {
    expect(parseRuntimeOptions({ cluster: base }).cluster?.leaseTtlMs).toBe(10_000);
    expect(parseRuntimeOptions({ cluster: { ...base, leaseTtlMs: 1000 } }).cluster?.leaseTtlMs).toBe(1000);
    expect(parseRuntimeOptions({ cluster: { ...base, leaseTtlMs: 600_000 } }).cluster?.leaseTtlMs).toBe(600_000);
    for (const leaseTtlMs of [999, 600_001, 1.5]) {
      expect(() => parseRuntimeOptions({ cluster: { ...base, leaseTtlMs } })).toThrow(/cluster\.leaseTtlMs/);
    }
  });
  it('redis must be a redis:// or rediss:// URL; cluster and dataDir together are refused', () => {
    expect(parseRuntimeOptions({ cluster: { ...base, redis: 'rediss://h:6380' } }).cluster?.redis).toBe('rediss://h:6380');
    expect(() => parseRuntimeOptions({ cluster: { ...base, redis: 'http://127.0.0.1:6379' } })).toThrow(/cluster\.redis/);
    expect(() => parseRuntimeOptions({ cluster: { name: 'prod' } })).toThrow(/cluster\.redis/);
    expect(() => parseRuntimeOptions({ cluster: base, dataDir: '/tmp/x' })).toThrow(/`dataDir` and `cluster` cannot be used together/);
  });
  it('Redis unreachable at start: ClusterError unreachable naming the URL, password hidden', async () => {
    const port = await freePort(); // nothing listens there
    const error = await createRuntime({ logSink: silentSink, cluster: { redis: `redis://:s3cret@127.0.0.1:${port}`, name: 'down' } }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ClusterError);
    expect((error as ClusterError).problem).toBe('unreachable');
    expect((error as ClusterError).message).toContain(`Redis at redis://:***@127.0.0.1:${port} is unreachable`);
    expect((error as ClusterError).message).not.toContain('s3cret');
  });
});

describe.skipIf(!redis)(redis ? 'cluster registry' : `cluster registry (skipped: ${SKIP_REASON})`, () => {
  it('a function deployed through one member is served by another, and by a member that joins later', async () => {
    const name = redis!.clusterName();
    const [a, b] = [await member(name), await member(name)];
    await a.deploy({ name: 'orders', code: taggedCode('v1') });
    expect((await eventually(() => tag(b, 'orders'))).tag).toBe('v1');
    await a.updateFunctionCode('orders', taggedCode('v2'));
    await eventually(async () => expect((await tag(b, 'orders')).tag).toBe('v2'));
    const c = await member(name); // joins after the changes: serves them at once
    expect((await tag(c, 'orders')).tag).toBe('v2');
    expect(c.getFunction('orders').codeSha256).toBe(a.getFunction('orders').codeSha256);
    expect(c.getFunction('orders').revisionId).toBe(a.getFunction('orders').revisionId);
  });

  it('versions and aliases made on one member route the same on another; deletes travel too', async () => {
    const name = redis!.clusterName();
    const [a, b] = [await member(name), await member(name)];
    await a.deploy({ name: 'orders', code: taggedCode('v1') });
    await a.publishVersion('orders');
    await a.updateFunctionCode('orders', taggedCode('v2'));
    await a.publishVersion('orders');
    await a.createAlias('orders', 'live', { functionVersion: '1' });
    await eventually(async () => {
      const out = await tag(b, 'orders:live');
      expect([out.tag, out.functionVersion]).toEqual(['v1', '1']);
    });
    expect((await tag(b, 'orders:2')).tag).toBe('v2');
    expect(b.listVersions('orders').map((v) => v.version)).toEqual(['$LATEST', '1', '2']);
    // b moves the alias; a follows
    await b.updateAlias('orders', 'live', { functionVersion: '2' });
    await eventually(async () => expect((await tag(a, 'orders:live')).functionVersion).toBe('2'));
    await b.deleteAlias('orders', 'live');
    await b.deleteFunction('orders', { qualifier: '1' });
    await eventually(() => expect(a.listVersions('orders').map((v) => v.version)).toEqual(['$LATEST', '2']));
    await eventually(() => expect(() => a.getAlias('orders', 'live')).toThrow(ResourceNotFoundException));
    await a.deleteFunction('orders');
    await eventually(() => expect(() => b.getFunction('orders')).toThrow(ResourceNotFoundException));
    await expect(b.invoke('orders', {})).rejects.toBeInstanceOf(ResourceNotFoundException);
  });

  it('code is stored once per sha256, shared by functions and versions, and deleted with its last user', async () => {
    const name = redis!.clusterName();
    const a = await member(name);
    const client = new Redis(redis!.url);
    const prefix = keyPrefix(name);
    try {
      await a.deploy({ name: 'one', code: taggedCode('same') });
      await a.deploy({ name: 'two', code: taggedCode('same') });
      await a.publishVersion('one');
      const blobs = await client.keys(`${prefix}blob:*`);
      expect(blobs).toHaveLength(1);
      const shaHex = blobs[0]!.slice(`${prefix}blob:`.length);
      // the key is the package's sha256, the codeSha256 the runtime reports (hex here)
      expect(shaHex).toBe(a.getFunction('one').codeSha256);
      expect((await client.smembers(`${prefix}refs:${shaHex}`)).sort()).toEqual(['fn:one:$LATEST', 'fn:one:1', 'fn:two:$LATEST']);
      await a.deleteFunction('one');
      expect(await client.exists(`${prefix}blob:${shaHex}`)).toBe(1); // 'two' still uses it
      await a.updateFunctionCode('two', taggedCode('other'));
      expect(await client.exists(`${prefix}blob:${shaHex}`)).toBe(0);
      expect(await client.keys(`${prefix}blob:*`)).toHaveLength(1);
    } finally {
      client.disconnect();
    }
  });

  it('a layer published through one member is listed and used by another', async () => {
    const name = redis!.clusterName();
    const [a, b] = [await member(name), await member(name)];
    const layer = await a.publishLayerVersion({
      layerName: 'greet',
      content: { files: { 'nodejs/node_modules/greet/index.js': 'module.exports = () => "hello from the layer";' } },
    });
    await eventually(() => expect(b.listLayerVersions('greet').map((l) => l.layerVersionArn)).toEqual([layer.layerVersionArn]));
    await b.deploy({
      name: 'uses',
      layers: [layer.layerVersionArn],
      code: { files: { 'index.mjs': 'import greet from "greet"; export const handler = async () => greet();' } },
    });
    await eventually(async () => expect((await a.invoke('uses', {})).payload).toBe('hello from the layer'));
  });

  it('a layer version deleted through one member is gone on another and on a member that joins later; the function using it is still served by all; its number is not reused (DeleteLayerVersion)', async () => {
    const name = redis!.clusterName();
    const [a, b] = [await member(name), await member(name)];
    const greet = (word: string) => ({ files: { 'nodejs/node_modules/greet/index.js': `module.exports = () => "${word}";` } });
    await a.publishLayerVersion({ layerName: 'greet', content: greet('one') });
    const two = await a.publishLayerVersion({ layerName: 'greet', content: greet('two'), compatibleRuntimes: [] });
    await a.deploy({ name: 'uses', layers: [two.layerVersionArn], code: { files: { 'index.mjs': 'import greet from "greet"; export const handler = async () => greet();' } } });
    await eventually(async () => expect((await b.invoke('uses', {})).payload).toBe('two'));
    await a.deleteLayerVersion('greet', 2);
    await eventually(() => expect(b.listLayerVersions('greet').map((l) => l.version)).toEqual([1]));
    expect(() => b.getLayerVersion(two.layerVersionArn)).toThrow(ResourceNotFoundException);
    await expect(b.deploy({ name: 'late', layers: [two.layerVersionArn], code: taggedCode('x') })).rejects.toThrow(InvalidParameterValueException);
    const c = await member(name); // joins after the delete
    expect(c.listLayerVersions('greet').map((l) => l.version)).toEqual([1]);
    expect((await c.invoke('uses', {})).payload).toBe('two');
    expect((await b.invoke('uses', {})).payload).toBe('two');
    expect((await c.publishLayerVersion({ layerName: 'greet', content: greet('three') })).version).toBe(3);
  });

  it('a member of another lambdalet version is refused with ClusterError version, naming both versions', async () => {
    const name = redis!.clusterName();
    await member(name); // the cluster now records this version
    const other = await ClusterMember.join({ redis: redis!.url, name, leaseTtlMs: 10_000 }, 10, '9.9.9').catch((e: unknown) => e);
    expect(other).toBeInstanceOf(ClusterError);
    expect((other as ClusterError).problem).toBe('version');
    expect((other as ClusterError).message).toBe(
      `cluster ${JSON.stringify(name)} runs lambdalet ${LAMBDALET_VERSION}; this member is lambdalet 9.9.9: every member of a cluster must run the same version`,
    );
    // and through createRuntime: a cluster created by another version refuses this one
    const older = redis!.clusterName();
    const client = new Redis(redis!.url);
    await client.hset(`${keyPrefix(older)}meta`, 'version', '0.0.1');
    client.disconnect();
    const refused = await createRuntime({ logSink: silentSink, cluster: { redis: redis!.url, name: older } }).catch((e: unknown) => e);
    expect((refused as ClusterError).problem).toBe('version');
    expect((refused as Error).message).toContain(`runs lambdalet 0.0.1; this member is lambdalet ${LAMBDALET_VERSION}`);
  });
});
