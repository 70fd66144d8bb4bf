/**
 * A function's resource-based policy: AddPermission (`POST …/policy`, 201), GetPolicy (`GET
 * …/policy`, 200) and RemovePermission (`DELETE …/policy/{StatementId}`, 204), `?Qualifier=` for a
 * version's or alias's own policy (paths and statuses: the SDK's model, schemas_0.js). Deploy
 * tools call these for every trigger (API Gateway, S3, a function URL with AuthType NONE):
 * before, each was UnknownOperationException (404).
 *
 * Kept by the runtime with the Role and tags (http/function-extras.ts: in memory, and in `dataDir`'s
 * store or a cluster's Redis, so a restart keeps them); lambdalet does not evaluate them — any caller may invoke. The statement's shape and every message are those of
 * LocalStack's AWS-validated Lambda provider (`build_statement` in
 * localstack-core/localstack/services/lambda_/api_utils.py; `add_permission`, `remove_permission`
 * and `get_policy` in provider.py): the principal as `{"Service"}` for `*.amazonaws.com`, `{"AWS":
 * "arn:aws:iam::<account>:root"}` for an account id, `{"AWS": <arn>}` for an IAM ARN, `"*"`
 * as is; SourceAccount, SourceArn, PrincipalOrgID, EventSourceToken and FunctionUrlAuthType as
 * conditions; the policy `{"Version":"2012-10-17","Id":"default","Statement":[…]}`.
 */
import { ResourceConflictException, ResourceNotFoundException } from '../../errors.ts';
import { functionArn } from '../../registry/names.ts';
import { HttpError } from '../errors.ts';
import { parseJsonBody } from '../body.ts';
import type { ApiRequest, ApiResponse } from '../router.ts';
import { json, type ApiContext } from './context.ts';
import { optionalString, validationError } from './shapes.ts';

const STATEMENT_ID = /^[a-zA-Z0-9-_]+$/;
const ACCOUNT_ID = /^\d{12}$/;
const IAM_ARN = /^arn:aws[a-zA-Z-]*:iam:/;

type Statement = Record<string, unknown> & { readonly Sid: string };

/** The function name and qualifier a FunctionName gives: `name`, `name:q`, or a (partial) ARN. */
const NAME = /(?:^|:function:)([a-zA-Z0-9-_]+)(?::([^:]+))?$/;

/** The policy key: the function's name, and the qualifier unless it is `$LATEST`. */
function target(ctx: ApiContext, request: ApiRequest): { name: string; qualifier: string | undefined; key: string; arn: string } {
  const given = request.query.get('Qualifier') ?? undefined;
  const info = ctx.rt.getFunction(request.params.FunctionName!, given === undefined ? {} : { qualifier: given });
  // The qualifier the name or the query gave (getFunction has checked they agree and exist).
  const qualifier = given ?? NAME.exec(request.params.FunctionName!)?.[2];
  const q = qualifier === '$LATEST' ? undefined : qualifier;
  return { name: info.functionName, qualifier: q, key: q === undefined ? info.functionName : `${info.functionName}:${q}`, arn: functionArn(ctx, info.functionName, q) };
}

function principalOf(principal: string): unknown {
  if (principal.endsWith('.amazonaws.com')) return { Service: principal };
  if (ACCOUNT_ID.test(principal)) return { AWS: `arn:aws:iam::${principal}:root` };
  if (IAM_ARN.test(principal)) return { AWS: principal };
  if (principal === '*') return principal;
  throw new HttpError(400, 'InvalidParameterValueException', 'The provided principal was invalid. Please check the principal and try again.');
}

export function addPermission(ctx: ApiContext, request: ApiRequest): ApiResponse {
  const body = parseJsonBody(request.body);
  const sid = optionalString(body, 'StatementId');
  const action = optionalString(body, 'Action');
  const principal = optionalString(body, 'Principal');
  if (sid === undefined) throw validationError('statementId', 'null', 'Member must not be null');
  if (action === undefined) throw validationError('action', 'null', 'Member must not be null');
  if (principal === undefined) throw validationError('principal', 'null', 'Member must not be null');
  if (!STATEMENT_ID.test(sid)) throw validationError('statementId', sid, 'Member must satisfy regular expression pattern: ([a-zA-Z0-9-_]+)');
  if (request.query.get('Qualifier') === '$LATEST') {
    throw new HttpError(400, 'InvalidParameterValueException', 'We currently do not support adding policies for $LATEST.');
  }
  const { key, arn } = target(ctx, request);
  const statements = ctx.policies.get(key) ?? [];
  if (statements.some((s) => s.Sid === sid)) {
    throw new ResourceConflictException(`The statement id (${sid}) provided already exists. Please provide a new statement id, or remove the existing statement.`);
  }
  const condition: Record<string, Record<string, string>> = {};
  const equals = (k: string, v: string | undefined): void => {
    if (v !== undefined) (condition.StringEquals ??= {})[k] = v;
  };
  equals('lambda:FunctionUrlAuthType', optionalString(body, 'FunctionUrlAuthType'));
  equals('aws:PrincipalOrgID', optionalString(body, 'PrincipalOrgID'));
  equals('AWS:SourceAccount', optionalString(body, 'SourceAccount'));
  equals('lambda:EventSourceToken', optionalString(body, 'EventSourceToken'));
  const sourceArn = optionalString(body, 'SourceArn');
  if (sourceArn !== undefined) condition.ArnLike = { 'AWS:SourceArn': sourceArn };
  const statement: Statement = {
    Sid: sid,
    Effect: 'Allow',
    Action: action,
    Resource: arn,
    Principal: principalOf(principal),
    ...(Object.keys(condition).length > 0 ? { Condition: condition } : {}),
  };
  ctx.policies.set(key, [...statements, statement]);
  return json(201, { Statement: JSON.stringify(statement) });
}

export function getPolicy(ctx: ApiContext, request: ApiRequest): ApiResponse {
  const { key, name, qualifier } = target(ctx, request);
  const statements = ctx.policies.get(key);
  if (statements === undefined) throw new ResourceNotFoundException('The resource you requested does not exist.');
  const revisionId = qualifier !== undefined && !/^\d+$/.test(qualifier) ? ctx.rt.getAlias(name, qualifier).revisionId : ctx.rt.getFunction(name, qualifier === undefined ? {} : { qualifier }).revisionId;
  return json(200, { Policy: JSON.stringify({ Version: '2012-10-17', Id: 'default', Statement: statements }), RevisionId: revisionId });
}

export function removePermission(ctx: ApiContext, request: ApiRequest): ApiResponse {
  const sid = request.params.StatementId!;
  const name = NAME.exec(request.params.FunctionName!)?.[1];
  if (name !== undefined && !ctx.rt.listFunctions().some((f) => f.functionName === name)) {
    throw new ResourceNotFoundException(`No policy found for: ${functionArn(ctx, name)}`);
  }
  const found = target(ctx, request);
  const statements = ctx.policies.get(found.key);
  if (statements === undefined) throw new ResourceNotFoundException('No policy is associated with the given resource.');
  if (!statements.some((s) => s.Sid === sid)) throw new ResourceNotFoundException(`Statement ${sid} is not found in resource policy.`);
  const rest = statements.filter((s) => s.Sid !== sid);
  if (rest.length === 0) ctx.policies.delete(found.key);
  else ctx.policies.set(found.key, rest);
  return { status: 204 };
}
