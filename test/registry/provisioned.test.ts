/**
 * Provisioned concurrency on versions and aliases (Lambda's PutProvisionedConcurrencyConfig,
 * https://docs.aws.amazon.com/lambda/latest/api/API_PutProvisionedConcurrencyConfig.html: Qualifier
 * is a version number or alias name; $LATEST is refused; ProvisionedConcurrentExecutions ≥ 1),
 * and metrics per version and alias.
 */
import { describe, expect, it, vi } from 'vitest';
import { InvalidParameterValueException, ResourceNotFoundException } from '../../src/index.ts';
import { ARN, twoVersions, withRt } from './helpers.ts';

const INIT_TYPE = { files: { 'index.mjs': 'export const handler = async () => process.env.AWS_LAMBDA_INITIALIZATION_TYPE;' } };

describe('provisioned concurrency', () => {
  it('Provisioned: never on $LATEST; unknown qualifiers are ResourceNotFoundException; the count is an integer from 1 (0 and over 100000 refused)', async () => {
    await withRt(async (rt) => {
      await twoVersions(rt);
      rt.createAlias('orders', 'dev', { functionVersion: '$LATEST' });
      const latest = await rt.putProvisionedConcurrencyConfig('orders', '$LATEST', { provisionedConcurrentExecutions: 1 }).catch((e: unknown) => e);
      expect(latest).toBeInstanceOf(InvalidParameterValueException);
      expect((latest as Error).message).toBe('Provisioned Concurrency Configs cannot be applied to unpublished function versions.');
      await expect(rt.putProvisionedConcurrencyConfig('orders', 'dev', { provisionedConcurrentExecutions: 1 })).rejects.toThrow(InvalidParameterValueException);
      await expect(rt.putProvisionedConcurrencyConfig('orders', '9', { provisionedConcurrentExecutions: 1 })).rejects.toThrow(`Function not found: ${ARN}:orders:9`);
      for (const n of [0, 100_001, 1.5]) {
        const error = await rt.putProvisionedConcurrencyConfig('orders', '1', { provisionedConcurrentExecutions: n }).catch((e: unknown) => e);
        expect((error as InvalidParameterValueException).field, String(n)).toBe('provisionedConcurrentExecutions');
      }
      expect(await rt.putProvisionedConcurrencyConfig('orders', '1', { provisionedConcurrentExecutions: 1 })).toEqual({
        requestedProvisionedConcurrentExecutions: 1,
        allocatedProvisionedConcurrentExecutions: 1,
        status: 'READY',
      });
      expect(() => rt.getProvisionedConcurrencyConfig('orders', '2')).toThrow(ResourceNotFoundException);
    });
  });

  it('Provisioned: a version gets booted, initialised environments; invokes use them; deleting the config removes them', async () => {
    await withRt(async (rt) => {
      await rt.deploy({ name: 'pc', code: INIT_TYPE });
      await rt.publishVersion('pc');
      await rt.putProvisionedConcurrencyConfig('pc', '1', { provisionedConcurrentExecutions: 2 });
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
      rt.createAlias('pc', 'live', { functionVersion: '1' });
      await rt.putProvisionedConcurrencyConfig('pc', 'live', { provisionedConcurrentExecutions: 1 });
      const provisionedOf = (version: string) => rt.metrics().functions.find((f) => f.version === version)!.environments.provisioned;
      expect([provisionedOf('1'), provisionedOf('2')]).toEqual([1, 0]);
      expect((await rt.invoke('pc:live')).payload).toBe('provisioned-concurrency');
      rt.updateAlias('pc', 'live', { functionVersion: '2' });
      await vi.waitFor(() => expect([provisionedOf('1'), provisionedOf('2')]).toEqual([0, 1]), { timeout: 30_000, interval: 20 });
      const moved = await rt.invoke('pc:live');
      expect(moved.executedVersion).toBe('2');
      expect(moved.payload).toBe('provisioned-concurrency');
      expect(rt.metrics().aliases).toEqual([{ functionName: 'pc', alias: 'live', Invocations: 2, Errors: 0, versions: { '1': 1, '2': 1 } }]);
    });
  });
});
