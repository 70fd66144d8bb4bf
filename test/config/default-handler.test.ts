// `handler` defaults to `index.handler`, except for a lone entry file, where it defaults to
// `<file name>.handler` — as the CLI (`lambdalet invoke ./fail.mjs`) and `loadHandler('./fail.mjs')`
// already did. Before, `{ entry: './fail.mjs' }` alone was refused with "handler 'index.handler'
// does not name the entry file" (issue #12, item 8).
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseFunctionConfig } from '../../src/config/index.ts';
import { createRuntime, silentSink } from '../../src/index.ts';

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'lambdalet-default-handler-'));
  await writeFile(join(dir, 'fail.mjs'), "export const handler = async () => { throw new TypeError('boom'); };\nexport const other = async () => 'other';\n");
  await writeFile(join(dir, 'orders.ts'), 'export const handler = async (e: { id: number }) => ({ id: e.id });\n');
});
afterAll(() => rm(dir, { recursive: true, force: true }));

describe('the default handler', () => {
  it('is index.handler for files, dir and zip sources', () => {
    expect(parseFunctionConfig({ name: 'f', code: { files: { 'index.mjs': '' } } }).handler).toBe('index.handler');
    expect(parseFunctionConfig({ name: 'f', code: { dir: dir } }).handler).toBe('index.handler');
    expect(parseFunctionConfig({ name: 'f', code: { zip: join(dir, 'x.zip') } }).handler).toBe('index.handler');
  });

  it('is <file name>.handler for an entry file; a given handler still wins', () => {
    expect(parseFunctionConfig({ name: 'f', code: { entry: './fail.mjs' } }).handler).toBe('fail.handler');
    expect(parseFunctionConfig({ name: 'f', code: { entry: '/abs/src/orders.ts' } }).handler).toBe('orders.handler');
    expect(parseFunctionConfig({ name: 'f', code: { entry: './fail.mjs' }, handler: 'fail.other' }).handler).toBe('fail.other');
  });

  it('an invalid handler is still refused, naming the field', () => {
    expect(() => parseFunctionConfig({ name: 'f', code: { entry: './fail.mjs' }, handler: '' })).toThrow(/handler/);
  });

  it('deploys { entry } without a handler and invokes <file name>.handler', async () => {
    await using rt = await createRuntime({ logSink: silentSink });
    const info = await rt.deploy({ name: 'fail', code: { entry: join(dir, 'fail.mjs') } });
    expect(info.handler).toBe('fail.handler');
    const res = await rt.invoke('fail', {});
    expect(res.functionError).toBe('Unhandled');
    expect(res.payload).toMatchObject({ errorType: 'TypeError', errorMessage: 'boom' });
    await rt.deploy({ name: 'orders', code: { entry: join(dir, 'orders.ts') }, engine: 'quickjs' });
    expect((await rt.invoke('orders', { id: 3 })).payload).toEqual({ id: 3 });
  });
});
