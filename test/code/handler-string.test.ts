import { describe, it, expect } from 'vitest';
import { isInitFailure, parseHandler } from '../../src/code/handler-string.ts';
import { bundleFunction } from '../../src/code/index.ts';
import { bundleOk, invoke } from './helpers.ts';

describe('parseHandler', () => {
  it('splits module root, module and property path on the first dot of the basename', () => {
    expect(parseHandler('index.handler')).toEqual({ moduleRoot: '', moduleName: 'index', handlerPath: ['handler'] });
    expect(parseHandler('src/api/users.list')).toEqual({ moduleRoot: 'src/api', moduleName: 'users', handlerPath: ['list'] });
    expect(parseHandler('index.nested.somethingComplex.handler')).toEqual({
      moduleRoot: '',
      moduleName: 'index',
      handlerPath: ['nested', 'somethingComplex', 'handler'],
    });
    expect(parseHandler('index.default')).toEqual({ moduleRoot: '', moduleName: 'index', handlerPath: ['default'] });
  });

  it.each(['index', 'src/api/users', ''])('refuses %j as "Bad handler"', (handler) => {
    const result = parseHandler(handler);
    expect(isInitFailure(result)).toBe(true);
    expect(result).toMatchObject({ errorType: 'Runtime.MalformedHandlerName', errorMessage: 'Bad handler' });
  });

  it.each(['../x.handler', 'index..handler', 'a/../b.handler'])('refuses %j for its ".."', (handler) => {
    expect(parseHandler(handler)).toMatchObject({
      errorType: 'Runtime.MalformedHandlerName',
      errorMessage: `'${handler}' is not a valid handler name. Use absolute paths when specifying root directories in handler names.`,
    });
  });
});

describe('bundleFunction handler strings', () => {
  const files = { 'index.mjs': 'export const handler = () => "ok";' };

  it.each(['index', '../x.handler', 'index..handler'])('reports %j as Runtime.MalformedHandlerName', async (handler) => {
    const outcome = await bundleFunction({ files }, handler);
    expect(outcome.ok).toBe(false);
    if (outcome.ok) return;
    expect(outcome.failure.errorType).toBe('Runtime.MalformedHandlerName');
    expect(outcome.failure.trace[0]).toBe(`Runtime.MalformedHandlerName: ${outcome.failure.errorMessage}`);
  });

  it('walks a nested property path', async () => {
    const bundle = await bundleOk(
      { files: { 'index.mjs': 'export const nested = { somethingComplex: { handler: (e) => ["deep", e.n] } };' } },
      'index.nested.somethingComplex.handler',
    );
    expect(bundle.handlerPath).toEqual(['nested', 'somethingComplex', 'handler']);
    expect(bundle.handler).toBe('index.nested.somethingComplex.handler');
    expect(await invoke(bundle, { n: 7 })).toEqual(['deep', 7]);
  });

  it('reaches a default export through `default`', async () => {
    const bundle = await bundleOk({ files: { 'index.mjs': 'export default async function (e) { return e.x * 2; }' } }, 'index.default');
    expect(await invoke(bundle, { x: 21 })).toBe(42);
  });

  it('finds a module in a nested directory', async () => {
    const bundle = await bundleOk(
      { files: { 'src/api/users.mjs': 'import { all } from "../db.mjs"; export const list = () => all;', 'src/db.mjs': 'export const all = ["ann"];' } },
      'src/api/users.list',
    );
    expect(bundle.filename).toBe('/var/task/src/api/users.mjs');
    expect(await invoke(bundle)).toEqual(['ann']);
  });

  it('accepts an absolute root under /var/task', async () => {
    const bundle = await bundleOk({ files: { 'lib/index.mjs': 'export const handler = () => "abs";' } }, '/var/task/lib/index.handler');
    expect(await invoke(bundle)).toBe('abs');
  });
});
