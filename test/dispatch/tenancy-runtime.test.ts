/**
 * Tenant isolation through the public API, on every engine (Lambda's tenant isolation mode,
 * docs.aws.amazon.com/lambda/latest/dg/tenant-isolation*.html): `tenancy: { isolationMode:
 * 'PER_TENANT' }` at deploy, `rt.invoke(name, event, { tenantId })`, `context.tenantId`; an
 * environment serves one tenant and is reused for it; the invoke errors Lambda documents.
 */
import { describe, expect, it } from 'vitest';
import { InvalidParameterValueException } from '../../src/errors.ts';
import { ENGINES, withRuntime } from '../helpers/runtime.ts';

const TENANT_MESSAGE = 'Tenant ID configuration not specified or passed to a function when tenant isolation is not enabled.';
const PER_TENANT = { isolationMode: 'PER_TENANT' } as const;
const COUNTER = `let count = 0; const initRandom = Math.random();
export const handler = async (event, context) => ({ tenant: context.tenantId, count: ++count, initRandom, random: Math.random(), keys: Object.keys(JSON.parse(JSON.stringify(context))) });`;

async function rejection(promise: Promise<unknown>): Promise<InvalidParameterValueException> {
  try {
    await promise;
  } catch (error) {
    return error as InvalidParameterValueException;
  }
  throw new Error('expected a rejection');
}

describe.each(ENGINES)('tenant isolation [%s]', (engine) => {
  it('an environment serves only its tenant, is reused for it, and the handler sees context.tenantId', () =>
    withRuntime(async ({ rt }) => {
      await rt.deploy({ name: 'saas', engine, tenancy: PER_TENANT, code: { files: { 'index.mjs': COUNTER } } });
      const blue1 = await rt.invoke('saas', {}, { tenantId: 'blue' });
      const blue2 = await rt.invoke('saas', {}, { tenantId: 'blue' });
      const green = await rt.invoke('saas', {}, { tenantId: 'green' });
      expect(blue1.payload).toMatchObject({ tenant: 'blue', count: 1 });
      expect(blue1.coldStart).toBe(true);
      expect(blue2.payload).toMatchObject({ tenant: 'blue', count: 2 });
      expect(blue2.coldStart).toBe(false);
      expect(green.payload).toMatchObject({ tenant: 'green', count: 1 });
      expect(green.coldStart).toBe(true);
      expect((blue1.payload as { keys: string[] }).keys).toContain('tenantId');
      const tenancy = rt.metrics().functions.find((f) => f.functionName === 'saas')!.tenancy!;
      expect(tenancy.environments).toBe(2);
      expect(tenancy.tenants.blue).toMatchObject({ Invocations: 2, ColdStarts: 1, environments: 1 });
      expect(tenancy.tenants.green).toMatchObject({ Invocations: 1, ColdStarts: 1, environments: 1 });
    }));

  it('missing tenantId on a tenant-isolated function, or a tenantId on any other: InvalidParameterValueException with Lambda’s message', () =>
    withRuntime(async ({ rt }) => {
      await rt.deploy({ name: 'saas', engine, tenancy: PER_TENANT, code: { files: { 'index.mjs': COUNTER } } });
      await rt.deploy({ name: 'plain', engine, code: { files: { 'index.mjs': COUNTER } } });
      for (const error of [await rejection(rt.invoke('saas', {})), await rejection(rt.invoke('plain', {}, { tenantId: 'blue' }))]) {
        expect(error).toBeInstanceOf(InvalidParameterValueException);
        expect(error.message).toBe(TENANT_MESSAGE);
        expect(error.field).toBe('tenantId');
      }
      // A function without tenancy has context.tenantId undefined: absent from its JSON.
      const plain = await rt.invoke('plain', {});
      expect((plain.payload as { tenant?: string; keys: string[] }).keys).not.toContain('tenantId');
    }));

  it('tenantId: 1 to 256 characters of [a-zA-Z0-9._:/=+-@ ] (at, just under, just over; empty; a refused character)', () =>
    withRuntime(async ({ rt }) => {
      await rt.deploy({ name: 'saas', engine, tenancy: PER_TENANT, code: { files: { 'index.mjs': COUNTER } } });
      const max = 'a'.repeat(255) + '@';
      expect((await rt.invoke('saas', {}, { tenantId: max })).payload).toMatchObject({ tenant: max });
      expect((await rt.invoke('saas', {}, { tenantId: 'a'.repeat(255) })).payload).toMatchObject({ tenant: 'a'.repeat(255) });
      expect((await rt.invoke('saas', {}, { tenantId: 'x' })).payload).toMatchObject({ tenant: 'x' });
      for (const bad of ['a'.repeat(257), '', 'blue\n', 'caf\u00e9', 'a#b']) {
        const error = await rejection(rt.invoke('saas', {}, { tenantId: bad }));
        expect(error).toBeInstanceOf(InvalidParameterValueException);
        expect(error.field).toBe('tenantId');
        expect(error.message).toMatch(/tenant id of 1 to 256 characters/);
      }
    }));
});

describe('tenant isolation: deploy rules', () => {
  it('fixed for the function’s life: a redeploy that adds or drops tenancy is InvalidParameterValueException; one that keeps it works', () =>
    withRuntime(async ({ rt }) => {
      await rt.deploy({ name: 'saas', tenancy: PER_TENANT, code: { files: { 'index.mjs': COUNTER } } });
      const dropped = await rejection(rt.deploy({ name: 'saas', code: { files: { 'index.mjs': COUNTER } } }));
      expect(dropped).toBeInstanceOf(InvalidParameterValueException);
      expect(dropped.field).toBe('tenancy');
      expect(dropped.message).toBe(
        "Expected `tenancy` to stay { isolationMode: 'PER_TENANT' }: tenant isolation configuration cannot be modified after function creation, got none",
      );
      await rt.deploy({ name: 'plain', code: { files: { 'index.mjs': COUNTER } } });
      expect((await rejection(rt.deploy({ name: 'plain', tenancy: PER_TENANT, code: { files: { 'index.mjs': COUNTER } } }))).field).toBe('tenancy');
      await rt.deploy({ name: 'saas', tenancy: PER_TENANT, memoryMb: 256, code: { files: { 'index.mjs': COUNTER } } });
      expect((await rt.invoke('saas', {}, { tenantId: 'blue' })).payload).toMatchObject({ tenant: 'blue', count: 1 });
    }));

  it('refused: provisioned concurrency with tenancy (as Lambda); an unknown isolation mode', () =>
    withRuntime(async ({ rt }) => {
      const provisioned = await rejection(rt.deploy({ name: 'p', tenancy: PER_TENANT, provisionedConcurrency: 1, code: { files: { 'index.mjs': COUNTER } } }));
      expect(provisioned.field).toBe('provisionedConcurrency');
      expect(provisioned.message).toMatch(/to be 0 with `tenancy`/);
      const mode = await rejection(rt.deploy({ name: 'm', tenancy: { isolationMode: 'PER_REQUEST' as 'PER_TENANT' }, code: { files: { 'index.mjs': COUNTER } } }));
      expect(mode.field).toBe('tenancy.isolationMode');
    }));
});

describe.each(ENGINES)('tenant isolation with SnapStart [%s] (beyond Lambda, which refuses the pair)', (engine) => {
  it('one INIT; each new tenant restores a private copy with its randomness reseeded', () =>
    withRuntime(async ({ rt }) => {
      await rt.deploy({ name: 'snap', engine, tenancy: PER_TENANT, snapStart: true, code: { files: { 'index.mjs': COUNTER } } });
      const results = [];
      for (const tenantId of ['blue', 'green', 'red']) results.push(await rt.invoke('snap', {}, { tenantId }));
      for (const r of results) {
        expect(r.coldStart).toBe(true);
        expect(r.restoreDurationMs).toBeGreaterThanOrEqual(0);
        expect(r.payload).toMatchObject({ count: 1 });
      }
      const payloads = results.map((r) => r.payload as { initRandom: number; random: number; tenant: string });
      // INIT ran once (in the template): every copy holds its value...
      expect(new Set(payloads.map((p) => p.initRandom)).size).toBe(1);
      // ...and each copy draws its own numbers after the restore.
      expect(new Set(payloads.map((p) => p.random)).size).toBe(3);
      expect(payloads.map((p) => p.tenant)).toEqual(['blue', 'green', 'red']);
      const again = await rt.invoke('snap', {}, { tenantId: 'green' });
      expect(again.coldStart).toBe(false);
      expect(again.payload).toMatchObject({ tenant: 'green', count: 2 });
    }));
});
