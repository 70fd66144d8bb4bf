/**
 * Lambda API calls the SDK sends on paths lambdalet served only in part, driven by the REAL
 * @aws-sdk/client-lambda (paths, statuses and enums: the SDK's model, schemas_0.js):
 * - ListProvisionedConcurrencyConfigs is GET …/provisioned-concurrency?List=ALL — the same path as
 *   GetProvisionedConcurrencyConfig, which answered it with a ValidationException (no Qualifier);
 * - ListFunctionUrlConfigs, GET /2021-10-31/functions/{FunctionName}/urls, was UnknownOperationException;
 * - ListLayers (GET /2018-10-31/layers) and GetLayerVersionByArn (the same path with
 *   ?find=LayerVersion&Arn=) were UnknownOperationException;
 * - GetFunctionCodeSigningConfig (read by Terraform on every refresh) was UnknownOperationException;
 * - InvokeWithResponseStream's X-Amz-Invocation-Type is ResponseStreamingInvocationType
 *   (RequestResponse | DryRun): Event was run as RequestResponse, and DryRun ran the function.
 */
import { sdk, sdkClient, sdkFailure as failure, zipModule as zip } from '../helpers/lambda-sdk.ts';

import { zipSync, strToU8 } from 'fflate';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createRuntime, type LambdaletServer, type Runtime } from '../../src/index.ts';

const {
  CreateAliasCommand,
  CreateFunctionCommand,
  CreateFunctionUrlConfigCommand,
  GetFunctionCodeSigningConfigCommand,
  GetLayerVersionByArnCommand,
  InvokeWithResponseStreamCommand,
  ListFunctionUrlConfigsCommand,
  ListLayersCommand,
  ListProvisionedConcurrencyConfigsCommand,
  PublishLayerVersionCommand,
  PublishVersionCommand,
  PutProvisionedConcurrencyConfigCommand,
  ResourceNotFoundException,
} = sdk;

const ROLE = 'arn:aws:iam::123456789012:role/test-role';
const ARN = 'arn:aws:lambda:us-east-1:123456789012:function';
const logLines: string[] = [];

let rt: Runtime;
let server: LambdaletServer;
let lambda: ReturnType<typeof sdkClient>;

beforeAll(async () => {
  rt = await createRuntime({ logSink: { write: (line) => void logLines.push(line) } });
  server = await rt.serve({ port: 0 });
  lambda = sdkClient(server.url);
  await lambda.send(new CreateFunctionCommand({
    FunctionName: 'fn', Role: ROLE, Runtime: 'nodejs22.x', Handler: 'index.handler',
    Code: { ZipFile: zip("export const handler = awslambda.streamifyResponse(async (e, s) => { console.log('ran'); s.end('x'); });") },
  }));
  await lambda.send(new PublishVersionCommand({ FunctionName: 'fn' }));
  await lambda.send(new CreateAliasCommand({ FunctionName: 'fn', Name: 'live', FunctionVersion: '1' }));
});
afterAll(async () => {
  lambda.destroy();
  await rt.close();
});

describe('list calls', () => {
  it('ListProvisionedConcurrencyConfigs (200): none, then one per version or alias configured, with its qualified FunctionArn', async () => {
    expect((await lambda.send(new ListProvisionedConcurrencyConfigsCommand({ FunctionName: 'fn' }))).ProvisionedConcurrencyConfigs).toEqual([]);
    await lambda.send(new PutProvisionedConcurrencyConfigCommand({ FunctionName: 'fn', Qualifier: 'live', ProvisionedConcurrentExecutions: 1 }));
    const listed = await lambda.send(new ListProvisionedConcurrencyConfigsCommand({ FunctionName: 'fn' }));
    expect(listed.$metadata.httpStatusCode).toBe(200);
    expect(listed.ProvisionedConcurrencyConfigs).toHaveLength(1);
    expect(listed.ProvisionedConcurrencyConfigs![0]).toMatchObject({ FunctionArn: `${ARN}:fn:live`, RequestedProvisionedConcurrentExecutions: 1 });
    const missing = await failure(lambda.send(new ListProvisionedConcurrencyConfigsCommand({ FunctionName: 'ghost' })));
    expect(missing).toBeInstanceOf(ResourceNotFoundException);
  });

  it('ListFunctionUrlConfigs (200): the unqualified URL and each alias\'s, paged by MaxItems', async () => {
    expect((await lambda.send(new ListFunctionUrlConfigsCommand({ FunctionName: 'fn' }))).FunctionUrlConfigs).toEqual([]);
    const plain = await lambda.send(new CreateFunctionUrlConfigCommand({ FunctionName: 'fn', AuthType: 'NONE' }));
    const live = await lambda.send(new CreateFunctionUrlConfigCommand({ FunctionName: 'fn', Qualifier: 'live', AuthType: 'NONE' }));
    const listed = await lambda.send(new ListFunctionUrlConfigsCommand({ FunctionName: 'fn' }));
    expect(listed.$metadata.httpStatusCode).toBe(200);
    expect(listed.FunctionUrlConfigs?.map((c) => c.FunctionUrl)).toEqual([plain.FunctionUrl, live.FunctionUrl]);
    expect(listed.FunctionUrlConfigs?.map((c) => c.FunctionArn)).toEqual([`${ARN}:fn`, `${ARN}:fn:live`]);
    const page = await lambda.send(new ListFunctionUrlConfigsCommand({ FunctionName: 'fn', MaxItems: 1 }));
    expect(page.FunctionUrlConfigs).toHaveLength(1);
    expect(page.NextMarker).toBeDefined();
  });
});

describe('InvokeWithResponseStream invocation types', () => {
  it('Event is ValidationException with the model\'s enum; DryRun is 204 and runs nothing', async () => {
    const event = await failure(lambda.send(new InvokeWithResponseStreamCommand({ FunctionName: 'fn', InvocationType: 'Event' as 'DryRun' })));
    expect(event.name).toBe('ValidationException');
    expect(event.message).toBe("1 validation error detected: Value 'Event' at 'invocationType' failed to satisfy constraint: Member must satisfy enum value set: [RequestResponse, DryRun]");
    const ran = (): number => logLines.filter((line) => line.includes('\tran')).length;
    const streamed = await lambda.send(new InvokeWithResponseStreamCommand({ FunctionName: 'fn' }));
    for await (const _ of streamed.EventStream!) void _; // read to the end: the invocation has run
    const before = ran();
    expect(before).toBeGreaterThan(0);
    const dry = await lambda.send(new InvokeWithResponseStreamCommand({ FunctionName: 'fn', InvocationType: 'DryRun' }));
    expect(dry.$metadata.httpStatusCode).toBe(204);
    expect(ran()).toBe(before);
    const unknown = await failure(lambda.send(new InvokeWithResponseStreamCommand({ FunctionName: 'ghost', InvocationType: 'DryRun' })));
    expect(unknown).toBeInstanceOf(ResourceNotFoundException);
  });
});

describe('layers', () => {
  it('ListLayers (200): each layer with its newest version, or the newest matching CompatibleRuntime; GetLayerVersionByArn', async () => {
    const layerZip = zipSync({ 'nodejs/node_modules/dep/index.js': strToU8('module.exports = 1;') });
    expect((await lambda.send(new ListLayersCommand({}))).Layers).toEqual([]);
    await lambda.send(new PublishLayerVersionCommand({ LayerName: 'b-layer', CompatibleRuntimes: ['nodejs22.x'], Content: { ZipFile: layerZip } }));
    const b2 = await lambda.send(new PublishLayerVersionCommand({ LayerName: 'b-layer', CompatibleRuntimes: ['nodejs24.x'], Description: 'two', Content: { ZipFile: layerZip } }));
    const a1 = await lambda.send(new PublishLayerVersionCommand({ LayerName: 'a-layer', Content: { ZipFile: layerZip } }));
    const all = await lambda.send(new ListLayersCommand({}));
    expect(all.$metadata.httpStatusCode).toBe(200);
    expect(all.Layers?.map((l) => [l.LayerName, l.LatestMatchingVersion?.Version])).toEqual([['a-layer', 1], ['b-layer', 2]]);
    expect(all.Layers?.[1]).toMatchObject({ LayerArn: b2.LayerArn, LatestMatchingVersion: { LayerVersionArn: b2.LayerVersionArn, Description: 'two', CompatibleRuntimes: ['nodejs24.x'] } });
    const node22 = await lambda.send(new ListLayersCommand({ CompatibleRuntime: 'nodejs22.x' }));
    expect(node22.Layers?.map((l) => [l.LayerName, l.LatestMatchingVersion?.Version])).toEqual([['b-layer', 1]]);
    const page = await lambda.send(new ListLayersCommand({ MaxItems: 1 }));
    expect(page.Layers).toHaveLength(1);
    expect((await lambda.send(new ListLayersCommand({ MaxItems: 1, Marker: page.NextMarker! }))).Layers?.[0]?.LayerName).toBe('b-layer');

    const byArn = await lambda.send(new GetLayerVersionByArnCommand({ Arn: a1.LayerVersionArn! }));
    expect(byArn).toMatchObject({ LayerVersionArn: a1.LayerVersionArn, Version: 1 });
    const missing = await failure(lambda.send(new GetLayerVersionByArnCommand({ Arn: `${a1.LayerArn!}:9` })));
    expect(missing).toBeInstanceOf(ResourceNotFoundException);
    expect(missing.message).toBe(`Layer version ${a1.LayerArn!}:9 does not exist.`);
  });
});

describe('GetFunctionCodeSigningConfig', () => {
  it('answers 200 with no configuration attached (lambdalet has no code signing config resources); an unknown function is ResourceNotFoundException', async () => {
    const out = await lambda.send(new GetFunctionCodeSigningConfigCommand({ FunctionName: 'fn' }));
    expect(out.$metadata.httpStatusCode).toBe(200);
    expect(out.CodeSigningConfigArn).toBeUndefined();
    const missing = await failure(lambda.send(new GetFunctionCodeSigningConfigCommand({ FunctionName: 'ghost' })));
    expect(missing).toBeInstanceOf(ResourceNotFoundException);
  });
});
