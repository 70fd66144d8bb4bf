/**
 * A Redis GET round trip through the guest's node:net (issue #12): ioredis unchanged in a handler,
 * on v8 and quickjs, beside the host's own ioredis against the same private redis-server, in one
 * process, interleaved by rounds. Per round: 200 sequential GETs timed inside the handler, their
 * mean (one invocation, the connection kept from the first), 200 on the host, and 20 invocations that each do
 * one GET (the invoke's whole cost, connection reused). Prints medians in ms and the load.
 *
 *   node --no-node-snapshot bench/net-redis.ts [rounds=5]
 */
import { loadavg } from 'node:os';
import { fileURLToPath } from 'node:url';
import { Redis } from 'ioredis';
import { createRuntime, silentSink } from '../src/index.ts';
import { startRedis } from '../test/helpers/redis.ts';

const rounds = Number(process.argv[2] ?? 5);
const redis = await startRedis();
const entry = fileURLToPath(new URL('../test/compat/fixtures/net/ioredis.mjs', import.meta.url));
const rt = await createRuntime({ logSink: silentSink });
const engines = ['v8', 'quickjs'] as const;
for (const engine of engines) {
  await rt.deploy({ name: `r-${engine}`, engine, code: { entry }, handler: 'ioredis.handler', egress: { allowHosts: ['127.0.0.1'] }, timeoutMs: 60_000 });
  await rt.invoke(`r-${engine}`, { url: redis.url, op: 'set', key: 'k', value: 'v'.repeat(100) });
}
const host = new Redis(redis.url);
await host.set('k', 'v'.repeat(100));
const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[xs.length >> 1]!;
const inGuest: Record<string, number[]> = { v8: [], quickjs: [] };
const invoke: Record<string, number[]> = { v8: [], quickjs: [] };
const onHost: number[] = [];
const loads: number[] = [];
for (let round = 0; round < rounds; round++) {
  for (const engine of round % 2 === 0 ? engines : [...engines].reverse()) {
    const result = await rt.invoke(`r-${engine}`, { url: redis.url, op: 'bench', key: 'k', n: 200 });
    inGuest[engine]!.push((result.payload as { mean: number }).mean);
    for (let i = 0; i < 20; i++) {
      const start = performance.now();
      await rt.invoke(`r-${engine}`, { url: redis.url, op: 'get', key: 'k' });
      invoke[engine]!.push(performance.now() - start);
    }
  }
  for (let i = 0; i < 200; i++) {
    const start = performance.now();
    await host.get('k');
    onHost.push(performance.now() - start);
  }
  loads.push(loadavg()[0]!);
}
console.log(`host ioredis GET: median ${median(onHost).toFixed(3)} ms`);
for (const engine of engines) {
  console.log(`${engine}: GET inside the handler (mean of 200 per round; the guest's clock has whole ms), median over rounds ${median(inGuest[engine]!).toFixed(3)} ms (${(median(inGuest[engine]!) / median(onHost)).toFixed(1)}x host); invoke with one GET (GET + CLIENT ID) median ${median(invoke[engine]!).toFixed(3)} ms`);
}
console.log(`load (1-min) during rounds: ${loads.map((l) => l.toFixed(2)).join(', ')}`);
host.disconnect();
await rt.close();
await redis.stop();
