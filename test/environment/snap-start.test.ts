// FunctionSnapStart below the runtime: a cold start admitted for a deployment that is replaced
// (its snapshot disposed) before the restore still gets an environment.
import { describe, expect, it } from 'vitest';
import { bundleFunction } from '../../src/code/index.ts';
import { parseFunctionConfig } from '../../src/config/index.ts';
import { QuickJSEngine } from '../../src/engines/quickjs/quickjs-engine.ts';
import { functionIdentity } from '../../src/environment/lambda-env.ts';
import { FunctionSnapStart } from '../../src/environment/snap-start.ts';
import { silentSink } from '../../src/index.ts';

describe('FunctionSnapStart', () => {
  it('after dispose (a redeploy), a cold start still in flight runs INIT instead of failing', async () => {
    const config = parseFunctionConfig({ name: 'f', engine: 'quickjs', snapStart: true, code: { files: { 'index.mjs': 'export const handler = async () => 1;' } } });
    const outcome = await bundleFunction(config.code, config.handler);
    if (!outcome.ok) throw new Error(outcome.failure.errorMessage);
    const blueprint = await new QuickJSEngine().prepare(outcome.bundle);
    const snapStart = await FunctionSnapStart.create(
      { config, bundle: outcome.bundle, blueprint, identity: functionIdentity('us-east-1', '123456789012', 'f'), sink: silentSink },
      10_000,
    );
    expect(snapStart.info.path).toBe('snapshot');
    const restored = await snapStart.start(() => {});
    expect(restored.restoreDurationMs).toBeGreaterThan(0);
    expect((await restored.env.invoke({ requestId: 'a', event: '{}' })).ok).toBe(true);
    snapStart.dispose();
    const late = await snapStart.start(() => {});
    expect(late.failure).toBeUndefined();
    expect(late.initDurationMs).toBeGreaterThan(0);
    expect(await late.env.invoke({ requestId: 'b', event: '{}' })).toEqual({ ok: true, payload: '1' });
    restored.env.dispose();
    late.env.dispose();
  });
});
