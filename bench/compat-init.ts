/**
 * Cold start of a real handler: Init Duration (REPORT) of test/compat/fixtures/dynamodb-import.mjs
 * (imports the AWS SDK v3 DynamoDB client and lib-dynamodb, builds the clients) per engine, beside
 * the same module's import time in plain Node (a fresh `node` process per sample, timing `import()`).
 *
 *   node --no-node-snapshot bench/compat-init.ts [samples=7]
 */
import { execFileSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { createRuntime, silentSink } from '../src/index.ts';

const samples = Number(process.argv[2] ?? 7);
const entry = fileURLToPath(new URL('../test/compat/fixtures/dynamodb-import.mjs', import.meta.url));
const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

const node: number[] = [];
for (let i = 0; i < samples; i++) {
  const script = `const t0 = performance.now(); await import(${JSON.stringify(entry)}); process.stdout.write(String(performance.now() - t0));`;
  node.push(Number(execFileSync(process.execPath, ['--input-type=module', '-e', script], { env: { PATH: process.env.PATH ?? '', AWS_REGION: 'us-east-1' } })));
}
const result: Record<string, number> = { 'node import (ms)': median(node) };
for (const engine of ['v8', 'quickjs'] as const) {
  const inits: number[] = [];
  // A fresh runtime per sample: every invoke is a cold start, nothing cached but the bundle's build.
  for (let i = 0; i < samples; i++) {
    const rt = await createRuntime({ logSink: silentSink });
    try {
      await rt.deploy({ name: 'ddb', engine, code: { entry }, handler: 'dynamodb-import.handler', memoryMb: 512 });
      const res = await rt.invoke('ddb', {});
      if (res.functionError || res.initDurationMs === undefined) throw new Error(`${engine}: ${JSON.stringify(res.payload)}`);
      inits.push(res.initDurationMs);
    } finally {
      await rt.close();
    }
  }
  result[`${engine} Init Duration (ms)`] = median(inits);
  result[`${engine} / node`] = median(inits) / median(node);
}
console.log(JSON.stringify(result, null, 2));
