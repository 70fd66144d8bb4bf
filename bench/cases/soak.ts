/**
 * soak/<engine>: host memory over many warm invocations (issue #15: 1,000,000 per engine; 100,000
 * with --quick), each engine in a fresh child process (cases/soak-child.ts). Reports the growth of
 * the host heap (after full GCs) and of RSS, in total and per invocation. A leak shows as a
 * per-invocation heap growth of tens of bytes or more; a few bytes are GC and JIT noise.
 */
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { progress, type Suite } from '../lib/suite.ts';

const CHILD = fileURLToPath(new URL('./soak-child.ts', import.meta.url));
const MB = 1e6;

interface SoakFigures {
  readonly engine: string;
  readonly invocations: number;
  readonly coldStarts: number;
  readonly seconds: number;
  readonly before: { heapBytes: number; rssBytes: number };
  readonly after: { heapBytes: number; rssBytes: number };
}

function soak(engine: string, invocations: number): SoakFigures {
  const child = spawnSync(process.execPath, ['--no-node-snapshot', '--expose-gc', CHILD, engine, String(invocations)], {
    encoding: 'utf8',
    timeout: 1_800_000,
  });
  const line = child.stdout.split('\n').find((l) => l.startsWith('{'));
  if (!line) throw new Error(`soak child ${engine} failed (status ${child.status}): ${child.stderr.slice(-2000)}`);
  return JSON.parse(line) as SoakFigures;
}

export async function soakArea(suite: Suite): Promise<void> {
  const invocations = suite.pick(1_000_000, 100_000);
  for (const engine of ['v8', 'quickjs']) {
    const f = soak(engine, invocations);
    const heap = f.after.heapBytes - f.before.heapBytes;
    const rss = f.after.rssBytes - f.before.rssBytes;
    const figures = {
      invocations: f.invocations,
      coldStarts: f.coldStarts,
      seconds: Number(f.seconds.toFixed(1)),
      heapBeforeMb: Number((f.before.heapBytes / MB).toFixed(1)),
      heapAfterMb: Number((f.after.heapBytes / MB).toFixed(1)),
      heapGrowthBytesPerInvocation: Number((heap / f.invocations).toFixed(2)),
      rssBeforeMb: Number((f.before.rssBytes / MB).toFixed(1)),
      rssAfterMb: Number((f.after.rssBytes / MB).toFixed(1)),
      rssGrowthBytesPerInvocation: Number((rss / f.invocations).toFixed(2)),
    };
    suite.extra[`soak/${engine}`] = figures;
    const line =
      `soak/${engine}: ${f.invocations.toLocaleString('en')} warm invocations in ${figures.seconds} s; ` +
      `heap ${figures.heapBeforeMb} -> ${figures.heapAfterMb} MB (${figures.heapGrowthBytesPerInvocation} B/invocation), ` +
      `RSS ${figures.rssBeforeMb} -> ${figures.rssAfterMb} MB (${figures.rssGrowthBytesPerInvocation} B/invocation), cold starts ${f.coldStarts}`;
    progress(line);
    suite.notes.push(line);
  }
}
