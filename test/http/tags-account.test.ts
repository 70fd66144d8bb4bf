/**
 * Tags (ListTags, TagResource, UntagResource, CreateFunction's and GetFunction's Tags) and
 * GetAccountSettings over the Lambda API, driven by the REAL @aws-sdk/client-lambda: before, each
 * of these calls failed with UnknownOperationException (404) and CreateFunction's tags were
 * dropped (Terraform's aws_lambda_function reads them back with ListTags after every apply).
 * Paths and statuses: the SDK's model (schemas_0.js — ListTags GET /2017-03-31/tags/{Resource} 200,
 * TagResource POST 204, UntagResource DELETE ?tagKeys= 204, GetAccountSettings GET
 * /2016-08-19/account-settings 200). Limits: Lambda developer guide "Using tags on Lambda
 * functions" (50 tags per function, keys 1-128 characters, values 0-256; no tags on versions or
 * aliases), each tested at and just over; account limits: Lambda quotas (75 GB of code storage,
 * 250 MB unzipped, 50 MB zipped).
 */
import { sdk, sdkClient, sdkFailure as failure, zipModule as zip } from '../helpers/lambda-sdk.ts';

import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createRuntime, type LambdaletServer, type Runtime } from '../../src/index.ts';

const {
  CreateFunctionCommand,
  DeleteFunctionCommand,
  GetAccountSettingsCommand,
  GetFunctionCommand,
  ListTagsCommand,
  PublishVersionCommand,
  PutFunctionConcurrencyCommand,
  ResourceNotFoundException,
  TagResourceCommand,
  UntagResourceCommand,
} = sdk;

const ROLE = 'arn:aws:iam::123456789012:role/test-role';
const ARN = 'arn:aws:lambda:us-east-1:123456789012:function';
const CONCURRENCY = 40;

let rt: Runtime;
let server: LambdaletServer;
let lambda: ReturnType<typeof sdkClient>;

const create = (name: string, Tags?: Record<string, string>) =>
  lambda.send(new CreateFunctionCommand({ FunctionName: name, Role: ROLE, Runtime: 'nodejs22.x', Handler: 'index.handler', Code: { ZipFile: zip('export const handler = async () => 1;') }, ...(Tags ? { Tags } : {}) }));
const listTags = async (name: string) => (await lambda.send(new ListTagsCommand({ Resource: `${ARN}:${name}` }))).Tags;

beforeAll(async () => {
  rt = await createRuntime({ logSink: { write: () => {} }, concurrency: CONCURRENCY });
  server = await rt.serve({ port: 0 });
  lambda = sdkClient(server.url);
});
afterAll(async () => {
  lambda.destroy();
  await rt.close();
});

describe('tags over the Lambda API', () => {
  it('CreateFunction keeps its Tags: GetFunction and ListTags (200) return them', async () => {
    await create('tagged', { team: 'orders', stage: 'dev' });
    expect((await lambda.send(new GetFunctionCommand({ FunctionName: 'tagged' }))).Tags).toEqual({ team: 'orders', stage: 'dev' });
    const listed = await lambda.send(new ListTagsCommand({ Resource: `${ARN}:tagged` }));
    expect(listed.$metadata.httpStatusCode).toBe(200);
    expect(listed.Tags).toEqual({ team: 'orders', stage: 'dev' });
  });

  it('a function without tags: GetFunction has no Tags, ListTags an empty map', async () => {
    await create('plain');
    expect((await lambda.send(new GetFunctionCommand({ FunctionName: 'plain' }))).Tags).toBeUndefined();
    expect(await listTags('plain')).toEqual({});
  });

  it('TagResource (204) adds and overwrites; UntagResource (204) removes the keys given, unknown keys ignored', async () => {
    const tagged = await lambda.send(new TagResourceCommand({ Resource: `${ARN}:tagged`, Tags: { stage: 'prod', owner: 'ada' } }));
    expect(tagged.$metadata.httpStatusCode).toBe(204);
    expect(await listTags('tagged')).toEqual({ team: 'orders', stage: 'prod', owner: 'ada' });
    const untagged = await lambda.send(new UntagResourceCommand({ Resource: `${ARN}:tagged`, TagKeys: ['owner', 'team', 'never-set'] }));
    expect(untagged.$metadata.httpStatusCode).toBe(204);
    expect(await listTags('tagged')).toEqual({ stage: 'prod' });
  });

  it('a version or alias ARN is refused (tags are the function\'s); an unknown function is ResourceNotFoundException', async () => {
    await lambda.send(new PublishVersionCommand({ FunctionName: 'tagged' }));
    const qualified = await failure(lambda.send(new ListTagsCommand({ Resource: `${ARN}:tagged:1` })));
    expect(qualified.name).toBe('InvalidParameterValueException');
    expect(qualified.$metadata.httpStatusCode).toBe(400);
    const missing = await failure(lambda.send(new TagResourceCommand({ Resource: `${ARN}:ghost`, Tags: { a: 'b' } })));
    expect(missing).toBeInstanceOf(ResourceNotFoundException);
    expect(missing.message).toBe(`Function not found: ${ARN}:ghost`);
  });

  it('50 tags are accepted, a 51st is refused and changes nothing', async () => {
    await create('many', Object.fromEntries(Array.from({ length: 49 }, (_, i) => [`k${i}`, 'v'])));
    await lambda.send(new TagResourceCommand({ Resource: `${ARN}:many`, Tags: { k49: 'v' } }));
    expect(Object.keys((await listTags('many'))!)).toHaveLength(50);
    const over = await failure(lambda.send(new TagResourceCommand({ Resource: `${ARN}:many`, Tags: { k50: 'v' } })));
    expect(over.name).toBe('InvalidParameterValueException');
    expect(Object.keys((await listTags('many'))!)).toHaveLength(50);
    const overAtCreate = await failure(create('too-many', Object.fromEntries(Array.from({ length: 51 }, (_, i) => [`k${i}`, 'v']))));
    expect(overAtCreate.name).toBe('InvalidParameterValueException');
    // Refused before anything was deployed.
    expect(rt.listFunctions().some((f) => f.functionName === 'too-many')).toBe(false);
  });

  it('keys of 1 and 128 characters and values of 0 and 256 are accepted; a key of 0 or 129, a value of 257 refused', async () => {
    await lambda.send(new TagResourceCommand({ Resource: `${ARN}:plain`, Tags: { k: '', ['k'.repeat(128)]: 'v'.repeat(256) } }));
    expect(await listTags('plain')).toEqual({ k: '', ['k'.repeat(128)]: 'v'.repeat(256) });
    for (const Tags of [{ '': 'v' }, { ['k'.repeat(129)]: 'v' }, { k: 'v'.repeat(257) }] as Record<string, string>[]) {
      const error = await failure(lambda.send(new TagResourceCommand({ Resource: `${ARN}:plain`, Tags })));
      expect(error.name).toBe('InvalidParameterValueException');
    }
  });

  it('DeleteFunction takes the tags with it: a new function of the same name starts untagged', async () => {
    await lambda.send(new DeleteFunctionCommand({ FunctionName: `${ARN}:tagged` }));
    await create('tagged');
    expect(await listTags('tagged')).toEqual({});
  });
});

describe('GetAccountSettings over the Lambda API', () => {
  it('the runtime\'s concurrency, what reservations leave unreserved, Lambda\'s code limits, the code stored and the function count', async () => {
    const before = await lambda.send(new GetAccountSettingsCommand({}));
    expect(before.$metadata.httpStatusCode).toBe(200);
    expect(before.AccountLimit).toEqual({
      TotalCodeSize: 80_530_636_800,
      CodeSizeUnzipped: 262_144_000,
      CodeSizeZipped: 52_428_800,
      ConcurrentExecutions: CONCURRENCY,
      UnreservedConcurrentExecutions: CONCURRENCY,
    });
    const functions = rt.listFunctions();
    expect(before.AccountUsage).toEqual({
      FunctionCount: functions.length,
      TotalCodeSize: functions.flatMap((f) => rt.listVersions(f.functionName)).reduce((sum, v) => sum + v.codeSize, 0),
    });
    await lambda.send(new PutFunctionConcurrencyCommand({ FunctionName: 'plain', ReservedConcurrentExecutions: 5 }));
    const after = await lambda.send(new GetAccountSettingsCommand({}));
    expect(after.AccountLimit?.UnreservedConcurrentExecutions).toBe(CONCURRENCY - 5);
  });
});
