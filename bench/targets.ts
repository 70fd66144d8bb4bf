/** The issue's targets (issue 7), as the report checks them. Medians, trivial handler. */
import type { TargetSpec } from './lib/report.ts';
import { CONCURRENCIES } from './cases/throughput.ts';

/**
 * Issue 21 (performance): the table's targets, each a same-run ratio. Areas: burst; cold + snapstart
 * (the trivial cold starts and their raw baselines); warm (the overheads above); throughput; tmp;
 * density.
 */
const ISSUE_21: readonly TargetSpec[] = [
  ...(['v8', 'quickjs'] as const).flatMap((e) =>
    (['', '-again'] as const).map((again): TargetSpec => ({
      label: `burst of 12, 300,000-object INIT: ${e} >= 10x faster per environment with snapStart${again ? ' (a burst again within a minute)' : ' (first burst)'}`,
      kind: 'min-speedup',
      case: `burst/objects-init/${e}-snapstart${again}`,
      baseline: `burst/objects-init/${e}`,
      min: 10,
    })),
  ),
  { label: 'cold start v8 with snapStart <= 0.5x raw isolated-vm', kind: 'max-ratio', case: 'cold/trivial/v8-snapstart', baseline: 'cold/trivial/raw-isolated-vm', max: 0.5 },
  { label: 'cold start v8 <= 1.3x raw isolated-vm', kind: 'max-ratio', case: 'cold/trivial/v8', baseline: 'cold/trivial/raw-isolated-vm', max: 1.3 },
  { label: 'cold start quickjs <= 2x raw quickjs-emscripten', kind: 'max-ratio', case: 'cold/trivial/quickjs', baseline: 'cold/trivial/raw-quickjs-emscripten', max: 2 },
  ...(['v8', 'quickjs'] as const).flatMap((e) =>
    CONCURRENCIES.map((c): TargetSpec => ({
      label: `throughput ${e} c${c} through the dispatcher >= 0.8x ${c} raw environments`,
      kind: 'min-speedup',
      case: `throughput/c${c}/${e}`,
      baseline: `throughput/c${c}/${e === 'v8' ? 'raw-isolated-vm' : 'raw-quickjs-emscripten'}`,
      min: 0.8,
    })),
  ),
  ...(['write', 'read'] as const).flatMap((op) =>
    ([['v8', 3], ['quickjs', 5]] as const).map(([e, max]): TargetSpec => ({
      label: `/tmp 8 MiB ${op} ${e} <= ${max}x the host's node:fs`,
      kind: 'max-ratio',
      case: `tmp/${op}-8mb/${e}-memory`,
      baseline: `tmp/${op}-8mb/node-fs`,
      max,
    })),
  ),
  ...([['v8', 'raw-isolated-vm'], ['quickjs', 'raw-quickjs-emscripten'], ['quickjs-shared', 'raw-quickjs-emscripten-shared']] as const).map(
    ([e, raw]): TargetSpec => ({ label: `idle environments per GiB ${e} >= 0.9x raw`, kind: 'min-density-ratio', case: `density/idle/${e}`, baseline: `density/idle/${raw}`, min: 0.9 }),
  ),
];

export const TARGETS: readonly TargetSpec[] = [
  { label: 'restore quickjs with snapStart <= 300 µs (REPORT Restore Duration)', kind: 'max-ms', case: 'restore/trivial/quickjs', limitMs: 0.3 },
  { label: 'cold start v8 with snapStart <= 2 ms', kind: 'max-ms', case: 'cold/trivial/v8-snapstart', limitMs: 2 },
  { label: 'table INIT: v8 cold start >= 20x faster with snapStart', kind: 'min-speedup', case: 'cold/table-init/v8-snapstart', baseline: 'cold/table-init/v8', min: 20 },
  { label: 'table INIT: quickjs cold start >= 20x faster with snapStart', kind: 'min-speedup', case: 'cold/table-init/quickjs-snapstart', baseline: 'cold/table-init/quickjs', min: 20 },
  { label: 'cold start quickjs <= 1.5 ms', kind: 'max-ms', case: 'cold/trivial/quickjs', limitMs: 1.5 },
  { label: 'cold start quickjs-shared <= 1.5 ms', kind: 'max-ms', case: 'cold/trivial/quickjs-shared', limitMs: 1.5 },
  { label: 'cold start v8 <= 5 ms', kind: 'max-ms', case: 'cold/trivial/v8', limitMs: 5 },
  { label: 'warm overhead v8 over raw isolated-vm <= 20 µs', kind: 'max-overhead-ms', case: 'warm/trivial/v8', baseline: 'warm/trivial/raw-isolated-vm', limitMs: 0.02 },
  { label: 'warm overhead quickjs over raw quickjs-emscripten <= 30 µs', kind: 'max-overhead-ms', case: 'warm/trivial/quickjs', baseline: 'warm/trivial/raw-quickjs-emscripten', limitMs: 0.03 },
  { label: 'cold v8 >= 20x faster than worker_threads', kind: 'min-speedup', case: 'cold/trivial/v8', baseline: 'cold/trivial/worker-threads', min: 20 },
  { label: 'cold v8 >= 20x faster than child_process.fork', kind: 'min-speedup', case: 'cold/trivial/v8', baseline: 'cold/trivial/child-process-fork', min: 20 },
  { label: 'cold quickjs >= 20x faster than worker_threads', kind: 'min-speedup', case: 'cold/trivial/quickjs', baseline: 'cold/trivial/worker-threads', min: 20 },
  { label: 'cold quickjs >= 20x faster than child_process.fork', kind: 'min-speedup', case: 'cold/trivial/quickjs', baseline: 'cold/trivial/child-process-fork', min: 20 },
  { label: 'density v8 >= 700 environments/GiB', kind: 'min-density', case: 'density/idle/v8', min: 700 },
  { label: 'density quickjs shared >= 5,000 environments/GiB', kind: 'min-density', case: 'density/idle/quickjs-shared', min: 5000 },
  // Issue 19 (the wasm engine; `--only wasm`).
  { label: 'cold start wasm C component <= 1 ms', kind: 'max-ms', case: 'cold/trivial/wasm-c', limitMs: 1 },
  { label: 'warm invoke wasm C component <= 20 µs', kind: 'max-ms', case: 'warm/trivial/wasm-c', limitMs: 0.02 },
  { label: 'cold start componentized JS within 2x of quickjs with snapStart', kind: 'min-speedup', case: 'cold/trivial/wasm-js', baseline: 'cold/trivial/quickjs-snapstart', min: 0.5 },
  ...ISSUE_21,
];
