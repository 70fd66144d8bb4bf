/**
 * A guest fetch POST in two source trees (before / after a change to the host's fetch), measured in
 * one process, interleaved: per round 5 invokes of a handler that uploads SIZE bytes to a loopback
 * server and reads its answer (the byte count), alternating which tree goes first, the first two
 * rounds dropped. Prints medians (ms) and the after/before ratio per size.
 *
 *   git worktree add --detach /tmp/before <commit> && ln -s "$PWD/node_modules" /tmp/before/
 *   node --no-node-snapshot bench/compare-fetch.ts /tmp/before "$PWD" [engine=v8] [sizes=1024,1048576] [rounds=20]
 */
import { createServer } from 'node:http';
import { loadavg } from 'node:os';

const [aRoot, bRoot, engine = 'v8', sizes = '1024,1048576', rounds = '20'] = process.argv.slice(2);
if (!aRoot || !bRoot) throw new Error('usage: bench/compare-fetch.ts <before tree> <after tree> [engine] [sizes] [rounds]');
type Lib = typeof import('../src/index.ts');

const server = createServer((req, res) => {
  let received = 0;
  req.on('data', (chunk: Buffer) => (received += chunk.length));
  req.on('end', () => res.end(String(received)));
});
await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
const port = (server.address() as { port: number }).port;
const HANDLER = `export const handler = async (e) => {
  const r = await fetch('http://127.0.0.1:${port}/', { method: 'POST', body: new Uint8Array(e.size) });
  return Number(await r.text());
};`;

const rigs = await Promise.all(
  [aRoot, bRoot].map(async (root) => {
    const lib = (await import(`${root}/src/index.ts`)) as Lib;
    const rt = await lib.createRuntime({ logSink: lib.silentSink });
    await rt.deploy({
      name: 'f', engine: engine as 'v8', memoryMb: 256, timeoutMs: 60_000,
      egress: { allowHosts: [`127.0.0.1:${port}`] }, code: { files: { 'index.mjs': HANDLER } },
    });
    return rt;
  }),
);
const median = (xs: number[]): number => { const s = [...xs].sort((x, y) => x - y); return s[Math.floor(s.length / 2)]!; };
for (const size of sizes.split(',').map(Number)) {
  const times: [number[], number[]] = [[], []];
  for (let r = 0; r < Number(rounds) + 2; r++) {
    for (const which of r % 2 ? [0, 1] : [1, 0]) {
      for (let i = 0; i < 5; i++) {
        const t0 = performance.now();
        const result = await rigs[which]!.invoke('f', { size });
        const ms = performance.now() - t0;
        if (result.payload !== size) throw new Error(`the server received ${JSON.stringify(result.payload)}, not ${size}`);
        if (r >= 2) times[which as 0 | 1].push(ms);
      }
    }
  }
  const [before, after] = times.map(median) as [number, number];
  console.log(JSON.stringify({ engine, size, before, after, ratio: after / before, samples: times[0].length, load: loadavg()[0] }));
}
await Promise.all(rigs.map((rt) => rt.close()));
server.close();
