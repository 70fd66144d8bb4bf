/**
 * CreateFunction / UpdateFunctionConfiguration fields the Lambda API dropped silently before:
 * LoggingConfig (a JSON-logging function ran with Text logs and GetFunction said Text) and
 * DeadLetterConfig (failed events of a function created over HTTP had no dead-letter queue).
 * Driven by the REAL @aws-sdk/client-lambda. Shapes: Lambda API reference, LoggingConfig
 * (LogFormat, ApplicationLogLevel, SystemLogLevel, LogGroup; levels only with JSON, INFO by
 * default) and DeadLetterConfig (TargetArn; "" removes it in UpdateFunctionConfiguration);
 * AWS_LAMBDA_LOG_FORMAT / AWS_LAMBDA_LOG_LEVEL as lambda-compat.md A3 lists them.
 */
import { sdk, sdkClient, sdkFailure as failure, zipModule as zip } from '../helpers/lambda-sdk.ts';

import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createRuntime, type LambdaletServer, type Runtime } from '../../src/index.ts';

const { CreateFunctionCommand, GetFunctionConfigurationCommand, InvokeCommand, UpdateFunctionConfigurationCommand } = sdk;

const ROLE = 'arn:aws:iam::123456789012:role/test-role';
const decoder = new TextDecoder();

let rt: Runtime;
let server: LambdaletServer;
let lambda: ReturnType<typeof sdkClient>;

beforeAll(async () => {
  rt = await createRuntime({ logSink: { write: () => {} } });
  server = await rt.serve({ port: 0 });
  lambda = sdkClient(server.url);
});
afterAll(async () => {
  lambda.destroy();
  await rt.close();
});

describe('LoggingConfig over the Lambda API', () => {
  it('CreateFunction with LogFormat JSON: the function logs JSON, sees AWS_LAMBDA_LOG_FORMAT/LEVEL, and GetFunctionConfiguration says so', async () => {
    const created = await lambda.send(new CreateFunctionCommand({
      FunctionName: 'json-logs', Role: ROLE, Runtime: 'nodejs22.x', Handler: 'index.handler',
      LoggingConfig: { LogFormat: 'JSON', ApplicationLogLevel: 'DEBUG' },
      Code: { ZipFile: zip("export const handler = async () => { console.debug('dbg'); return [process.env.AWS_LAMBDA_LOG_FORMAT, process.env.AWS_LAMBDA_LOG_LEVEL]; };") },
    }));
    expect(created.LoggingConfig).toEqual({ LogFormat: 'JSON', ApplicationLogLevel: 'DEBUG', SystemLogLevel: 'INFO', LogGroup: '/aws/lambda/json-logs' });
    expect((await lambda.send(new GetFunctionConfigurationCommand({ FunctionName: 'json-logs' }))).LoggingConfig).toEqual(created.LoggingConfig);
    const out = await lambda.send(new InvokeCommand({ FunctionName: 'json-logs', LogType: 'Tail' }));
    expect(JSON.parse(decoder.decode(out.Payload))).toEqual(['JSON', 'DEBUG']);
    const tail = Buffer.from(out.LogResult!, 'base64').toString('utf8').trim().split('\n');
    const debug = tail.map((line) => JSON.parse(line) as Record<string, unknown>).find((record) => record.message === 'dbg');
    expect(debug).toMatchObject({ level: 'DEBUG', requestId: expect.any(String) as string });
  });

  it('UpdateFunctionConfiguration changes only the LoggingConfig fields given; LogFormat Text drops the levels', async () => {
    const levelOnly = await lambda.send(new UpdateFunctionConfigurationCommand({ FunctionName: 'json-logs', LoggingConfig: { ApplicationLogLevel: 'WARN' } }));
    expect(levelOnly.LoggingConfig).toEqual({ LogFormat: 'JSON', ApplicationLogLevel: 'WARN', SystemLogLevel: 'INFO', LogGroup: '/aws/lambda/json-logs' });
    const text = await lambda.send(new UpdateFunctionConfigurationCommand({ FunctionName: 'json-logs', LoggingConfig: { LogFormat: 'Text' } }));
    expect(text.LoggingConfig).toEqual({ LogFormat: 'Text', LogGroup: '/aws/lambda/json-logs' });
    const out = await lambda.send(new InvokeCommand({ FunctionName: 'json-logs' }));
    expect(JSON.parse(decoder.decode(out.Payload))).toEqual([null, null]);
  });

  it('levels with LogFormat Text are refused (InvalidParameterValueException); a LogGroup other than the function\'s own too', async () => {
    const levels = await failure(lambda.send(new UpdateFunctionConfigurationCommand({ FunctionName: 'json-logs', LoggingConfig: { LogFormat: 'Text', ApplicationLogLevel: 'DEBUG' } })));
    expect(levels.name).toBe('InvalidParameterValueException');
    const group = await failure(lambda.send(new UpdateFunctionConfigurationCommand({ FunctionName: 'json-logs', LoggingConfig: { LogGroup: '/custom/group' } })));
    expect(group.name).toBe('InvalidParameterValueException');
    const own = await lambda.send(new UpdateFunctionConfigurationCommand({ FunctionName: 'json-logs', LoggingConfig: { LogGroup: '/aws/lambda/json-logs' } }));
    expect(own.LoggingConfig?.LogGroup).toBe('/aws/lambda/json-logs');
  });

  it('a function created without LoggingConfig is Text', async () => {
    const created = await lambda.send(new CreateFunctionCommand({ FunctionName: 'text-logs', Role: ROLE, Runtime: 'nodejs22.x', Handler: 'index.handler', Code: { ZipFile: zip('export const handler = async () => 1;') } }));
    expect(created.LoggingConfig).toEqual({ LogFormat: 'Text', LogGroup: '/aws/lambda/text-logs' });
  });
});

describe('DeadLetterConfig over the Lambda API', () => {
  it('CreateFunction keeps it (the runtime\'s deadLetterConfig); UpdateFunctionConfiguration with TargetArn "" removes it', async () => {
    const { queueArn } = rt.createQueue('failed');
    const created = await lambda.send(new CreateFunctionCommand({
      FunctionName: 'with-dlq', Role: ROLE, Runtime: 'nodejs22.x', Handler: 'index.handler',
      DeadLetterConfig: { TargetArn: queueArn }, Code: { ZipFile: zip('export const handler = async () => 1;') },
    }));
    expect(created.DeadLetterConfig).toEqual({ TargetArn: queueArn });
    expect(rt.getFunction('with-dlq').deadLetterConfig).toEqual({ targetArn: queueArn });
    const removed = await lambda.send(new UpdateFunctionConfigurationCommand({ FunctionName: 'with-dlq', DeadLetterConfig: { TargetArn: '' } }));
    expect(removed.DeadLetterConfig).toBeUndefined();
    expect(rt.getFunction('with-dlq').deadLetterConfig).toBeUndefined();
  });
});
