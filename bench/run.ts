/**
 * The benchmark suite.
 *
 *   npm run bench          full run: every area, full sample counts (several minutes)
 *   npm run bench:quick    the cold and warm areas only, fewer samples (see QUICK_AREAS)
 *   node --no-node-snapshot bench/run.ts [--quick] [--only cold,warm,...] [--out path.json]
 *
 * `--quick --only <areas>` runs those areas with the quick sample counts.
 *
 * Areas: cold, snapstart (SnapStart cold starts and restores), burst (12 concurrent cold starts of a
 * 300,000-object INIT with and without snapStart: issue 21), warm, throughput, density, dispatch,
 * tmp, soak, wasm (the wasm engine beside quickjs and v8), isolation (sandboxes off the
 * host's thread and in child processes), recovery (after a catastrophic isolated-vm error in
 * process isolation, with load: the neighbour's and the bombed function's next answers), fairness (a neighbour's p50/p99 beside a tenant spinning at its
 * full concurrency, per engine and isolation mode), tenants (new-tenant cold start with and without
 * snapStart), control (versions, aliases, dataDir: issue 16), cluster (members sharing Redis: the
 * cluster-wide concurrency check per invoke, issue 20; needs redis-server), http (the HTTP server under
 * autocannon: function URL, direct invoke, SDK invoke, overload at 10x the concurrency limit; issue 18), async
 * (asynchronous invocation: the queue backend per event in memory and durable, events/s through queue →
 * function → destination, draining 10,000 events after a restart; issue 17), sort (the guest's
 * interruptible sorts of 20,000 elements beside Node's and QuickJS's own), url (100 `new URL()` of a
 * fixed mix per warm invoke on v8 and quickjs beside the host's own URL). Case names are
 * `<area>/<case>/<engine or baseline>`. Prints a table (median, p99, samples; ms) with every
 * lambdalet figure's ratio to its baselines from the same run, the targets as met/missed,
 * and writes bench/results/latest.json. See docs/benchmarks.md.
 */
// First: the compile cache must be in the environment before any engine worker or child starts.
import './lib/compile-cache.ts';
import { cpus } from 'node:os';
import { parseArgs } from 'node:util';
import { asyncArea } from './cases/async.ts';
import { burstArea } from './cases/burst.ts';
import { coldArea, snapStartArea } from './cases/cold.ts';
import { clusterArea } from './cases/cluster.ts';
import { controlArea } from './cases/control.ts';
import { densityArea } from './cases/density.ts';
import { dispatchArea } from './cases/dispatch.ts';
import { isolationArea, isolationRecoveryArea } from './cases/isolation.ts';
import { throughputArea } from './cases/throughput.ts';
import { soakArea } from './cases/soak.ts';
import { sortArea } from './cases/sort.ts';
import { urlArea } from './cases/url.ts';
import { fairnessArea } from './cases/fairness.ts';
import { httpArea } from './cases/http.ts';
import { tenantsArea } from './cases/tenants.ts';
import { tmpArea } from './cases/tmp.ts';
import { warmArea } from './cases/warm.ts';
import { wasmArea } from './cases/wasm.ts';
import { NODE_VM_WARNING } from './baselines/node-vm.ts';
import { computeRatios, evaluateTargets, renderReport, writeReport, type Report } from './lib/report.ts';
import { progress, Suite } from './lib/suite.ts';
import { TARGETS } from './targets.ts';

const AREAS: Record<string, (suite: Suite) => Promise<void>> = {
  cold: coldArea,
  snapstart: snapStartArea,
  burst: burstArea,
  warm: warmArea,
  throughput: throughputArea,
  dispatch: dispatchArea,
  density: densityArea,
  tmp: tmpArea,
  control: controlArea,
  cluster: clusterArea,
  soak: soakArea,
  fairness: fairnessArea,
  tenants: tenantsArea,
  wasm: wasmArea,
  isolation: isolationArea,
  recovery: isolationRecoveryArea,
  http: httpArea,
  async: asyncArea,
  sort: sortArea,
  url: urlArea,
};

const { values } = parseArgs({
  options: {
    quick: { type: 'boolean', default: false },
    only: { type: 'string' },
    out: { type: 'string' },
  },
});

/**
 * What `--quick` runs without `--only`: cold and warm starts per engine beside the raw engines and
 * the other baselines — the figures people ask for first. Every area with quick samples took 121 s
 * (issue #12); SnapStart's cold cases (area `snapstart`, ~65 s of it) are left out. Measured times:
 * docs/benchmarks.md.
 */
const QUICK_AREAS = ['cold', 'warm'];

const selected = values.only ? values.only.split(',') : values.quick ? QUICK_AREAS : Object.keys(AREAS);
for (const area of selected) if (!AREAS[area]) throw new Error(`unknown area ${area}; known: ${Object.keys(AREAS).join(', ')}`);

const suite = new Suite(values.quick);
const started = performance.now();
progress(`lambdalet bench (${suite.quick ? 'quick' : 'full'}): areas ${selected.join(', ')}`);
progress(NODE_VM_WARNING);
const areaSeconds: Record<string, number> = {};
for (const area of selected) {
  progress(`\n== ${area}`);
  const areaStarted = performance.now();
  await suite.attempt(`area ${area}`, () => AREAS[area]!(suite));
  areaSeconds[area] = Number(((performance.now() - areaStarted) / 1000).toFixed(1));
  progress(`== ${area}: ${areaSeconds[area]} s`);
}
suite.extra.areaSeconds = areaSeconds;

suite.notes.push(NODE_VM_WARNING);
suite.notes.push('Ratios are of medians measured in this run; absolute figures vary with machine load, ratios much less.');
suite.notes.push('Cold cases time a new environment + its first invoke; deploy/bundling and disposal are untimed for lambdalet and baselines alike.');
const report: Report = {
  node: process.version,
  cpu: cpus()[0]?.model ?? 'unknown',
  cpuCount: cpus().length,
  platform: `${process.platform} ${process.arch}`,
  date: new Date().toISOString(),
  mode: suite.quick ? 'quick' : 'full',
  unit: 'ms',
  durationS: Number(((performance.now() - started) / 1000).toFixed(1)),
  cases: suite.cases,
  density: suite.density,
  throughput: suite.throughput,
  ratios: computeRatios(suite.ratios, suite.cases, suite.density),
  targets: evaluateTargets(TARGETS, suite.cases, suite.density),
  notYet: suite.notYet,
  failures: suite.failures,
  notes: suite.notes,
  extra: suite.extra,
};
console.log(renderReport(report));
const out = values.out ? new URL(values.out, `file://${process.cwd()}/`) : new URL('./results/latest.json', import.meta.url);
await writeReport(report, out);
console.log(`\nwrote ${out.pathname} (${report.durationS} s)`);
// Worker and isolate handles may linger; the report is written.
process.exit(0);
