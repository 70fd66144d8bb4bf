/**
 * Qualifiers wherever a function is named: `name:version`, `name:alias`, `{ qualifier }`, ARNs with
 * or without a qualifier, partial ARNs (Lambda Invoke's FunctionName and Qualifier:
 * https://docs.aws.amazon.com/lambda/latest/api/API_Invoke.html), and what the handler sees:
 * context.functionVersion, context.invokedFunctionArn, AWS_LAMBDA_FUNCTION_VERSION, the START line's
 * Version and the `[version]` log stream prefix (Lambda developer guide, "Lambda context object"
 * and "Defined runtime environment variables").
 */
import { describe, expect, it } from 'vitest';
import { InvalidParameterValueException, ResourceNotFoundException } from '../../src/index.ts';
import { ARN, twoVersions, withRt, type Tagged } from '../registry/helpers.ts';

describe('qualifiers', () => {
  it('Qualifiers: every way of naming a version or alias reaches it, and the handler sees what Lambda shows it', async () => {
    await withRt(async (rt, logs) => {
      await twoVersions(rt);
      await rt.createAlias('orders', 'live', { functionVersion: '1' });
      const cases: [string, Record<string, string> | undefined, string, string][] = [
        ['orders', undefined, '$LATEST', `${ARN}:orders`],
        ['orders:$LATEST', undefined, '$LATEST', `${ARN}:orders:$LATEST`],
        ['orders:2', undefined, '2', `${ARN}:orders:2`],
        ['orders:live', undefined, '1', `${ARN}:orders:live`],
        ['orders', { qualifier: 'live' }, '1', `${ARN}:orders:live`],
        ['orders:live', { qualifier: 'live' }, '1', `${ARN}:orders:live`],
        [`${ARN}:orders`, undefined, '$LATEST', `${ARN}:orders`],
        [`${ARN}:orders:2`, undefined, '2', `${ARN}:orders:2`],
        [`${ARN}:orders:live`, undefined, '1', `${ARN}:orders:live`],
        ['123456789012:function:orders:2', undefined, '2', `${ARN}:orders:2`],
      ];
      for (const [name, options, version, arn] of cases) {
        const result = await rt.invoke(name, {}, options);
        const seen = result.payload as Tagged;
        expect(result.executedVersion, name).toBe(version);
        expect(seen, name).toMatchObject({ functionVersion: version, envVersion: version, invokedFunctionArn: arn });
        expect(seen.logStream, name).toMatch(new RegExp(`^\\d{4}/\\d{2}/\\d{2}/\\[${version.replace('$', '\\$')}\\][0-9a-f]{32}$`));
        expect(logs.forRequest(result.requestId).find((l) => l.startsWith('START'))).toBe(`START RequestId: ${result.requestId} Version: ${version}`);
      }
    });
  });

  it('Qualifiers: a qualifier that disagrees with the name, or a malformed one, is InvalidParameterValueException', async () => {
    await withRt(async (rt) => {
      await twoVersions(rt);
      const mismatch = await rt.invoke('orders:1', {}, { qualifier: '2' }).catch((e: unknown) => e);
      expect(mismatch).toBeInstanceOf(InvalidParameterValueException);
      expect((mismatch as Error).message).toBe('The derived qualifier from the function name does not match the specified qualifier.');
      for (const name of ['orders:', 'orders:bad!', 'a:b:c', `${ARN}:orders:1:2`, 'bad name', `orders:${'q'.repeat(129)}`, '']) {
        const error = await rt.invoke(name).catch((e: unknown) => e);
        expect(error, name).toBeInstanceOf(InvalidParameterValueException);
      }
      await expect(rt.invoke('orders', {}, { qualifier: 'bad!' })).rejects.toThrow(InvalidParameterValueException);
      // 128 characters is a well-formed qualifier: it is simply not there.
      await expect(rt.invoke(`orders:${'q'.repeat(128)}`)).rejects.toThrow(ResourceNotFoundException);
    });
  });

  it('Qualifiers: unknown versions and aliases, and ARNs of another account or region, are ResourceNotFoundException', async () => {
    await withRt(async (rt) => {
      await twoVersions(rt);
      await expect(rt.invoke('orders:3')).rejects.toThrow(`Function not found: ${ARN}:orders:3`);
      await expect(rt.invoke('orders', {}, { qualifier: 'nope' })).rejects.toThrow(`Function not found: ${ARN}:orders:nope`);
      await expect(rt.invoke('arn:aws:lambda:us-east-1:999999999999:function:orders')).rejects.toThrow(ResourceNotFoundException);
      await expect(rt.invoke('arn:aws:lambda:eu-west-1:123456789012:function:orders')).rejects.toThrow(ResourceNotFoundException);
      await expect(rt.invoke('nope:1')).rejects.toThrow(`Function not found: ${ARN}:nope`);
    });
  });

  it('Qualifiers: each version has its own pool and metrics; an alias runs on its version\'s environments', async () => {
    await withRt(async (rt) => {
      await twoVersions(rt);
      await rt.createAlias('orders', 'live', { functionVersion: '2' });
      const first = await rt.invoke('orders:2');
      const second = await rt.invoke('orders:live');
      expect(first.coldStart).toBe(true);
      // Same version, same pool: the alias reuses version 2's warm environment.
      expect(second.coldStart).toBe(false);
      expect((await rt.invoke('orders')).coldStart).toBe(true);
      const metrics = rt.metrics().functions.map((f) => [f.functionName, f.version, f.Invocations, f.ColdStarts]);
      expect(metrics).toEqual([
        ['orders', '$LATEST', 1, 1],
        ['orders', '1', 0, 0],
        ['orders', '2', 2, 1],
      ]);
    });
  });
});
