/**
 * Asynchronous-invocation settings and InvokeAsync over the Lambda API, driven by the REAL
 * @aws-sdk/client-lambda: before these routes the SDK's PutFunctionEventInvokeConfig,
 * GetFunctionRecursionConfig and InvokeAsync failed with UnknownOperationException (404).
 * Paths, methods and statuses: the SDK's model (schemas_0.js — PutFunctionEventInvokeConfig
 * PUT /2019-09-25/functions/{FunctionName}/event-invoke-config 200, UpdateFunctionEventInvokeConfig
 * POST 200, DeleteFunctionEventInvokeConfig DELETE 204, ListFunctionEventInvokeConfigs GET …/list
 * 200, Put/GetFunctionRecursionConfig /2024-08-31/…/recursion-config 200, InvokeAsync POST
 * /2014-11-13/functions/{FunctionName}/invoke-async 202). Ranges: the Lambda API reference,
 * PutFunctionEventInvokeConfig (MaximumRetryAttempts 0-2, MaximumEventAgeInSeconds 60-21600),
 * each tested at, just inside and just outside its bounds.
 */
import { sdk, sdkClient, sdkFailure as failure, zipModule as zip } from '../helpers/lambda-sdk.ts';

import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createRuntime, type LambdaletServer, type Runtime } from '../../src/index.ts';

const {
  CreateFunctionCommand,
  DeleteFunctionEventInvokeConfigCommand,
  GetFunctionEventInvokeConfigCommand,
  GetFunctionRecursionConfigCommand,
  InvokeAsyncCommand,
  ListFunctionEventInvokeConfigsCommand,
  PublishVersionCommand,
  PutFunctionEventInvokeConfigCommand,
  PutFunctionRecursionConfigCommand,
  ResourceNotFoundException,
  UpdateFunctionEventInvokeConfigCommand,
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
    FunctionName: 'worker', Role: ROLE, Runtime: 'nodejs22.x', Handler: 'index.handler',
    Code: { ZipFile: zip("export const handler = async (e) => { console.log('ran', JSON.stringify(e)); return e; };") },
  }));
  await lambda.send(new CreateFunctionCommand({
    FunctionName: 'sink', Role: ROLE, Runtime: 'nodejs22.x', Handler: 'index.handler',
    Code: { ZipFile: zip('export const handler = async (e) => e;') },
  }));
});
afterAll(async () => {
  lambda.destroy();
  await rt.close();
});

describe('FunctionEventInvokeConfig over the Lambda API', () => {
  it('Put (200) returns the config; Get reads it; the runtime sees the same config', async () => {
    const put = await lambda.send(new PutFunctionEventInvokeConfigCommand({
      FunctionName: 'worker', MaximumRetryAttempts: 1, MaximumEventAgeInSeconds: 3600,
      DestinationConfig: { OnFailure: { Destination: `${ARN}:sink` } },
    }));
    expect(put.$metadata.httpStatusCode).toBe(200);
    expect(put.FunctionArn).toBe(`${ARN}:worker:$LATEST`);
    expect(put).toMatchObject({ MaximumRetryAttempts: 1, MaximumEventAgeInSeconds: 3600, DestinationConfig: { OnSuccess: {}, OnFailure: { Destination: `${ARN}:sink` } } });
    // LastModified is a timestamp (epoch seconds on the wire): the SDK hands back a Date.
    expect(put.LastModified).toBeInstanceOf(Date);

    const got = await lambda.send(new GetFunctionEventInvokeConfigCommand({ FunctionName: 'worker' }));
    expect(got).toMatchObject({ FunctionArn: `${ARN}:worker:$LATEST`, MaximumRetryAttempts: 1, MaximumEventAgeInSeconds: 3600 });
    expect(rt.getFunctionEventInvokeConfig('worker')).toMatchObject({ maximumRetryAttempts: 1, maximumEventAgeInSeconds: 3600 });
  });

  it('Update (POST, 200) changes only the fields given; Put replaces the whole config', async () => {
    const updated = await lambda.send(new UpdateFunctionEventInvokeConfigCommand({ FunctionName: 'worker', MaximumRetryAttempts: 0 }));
    expect(updated).toMatchObject({ MaximumRetryAttempts: 0, MaximumEventAgeInSeconds: 3600, DestinationConfig: { OnFailure: { Destination: `${ARN}:sink` } } });
    const replaced = await lambda.send(new PutFunctionEventInvokeConfigCommand({ FunctionName: 'worker', MaximumRetryAttempts: 2 }));
    expect(replaced.MaximumRetryAttempts).toBe(2);
    expect(replaced.MaximumEventAgeInSeconds).toBeUndefined();
    expect(replaced.DestinationConfig).toEqual({ OnSuccess: {}, OnFailure: {} });
  });

  it('Qualifier: a version has its own config; List (200) returns one per qualifier, paged by MaxItems', async () => {
    await lambda.send(new PublishVersionCommand({ FunctionName: 'worker' }));
    const onVersion = await lambda.send(new PutFunctionEventInvokeConfigCommand({ FunctionName: 'worker', Qualifier: '1', MaximumEventAgeInSeconds: 60 }));
    expect(onVersion.FunctionArn).toBe(`${ARN}:worker:1`);
    const all = await lambda.send(new ListFunctionEventInvokeConfigsCommand({ FunctionName: 'worker' }));
    expect(all.$metadata.httpStatusCode).toBe(200);
    expect(all.FunctionEventInvokeConfigs?.map((c) => c.FunctionArn).sort()).toEqual([`${ARN}:worker:$LATEST`, `${ARN}:worker:1`]);
    const first = await lambda.send(new ListFunctionEventInvokeConfigsCommand({ FunctionName: 'worker', MaxItems: 1 }));
    expect(first.FunctionEventInvokeConfigs).toHaveLength(1);
    const second = await lambda.send(new ListFunctionEventInvokeConfigsCommand({ FunctionName: 'worker', MaxItems: 1, Marker: first.NextMarker! }));
    expect(second.FunctionEventInvokeConfigs).toHaveLength(1);
    expect(second.NextMarker).toBeUndefined();
    expect(second.FunctionEventInvokeConfigs![0]!.FunctionArn).not.toBe(first.FunctionEventInvokeConfigs![0]!.FunctionArn);
  });

  it('Delete (204); then Get is ResourceNotFoundException (404) with the runtime\'s message', async () => {
    const deleted = await lambda.send(new DeleteFunctionEventInvokeConfigCommand({ FunctionName: 'worker', Qualifier: '1' }));
    expect(deleted.$metadata.httpStatusCode).toBe(204);
    const error = await failure(lambda.send(new GetFunctionEventInvokeConfigCommand({ FunctionName: 'worker', Qualifier: '1' })));
    expect(error).toBeInstanceOf(ResourceNotFoundException);
    expect(error.$metadata.httpStatusCode).toBe(404);
    expect(error.message).toBe(`The function ${ARN}:worker:1 doesn't have an EventInvokeConfig`);
  });

  it('an unknown function is ResourceNotFoundException (404)', async () => {
    const error = await failure(lambda.send(new PutFunctionEventInvokeConfigCommand({ FunctionName: 'ghost', MaximumRetryAttempts: 1 })));
    expect(error).toBeInstanceOf(ResourceNotFoundException);
    expect(error.message).toBe(`Function not found: ${ARN}:ghost`);
  });

  it.each([
    ['MaximumRetryAttempts', 0, true],
    ['MaximumRetryAttempts', 2, true],
    ['MaximumRetryAttempts', -1, false],
    ['MaximumRetryAttempts', 3, false],
    ['MaximumEventAgeInSeconds', 60, true],
    ['MaximumEventAgeInSeconds', 21600, true],
    ['MaximumEventAgeInSeconds', 59, false],
    ['MaximumEventAgeInSeconds', 21601, false],
  ] as const)('%s %i: accepted %s (range at, inside and outside the bound)', async (field, value, accepted) => {
    const send = lambda.send(new PutFunctionEventInvokeConfigCommand({ FunctionName: 'worker', [field]: value }));
    if (accepted) {
      expect((await send)[field]).toBe(value);
      return;
    }
    const error = await failure(send);
    expect(error.name).toBe('ValidationException');
    expect(error.$metadata.httpStatusCode).toBe(400);
    const field0 = field.charAt(0).toLowerCase() + field.slice(1);
    const constraint = value < 60 && field === 'MaximumEventAgeInSeconds' || value < 0 ? 'greater than or equal to' : 'less than or equal to';
    expect(error.message).toMatch(new RegExp(`^1 validation error detected: Value '${value}' at '${field0}' failed to satisfy constraint: Member must have value ${constraint} \\d+$`));
  });

  it('a destination that does not exist is refused with the runtime\'s error', async () => {
    const error = await failure(lambda.send(new PutFunctionEventInvokeConfigCommand({ FunctionName: 'worker', DestinationConfig: { OnSuccess: { Destination: `${ARN}:ghost` } } })));
    expect(error).toBeInstanceOf(ResourceNotFoundException);
    expect(error.message).toBe(`Function not found: ${ARN}:ghost`);
  });
});

describe('FunctionRecursionConfig over the Lambda API', () => {
  it('Get defaults to Terminate; Put Allow (200) is read back; a bad value is ValidationException', async () => {
    const initial = await lambda.send(new GetFunctionRecursionConfigCommand({ FunctionName: 'worker' }));
    expect(initial.$metadata.httpStatusCode).toBe(200);
    expect(initial.RecursiveLoop).toBe('Terminate');
    const put = await lambda.send(new PutFunctionRecursionConfigCommand({ FunctionName: 'worker', RecursiveLoop: 'Allow' }));
    expect(put.RecursiveLoop).toBe('Allow');
    expect((await lambda.send(new GetFunctionRecursionConfigCommand({ FunctionName: 'worker' }))).RecursiveLoop).toBe('Allow');
    expect(rt.getFunctionRecursionConfig('worker')).toEqual({ recursiveLoop: 'Allow' });
    const error = await failure(lambda.send(new PutFunctionRecursionConfigCommand({ FunctionName: 'worker', RecursiveLoop: 'Sometimes' as 'Allow' })));
    expect(error.name).toBe('ValidationException');
    expect(error.message).toBe("1 validation error detected: Value 'Sometimes' at 'recursiveLoop' failed to satisfy constraint: Member must satisfy enum value set: [Allow, Terminate]");
  });
});

describe('InvokeAsync (legacy) over the Lambda API', () => {
  it('queues the event as an Event invoke: 202, Status 202, and the function runs it', async () => {
    const out = await lambda.send(new InvokeAsyncCommand({ FunctionName: 'worker', InvokeArgs: JSON.stringify({ via: 'invoke-async' }) }));
    expect(out.$metadata.httpStatusCode).toBe(202);
    expect(out.Status).toBe(202);
    await rt.eventsIdle();
    expect(logLines.some((line) => line.includes('ran {"via":"invoke-async"}'))).toBe(true);
  });

  it('an unknown function is ResourceNotFoundException; a body that is not JSON is InvalidRequestContentException', async () => {
    const missing = await failure(lambda.send(new InvokeAsyncCommand({ FunctionName: 'ghost', InvokeArgs: '{}' })));
    expect(missing).toBeInstanceOf(ResourceNotFoundException);
    const bad = await failure(lambda.send(new InvokeAsyncCommand({ FunctionName: 'worker', InvokeArgs: '{nope' })));
    expect(bad.name).toBe('InvalidRequestContentException');
    expect(bad.$metadata.httpStatusCode).toBe(400);
  });
});
