/**
 * Versions: PublishVersion, ListVersionsByFunction, UpdateFunctionCode/Configuration, DeleteFunction
 * with a qualifier, RevisionId. Rules and messages from the Lambda API reference
 * (https://docs.aws.amazon.com/lambda/latest/api/API_PublishVersion.html and siblings).
 */
import { describe, expect, it } from 'vitest';
import {
  InvalidParameterValueException,
  PreconditionFailedException,
  ResourceConflictException,
  ResourceNotFoundException,
} from '../../src/index.ts';
import { ARN, taggedCode, twoVersions, withRt, type Tagged } from './helpers.ts';

describe('publishVersion', () => {
  it('Versions: a version is an immutable copy of $LATEST; later updates of $LATEST do not change it', async () => {
    await withRt(async (rt) => {
      const deployed = await rt.deploy({ name: 'orders', code: taggedCode('v1'), memoryMb: 256, description: 'first' });
      const v1 = await rt.publishVersion('orders');
      expect(v1).toMatchObject({ version: '1', functionArn: `${ARN}:orders:1`, memoryMb: 256, description: 'first', codeSha256: deployed.codeSha256 });
      await rt.updateFunctionCode('orders', taggedCode('v2'));
      await rt.updateFunctionConfiguration('orders', { memoryMb: 512 });
      expect(((await rt.invoke('orders:1')).payload as Tagged).tag).toBe('v1');
      expect(((await rt.invoke('orders')).payload as Tagged).tag).toBe('v2');
      expect(rt.getFunction('orders:1')).toMatchObject({ memoryMb: 256, codeSha256: deployed.codeSha256, revisionId: v1.revisionId });
      expect(rt.getFunction('orders')).toMatchObject({ memoryMb: 512, version: '$LATEST' });
      expect(rt.getFunction('orders').codeSha256).not.toBe(deployed.codeSha256);
    });
  });

  it('Versions: publishing unchanged code and configuration returns the newest version (Lambda: no new version)', async () => {
    await withRt(async (rt) => {
      await rt.deploy({ name: 'orders', code: taggedCode('v1') });
      const first = await rt.publishVersion('orders');
      // Same code and configuration, even redeployed, even with another description.
      await rt.deploy({ name: 'orders', code: taggedCode('v1') });
      const again = await rt.publishVersion('orders', { description: 'other words' });
      expect(again.version).toBe('1');
      expect(again.revisionId).toBe(first.revisionId);
      await rt.updateFunctionConfiguration('orders', { timeoutMs: 5000 });
      expect((await rt.publishVersion('orders')).version).toBe('2');
      expect(rt.listVersions('orders').map((v) => v.version)).toEqual(['$LATEST', '1', '2']);
    });
  });

  it('Versions: codeSha256 must be $LATEST\'s (InvalidParameterValueException otherwise)', async () => {
    await withRt(async (rt) => {
      const latest = await rt.deploy({ name: 'orders', code: taggedCode('v1') });
      const wrong = '0'.repeat(64);
      const error = await rt.publishVersion('orders', { codeSha256: wrong }).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(InvalidParameterValueException);
      expect((error as Error).message).toBe(
        `CodeSHA256 (${wrong}) is different from current CodeSHA256 in $LATEST (${latest.codeSha256}). Please try again from CreateFunction/UpdateFunctionCode.`,
      );
      expect(rt.listVersions('orders')).toHaveLength(1);
      expect((await rt.publishVersion('orders', { codeSha256: latest.codeSha256 })).version).toBe('1');
    });
  });

  it('Versions: a stale revisionId is PreconditionFailedException on publish and on updates; the current one is accepted', async () => {
    await withRt(async (rt) => {
      const first = await rt.deploy({ name: 'orders', code: taggedCode('v1') });
      expect(first.revisionId).toMatch(/^[0-9a-f-]{36}$/);
      const updated = await rt.updateFunctionConfiguration('orders', { memoryMb: 256, revisionId: first.revisionId });
      expect(updated.revisionId).not.toBe(first.revisionId);
      const message = 'The Revision Id provided does not match the latest Revision Id. Call the GetFunction/GetAlias API to retrieve the latest Revision Id';
      await expect(rt.publishVersion('orders', { revisionId: first.revisionId })).rejects.toThrow(PreconditionFailedException);
      await expect(rt.updateFunctionCode('orders', taggedCode('v2'), { revisionId: first.revisionId })).rejects.toThrow(message);
      await expect(rt.updateFunctionConfiguration('orders', { memoryMb: 512, revisionId: first.revisionId })).rejects.toThrow(PreconditionFailedException);
      expect(rt.getFunction('orders').memoryMb).toBe(256);
      expect((await rt.publishVersion('orders', { revisionId: updated.revisionId })).version).toBe('1');
    });
  });

  it('Versions: an update or publish while another update of the function is in progress is ResourceConflictException', async () => {
    await withRt(async (rt) => {
      await rt.deploy({ name: 'orders', code: taggedCode('v1') });
      const running = rt.updateFunctionCode('orders', taggedCode('v2'));
      const message = `The operation cannot be performed at this time. An update is in progress for resource: ${ARN}:orders`;
      await expect(rt.updateFunctionConfiguration('orders', { memoryMb: 256 })).rejects.toThrow(ResourceConflictException);
      await expect(rt.updateFunctionCode('orders', taggedCode('v3'))).rejects.toThrow(message);
      await expect(rt.publishVersion('orders')).rejects.toThrow(message);
      await running;
      // Once it is done, updates go through again; deploy() itself waits its turn instead.
      const deploying = rt.deploy({ name: 'orders', code: taggedCode('v4') });
      const second = rt.deploy({ name: 'orders', code: taggedCode('v5') });
      await Promise.all([deploying, second]);
      expect(((await rt.invoke('orders')).payload as Tagged).tag).toBe('v5');
      expect((await rt.publishVersion('orders')).version).toBe('1');
    });
  });

  it('Versions: version numbers are never reused after a version is deleted', async () => {
    await withRt(async (rt) => {
      await twoVersions(rt);
      await rt.deleteFunction('orders', { qualifier: '2' });
      expect(rt.listVersions('orders').map((v) => v.version)).toEqual(['$LATEST', '1']);
      await rt.updateFunctionCode('orders', taggedCode('v3'));
      expect((await rt.publishVersion('orders')).version).toBe('3');
      await expect(rt.invoke('orders:2')).rejects.toThrow(`Function not found: ${ARN}:orders:2`);
    });
  });
});

describe('updateFunctionCode / updateFunctionConfiguration', () => {
  it('Updates: code keeps the configuration, configuration keeps the code; bad input names the field', async () => {
    await withRt(async (rt) => {
      await rt.deploy({ name: 'orders', code: taggedCode('v1'), memoryMb: 256, env: { A: '1' } });
      await rt.updateFunctionCode('orders', taggedCode('v2'));
      expect(rt.getFunction('orders').memoryMb).toBe(256);
      await rt.updateFunctionConfiguration('orders', { timeoutMs: 9000 });
      expect(rt.getFunction('orders')).toMatchObject({ memoryMb: 256, timeoutMs: 9000 });
      expect(((await rt.invoke('orders')).payload as Tagged).tag).toBe('v2');
      const badMemory = await rt.updateFunctionConfiguration('orders', { memoryMb: 64 }).catch((e: unknown) => e);
      expect(badMemory).toBeInstanceOf(InvalidParameterValueException);
      expect((badMemory as InvalidParameterValueException).field).toBe('memoryMb');
      const rename = await rt.updateFunctionConfiguration('orders', { name: 'x' } as never).catch((e: unknown) => e);
      expect((rename as InvalidParameterValueException).field).toBe('name');
      const code = await rt.updateFunctionConfiguration('orders', { code: taggedCode('v3') } as never).catch((e: unknown) => e);
      expect((code as Error).message).toBe('`code` cannot be changed by updateFunctionConfiguration (use updateFunctionCode)');
      await expect(rt.updateFunctionCode('nope', taggedCode('v1'))).rejects.toThrow(`Function not found: ${ARN}:nope`);
      await expect(rt.updateFunctionCode('orders:1', taggedCode('v1'))).rejects.toThrow(InvalidParameterValueException);
    });
  });
});

describe('deleteFunction', () => {
  it('Delete: a version goes alone; $LATEST alone, an aliased version, unknown versions and functions are refused', async () => {
    await withRt(async (rt) => {
      await twoVersions(rt);
      await rt.createAlias('orders', 'live', { functionVersion: '1' });
      const latest = await rt.deleteFunction('orders', { qualifier: '$LATEST' }).catch((e: unknown) => e);
      expect(latest).toBeInstanceOf(InvalidParameterValueException);
      expect((latest as Error).message).toBe('$LATEST version cannot be deleted without deleting the function.');
      const aliased = await rt.deleteFunction('orders:1').catch((e: unknown) => e);
      expect(aliased).toBeInstanceOf(ResourceConflictException);
      // DeleteFunction's messages as Lambda words them (LocalStack's AWS-validated provider,
      // provider.py delete_function; floci's emulator, measured on the live service).
      expect((aliased as Error).message).toBe('Unable to delete version because the following aliases reference it: [live]');
      await rt.createAlias('orders', 'beta', { functionVersion: '2', routingConfig: { additionalVersionWeights: { '1': 0.5 } } });
      const twoAliases = await rt.deleteFunction('orders:1').catch((e: unknown) => e);
      expect((twoAliases as Error).message).toBe('Unable to delete version because the following aliases reference it: [live, beta]');
      await rt.deleteAlias('orders', 'beta');
      await expect(rt.deleteFunction('orders', { qualifier: '7' })).rejects.toThrow(ResourceNotFoundException);
      for (const alias of ['live', 'no-such-alias']) {
        const refused = await rt.deleteFunction('orders', { qualifier: alias }).catch((e: unknown) => e);
        expect(refused).toBeInstanceOf(InvalidParameterValueException);
        expect((refused as Error).message).toBe('Deletion of aliases is not currently supported.');
      }
      await rt.deleteFunction('orders', { qualifier: '2' });
      expect(rt.metrics().functions.map((f) => f.version)).toEqual(['$LATEST', '1']);
      expect(((await rt.invoke('orders:live')).payload as Tagged).tag).toBe('v1');
    });
  });

  it('Delete: the whole function goes with its versions, aliases, pools and metrics', async () => {
    await withRt(async (rt) => {
      await twoVersions(rt);
      await rt.createAlias('orders', 'live', { functionVersion: '2' });
      await rt.invoke('orders:live');
      await rt.deleteFunction(`${ARN}:orders`);
      expect(() => rt.getFunction('orders')).toThrow(ResourceNotFoundException);
      await expect(rt.invoke('orders:live')).rejects.toThrow(`Function not found: ${ARN}:orders`);
      expect(rt.listFunctions()).toEqual([]);
      expect(rt.metrics().functions).toEqual([]);
      expect(rt.metrics().aliases).toEqual([]);
      expect(rt.metrics().environments).toBe(0);
      await expect(rt.deleteFunction('orders')).rejects.toThrow(ResourceNotFoundException);
      // The name can be used again, from version 1.
      await rt.deploy({ name: 'orders', code: taggedCode('again') });
      expect((await rt.publishVersion('orders')).version).toBe('1');
    });
  });

  it('Delete: an invocation running on a deleted version finishes', async () => {
    await withRt(async (rt) => {
      await twoVersions(rt);
      // Admission is synchronous: the invocation holds its lease before the version goes.
      const running = rt.invoke('orders:2', { waitMs: 200 });
      await rt.deleteFunction('orders:2');
      const result = await running;
      expect(result.functionError).toBeUndefined();
      expect((result.payload as Tagged).tag).toBe('v2');
      // Its environment was disposed when the invocation ended (nothing else ran).
      expect(rt.metrics().functions.map((f) => f.version)).toEqual(['$LATEST', '1']);
      expect(rt.metrics().environments).toBe(0);
    });
  });
});

describe('listFunctions / getFunction', () => {
  it('Functions: listFunctions gives every $LATEST in creation order; getFunction takes qualifiers and ARNs', async () => {
    await withRt(async (rt) => {
      await twoVersions(rt);
      await rt.deploy({ name: 'billing', code: taggedCode('b') });
      await rt.createAlias('orders', 'live', { functionVersion: '1', routingConfig: { additionalVersionWeights: { '2': 0.5 } } });
      expect(rt.listFunctions().map((f) => [f.functionName, f.version])).toEqual([
        ['orders', '$LATEST'],
        ['billing', '$LATEST'],
      ]);
      expect(rt.getFunction('orders:live').version).toBe('1');
      expect(rt.getFunction('orders', { qualifier: '2' }).version).toBe('2');
      expect(rt.getFunction(`${ARN}:orders:2`).version).toBe('2');
      expect(rt.getFunction('123456789012:function:orders').version).toBe('$LATEST');
      expect(() => rt.getFunction('orders:9')).toThrow(`Function not found: ${ARN}:orders:9`);
      expect(() => rt.getFunction('orders:nope')).toThrow(ResourceNotFoundException);
    });
  });
});
