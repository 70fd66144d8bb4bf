/**
 * Bytes through the guest's node:net (issue #12): a handler writes SIZE bytes to a loopback echo
 * server and reads them all back, on v8 and quickjs, beside the same in the host's Node, in one
 * process, interleaved by rounds. Prints the median MiB/s (both directions' bytes counted once:
 * SIZE / the time from connect to the echo's end) and the load.
 *
 *   node --no-node-snapshot bench/net-throughput.ts [MiB=8] [rounds=5]
 */
import { connect, createServer } from 'node:net';
import { loadavg } from 'node:os';
import { createRuntime, silentSink } from '../src/index.ts';

const size = Number(process.argv[2] ?? 8) * 1024 * 1024;
const rounds = Number(process.argv[3] ?? 5);
const server = createServer((socket) => {
  socket.on('error', () => {});
  socket.pipe(socket);
});
await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
const port = (server.address() as { port: number }).port;
const HANDLER = `import net from 'node:net';
export const handler = async (e) => {
  const bytes = Buffer.alloc(e.size, 7);
  const start = performance.now();
  const socket = net.connect(e.port, '127.0.0.1');
  let received = 0;
  socket.on('data', (chunk) => (received += chunk.length));
  const ended = new Promise((resolve, reject) => socket.on('end', resolve).on('error', reject));
  for (let at = 0; at < e.size; at += 1 << 20) socket.write(bytes.subarray(at, at + (1 << 20)));
  socket.end();
  await ended;
  return { ms: performance.now() - start, received };
};`;
const rt = await createRuntime({ logSink: silentSink });
const engines = ['v8', 'quickjs'] as const;
for (const engine of engines) {
  await rt.deploy({ name: `t-${engine}`, engine, memoryMb: 512, timeoutMs: 120_000, egress: { allowHosts: ['127.0.0.1'] }, code: { files: { 'index.mjs': HANDLER } } });
  await rt.invoke(`t-${engine}`, { port, size: 1024 });
}
async function onHost(): Promise<number> {
  const bytes = Buffer.alloc(size, 7);
  const start = performance.now();
  const socket = connect(port, '127.0.0.1');
  socket.on('data', () => {});
  const ended = new Promise((resolve) => socket.on('end', resolve));
  for (let at = 0; at < size; at += 1 << 20) socket.write(bytes.subarray(at, at + (1 << 20)));
  socket.end();
  await ended;
  return performance.now() - start;
}
const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[xs.length >> 1]!;
const times: Record<string, number[]> = { host: [], v8: [], quickjs: [] };
const loads: number[] = [];
for (let round = 0; round < rounds; round++) {
  for (const engine of round % 2 === 0 ? engines : [...engines].reverse()) {
    const result = await rt.invoke(`t-${engine}`, { port, size });
    const payload = result.payload as { ms: number; received: number };
    if (payload.received !== size) throw new Error(`${engine}: received ${payload.received} of ${size}`);
    times[engine]!.push(payload.ms);
  }
  times.host!.push(await onHost());
  loads.push(loadavg()[0]!);
}
const mibs = (ms: number): string => ((size / 1024 / 1024) / (ms / 1000)).toFixed(1);
for (const [name, list] of Object.entries(times)) console.log(`${name}: ${size / 1024 / 1024} MiB echoed in ${median(list).toFixed(1)} ms median, ${mibs(median(list))} MiB/s`);
console.log(`load (1-min) during rounds: ${loads.map((l) => l.toFixed(2)).join(', ')}`);
await rt.close();
server.close();
