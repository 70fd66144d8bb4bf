/**
 * Function URL configs and HTTP APIs are kept in `dataDir` (the registry's store, registry/store.ts
 * putHttpSetting): a runtime opened again on the same folder serves the same URLs (same url id, so
 * clients' bookmarked URLs keep working, as a function URL does on Lambda until it is deleted) and
 * the same APIs; a deletion is kept too. Without dataDir nothing is written anywhere.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { createRuntime, ResourceNotFoundException, silentSink, type Runtime } from '../../src/index.ts';

async function get(url: string): Promise<{ status: number; body: string }> {
  const res = await fetch(url);
  return { status: res.status, body: await res.text() };
}

async function withDataDir(body: (dataDir: string) => Promise<void>): Promise<void> {
  const dataDir = await mkdtemp(join(tmpdir(), 'lambdalet-kept-http-'));
  try {
    await body(dataDir);
  } finally {
    await rm(dataDir, { recursive: true, force: true });
  }
}

async function open(dataDir: string): Promise<Runtime> {
  return createRuntime({ logSink: silentSink, dataDir });
}

describe('HTTP settings kept in dataDir', () => {
  it('a restarted runtime serves the same function URL (same url id, auth, invoke mode, CORS) and the same HTTP API', () =>
    withDataDir(async (dataDir) => {
      const first = await open(dataDir);
      let urlId: string;
      let apiId: string;
      try {
        await first.deploy({ name: 'hello', code: { files: { 'index.mjs': "export const handler = async (e) => ({ statusCode: 200, body: 'hi ' + e.rawPath });" } } });
        const url = first.createFunctionUrlConfig('hello', { authType: 'NONE', invokeMode: 'BUFFERED', cors: { allowOrigins: ['https://example.com'] } });
        urlId = url.urlId;
        apiId = first.createHttpApi({ name: 'shop', routes: [{ routeKey: 'GET /items/{id}', target: 'hello' }], stages: { prod: {} } }).apiId;
      } finally {
        await first.close();
      }

      const second = await open(dataDir);
      try {
        const kept = second.getFunctionUrlConfig('hello');
        expect(kept).toMatchObject({ urlId, authType: 'NONE', invokeMode: 'BUFFERED', cors: { allowOrigins: ['https://example.com'] } });
        expect(second.getHttpApi(apiId)).toMatchObject({ name: 'shop', routes: [{ routeKey: 'GET /items/{id}', target: 'hello' }] });
        const server = await second.serve({ port: 0 });
        const viaUrl = await get(`${second.getFunctionUrlConfig('hello').functionUrl}path`);
        expect(viaUrl).toEqual({ status: 200, body: 'hi /path' });
        const viaApi = await get(`${second.getHttpApi(apiId).apiEndpoint}/prod/items/7`);
        expect(viaApi).toEqual({ status: 200, body: 'hi /prod/items/7' });
        expect(server.url).toContain('127.0.0.1');
        // Changes and deletions are kept as well.
        second.updateFunctionUrlConfig('hello', { authType: 'AWS_IAM' });
        second.deleteHttpApi(apiId);
      } finally {
        await second.close();
      }

      const third = await open(dataDir);
      try {
        expect(third.getFunctionUrlConfig('hello')).toMatchObject({ urlId, authType: 'AWS_IAM' });
        expect(() => third.getHttpApi(apiId)).toThrow(ResourceNotFoundException);
        // Deleting the function takes its URLs with it, in the store too.
        await third.deleteFunction('hello');
      } finally {
        await third.close();
      }
      const fourth = await open(dataDir);
      try {
        expect(() => fourth.getFunctionUrlConfig('hello')).toThrow(ResourceNotFoundException);
      } finally {
        await fourth.close();
      }
    }));
});
