/**
 * Layers: PublishLayerVersion and a function's Layers, as the Lambda developer guide describes them
 * ("Managing Lambda dependencies with layers": layer content is extracted to /opt, in order, a
 * later layer overriding an earlier one's files; Node.js looks in /opt/nodejs/node_modules and
 * /opt/nodejs/node22/node_modules via NODE_PATH; at most 5 layers; 250 MB unzipped with the
 * function's code — "Lambda quotas").
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { MAX_UNZIPPED_BYTES } from '../../src/code/index.ts';
import { createRuntime, InvalidParameterValueException, ResourceNotFoundException, silentSink } from '../../src/index.ts';
import { checkCombinedSize } from '../../src/registry/layers.ts';
import { withRt } from './helpers.ts';

const LAYER_ARN = 'arn:aws:lambda:us-east-1:123456789012:layer';

const handler = `
import { greet } from 'greeter';
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
export const handler = async () => ({
  greeting: greet('Ada'),
  shout: (await import('shout')).default('hi'),
  data: readFileSync('/opt/data.txt', 'utf8'),
  first: readFileSync('/opt/only-first.txt', 'utf8'),
  nodePath: process.env.NODE_PATH,
});`;

describe('layers', () => {
  it('Layers: publishLayerVersion numbers versions per name; get and list find them; unknown ones are ResourceNotFoundException', async () => {
    await withRt(async (rt) => {
      const one = await rt.publishLayerVersion({ layerName: 'shared', content: { files: { 'a.txt': 'a' } }, compatibleRuntimes: ['nodejs22.x'], description: 'd' });
      expect(one).toMatchObject({ layerArn: `${LAYER_ARN}:shared`, layerVersionArn: `${LAYER_ARN}:shared:1`, version: 1, description: 'd', compatibleRuntimes: ['nodejs22.x'], unzippedSize: 1 });
      expect(one.codeSha256).toMatch(/^[0-9a-f]{64}$/);
      const two = await rt.publishLayerVersion({ layerName: 'shared', content: { files: { 'a.txt': 'aa' } } });
      expect(two.version).toBe(2);
      expect((await rt.publishLayerVersion({ layerName: 'other', content: { files: { 'b.txt': 'b' } } })).version).toBe(1);
      expect(rt.getLayerVersion(`${LAYER_ARN}:shared:2`)).toEqual(two);
      expect(rt.listLayerVersions('shared').map((l) => l.version)).toEqual([1, 2]);
      expect(() => rt.getLayerVersion(`${LAYER_ARN}:shared:3`)).toThrow(ResourceNotFoundException);
      expect(() => rt.getLayerVersion(`${LAYER_ARN}:shared:3`)).toThrow(`Layer version ${LAYER_ARN}:shared:3 does not exist.`);
      await expect(rt.publishLayerVersion({ layerName: 'bad name', content: { files: {} } })).rejects.toThrow(InvalidParameterValueException);
      await expect(rt.publishLayerVersion({ layerName: 'x', content: { entry: 'a.js' } as never })).rejects.toThrow(
        'Expected `content` to be exactly one of { zip }, { files } or { dir }',
      );
    });
  });

  it('Layers: merged into /opt in order (a later layer wins), and /opt/nodejs/node_modules and node22/node_modules resolve imports', async () => {
    await withRt(async (rt) => {
      const base = await rt.publishLayerVersion({
        layerName: 'base',
        content: {
          files: {
            'nodejs/node_modules/greeter/package.json': JSON.stringify({ name: 'greeter', main: 'index.js' }),
            'nodejs/node_modules/greeter/index.js': "exports.greet = (name) => 'hello ' + name;",
            'data.txt': 'from base',
            'only-first.txt': 'kept',
          },
        },
      });
      const top = await rt.publishLayerVersion({
        layerName: 'top',
        content: {
          files: {
            'nodejs/node22/node_modules/shout/package.json': JSON.stringify({ name: 'shout', type: 'module', exports: './index.js' }),
            'nodejs/node22/node_modules/shout/index.js': 'export default (s) => s.toUpperCase();',
            'data.txt': 'from top',
          },
        },
      });
      for (const engine of ['v8', 'quickjs'] as const) {
        await rt.deploy({ name: `fn-${engine}`, engine, code: { files: { 'index.mjs': handler } }, layers: [base.layerVersionArn, top.layerVersionArn] });
        const result = await rt.invoke(`fn-${engine}`);
        expect(result.functionError, JSON.stringify(result.payload)).toBeUndefined();
        expect(result.payload).toEqual({
          greeting: 'hello Ada',
          shout: 'HI',
          data: 'from top',
          first: 'kept',
          nodePath: '/opt/nodejs/node22/node_modules:/opt/nodejs/node_modules:/var/runtime/node_modules:/var/runtime:/var/task',
        });
      }
      // Order matters: the other way round, base's data.txt wins.
      await rt.deploy({ name: 'reversed', code: { files: { 'index.mjs': handler } }, layers: [top.layerVersionArn, base.layerVersionArn] });
      expect(((await rt.invoke('reversed')).payload as { data: string }).data).toBe('from base');
      // Without the layer, the package is not found (the bundler's own wording for a missing package).
      await rt.deploy({ name: 'bare', code: { files: { 'index.mjs': handler } } });
      expect((await rt.invoke('bare')).payload).toMatchObject({ errorMessage: "Cannot find package 'greeter' imported from /var/task/index.mjs" });
    });
  });

  it('Layers: at most 5 (5 accepted, 6 refused); unknown layer versions and malformed ARNs are InvalidParameterValueException', async () => {
    await withRt(async (rt) => {
      const arns: string[] = [];
      for (let i = 0; i < 6; i++) arns.push((await rt.publishLayerVersion({ layerName: `l${i}`, content: { files: { [`f${i}.txt`]: String(i) } } })).layerVersionArn);
      const code = { files: { 'index.mjs': "import { readdirSync } from 'node:fs'; export const handler = async () => readdirSync('/opt').sort();" } };
      await rt.deploy({ name: 'five', code, layers: arns.slice(0, 5) });
      expect((await rt.invoke('five')).payload).toEqual(['f0.txt', 'f1.txt', 'f2.txt', 'f3.txt', 'f4.txt']);
      const six = await rt.deploy({ name: 'six', code, layers: arns }).catch((e: unknown) => e);
      expect(six).toBeInstanceOf(InvalidParameterValueException);
      expect((six as Error).message).toBe('Expected `layers` to be an array of at most 5 layer version ARNs, got an array of 6 items');
      const missing = await rt.deploy({ name: 'missing', code, layers: [`${LAYER_ARN}:l0:9`] }).catch((e: unknown) => e);
      // A function naming a layer version that does not exist is a bad parameter (400) in Lambda's
      // words (LocalStack's AWS-validated provider, _validate_layers), not a missing resource.
      expect(missing).toBeInstanceOf(InvalidParameterValueException);
      expect((missing as Error).message).toBe(`Layer version ${LAYER_ARN}:l0:9 does not exist.`);
      await expect(rt.deploy({ name: 'bad', code, layers: ['shared:1'] })).rejects.toThrow(InvalidParameterValueException);
      await expect(rt.updateFunctionConfiguration('five', { layers: arns })).rejects.toThrow(InvalidParameterValueException);
      // Published versions keep their layers; $LATEST can drop them.
      await rt.publishVersion('five');
      await rt.updateFunctionConfiguration('five', { layers: [] });
      expect((await rt.invoke('five')).payload).toEqual([]);
      expect((await rt.invoke('five:1')).payload).toEqual(['f0.txt', 'f1.txt', 'f2.txt', 'f3.txt', 'f4.txt']);
    });
  });

  it('Layers: code and layers together at most 262144000 bytes unzipped (at, under and over the limit)', () => {
    expect(MAX_UNZIPPED_BYTES).toBe(262_144_000);
    expect(() => checkCombinedSize(MAX_UNZIPPED_BYTES - 300, [100, 100, 100])).not.toThrow();
    expect(() => checkCombinedSize(MAX_UNZIPPED_BYTES - 301, [100, 100, 100])).not.toThrow();
    let error: unknown;
    try {
      checkCombinedSize(MAX_UNZIPPED_BYTES - 299, [100, 100, 100]);
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(InvalidParameterValueException);
    expect((error as Error).message).toBe(
      'Function code combined with layers exceeds the maximum allowed size of 262144000 bytes. The actual size is 262144001 bytes.',
    );
  });

  it('Layers: the combined size counts the function\'s and every layer\'s unzipped bytes (checked at deploy)', async () => {
    await withRt(async (rt) => {
      const layer = await rt.publishLayerVersion({ layerName: 'big', content: { files: { 'blob.bin': new Uint8Array(1000) } } });
      expect(layer.unzippedSize).toBe(1000);
      // The deploy path applies the rule with the function's own unzipped bytes (here well under it).
      const info = await rt.deploy({ name: 'ok', code: { files: { 'index.mjs': 'export const handler = async () => 1;' } }, layers: [layer.layerVersionArn] });
      expect(info.codeSize).toBeGreaterThan(0);
      expect((await rt.invoke('ok')).payload).toBe(1);
    });
  });

  it('Layers: published layers and the functions that use them come back after a restart', async () => {
    const dataDir = await mkdtemp(join(tmpdir(), 'lambdalet-layers-'));
    try {
      const first = await createRuntime({ logSink: silentSink, dataDir });
      const layer = await first.publishLayerVersion({ layerName: 'kept', content: { files: { 'nodejs/node_modules/greeter/index.js': "exports.greet = (n) => 'hey ' + n;" } } });
      await first.deploy({ name: 'fn', code: { files: { 'index.mjs': "import { greet } from 'greeter'; export const handler = async () => greet('Bo');" } }, layers: [layer.layerVersionArn] });
      await first.close();
      const second = await createRuntime({ logSink: silentSink, dataDir });
      try {
        expect(second.getLayerVersion(layer.layerVersionArn)).toEqual(layer);
        expect((await second.invoke('fn')).payload).toBe('hey Bo');
        expect((await second.publishLayerVersion({ layerName: 'kept', content: { files: { 'x.txt': 'x' } } })).version).toBe(2);
      } finally {
        await second.close();
      }
    } finally {
      await rm(dataDir, { recursive: true, force: true });
    }
  });

  // DeleteLayerVersion (Lambda API reference, DeleteLayerVersion — awsdocs/aws-lambda-developer-guide
  // doc_source/API_DeleteLayerVersion.md): "Deleted versions can no longer be viewed or added to
  // functions. To avoid breaking functions, a copy of the version remains in Lambda until no
  // functions refer to it." The response is 204 whatever was there (its only errors are
  // ServiceException and TooManyRequestsException).
  const usesGreeter = { files: { 'index.mjs': "import { greet } from 'greeter'; export const handler = async () => greet('Bo');" } };
  const greeterLayer = (word: string) => ({ files: { 'nodejs/node_modules/greeter/index.js': `exports.greet = (n) => '${word} ' + n;` } });

  it('deleteLayerVersion: gone from get, list and listLayers and refused to new deploys; a function already using it keeps it; idempotent; numbers never reused', async () => {
    await withRt(async (rt) => {
      const one = await rt.publishLayerVersion({ layerName: 'del', content: greeterLayer('hey') });
      const two = await rt.publishLayerVersion({ layerName: 'del', content: greeterLayer('yo') });
      await rt.deploy({ name: 'user', code: usesGreeter, layers: [two.layerVersionArn] });
      expect((await rt.invoke('user')).payload).toBe('yo Bo');
      await rt.deleteLayerVersion('del', 2);
      expect(() => rt.getLayerVersion(two.layerVersionArn)).toThrow(`Layer version ${two.layerVersionArn} does not exist.`);
      expect(rt.listLayerVersions('del').map((l) => l.version)).toEqual([1]);
      expect(rt.listLayers().find((l) => l.layerName === 'del')?.latestMatchingVersion.version).toBe(1);
      // A new function naming it: as for a layer version that never existed (InvalidParameterValueException).
      const refused = rt.deploy({ name: 'late', code: usesGreeter, layers: [two.layerVersionArn] });
      await expect(refused).rejects.toThrow(InvalidParameterValueException);
      await expect(rt.deploy({ name: 'late', code: usesGreeter, layers: [two.layerVersionArn] })).rejects.toThrow(`Layer version ${two.layerVersionArn} does not exist.`);
      // The function that had it keeps it: invokes, a code update, a published version.
      expect((await rt.invoke('user')).payload).toBe('yo Bo');
      await rt.updateFunctionCode('user', { files: { 'index.mjs': "import { greet } from 'greeter'; export const handler = async () => greet('Cy');" } });
      expect((await rt.invoke('user')).payload).toBe('yo Cy');
      const published = await rt.publishVersion('user');
      expect((await rt.invoke(`user:${published.version}`)).payload).toBe('yo Cy');
      // Idempotent: again, a version never published, a layer that does not exist (by name and by ARN).
      await rt.deleteLayerVersion('del', 2);
      await rt.deleteLayerVersion('del', 9);
      await rt.deleteLayerVersion('ghost', 1);
      await rt.deleteLayerVersion(one.layerArn, 1);
      expect(rt.listLayerVersions('del')).toEqual([]);
      expect(rt.listLayers().some((l) => l.layerName === 'del')).toBe(false);
      // Numbers are never reused, as Lambda numbers a layer's versions.
      expect((await rt.publishLayerVersion({ layerName: 'del', content: greeterLayer('hi') })).version).toBe(3);
    });
  });

  it('deleteLayerVersion: versionNumber must be an integer >= 1 (1 accepted; 0, -1, 1.5, NaN refused) and layerName a layer name or ARN, naming the field', async () => {
    await withRt(async (rt) => {
      await rt.deleteLayerVersion('x', 1);
      for (const version of [0, -1, 1.5, Number.NaN, '1' as unknown as number]) {
        const error = await rt.deleteLayerVersion('x', version).then(() => undefined, (e: unknown) => e);
        expect(error).toBeInstanceOf(InvalidParameterValueException);
        expect((error as InvalidParameterValueException).field).toBe('versionNumber');
      }
      for (const name of ['bad name', '', 'x'.repeat(141), 'arn:aws:lambda:us-east-1:123:layer:x']) {
        const error = await rt.deleteLayerVersion(name, 1).then(() => undefined, (e: unknown) => e);
        expect(error).toBeInstanceOf(InvalidParameterValueException);
        expect((error as InvalidParameterValueException).field).toBe('layerName');
      }
      await rt.deleteLayerVersion('x'.repeat(140), 1);
    });
  });

  it('deleteLayerVersion: kept in the dataDir — still deleted after a restart, the function using it restored and served, its number not reused', async () => {
    const dataDir = await mkdtemp(join(tmpdir(), 'lambdalet-layers-'));
    try {
      const first = await createRuntime({ logSink: silentSink, dataDir });
      const layer = await first.publishLayerVersion({ layerName: 'gone', content: greeterLayer('hey') });
      await first.deploy({ name: 'fn', code: usesGreeter, layers: [layer.layerVersionArn] });
      await first.deleteLayerVersion('gone', 1);
      await first.close();
      const second = await createRuntime({ logSink: silentSink, dataDir });
      try {
        expect(() => second.getLayerVersion(layer.layerVersionArn)).toThrow(ResourceNotFoundException);
        expect(second.listLayerVersions('gone')).toEqual([]);
        expect(second.listLayers()).toEqual([]);
        expect((await second.invoke('fn')).payload).toBe('hey Bo');
        await expect(second.deploy({ name: 'other', code: usesGreeter, layers: [layer.layerVersionArn] })).rejects.toThrow(InvalidParameterValueException);
        expect((await second.publishLayerVersion({ layerName: 'gone', content: { files: { 'x.txt': 'x' } } })).version).toBe(2);
      } finally {
        await second.close();
      }
    } finally {
      await rm(dataDir, { recursive: true, force: true });
    }
  });
});
