/**
 * density/idle/<engine or baseline>: idle environments per GiB, from the RSS growth over N
 * environments in a fresh child process per kind (cases/density-child.ts).
 */
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { perGiB } from '../lib/stats.ts';
import { progress, type Suite } from '../lib/suite.ts';

const CHILD = fileURLToPath(new URL('./density-child.ts', import.meta.url));

export const DENSITY_RATIOS: Record<string, readonly string[]> = {
  v8: ['raw-isolated-vm', 'node-vm', 'worker-threads', 'child-process-fork'],
  quickjs: ['raw-quickjs-emscripten', 'worker-threads', 'child-process-fork'],
  'quickjs-shared': ['raw-quickjs-emscripten-shared', 'worker-threads', 'child-process-fork'],
  // The same with the worker pool grown to its size first (density-child.ts): without its fixed cost.
  'quickjs+pool': ['raw-quickjs-emscripten'],
  'quickjs-shared+pool': ['raw-quickjs-emscripten-shared'],
};

/** RSS growth per idle environment of `kind` over `count` of them, in a fresh child process. */
export function measureDensity(kind: string, count: number): number {
  const child = spawnSync(process.execPath, ['--no-node-snapshot', '--expose-gc', CHILD, kind, String(count)], {
    encoding: 'utf8',
    maxBuffer: 16 * 1024 * 1024,
    timeout: 300_000,
  });
  const line = child.stdout.split('\n').find((l) => l.startsWith('{'));
  if (!line) throw new Error(`density child ${kind} failed (status ${child.status}): ${child.stderr.slice(-2000)}`);
  return (JSON.parse(line) as { perEnvBytes: number }).perEnvBytes;
}

export async function densityArea(suite: Suite): Promise<void> {
  const counts: Record<string, number> = suite.pick(
    { v8: 200, quickjs: 300, 'quickjs+pool': 300, 'quickjs-shared': 2000, 'quickjs-shared+pool': 2000, 'raw-isolated-vm': 200, 'raw-quickjs-emscripten': 300, 'raw-quickjs-emscripten-shared': 2000, 'node-vm': 300, 'worker-threads': 16, 'child-process-fork': 8 },
    { v8: 60, quickjs: 100, 'quickjs+pool': 100, 'quickjs-shared': 400, 'quickjs-shared+pool': 400, 'raw-isolated-vm': 60, 'raw-quickjs-emscripten': 100, 'raw-quickjs-emscripten-shared': 400, 'node-vm': 100, 'worker-threads': 6, 'child-process-fork': 4 },
  );
  for (const [kind, count] of Object.entries(counts)) {
    const started = performance.now();
    const perEnvBytes = measureDensity(kind, count);
    const name = `density/idle/${kind}`;
    suite.density[name] = { count, perEnvBytes, perGiB: perGiB(perEnvBytes) };
    progress(`${name.padEnd(48)} ${perGiB(perEnvBytes)} per GiB (${(perEnvBytes / 1024).toFixed(0)} KiB each, N=${count}, ${((performance.now() - started) / 1000).toFixed(1)} s)`);
  }
  for (const [variant, overs] of Object.entries(DENSITY_RATIOS)) {
    for (const over of overs) suite.ratio(`density/idle/${variant}`, `density/idle/${over}`, 'density');
  }
  // The wasm engine's idle environments: the wasm area (cases/wasm.ts).
}
