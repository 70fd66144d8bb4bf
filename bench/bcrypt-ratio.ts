/**
 * bcryptjs on both engines: the same hash (same password, salt and rounds) in a handler, timed
 * inside the handler, invocations alternated between engines; prints the medians and the
 * quickjs/v8 ratio, and checks both hashes equal plain Node's. Issue #13's CPU-bound figure.
 *
 *   node --no-node-snapshot bench/bcrypt-ratio.ts [rounds=10] [repetitions=3]
 */
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';
import { createRuntime } from '../src/index.ts';

const rounds = Number(process.argv[2] ?? 10);
const repetitions = Number(process.argv[3] ?? 3);
const entry = fileURLToPath(new URL('./fixtures/bcrypt.mjs', import.meta.url));
const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[xs.length >> 1]!;

const rt = await createRuntime({ logSink: { write: () => {} } });
const engines = ['v8', 'quickjs'] as const;
const samples: Record<string, number[]> = { v8: [], quickjs: [] };
const hashes = new Set<string>();
for (const engine of engines) await rt.deploy({ name: engine, engine, code: { entry }, handler: 'bcrypt.handler', timeoutMs: 900_000 });
for (let i = 0; i < repetitions; i++) {
  for (const engine of i % 2 ? [...engines].reverse() : engines) {
    const result = await rt.invoke(engine, { rounds });
    if (result.functionError) throw new Error(`${engine}: ${JSON.stringify(result.payload)}`);
    const { ms, hash } = result.payload as { ms: number; hash: string };
    samples[engine]!.push(ms);
    hashes.add(hash);
  }
}
await rt.close();

const bcrypt = createRequire(import.meta.url)('bcryptjs') as { hashSync(password: string, salt: string): string };
const started = performance.now();
const nodeHash = bcrypt.hashSync('correct horse battery staple', `$2b$${String(rounds).padStart(2, '0')}$abcdefghijklmnopqrstuu`);
const nodeMs = performance.now() - started;
console.log(JSON.stringify({
  rounds, samplesMs: samples, medianMs: { v8: median(samples.v8!), quickjs: median(samples.quickjs!), plainNode: Math.round(nodeMs) },
  ratioQuickjsOverV8: +(median(samples.quickjs!) / median(samples.v8!)).toFixed(1), sameHashAsNode: hashes.size === 1 && hashes.has(nodeHash),
}));
