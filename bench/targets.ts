/** The targets (issue 7), as the report checks them. Medians, trivial handler. */
import type { TargetSpec } from './lib/report.ts';

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
];
