/**
 * Provisioned concurrency on versions and aliases (Lambda's PutProvisionedConcurrencyConfig,
 * https://docs.aws.amazon.com/lambda/latest/api/API_PutProvisionedConcurrencyConfig.html: Qualifier
 * is a version number or alias name; $LATEST is refused; ProvisionedConcurrentExecutions ≥ 1),
 * and metrics per version and alias.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it, vi } from 'vitest';
import { createRuntime, InvalidParameterValueException, ResourceConflictException, ResourceNotFoundException, silentSink, type Runtime } from '../../src/index.ts';
import { ARN, seeded, twoVersions, withRt } from './helpers.ts';

/** Waits until the allocation is READY (GetProvisionedConcurrencyConfig's Status); no timing is asserted. */
async function ready(rt: Runtime, name: string, qualifier: string): Promise<void> {
  await vi.waitFor(() => expect(rt.getProvisionedConcurrencyConfig(name, qualifier).status).toBe('READY'), { timeout: 60_000, interval: 20 });
}

const INIT_TYPE = { files: { 'index.mjs': 'export const handler = async () => process.env.AWS_LAMBDA_INITIALIZATION_TYPE;' } };

describe('provisioned concurrency', () => {
  it('Provisioned: never on $LATEST; unknown qualifiers are ResourceNotFoundException; the count is an integer from 1 (0 and over 100000 refused)', async () => {
    await withRt(async (rt) => {
      await twoVersions(rt);
      await rt.createAlias('orders', 'dev', { functionVersion: '$LATEST' });
      const latest = await rt.putProvisionedConcurrencyConfig('orders', '$LATEST', { provisionedConcurrentExecutions: 1 }).catch((e: unknown) => e);
      expect(latest).toBeInstanceOf(InvalidParameterValueException);
      expect((latest as Error).message).toBe('Provisioned Concurrency Configs cannot be applied to unpublished function versions.');
      await expect(rt.putProvisionedConcurrencyConfig('orders', 'dev', { provisionedConcurrentExecutions: 1 })).rejects.toThrow(InvalidParameterValueException);
      await expect(rt.putProvisionedConcurrencyConfig('orders', '9', { provisionedConcurrentExecutions: 1 })).rejects.toThrow(`Function not found: ${ARN}:orders:9`);
      for (const n of [0, 100_001, 1.5]) {
        const error = await rt.putProvisionedConcurrencyConfig('orders', '1', { provisionedConcurrentExecutions: n }).catch((e: unknown) => e);
        expect((error as InvalidParameterValueException).field, String(n)).toBe('provisionedConcurrentExecutions');
      }
      // Lambda answers 202 with Status IN_PROGRESS; the environments boot in the background.
      expect(await rt.putProvisionedConcurrencyConfig('orders', '1', { provisionedConcurrentExecutions: 1 })).toMatchObject({
        requestedProvisionedConcurrentExecutions: 1,
        allocatedProvisionedConcurrentExecutions: 0,
        status: 'IN_PROGRESS',
      });
      await ready(rt, 'orders', '1');
      expect(rt.getProvisionedConcurrencyConfig('orders', '1')).toMatchObject({ requestedProvisionedConcurrentExecutions: 1, allocatedProvisionedConcurrentExecutions: 1 });
      expect(() => rt.getProvisionedConcurrencyConfig('orders', '2')).toThrow(ResourceNotFoundException);
    });
  });

  it('Provisioned: a version gets booted, initialised environments; invokes use them; deleting the config removes them', async () => {
    await withRt(async (rt) => {
      await rt.deploy({ name: 'pc', code: INIT_TYPE });
      await rt.publishVersion('pc');
      await rt.putProvisionedConcurrencyConfig('pc', '1', { provisionedConcurrentExecutions: 2 });
      await ready(rt, 'pc', '1');
      const v1 = () => rt.metrics().functions.find((f) => f.version === '1')!;
      expect(v1()).toMatchObject({ provisionedConcurrency: 2, environments: { provisioned: 2 } });
      const result = await rt.invoke('pc:1');
      expect(result.coldStart).toBe(false);
      expect(result.payload).toBe('provisioned-concurrency');
      expect(v1().ProvisionedConcurrencyInvocations).toBe(1);
      // $LATEST is untouched.
      expect((await rt.invoke('pc')).payload).toBe('on-demand');
      await rt.deleteProvisionedConcurrencyConfig('pc', '1');
      expect(v1()).toMatchObject({ provisionedConcurrency: 0, environments: { provisioned: 0 } });
      expect(() => rt.getProvisionedConcurrencyConfig('pc', '1')).toThrow(`No Provisioned Concurrency Config found for this function: ${ARN}:pc:1`);
    });
  });

  it('Provisioned: on an alias it goes to the alias\'s version, and follows the alias when it moves', async () => {
    await withRt(async (rt) => {
      await rt.deploy({ name: 'pc', code: INIT_TYPE });
      await rt.publishVersion('pc');
      await rt.updateFunctionConfiguration('pc', { memoryMb: 256 });
      await rt.publishVersion('pc');
      await rt.createAlias('pc', 'live', { functionVersion: '1' });
      await rt.putProvisionedConcurrencyConfig('pc', 'live', { provisionedConcurrentExecutions: 1 });
      await ready(rt, 'pc', 'live');
      const provisionedOf = (version: string) => rt.metrics().functions.find((f) => f.version === version)!.environments.provisioned;
      expect([provisionedOf('1'), provisionedOf('2')]).toEqual([1, 0]);
      expect((await rt.invoke('pc:live')).payload).toBe('provisioned-concurrency');
      await rt.updateAlias('pc', 'live', { functionVersion: '2' });
      await vi.waitFor(() => expect([provisionedOf('1'), provisionedOf('2')]).toEqual([0, 1]), { timeout: 30_000, interval: 20 });
      // environments.provisioned counts those still booting: READY says they are through INIT.
      await ready(rt, 'pc', 'live');
      const moved = await rt.invoke('pc:live');
      expect(moved.executedVersion).toBe('2');
      expect(moved.payload).toBe('provisioned-concurrency');
      expect(rt.metrics().aliases).toEqual([{ functionName: 'pc', alias: 'live', Invocations: 2, Errors: 0, versions: { '1': 1, '2': 1 } }]);
    });
  });

  it('Provisioned: deploy and updateFunctionConfiguration refuse it on $LATEST with Lambda\'s message; 0 is accepted', async () => {
    await withRt(async (rt) => {
      const error = await rt.deploy({ name: 'l', code: INIT_TYPE, provisionedConcurrency: 1 }).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(InvalidParameterValueException);
      expect(error).toMatchObject({ field: 'provisionedConcurrency', message: 'Provisioned Concurrency Configs cannot be applied to unpublished function versions.' });
      expect(() => rt.getFunction('l')).toThrow(ResourceNotFoundException);
      await rt.deploy({ name: 'l', code: INIT_TYPE, provisionedConcurrency: 0 });
      await expect(rt.updateFunctionConfiguration('l', { provisionedConcurrency: 1 })).rejects.toThrow('Provisioned Concurrency Configs cannot be applied to unpublished function versions.');
    });
  });

  it('Provisioned: a weighted alias splits its share by the weight (round(n × w) to the second version), and follows weight changes', async () => {
    await withRt(async (rt) => {
      await rt.deploy({ name: 'w', code: INIT_TYPE });
      await rt.publishVersion('w');
      await rt.updateFunctionConfiguration('w', { memoryMb: 256 });
      await rt.publishVersion('w');
      await rt.createAlias('w', 'live', { functionVersion: '1', routingConfig: { additionalVersionWeights: { '2': 0.25 } } });
      await rt.putProvisionedConcurrencyConfig('w', 'live', { provisionedConcurrentExecutions: 4 });
      await ready(rt, 'w', 'live');
      const provisionedOf = (version: string) => rt.metrics().functions.find((f) => f.version === version)!.environments.provisioned;
      expect([provisionedOf('1'), provisionedOf('2')]).toEqual([3, 1]);
      expect(rt.getProvisionedConcurrencyConfig('w', 'live')).toMatchObject({ requestedProvisionedConcurrentExecutions: 4, allocatedProvisionedConcurrentExecutions: 4 });
      // The second version's invocations are served by its provisioned environment.
      const rolled = [];
      for (let i = 0; i < 40 && rolled.length === 0; i++) {
        const result = await rt.invoke('w:live');
        if (result.executedVersion === '2') rolled.push(result);
      }
      expect(rolled[0]).toMatchObject({ coldStart: false, payload: 'provisioned-concurrency' });
      await rt.updateAlias('w', 'live', { routingConfig: { additionalVersionWeights: { '2': 0.5 } } });
      await vi.waitFor(() => expect([provisionedOf('1'), provisionedOf('2')]).toEqual([2, 2]), { timeout: 60_000, interval: 20 });
      await ready(rt, 'w', 'live');
      await rt.updateAlias('w', 'live', { routingConfig: null });
      await vi.waitFor(() => expect([provisionedOf('1'), provisionedOf('2')]).toEqual([4, 0]), { timeout: 60_000, interval: 20 });
    }, { random: seeded(7) });
  });

  it('Provisioned: an INIT that fails makes the allocation FAILED, with its reason; invokes still answer with the INIT error', async () => {
    await withRt(async (rt) => {
      await rt.deploy({ name: 'bad', code: { files: { 'index.mjs': 'throw new Error("no db"); export const handler = async () => 1;' } } });
      await rt.publishVersion('bad');
      await rt.putProvisionedConcurrencyConfig('bad', '1', { provisionedConcurrentExecutions: 2 });
      await vi.waitFor(() => expect(rt.getProvisionedConcurrencyConfig('bad', '1').status).not.toBe('IN_PROGRESS'), { timeout: 60_000, interval: 20 });
      expect(rt.getProvisionedConcurrencyConfig('bad', '1')).toMatchObject({ status: 'FAILED', statusReason: 'FUNCTION_ERROR_INIT_FAILURE', allocatedProvisionedConcurrentExecutions: 0 });
      const result = await rt.invoke('bad:1');
      expect(result.functionError).toBe('Unhandled');
      expect(result.payload).toMatchObject({ errorMessage: 'no db' });
    });
  });

  // LocalStack's AWS-validated provider (put_provisioned_concurrency_config): a version is provisioned
  // either directly or through aliases, not both; SnapStart and provisioned concurrency never together.
  it('Provisioned: a version and an alias onto it cannot both hold a config (ResourceConflictException, Lambda\'s words); not with SnapStart', async () => {
    await withRt(async (rt) => {
      await twoVersions(rt);
      await rt.createAlias('orders', 'live', { functionVersion: '1' });
      await rt.createAlias('orders', 'next', { functionVersion: '2' });
      await rt.putProvisionedConcurrencyConfig('orders', '1', { provisionedConcurrentExecutions: 1 });
      const viaAlias = await rt.putProvisionedConcurrencyConfig('orders', 'live', { provisionedConcurrentExecutions: 1 }).catch((e: unknown) => e);
      expect(viaAlias).toBeInstanceOf(ResourceConflictException);
      expect((viaAlias as Error).message).toBe("Alias can't be used for Provisioned Concurrency configuration on an already Provisioned version");
      await rt.putProvisionedConcurrencyConfig('orders', 'next', { provisionedConcurrentExecutions: 1 });
      const onVersion = await rt.putProvisionedConcurrencyConfig('orders', '2', { provisionedConcurrentExecutions: 1 }).catch((e: unknown) => e);
      expect(onVersion).toBeInstanceOf(ResourceConflictException);
      expect((onVersion as Error).message).toBe('Version is pointed by a Provisioned Concurrency alias');
      // Replacing a config on the same qualifier is fine.
      await rt.putProvisionedConcurrencyConfig('orders', 'next', { provisionedConcurrentExecutions: 2 });
      await rt.deploy({ name: 'snap', code: INIT_TYPE, snapStart: true });
      await rt.publishVersion('snap');
      await expect(rt.putProvisionedConcurrencyConfig('snap', '1', { provisionedConcurrentExecutions: 1 })).rejects.toThrow(InvalidParameterValueException);
    });
  });

  it('Provisioned: configs are kept in dataDir and allocated again on restart (READY when createRuntime resolves); deletes are kept too', async () => {
    const dataDir = await mkdtemp(join(tmpdir(), 'lambdalet-provisioned-'));
    try {
      const first = await createRuntime({ logSink: silentSink, dataDir });
      await twoVersions(first);
      await first.createAlias('orders', 'live', { functionVersion: '2' });
      await first.putProvisionedConcurrencyConfig('orders', '1', { provisionedConcurrentExecutions: 1 });
      await first.putProvisionedConcurrencyConfig('orders', 'live', { provisionedConcurrentExecutions: 2 });
      const put = first.getProvisionedConcurrencyConfig('orders', 'live');
      await first.close();
      const second = await createRuntime({ logSink: silentSink, dataDir });
      try {
        expect(second.getProvisionedConcurrencyConfig('orders', '1')).toMatchObject({ requestedProvisionedConcurrentExecutions: 1, status: 'READY' });
        expect(second.getProvisionedConcurrencyConfig('orders', 'live')).toEqual({ ...put, allocatedProvisionedConcurrentExecutions: 2, status: 'READY' });
        expect(second.metrics().functions.map((f) => [f.version, f.environments.provisioned])).toEqual([
          ['$LATEST', 0],
          ['1', 1],
          ['2', 2],
        ]);
        expect((await second.invoke('orders:live')).coldStart).toBe(false);
        await second.deleteProvisionedConcurrencyConfig('orders', '1');
      } finally {
        await second.close();
      }
      const third = await createRuntime({ logSink: silentSink, dataDir });
      try {
        expect(() => third.getProvisionedConcurrencyConfig('orders', '1')).toThrow(ResourceNotFoundException);
        expect(third.getProvisionedConcurrencyConfig('orders', 'live').status).toBe('READY');
      } finally {
        await third.close();
      }
    } finally {
      await rm(dataDir, { recursive: true, force: true });
    }
  });

  it('Provisioned: limits — at the unreserved minimum accepted, one over refused with Lambda\'s message, and a refused weighted split leaves nothing half-allocated', async () => {
    await withRt(
      async (rt) => {
        await twoVersions(rt);
        // concurrency 100 keeps 10 unreserved: 90 provisioned fit, 91 do not.
        const over = await rt.putProvisionedConcurrencyConfig('orders', '1', { provisionedConcurrentExecutions: 91 }).catch((e: unknown) => e);
        expect(over).toBeInstanceOf(InvalidParameterValueException);
        expect((over as Error).message).toBe("Specified ConcurrentExecutions for function decreases account's UnreservedConcurrentExecution below its minimum value of [10].");
        expect(() => rt.getProvisionedConcurrencyConfig('orders', '1')).toThrow(ResourceNotFoundException);
        // A weighted alias: 46 + 46 pass one by one and fail together; the first half is given back.
        await rt.createAlias('orders', 'live', { functionVersion: '1', routingConfig: { additionalVersionWeights: { '2': 0.5 } } });
        await expect(rt.putProvisionedConcurrencyConfig('orders', 'live', { provisionedConcurrentExecutions: 92 })).rejects.toThrow(InvalidParameterValueException);
        expect(() => rt.getProvisionedConcurrencyConfig('orders', 'live')).toThrow(ResourceNotFoundException);
        expect(rt.metrics().functions.map((f) => f.provisionedConcurrency)).toEqual([0, 0, 0]);
        expect(rt.metrics().unreservedConcurrency).toBe(100);
        // At the limit it is accepted (READY is not awaited: 90 environments are not booted here).
        const at = await rt.putProvisionedConcurrencyConfig('orders', 'live', { provisionedConcurrentExecutions: 90 });
        expect(at).toMatchObject({ requestedProvisionedConcurrentExecutions: 90, status: 'IN_PROGRESS' });
        expect(rt.metrics().unreservedConcurrency).toBe(10);
        await rt.deleteProvisionedConcurrencyConfig('orders', 'live');
      },
      { concurrency: 100 },
    );
  });
});
