/**
 * control/*: the control plane (issue #16).
 *   control/resolve/{unqualified,alias-weighted}: resolveTarget alone — the lookup an invoke pays
 *     before admission (name split, Map lookups, the weighted pick) — per call, from 1,000 calls a
 *     sample; baseline: one Map.get.
 *   control/warm-invoke/{unqualified,alias,alias-weighted}/v8: rt.invoke of a warm trivial function
 *     by its plain name, through an alias of version 1 ('orders:plain'), and through a weighted
 *     alias ('orders:live', 10 % to version 2: two versions' environments take turns).
 *   control/fleet/{deploy,publish,restart}: 100 functions × 3 versions (20 with --quick) with a
 *     dataDir — deploy + updateFunctionCode, publishVersion, and createRuntime on the folder again
 *     (reads the registry and bundles every version again). One sample each: the whole fleet.
 *   extra.aliasSplit: the observed share of version 2 over 10,000 invokes of an alias with weight 0.1.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createRuntime, silentSink } from '../../src/index.ts';
import { resolveTarget } from '../../src/invoke/resolve.ts';
import { parseRuntimeOptions } from '../../src/config/index.ts';
import { FunctionEntry, type AliasRecord, type VersionRecord } from '../../src/registry/records.ts';
import { FunctionRegistry } from '../../src/registry/registry.ts';
import { TRIVIAL, TRIVIAL_EVENT } from '../lib/handlers.ts';
import type { Suite } from '../lib/suite.ts';

const ARN = 'arn:aws:lambda:us-east-1:123456789012:function:orders';
const CALLS = 1000;

/** A registry holding `orders` ($LATEST, 1, 2) and alias `live` (1, 10 % to 2): only what resolution reads. */
function fabricatedRegistry(): FunctionRegistry {
  const record = (version: string) => ({ version, identity: { functionArn: ARN, version } }) as unknown as VersionRecord;
  const entry = new FunctionEntry({ ...record('$LATEST'), config: { name: 'orders' } } as unknown as VersionRecord);
  entry.versions.set('1', record('1'));
  entry.versions.set('2', record('2'));
  const alias = { name: 'live', functionVersion: '1', additionalVersion: '2', additionalWeight: 0.1 } as unknown as AliasRecord;
  entry.aliases.set('live', alias);
  const registry = new FunctionRegistry();
  registry.add(entry);
  return registry;
}

function code(tag: string): { files: Record<string, string> } {
  return { files: { 'index.mjs': `${TRIVIAL.module}\nexport const tag = ${JSON.stringify(tag)};` } };
}

export async function controlArea(suite: Suite): Promise<void> {
  // Resolution alone.
  const registry = fabricatedRegistry();
  const options = parseRuntimeOptions({});
  const map = new Map([['orders', 1]]);
  let sink = 0;
  await suite.measure('control/resolve/map-get', () => {
    for (let i = 0; i < CALLS; i++) sink += map.get('orders')!;
  }, { iterations: suite.pick(2000, 300) });
  await suite.measure('control/resolve/unqualified', () => {
    for (let i = 0; i < CALLS; i++) if (resolveTarget(registry, options, Math.random, 'orders', undefined).alias) sink++;
  }, { iterations: suite.pick(2000, 300) });
  await suite.measure('control/resolve/alias-weighted', () => {
    for (let i = 0; i < CALLS; i++) if (resolveTarget(registry, options, Math.random, 'orders:live', undefined).alias) sink++;
  }, { iterations: suite.pick(2000, 300) });
  suite.notes.push(`control/resolve/* time ${CALLS} calls a sample: divide the median by ${CALLS} for one lookup (${sink > 0 ? 'checked' : ''}).`);

  // Warm invoke through an alias and by the plain name.
  const rt = await createRuntime({ logSink: silentSink });
  try {
    await rt.deploy({ name: 'orders', code: code('v1') });
    await rt.publishVersion('orders');
    await rt.updateFunctionCode('orders', code('v2'));
    await rt.publishVersion('orders');
    await rt.createAlias('orders', 'live', { functionVersion: '1', routingConfig: { additionalVersionWeights: { '2': 0.1 } } });
    await rt.createAlias('orders', 'plain', { functionVersion: '1' });
    for (const name of ['orders', 'orders:plain', 'orders:live', 'orders:live', 'orders:live']) await rt.invoke(name, TRIVIAL_EVENT);
    const time = suite.pick(1500, 400);
    const iterations = suite.pick(2000, 300);
    await suite.measure('control/warm-invoke/unqualified/v8', () => rt.invoke('orders', TRIVIAL_EVENT), { iterations, time });
    await suite.measure('control/warm-invoke/alias/v8', () => rt.invoke('orders:plain', TRIVIAL_EVENT), { iterations, time });
    await suite.measure('control/warm-invoke/alias-weighted/v8', () => rt.invoke('orders:live', TRIVIAL_EVENT), { iterations, time });
    suite.ratio('control/warm-invoke/alias/v8', 'control/warm-invoke/unqualified/v8');
    suite.ratio('control/warm-invoke/alias-weighted/v8', 'control/warm-invoke/unqualified/v8');

    // Observed split at weight 0.1.
    const before = rt.metrics().aliases[0]!;
    const n = 10_000;
    for (let i = 0; i < n; i++) await rt.invoke('orders:live', TRIVIAL_EVENT);
    const after = rt.metrics().aliases[0]!;
    const toTwo = (after.versions['2'] ?? 0) - (before.versions['2'] ?? 0);
    suite.extra.aliasSplit = { invocations: n, weight: 0.1, toVersion2: toTwo, share: toTwo / n };
    suite.notes.push(`alias split: ${toTwo} of ${n} invokes of orders:live (weight 0.1 to version 2) ran version 2 (${((toTwo / n) * 100).toFixed(2)} %).`);
  } finally {
    await rt.close();
  }

  // A fleet with a dataDir: deploy, publish, restart.
  const functions = suite.pick(100, 20);
  const dataDir = await mkdtemp(join(tmpdir(), 'lambdalet-bench-control-'));
  try {
    const fleet = await createRuntime({ logSink: silentSink, dataDir });
    let deployMs = 0;
    let publishMs = 0;
    for (let f = 0; f < functions; f++) {
      for (let v = 1; v <= 3; v++) {
        let started = performance.now();
        if (v === 1) await fleet.deploy({ name: `fn${f}`, code: code(`fn${f}-v${v}`) });
        else await fleet.updateFunctionCode(`fn${f}`, code(`fn${f}-v${v}`));
        deployMs += performance.now() - started;
        started = performance.now();
        await fleet.publishVersion(`fn${f}`);
        publishMs += performance.now() - started;
      }
    }
    await fleet.close();
    const started = performance.now();
    const again = await createRuntime({ logSink: silentSink, dataDir });
    const restartMs = performance.now() - started;
    const versions = again.listFunctions().reduce((sum, fn) => sum + again.listVersions(fn.functionName).length - 1, 0);
    if (versions !== functions * 3) throw new Error(`control/fleet: ${versions} versions after restart, expected ${functions * 3}`);
    const answer = await again.invoke(`fn${functions - 1}:2`, TRIVIAL_EVENT);
    if (answer.functionError) throw new Error('control/fleet: a restored version failed');
    await again.close();
    const one = (ms: number) => ({ median: ms, p99: ms, samples: 1 });
    suite.record(`control/fleet/deploy-${functions}x3`, one(deployMs));
    suite.record(`control/fleet/publish-${functions}x3`, one(publishMs));
    suite.record(`control/fleet/restart-${functions}x3`, one(restartMs));
    suite.notes.push(`control/fleet/*: ${functions} functions × 3 versions, each a whole-fleet total in ms (one sample); restart = createRuntime on the dataDir, every version bundled again.`);
  } finally {
    await rm(dataDir, { recursive: true, force: true });
  }
}
