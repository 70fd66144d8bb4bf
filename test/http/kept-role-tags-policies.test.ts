/**
 * A function's Role, tags and resource policies are kept with it (http/function-extras.ts, through
 * the registry store's putHttpSetting): after a restart on the same dataDir, GetFunction,
 * GetFunctionConfiguration, ListTags and GetPolicy answer exactly as before — they were held by
 * the server in memory and were gone. On Lambda they belong to the function until it is deleted
 * (API reference: CreateFunction `Role` and `Tags`, TagResource/UntagResource, AddPermission/
 * RemovePermission; "You can't add tags to versions or aliases"); a deleted version's policy goes
 * with it, as LocalStack's AWS-validated provider keeps a policy per qualified function.
 * Driven by the REAL @aws-sdk/client-lambda.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DatabaseSync } from 'node:sqlite';
import { zipSync, strToU8 } from 'fflate';
import { describe, expect, it } from 'vitest';
import { createRuntime, silentSink, type Runtime } from '../../src/index.ts';
import { sdk, sdkClient } from '../helpers/lambda-sdk.ts';

const {
  AddPermissionCommand,
  CreateFunctionCommand,
  DeleteFunctionCommand,
  GetFunctionCommand,
  GetFunctionConfigurationCommand,
  GetPolicyCommand,
  ListTagsCommand,
  PublishVersionCommand,
  RemovePermissionCommand,
  ResourceNotFoundException,
  TagResourceCommand,
  UntagResourceCommand,
  UpdateFunctionConfigurationCommand,
} = sdk;

const ROLE = 'arn:aws:iam::123456789012:role/orders-role';
const ROLE2 = 'arn:aws:iam::123456789012:role/orders-role-2';
const ARN = 'arn:aws:lambda:us-east-1:123456789012:function:orders';
const DEFAULT_ROLE = 'arn:aws:iam::123456789012:role/lambdalet-execution-role';
const code = zipSync({ 'index.mjs': strToU8('export const handler = async () => 1;') });

async function withDataDir(body: (dataDir: string) => Promise<void>): Promise<void> {
  const dataDir = await mkdtemp(join(tmpdir(), 'lambdalet-kept-extras-'));
  try {
    await body(dataDir);
  } finally {
    await rm(dataDir, { recursive: true, force: true });
  }
}

/** A runtime on `dataDir` serving the Lambda API, an SDK client for it, closed after `body`. */
async function serving(dataDir: string | undefined, body: (lambda: ReturnType<typeof sdkClient>, rt: Runtime) => Promise<void>): Promise<void> {
  const rt = await createRuntime({ logSink: silentSink, ...(dataDir === undefined ? {} : { dataDir }) });
  try {
    const server = await rt.serve({ port: 0 });
    const lambda = sdkClient(server.url);
    try {
      await body(lambda, rt);
    } finally {
      lambda.destroy();
    }
  } finally {
    await rt.close();
  }
}

/** What the four read calls answer, without the SDK's $metadata. */
async function snapshot(lambda: ReturnType<typeof sdkClient>): Promise<unknown> {
  const strip = <T extends { $metadata?: unknown }>(out: T): Omit<T, '$metadata'> => {
    const { $metadata: _m, ...rest } = out;
    return rest;
  };
  const fn = strip(await lambda.send(new GetFunctionCommand({ FunctionName: 'orders' })));
  return {
    role: fn.Configuration?.Role,
    tags: fn.Tags,
    configurationRole: (await lambda.send(new GetFunctionConfigurationCommand({ FunctionName: 'orders' }))).Role,
    versionRole: (await lambda.send(new GetFunctionConfigurationCommand({ FunctionName: 'orders', Qualifier: '1' }))).Role,
    listTags: strip(await lambda.send(new ListTagsCommand({ Resource: ARN }))),
    policy: strip(await lambda.send(new GetPolicyCommand({ FunctionName: 'orders' }))),
    versionPolicy: strip(await lambda.send(new GetPolicyCommand({ FunctionName: 'orders', Qualifier: '1' }))),
  };
}

async function failure(promise: Promise<unknown>): Promise<unknown> {
  return promise.then(() => undefined, (error: unknown) => error);
}

describe('Role, tags and resource policies kept in dataDir', () => {
  it('after a restart GetFunction, GetFunctionConfiguration, ListTags and GetPolicy answer as before; later changes and removals are kept too', () =>
    withDataDir(async (dataDir) => {
      let before: unknown;
      await serving(dataDir, async (lambda) => {
        await lambda.send(new CreateFunctionCommand({ FunctionName: 'orders', Role: ROLE, Runtime: 'nodejs22.x', Handler: 'index.handler', Code: { ZipFile: code }, Tags: { team: 'core', stage: 'dev' } }));
        await lambda.send(new PublishVersionCommand({ FunctionName: 'orders' }));
        await lambda.send(new TagResourceCommand({ Resource: ARN, Tags: { cost: '42' } }));
        await lambda.send(new UpdateFunctionConfigurationCommand({ FunctionName: 'orders', Role: ROLE2 }));
        await lambda.send(new AddPermissionCommand({ FunctionName: 'orders', StatementId: 'apigw', Action: 'lambda:InvokeFunction', Principal: 'apigateway.amazonaws.com', SourceArn: 'arn:aws:execute-api:us-east-1:123456789012:abc/*' }));
        await lambda.send(new AddPermissionCommand({ FunctionName: 'orders', StatementId: 's3', Action: 'lambda:InvokeFunction', Principal: 's3.amazonaws.com', SourceAccount: '123456789012' }));
        await lambda.send(new AddPermissionCommand({ FunctionName: 'orders', Qualifier: '1', StatementId: 'v1', Action: 'lambda:InvokeFunction', Principal: '123456789012' }));
        before = await snapshot(lambda);
      });
      expect(before).toMatchObject({ role: ROLE2, tags: { team: 'core', stage: 'dev', cost: '42' }, listTags: { Tags: { team: 'core', stage: 'dev', cost: '42' } } });

      await serving(dataDir, async (lambda) => {
        expect(await snapshot(lambda)).toEqual(before);
        // Changes after the restart are kept as well.
        await lambda.send(new UntagResourceCommand({ Resource: ARN, TagKeys: ['stage', 'cost'] }));
        await lambda.send(new RemovePermissionCommand({ FunctionName: 'orders', StatementId: 's3' }));
        await lambda.send(new DeleteFunctionCommand({ FunctionName: 'orders', Qualifier: '1' }));
      });

      await serving(dataDir, async (lambda) => {
        expect((await lambda.send(new ListTagsCommand({ Resource: ARN }))).Tags).toEqual({ team: 'core' });
        const policy = JSON.parse((await lambda.send(new GetPolicyCommand({ FunctionName: 'orders' }))).Policy!) as { Statement: { Sid: string }[] };
        expect(policy.Statement.map((s) => s.Sid)).toEqual(['apigw']);
        expect((await lambda.send(new GetFunctionConfigurationCommand({ FunctionName: 'orders' }))).Role).toBe(ROLE2);
        await lambda.send(new UntagResourceCommand({ Resource: ARN, TagKeys: ['team'] }));
        await lambda.send(new RemovePermissionCommand({ FunctionName: 'orders', StatementId: 'apigw' }));
      });

      // The deleted version's policy left the store with it (nothing answers for a deleted version to ask).
      const db = new DatabaseSync(join(dataDir, 'registry.sqlite'), { readOnly: true });
      const kept = db.prepare("SELECT kind, key FROM async_settings WHERE kind LIKE 'function-%' ORDER BY kind, key").all();
      db.close();
      expect(kept).toEqual([{ kind: 'function-role', key: 'orders' }]);

      await serving(dataDir, async (lambda) => {
        // The last tag and statement removed: none kept (GetFunction has no Tags; GetPolicy is 404, Lambda's message).
        expect((await lambda.send(new ListTagsCommand({ Resource: ARN }))).Tags).toEqual({});
        expect((await lambda.send(new GetFunctionCommand({ FunctionName: 'orders' }))).Tags).toBeUndefined();
        const none = await failure(lambda.send(new GetPolicyCommand({ FunctionName: 'orders' })));
        expect(none).toBeInstanceOf(ResourceNotFoundException);
        expect((none as Error).message).toBe('The resource you requested does not exist.');
      });
    }));

  it('deleting the function forgets its Role, tags and policies in the store: a new function of that name after a restart has none of them', () =>
    withDataDir(async (dataDir) => {
      await serving(dataDir, async (lambda) => {
        await lambda.send(new CreateFunctionCommand({ FunctionName: 'orders', Role: ROLE, Runtime: 'nodejs22.x', Handler: 'index.handler', Code: { ZipFile: code }, Tags: { team: 'core' } }));
        await lambda.send(new AddPermissionCommand({ FunctionName: 'orders', StatementId: 'apigw', Action: 'lambda:InvokeFunction', Principal: 'apigateway.amazonaws.com' }));
        await lambda.send(new DeleteFunctionCommand({ FunctionName: 'orders' }));
      });
      await serving(dataDir, async (lambda, rt) => {
        await rt.deploy({ name: 'orders', code: { files: { 'index.mjs': 'export const handler = async () => 1;' } } });
        expect((await lambda.send(new GetFunctionConfigurationCommand({ FunctionName: 'orders' }))).Role).toBe(DEFAULT_ROLE);
        expect((await lambda.send(new ListTagsCommand({ Resource: ARN }))).Tags).toEqual({});
        expect(await failure(lambda.send(new GetPolicyCommand({ FunctionName: 'orders' })))).toBeInstanceOf(ResourceNotFoundException);
      });
    }));

  it('without a dataDir they outlive one server (a second serve() answers the same), and rt.deleteFunction, not over HTTP, forgets them too', async () => {
    const rt = await createRuntime({ logSink: silentSink });
    try {
      let server = await rt.serve({ port: 0 });
      let lambda = sdkClient(server.url);
      await lambda.send(new CreateFunctionCommand({ FunctionName: 'orders', Role: ROLE, Runtime: 'nodejs22.x', Handler: 'index.handler', Code: { ZipFile: code }, Tags: { team: 'core' } }));
      await lambda.send(new AddPermissionCommand({ FunctionName: 'orders', StatementId: 'apigw', Action: 'lambda:InvokeFunction', Principal: 'apigateway.amazonaws.com' }));
      lambda.destroy();
      await server.close();

      server = await rt.serve({ port: 0 });
      lambda = sdkClient(server.url);
      expect((await lambda.send(new ListTagsCommand({ Resource: ARN }))).Tags).toEqual({ team: 'core' });
      expect((await lambda.send(new GetFunctionConfigurationCommand({ FunctionName: 'orders' }))).Role).toBe(ROLE);
      expect((await lambda.send(new GetPolicyCommand({ FunctionName: 'orders' }))).Policy).toContain('"Sid":"apigw"');

      await rt.deleteFunction('orders');
      await rt.deploy({ name: 'orders', code: { files: { 'index.mjs': 'export const handler = async () => 1;' } } });
      expect((await lambda.send(new ListTagsCommand({ Resource: ARN }))).Tags).toEqual({});
      expect((await lambda.send(new GetFunctionConfigurationCommand({ FunctionName: 'orders' }))).Role).toBe(DEFAULT_ROLE);
      expect(await failure(lambda.send(new GetPolicyCommand({ FunctionName: 'orders' })))).toBeInstanceOf(ResourceNotFoundException);
      lambda.destroy();
    } finally {
      await rt.close();
    }
  });

  it('rt.deleteFunction(\'orders:1\') deletes version 1 only: the function\'s URL, Role, tags and own policy stay (before, a qualifier given in the name removed every URL of the function)', async () => {
    await serving(undefined, async (lambda, rt) => {
      await lambda.send(new CreateFunctionCommand({ FunctionName: 'orders', Role: ROLE, Runtime: 'nodejs22.x', Handler: 'index.handler', Code: { ZipFile: code }, Tags: { team: 'core' } }));
      await lambda.send(new PublishVersionCommand({ FunctionName: 'orders' }));
      await lambda.send(new AddPermissionCommand({ FunctionName: 'orders', StatementId: 'fn', Action: 'lambda:InvokeFunction', Principal: 'apigateway.amazonaws.com' }));
      await lambda.send(new AddPermissionCommand({ FunctionName: 'orders', Qualifier: '1', StatementId: 'v1', Action: 'lambda:InvokeFunction', Principal: 'apigateway.amazonaws.com' }));
      const url = rt.createFunctionUrlConfig('orders', { authType: 'NONE' });
      await rt.deleteFunction('orders:1');
      expect(rt.getFunctionUrlConfig('orders').urlId).toBe(url.urlId);
      expect((await lambda.send(new ListTagsCommand({ Resource: ARN }))).Tags).toEqual({ team: 'core' });
      expect((await lambda.send(new GetFunctionConfigurationCommand({ FunctionName: 'orders' }))).Role).toBe(ROLE);
      expect((await lambda.send(new GetPolicyCommand({ FunctionName: 'orders' }))).Policy).toContain('"Sid":"fn"');
    });
  });
});
