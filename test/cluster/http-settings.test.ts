/**
 * The HTTP layer's settings cluster-wide (issue 20): a function URL config or an HTTP API made
 * through one member is served by every member's `rt.serve()` and by a member that joins later,
 * because ClusterStore keeps them in Redis beside the async settings (registry/store.ts
 * `putHttpSetting` / `watchHttpSettings`). On Lambda a function URL belongs to the function in its
 * region (CreateFunctionUrlConfig), whichever host answers the request; an HTTP API likewise, and
 * a function's Role, tags and resource policy (http/function-extras.ts).
 * Needs Redis (test/helpers/redis.ts).
 */
import { strToU8, zipSync } from 'fflate';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { createRuntime, ResourceNotFoundException, silentSink, type Runtime } from '../../src/index.ts';
import type { StoredAsyncSetting, StoredHttpChange } from '../../src/registry/store.ts';
import { SKIP_REASON, testRedis } from '../helpers/redis.ts';
import { eventually } from '../helpers/eventually.ts';
import { sdk } from '../helpers/lambda-sdk.ts';
import { storePair } from './store-pair.ts';

const redis = await testRedis();
afterAll(() => redis?.stop());

const closers: (() => Promise<unknown>)[] = [];
afterEach(async () => {
  await Promise.all(closers.splice(0).map((close) => close()));
});

async function member(name: string): Promise<Runtime> {
  const rt = await createRuntime({ logSink: silentSink, cluster: { redis: redis!.url, name } });
  closers.push(() => rt.close());
  return rt;
}

async function get(url: string): Promise<{ status: number; body: string }> {
  const res = await fetch(url);
  return { status: res.status, body: await res.text() };
}

const HELLO = { files: { 'index.mjs': "export const handler = async (e) => ({ statusCode: 200, body: 'hi ' + e.rawPath });" } };

describe.skipIf(!redis)(redis ? 'HTTP settings across members' : `HTTP settings across members (skipped: ${SKIP_REASON})`, () => {
  it('a function URL and an HTTP API made on one member are served by another and by one that joins later; changes and deletes travel both ways', async () => {
    const name = redis!.clusterName();
    const [a, b] = [await member(name), await member(name)];
    await a.deploy({ name: 'hello', code: HELLO });
    const url = a.createFunctionUrlConfig('hello', { authType: 'NONE', cors: { allowOrigins: ['https://example.com'] } });
    const api = a.createHttpApi({ name: 'shop', routes: [{ routeKey: 'GET /items/{id}', target: 'hello' }], stages: { prod: {} } });
    await eventually(() => {
      expect(b.getFunctionUrlConfig('hello')).toMatchObject({ urlId: url.urlId, authType: 'NONE', cors: { allowOrigins: ['https://example.com'] } });
      expect(b.getHttpApi(api.apiId).name).toBe('shop');
    });
    // b serves them under the same ids (the function itself came through the registry's store)
    await eventually(() => b.getFunction('hello'));
    const server = await b.serve({ port: 0 });
    expect(await get(`${b.getFunctionUrlConfig('hello').functionUrl}path`)).toEqual({ status: 200, body: 'hi /path' });
    expect(await get(`${b.getHttpApi(api.apiId).apiEndpoint}/prod/items/7`)).toEqual({ status: 200, body: 'hi /prod/items/7' });

    // b changes the URL and deletes the API; a follows
    b.updateFunctionUrlConfig('hello', { authType: 'AWS_IAM' });
    b.deleteHttpApi(api.apiId);
    await eventually(() => {
      expect(a.getFunctionUrlConfig('hello')).toMatchObject({ urlId: url.urlId, authType: 'AWS_IAM' });
      expect(() => a.getHttpApi(api.apiId)).toThrow(ResourceNotFoundException);
    });
    expect(a.listHttpApis()).toEqual([]);

    // a member that joins now reads what is left
    const c = await member(name);
    expect(c.getFunctionUrlConfig('hello')).toMatchObject({ urlId: url.urlId, authType: 'AWS_IAM' });
    expect(c.listHttpApis()).toEqual([]);

    // deleting the function on a takes its URL with it on every member
    await a.deleteFunction('hello');
    await eventually(() => {
      expect(() => b.getFunctionUrlConfig('hello')).toThrow(ResourceNotFoundException);
      expect(() => c.getFunctionUrlConfig('hello')).toThrow(ResourceNotFoundException);
    });
    // and b's server answers its id with the unknown-URL 404 (server.ts)
    expect((await get(`${server.url}/lambda-url/${url.urlId}/path`)).status).toBe(404);
  });

  it('a function\'s Role, tags and resource policy set through one member\'s Lambda API are answered by another\'s and by one that joins later; changes and the delete travel', async () => {
    const name = redis!.clusterName();
    const [a, b] = [await member(name), await member(name)];
    const client = async (rt: Runtime) => {
      const server = await rt.serve({ port: 0 });
      const lambda = new sdk.LambdaClient({ endpoint: server.url, region: 'us-east-1', credentials: { accessKeyId: 'AKIDTEST', secretAccessKey: 'secret' }, maxAttempts: 1 });
      closers.push(async () => lambda.destroy());
      return lambda;
    };
    const [la, lb] = [await client(a), await client(b)];
    const ARN = 'arn:aws:lambda:us-east-1:123456789012:function:tagged';
    const ROLE = 'arn:aws:iam::123456789012:role/tagged-role';
    await la.send(new sdk.CreateFunctionCommand({ FunctionName: 'tagged', Role: ROLE, Runtime: 'nodejs22.x', Handler: 'index.handler', Code: { ZipFile: zipSync({ 'index.mjs': strToU8('export const handler = async () => 1;') }) }, Tags: { team: 'core' } }));
    await la.send(new sdk.AddPermissionCommand({ FunctionName: 'tagged', StatementId: 'apigw', Action: 'lambda:InvokeFunction', Principal: 'apigateway.amazonaws.com' }));
    const policy = (await la.send(new sdk.GetPolicyCommand({ FunctionName: 'tagged' }))).Policy;
    await eventually(async () => {
      expect((await lb.send(new sdk.GetFunctionConfigurationCommand({ FunctionName: 'tagged' }))).Role).toBe(ROLE);
      expect((await lb.send(new sdk.ListTagsCommand({ Resource: ARN }))).Tags).toEqual({ team: 'core' });
      expect((await lb.send(new sdk.GetPolicyCommand({ FunctionName: 'tagged' }))).Policy).toBe(policy);
    });
    await lb.send(new sdk.TagResourceCommand({ Resource: ARN, Tags: { cost: '7' } }));
    await eventually(async () => expect((await la.send(new sdk.ListTagsCommand({ Resource: ARN }))).Tags).toEqual({ team: 'core', cost: '7' }));
    const lc = await client(await member(name)); // joins now
    expect((await lc.send(new sdk.GetFunctionCommand({ FunctionName: 'tagged' }))).Tags).toEqual({ team: 'core', cost: '7' });
    expect((await lc.send(new sdk.GetPolicyCommand({ FunctionName: 'tagged' }))).Policy).toBe(policy);
    await a.deleteFunction('tagged');
    await b.deploy({ name: 'tagged', code: HELLO });
    await eventually(async () => {
      expect((await la.send(new sdk.ListTagsCommand({ Resource: ARN }))).Tags).toEqual({});
      expect((await lb.send(new sdk.ListTagsCommand({ Resource: ARN }))).Tags).toEqual({});
      await expect(lb.send(new sdk.GetPolicyCommand({ FunctionName: 'tagged' }))).rejects.toBeInstanceOf(sdk.ResourceNotFoundException);
    });
  });

  it('after a lost announcement, resyncSettings hands HTTP changes to the HTTP listener and async ones to the async listener', async () => {
    const { writer, reader, close } = storePair(redis!.url, redis!.clusterName());
    closers.push(close);
    writer.putHttpSetting('function-url', 'f:$LATEST', '{"v":1}');
    writer.putHttpSetting('http-api', 'gone', '{"v":1}');
    writer.putAsyncSetting('queue', 'jobs', '{"v":1}');
    await writer.flush();
    const http: StoredHttpChange[] = [];
    const async: StoredAsyncSetting[] = [];
    reader.watchHttpSettings((change) => http.push(change));
    reader.watchAsyncSettings((change) => async.push(change));
    const loaded = await reader.load();
    expect(loaded.httpSettings).toEqual([
      { kind: 'function-url', key: 'f:$LATEST', json: '{"v":1}' },
      { kind: 'http-api', key: 'gone', json: '{"v":1}' },
    ]);
    expect(loaded.asyncSettings).toEqual([{ kind: 'queue', key: 'jobs', json: '{"v":1}' }]);
    // unheard by the reader (no subscriber: as if it were away)
    writer.putHttpSetting('function-url', 'f:$LATEST', '{"v":2}');
    writer.putHttpSetting('http-api', 'gone', undefined);
    writer.putAsyncSetting('queue', 'jobs', '{"v":2}');
    await writer.flush();
    await reader.resyncSettings();
    expect(http).toEqual([
      { kind: 'function-url', key: 'f:$LATEST', json: '{"v":2}' },
      { kind: 'http-api', key: 'gone', json: undefined },
    ]);
    expect(async).toEqual([{ kind: 'queue', key: 'jobs', json: '{"v":2}' }]);
  });
});
