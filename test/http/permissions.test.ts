/**
 * AddPermission, GetPolicy and RemovePermission over the Lambda API, driven by the REAL
 * @aws-sdk/client-lambda: before, each was UnknownOperationException (404), so a deploy tool that
 * grants API Gateway or S3 the right to invoke a function stopped there. Paths and statuses: the
 * SDK's model (POST/GET …/policy 201/200, DELETE …/policy/{StatementId} 204). Statement shape and
 * messages: LocalStack's AWS-validated Lambda provider (api_utils.build_statement; provider.py
 * add_permission, remove_permission, get_policy), cited in src/http/lambda-api/permissions.ts.
 */
import { sdk, sdkClient, sdkFailure as failure, zipModule as zip } from '../helpers/lambda-sdk.ts';

import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createRuntime, type LambdaletServer, type Runtime } from '../../src/index.ts';

const {
  AddPermissionCommand,
  CreateAliasCommand,
  CreateFunctionCommand,
  DeleteFunctionCommand,
  GetPolicyCommand,
  PublishVersionCommand,
  RemovePermissionCommand,
  ResourceConflictException,
  ResourceNotFoundException,
} = sdk;

const ROLE = 'arn:aws:iam::123456789012:role/test-role';
const ARN = 'arn:aws:lambda:us-east-1:123456789012:function';

let rt: Runtime;
let server: LambdaletServer;
let lambda: ReturnType<typeof sdkClient>;

const create = (name: string) =>
  lambda.send(new CreateFunctionCommand({ FunctionName: name, Role: ROLE, Runtime: 'nodejs22.x', Handler: 'index.handler', Code: { ZipFile: zip('export const handler = async () => 1;') } }));
const policyOf = async (FunctionName: string, Qualifier?: string) =>
  JSON.parse((await lambda.send(new GetPolicyCommand({ FunctionName, ...(Qualifier ? { Qualifier } : {}) }))).Policy!) as { Version: string; Id: string; Statement: Record<string, unknown>[] };

beforeAll(async () => {
  rt = await createRuntime({ logSink: { write: () => {} } });
  server = await rt.serve({ port: 0 });
  lambda = sdkClient(server.url);
  await create('api');
});
afterAll(async () => {
  lambda.destroy();
  await rt.close();
});

describe('resource policy over the Lambda API', () => {
  it('GetPolicy of a function without one is ResourceNotFoundException', async () => {
    const error = await failure(lambda.send(new GetPolicyCommand({ FunctionName: 'api' })));
    expect(error).toBeInstanceOf(ResourceNotFoundException);
    expect(error.message).toBe('The resource you requested does not exist.');
  });

  it('AddPermission (201) returns the statement; GetPolicy (200) returns the policy with every statement', async () => {
    const added = await lambda.send(new AddPermissionCommand({
      FunctionName: 'api', StatementId: 'apigw', Action: 'lambda:InvokeFunction', Principal: 'apigateway.amazonaws.com',
      SourceArn: 'arn:aws:execute-api:us-east-1:123456789012:abc123/*', SourceAccount: '123456789012',
    }));
    expect(added.$metadata.httpStatusCode).toBe(201);
    expect(JSON.parse(added.Statement!)).toEqual({
      Sid: 'apigw', Effect: 'Allow', Action: 'lambda:InvokeFunction', Resource: `${ARN}:api`,
      Principal: { Service: 'apigateway.amazonaws.com' },
      Condition: { StringEquals: { 'AWS:SourceAccount': '123456789012' }, ArnLike: { 'AWS:SourceArn': 'arn:aws:execute-api:us-east-1:123456789012:abc123/*' } },
    });
    await lambda.send(new AddPermissionCommand({ FunctionName: 'api', StatementId: 'account', Action: 'lambda:InvokeFunction', Principal: '210987654321' }));
    await lambda.send(new AddPermissionCommand({ FunctionName: 'api', StatementId: 'url', Action: 'lambda:InvokeFunctionUrl', Principal: '*', FunctionUrlAuthType: 'NONE' }));
    const policy = await policyOf('api');
    expect(policy.Version).toBe('2012-10-17');
    expect(policy.Id).toBe('default');
    expect(policy.Statement.map((s) => s.Sid)).toEqual(['apigw', 'account', 'url']);
    expect(policy.Statement[1]!.Principal).toEqual({ AWS: 'arn:aws:iam::210987654321:root' });
    expect(policy.Statement[2]).toMatchObject({ Principal: '*', Condition: { StringEquals: { 'lambda:FunctionUrlAuthType': 'NONE' } } });
    const response = await lambda.send(new GetPolicyCommand({ FunctionName: 'api' }));
    expect(response.RevisionId).toBe(rt.getFunction('api').revisionId);
  });

  it('a statement id already used is ResourceConflictException; a malformed one ValidationException; a bad principal InvalidParameterValueException', async () => {
    const duplicate = await failure(lambda.send(new AddPermissionCommand({ FunctionName: 'api', StatementId: 'apigw', Action: 'lambda:InvokeFunction', Principal: 's3.amazonaws.com' })));
    expect(duplicate).toBeInstanceOf(ResourceConflictException);
    expect(duplicate.message).toBe('The statement id (apigw) provided already exists. Please provide a new statement id, or remove the existing statement.');
    const malformed = await failure(lambda.send(new AddPermissionCommand({ FunctionName: 'api', StatementId: 'bad id', Action: 'lambda:InvokeFunction', Principal: 's3.amazonaws.com' })));
    expect(malformed.name).toBe('ValidationException');
    expect(malformed.message).toBe("1 validation error detected: Value 'bad id' at 'statementId' failed to satisfy constraint: Member must satisfy regular expression pattern: ([a-zA-Z0-9-_]+)");
    const principal = await failure(lambda.send(new AddPermissionCommand({ FunctionName: 'api', StatementId: 'p', Action: 'lambda:InvokeFunction', Principal: 'somebody' })));
    expect(principal.name).toBe('InvalidParameterValueException');
    expect(principal.message).toBe('The provided principal was invalid. Please check the principal and try again.');
    const latest = await failure(lambda.send(new AddPermissionCommand({ FunctionName: 'api', Qualifier: '$LATEST', StatementId: 'l', Action: 'lambda:InvokeFunction', Principal: 's3.amazonaws.com' })));
    expect(latest.message).toBe('We currently do not support adding policies for $LATEST.');
  });

  it('a version or alias has its own policy, its Resource the qualified ARN; the same statement id may be reused there', async () => {
    await lambda.send(new PublishVersionCommand({ FunctionName: 'api' }));
    await lambda.send(new CreateAliasCommand({ FunctionName: 'api', Name: 'live', FunctionVersion: '1' }));
    const added = await lambda.send(new AddPermissionCommand({ FunctionName: 'api', Qualifier: 'live', StatementId: 'apigw', Action: 'lambda:InvokeFunction', Principal: 'apigateway.amazonaws.com' }));
    expect(JSON.parse(added.Statement!)).toMatchObject({ Resource: `${ARN}:api:live` });
    expect((await policyOf('api', 'live')).Statement.map((s) => s.Sid)).toEqual(['apigw']);
    expect((await policyOf('api:live')).Statement.map((s) => s.Sid)).toEqual(['apigw']);
    expect((await lambda.send(new GetPolicyCommand({ FunctionName: 'api', Qualifier: 'live' }))).RevisionId).toBe(rt.getAlias('api', 'live').revisionId);
    const none = await failure(lambda.send(new GetPolicyCommand({ FunctionName: 'api', Qualifier: '1' })));
    expect(none).toBeInstanceOf(ResourceNotFoundException);
  });

  it('RemovePermission (204) removes one statement; the last one takes the policy with it; Lambda\'s messages otherwise', async () => {
    const removed = await lambda.send(new RemovePermissionCommand({ FunctionName: 'api', StatementId: 'account' }));
    expect(removed.$metadata.httpStatusCode).toBe(204);
    expect((await policyOf('api')).Statement.map((s) => s.Sid)).toEqual(['apigw', 'url']);
    const missing = await failure(lambda.send(new RemovePermissionCommand({ FunctionName: 'api', StatementId: 'account' })));
    expect(missing.message).toBe('Statement account is not found in resource policy.');
    await lambda.send(new RemovePermissionCommand({ FunctionName: 'api', Qualifier: 'live', StatementId: 'apigw' }));
    const gone = await failure(lambda.send(new RemovePermissionCommand({ FunctionName: 'api', Qualifier: 'live', StatementId: 'apigw' })));
    expect(gone.message).toBe('No policy is associated with the given resource.');
    const noFunction = await failure(lambda.send(new RemovePermissionCommand({ FunctionName: 'ghost', StatementId: 'x' })));
    expect(noFunction).toBeInstanceOf(ResourceNotFoundException);
    expect(noFunction.message).toBe(`No policy found for: ${ARN}:ghost`);
  });

  it('DeleteFunction takes the policy with it', async () => {
    await lambda.send(new DeleteFunctionCommand({ FunctionName: 'api' }));
    await create('api');
    const error = await failure(lambda.send(new GetPolicyCommand({ FunctionName: 'api' })));
    expect(error).toBeInstanceOf(ResourceNotFoundException);
  });
});
