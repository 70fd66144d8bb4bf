/**
 * tenants/new-tenant/<handler>/<engine>[-snapstart] (issue #15): the cold start of a tenant's first
 * invoke of a function deployed with `tenancy: { isolationMode: 'PER_TENANT' }` — every sample is a
 * new tenant id, so every sample starts an environment (checked: `coldStart`). With snapStart each
 * new tenant's environment is a private copy restored from the function's one snapshot (Lambda
 * refuses SnapStart with tenant isolation; lambdalet allows it). Handlers: the trivial one and the
 * 200,000-entry-table INIT, where one shared INIT matters. Environments of earlier samples stay
 * (as they would for live tenants) up to the tenant limit; the runtime's concurrency is raised so
 * it is never reached.
 */
import { createRuntime, silentSink, type Runtime } from '../../src/index.ts';
import { TABLE, TRIVIAL, TRIVIAL_EVENT, type HandlerCode } from '../lib/handlers.ts';
import type { Suite } from '../lib/suite.ts';

export async function tenantsArea(suite: Suite): Promise<void> {
  const iterations = suite.pick(40, 12);
  for (const code of [TRIVIAL, TABLE]) {
    for (const engine of ['v8', 'quickjs'] as const) {
      for (const snapStart of [false, true]) {
        const name = `tenants/new-tenant/${code.name}/${engine}${snapStart ? '-snapstart' : ''}`;
        const rt: Runtime = await createRuntime({ logSink: silentSink, concurrency: 1000, scaleUpRate: 100_000, scaleUpBurst: 100_000, memoryBudgetMb: 1 << 20 });
        try {
          await deploy(rt, code, engine, snapStart);
          let tenant = 0;
          await suite.measure(
            name,
            async () => {
              const res = await rt.invoke('saas', TRIVIAL_EVENT, { tenantId: `tenant-${tenant++}` });
              if (!res.coldStart || res.functionError) throw new Error(`${name}: expected a successful cold start, got ${JSON.stringify(res.payload)}`);
            },
            { iterations, warmupIterations: 2 },
          );
        } finally {
          await rt.close();
        }
      }
      suite.ratio(`tenants/new-tenant/${code.name}/${engine}-snapstart`, `tenants/new-tenant/${code.name}/${engine}`);
    }
  }
}

async function deploy(rt: Runtime, code: HandlerCode, engine: 'v8' | 'quickjs', snapStart: boolean): Promise<void> {
  await rt.deploy({
    name: 'saas',
    engine,
    tenancy: { isolationMode: 'PER_TENANT' },
    snapStart,
    memoryMb: code === TABLE ? 256 : 128,
    code: { files: { 'index.mjs': code.module } },
  });
}
