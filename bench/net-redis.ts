/**
 * A Redis GET round trip through the guest's node:net (issue #12): ioredis unchanged in a handler,
 * on v8 and quickjs, beside the host's own ioredis against the same private redis-server, in one
 * process, interleaved by rounds (and by source tree when given several, e.g. before / after a
 * change). Per round and rig: one invocation doing 200 sequential GETs, their mean timed inside the
 * handler (the guest's clock has whole ms; the connection is kept from the first invocation), 200
 * GETs on the host, and 20 invocations that each do a GET and a CLIENT ID (the invoke's whole cost,
 * connection reused). Prints medians over rounds in ms, and the load.
 *
 *   node --no-node-snapshot bench/net-redis.ts [rounds=5] [tree ...]   (default: this tree)
 *   git worktree add --detach /tmp/before <commit> && ln -s "$PWD/node_modules" /tmp/before/
 */
import { loadavg } from 'node:os';
import { fileURLToPath } from 'node:url';
import { Redis } from 'ioredis';
import { startRedis } from '../test/helpers/redis.ts';

type Lib = typeof import('../src/index.ts');
const [roundsArg = '5', ...treeArgs] = process.argv.slice(2);
const rounds = Number(roundsArg);
const trees = treeArgs.length > 0 ? treeArgs : [fileURLToPath(new URL('..', import.meta.url))];
const redis = await startRedis();
const entry = fileURLToPath(new URL('../test/compat/fixtures/net/ioredis.mjs', import.meta.url));
const engines = ['v8', 'quickjs'] as const;
const rigs = await Promise.all(
  trees.map(async (tree) => {
    const lib = (await import(`${tree.replace(/\/$/, '')}/src/index.ts`)) as Lib;
    const rt = await lib.createRuntime({ logSink: lib.silentSink });
    for (const engine of engines) {
      await rt.deploy({ name: `r-${engine}`, engine, code: { entry }, handler: 'ioredis.handler', egress: { allowHosts: ['127.0.0.1'] }, timeoutMs: 60_000 });
      await rt.invoke(`r-${engine}`, { url: redis.url, op: 'set', key: 'k', value: 'v'.repeat(100) });
    }
    return { tree, rt, inGuest: { v8: [] as number[], quickjs: [] as number[] }, invoke: { v8: [] as number[], quickjs: [] as number[] } };
  }),
);
const host = new Redis(redis.url);
await host.set('k', 'v'.repeat(100));
const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[xs.length >> 1]!;
const onHost: number[] = [];
const loads: number[] = [];
for (let round = 0; round < rounds; round++) {
  for (const rig of round % 2 === 0 ? rigs : [...rigs].reverse()) {
    for (const engine of round % 2 === 0 ? engines : [...engines].reverse()) {
      const result = await rig.rt.invoke(`r-${engine}`, { url: redis.url, op: 'bench', key: 'k', n: 200 });
      rig.inGuest[engine].push((result.payload as { mean: number }).mean);
      const times: number[] = [];
      for (let i = 0; i < 20; i++) {
        const start = performance.now();
        await rig.rt.invoke(`r-${engine}`, { url: redis.url, op: 'get', key: 'k' });
        times.push(performance.now() - start);
      }
      rig.invoke[engine].push(median(times));
    }
  }
  const times: number[] = [];
  for (let i = 0; i < 200; i++) {
    const start = performance.now();
    await host.get('k');
    times.push(performance.now() - start);
  }
  onHost.push(median(times));
  loads.push(loadavg()[0]!);
}
console.log(`host ioredis GET: median ${median(onHost).toFixed(3)} ms`);
for (const rig of rigs) {
  for (const engine of engines) {
    console.log(`${rig.tree} ${engine}: GET inside the handler ${median(rig.inGuest[engine]).toFixed(3)} ms (${(median(rig.inGuest[engine]) / median(onHost)).toFixed(1)}x host); invoke with GET + CLIENT ID ${median(rig.invoke[engine]).toFixed(3)} ms`);
  }
}
console.log(`load (1-min) during rounds: ${loads.map((l) => l.toFixed(2)).join(', ')}`);
host.disconnect();
await Promise.all(rigs.map((rig) => rig.rt.close()));
await redis.stop();
