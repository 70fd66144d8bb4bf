/**
 * tmp/<write|read>-8mb/<engine>-<backend>: one sample = one invoke whose handler writes (or reads
 * back) one 8 MiB file in /tmp through the guest's node:fs, over the host bridge into the
 * environment's vfs. Beside `node-fs`: the same write/read with the host's node:fs on a real temp
 * directory, in the same run. Also reported as MB/s (8 MiB / median).
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runtimeFor } from '../lib/lambdalet.ts';
import type { Suite } from '../lib/suite.ts';
import { TMP_FILE_BYTES, TMP_HANDLER as HANDLER } from './tmp-handler.ts';

const MIB = 1024 * 1024;
const SIZE = TMP_FILE_BYTES;

export async function tmpArea(suite: Suite): Promise<void> {
  const iterations = suite.pick(10, 4);
  const dir = mkdtempSync(join(tmpdir(), 'lambdalet-bench-'));
  const data = Buffer.alloc(SIZE, 7);
  try {
    const file = join(dir, 'bench.bin');
    await suite.measure('tmp/write-8mb/node-fs', () => writeFileSync(file, data), { iterations });
    await suite.measure('tmp/read-8mb/node-fs', () => readFileSync(file), { iterations });
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
  mbPerSecond(suite, 'tmp/write-8mb/node-fs');
  mbPerSecond(suite, 'tmp/read-8mb/node-fs');

  const rt = await runtimeFor('v8');
  try {
    for (const engine of ['v8', 'quickjs'] as const) {
      for (const tmpBackend of ['memory', 'disk'] as const) {
        const name = `tmp-${engine}-${tmpBackend}`;
        await rt.deploy({ name, engine, tmpBackend, memoryMb: 1024, timeoutMs: 120_000, code: { files: { 'index.mjs': HANDLER } } });
        await expectOk(rt.invoke(name, { op: 'write' }));
        for (const op of ['write', 'read'] as const) {
          const label = `tmp/${op}-8mb/${engine}-${tmpBackend}`;
          await suite.measure(label, () => expectOk(rt.invoke(name, { op })), { iterations });
          mbPerSecond(suite, label);
          suite.ratio(label, `tmp/${op}-8mb/node-fs`);
        }
      }
    }
  } finally {
    await rt.close();
  }
  const rates = Object.entries(suite.extra).filter(([k]) => k.startsWith('tmp/'));
  suite.notes.push(`/tmp throughput (8 MiB per op, MB/s): ${rates.map(([k, v]) => `${k.replace(' MB/s', '')} ${String(v)}`).join('; ')}`);
}

function mbPerSecond(suite: Suite, name: string): void {
  const median = suite.cases[name]!.median;
  suite.extra[`${name} MB/s`] = Math.round(SIZE / MIB / (median / 1000));
}

async function expectOk(result: Promise<{ payload: unknown; functionError?: string }>): Promise<void> {
  const r = await result;
  if (r.functionError || r.payload !== 'ok') throw new Error(`tmp bench handler failed: ${JSON.stringify(r.payload)}`);
}
