/**
 * AWS_ENDPOINT_URL_LAMBDA inside functions while a server runs: the AWS SDK v3 reads
 * service-specific endpoint variables (AWS SDKs and Tools reference guide, "Service-specific
 * endpoints": AWS_ENDPOINT_URL_<SERVICE>), so a handler's LambdaClient, bundled unchanged, invokes
 * its neighbour through the server — given egress to it, which is never granted implicitly.
 */
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createRuntime, silentSink, type LambdaletServer, type Runtime } from '../../src/index.ts';

let rt: Runtime;
let server: LambdaletServer;
const caller = fileURLToPath(new URL('./fixtures/neighbour-caller.mjs', import.meta.url));
const CREDENTIALS = { accessKeyId: 'AKIDNEIGHBOUR', secretAccessKey: 'neighbour-secret' };

beforeAll(async () => {
  rt = await createRuntime({ logSink: silentSink });
  await rt.deploy({ name: 'neighbour', code: { files: { 'index.mjs': 'export const handler = async (e) => ({ got: e.from });' } } });
  server = await rt.serve({ port: 0, auth: { keys: [CREDENTIALS] } });
});
afterAll(() => rt.close());

describe('AWS_ENDPOINT_URL_LAMBDA', () => {
  it('a handler\'s LambdaClient invokes its neighbour through the server (SigV4-signed with its role\'s credentials)', async () => {
    await rt.deploy({ name: 'caller', timeoutMs: 20_000, memoryMb: 512, credentials: CREDENTIALS, egress: { allowHosts: [`127.0.0.1:${server.port}`] }, code: { entry: caller } });
    const res = await rt.invoke('caller', { target: 'neighbour' });
    expect(res.functionError).toBeUndefined();
    expect(res.payload).toEqual({ endpoint: server.url.slice(0, -1), status: 200, payload: { got: 'caller' } });
  });

  it('without egress to the server the call fails with the egress policy\'s message: nothing is allowed implicitly', async () => {
    await rt.deploy({ name: 'caller2', timeoutMs: 20_000, memoryMb: 512, credentials: CREDENTIALS, code: { entry: caller } });
    const res = await rt.invoke('caller2', { target: 'neighbour' });
    expect(res.functionError).toBe('Unhandled');
    expect(JSON.stringify(res.payload)).toContain('egress');
  });

  it('environments started after the server closed do not get it', async () => {
    await server.close();
    await rt.deploy({ name: 'env', code: { files: { 'index.mjs': 'export const handler = async () => process.env.AWS_ENDPOINT_URL_LAMBDA ?? null;' } } });
    expect((await rt.invoke('env')).payload).toBeNull();
  });
});
