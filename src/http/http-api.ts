/**
 * Serving an HTTP API request under `<server>/execute-api/<apiId>/<stage>/<path>`: the stage (and,
 * for a canary's share, its variable overrides), the most specific route, the target with stage
 * variables filled in, a payload 1.0 or 2.0 event, rt.invoke, and the response mapping of that
 * payload version. API Gateway's answers for failures (developer guide, "Handling Lambda errors
 * with an API Gateway API"): a function error or a malformed result is 502, an invocation the
 * Lambda API refuses (throttled, unknown function) 500, both `{"message":"Internal Server Error"}`;
 * no stage or route is 404 `{"message":"Not Found"}`.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { REQUEST_PAYLOAD_MAX_BYTES } from '../config/index.ts';
import { readBody } from './body.ts';
import { HttpError } from './errors.ts';
import { eventV1, eventV2, type EventContext } from './events.ts';
import { gatewayError, write, type UrlDeps } from './function-url.ts';
import { resolveTarget, selectRoute, type HttpApi } from './http-api-config.ts';
import { MalformedResponseError, mapV1, mapV2, type MappedResponse } from './responses.ts';

export interface HttpApiDeps extends UrlDeps {
  /** [0, 1): picks the canary share (the runtime's `random`). */
  readonly random: () => number;
}

export async function serveHttpApi(deps: HttpApiDeps, api: HttpApi, req: IncomingMessage, res: ServerResponse, rest: string, rawQuery: string): Promise<void> {
  const method = req.method ?? 'GET';
  // rest is `/<stage>/<path>`; `$default` serves paths with no stage segment.
  const stageMatch = /^\/([^/]+)(\/.*)?$/.exec(rest);
  let stageName = stageMatch?.[1] !== undefined ? safeDecode(stageMatch[1]) : undefined;
  let path = stageMatch?.[2] ?? '/';
  if (stageName === undefined || !Object.hasOwn(api.info.stages, stageName)) {
    if (!Object.hasOwn(api.info.stages, '$default')) return write(res, gatewayError(404, 'Not Found'));
    stageName = '$default';
    path = rest === '' ? '/' : rest;
  }
  const stage = api.info.stages[stageName]!;
  const selected = selectRoute(api, method, path);
  if (selected === undefined) return write(res, gatewayError(404, 'Not Found'));
  const canary = stage.canary !== undefined && deps.random() * 100 < stage.canary.percent;
  const stageVariables = { ...stage.variables, ...(canary ? stage.canary?.variables : {}) };
  const hasVariables = Object.keys(stageVariables).length > 0;
  let response: MappedResponse;
  let requestId: string | undefined;
  try {
    const body = await readBody(req, { maxBytes: REQUEST_PAYLOAD_MAX_BYTES, tooLarge: () => new HttpError(413, 'RequestTooLargeException', 'Request Entity Too Large'), tooMany: () => new HttpError(429, 'TooManyRequestsException', 'Too Many Requests') });
    const { route, pathParameters } = selected;
    const ctx: EventContext = {
      accountId: deps.accountId,
      apiId: api.info.apiId,
      domainName: `${api.info.apiId}.execute-api.${deps.region}.amazonaws.com`,
      domainPrefix: api.info.apiId,
      routeKey: route.route.routeKey,
      stage: stageName,
      ...(route.params.length > 0 ? { pathParameters } : {}),
      ...(hasVariables ? { stageVariables } : {}),
      resource: route.route.routeKey === '$default' ? '$default' : route.route.routeKey.split(' ')[1]!,
    };
    const source = { method, rawPath: stageName === '$default' ? path : `/${stageName}${path}`, rawQuery, req, body, requestId: crypto.randomUUID(), nowMs: deps.clock() };
    const v1 = route.route.payloadFormatVersion === '1.0';
    const event = v1 ? eventV1({ ...source, rawPath: path }, ctx) : eventV2(source, ctx);
    let result;
    try {
      result = await deps.rt.invoke(resolveTarget(route.route.target, stageVariables), event);
    } catch (error) {
      if (error instanceof HttpError) throw error;
      // The Lambda API refused the invocation (throttled, no such function or alias): API Gateway's 500.
      return write(res, gatewayError(error instanceof Error && error.name === 'RequestTooLargeException' ? 413 : 500, error instanceof Error && error.name === 'RequestTooLargeException' ? 'Request Entity Too Large' : 'Internal Server Error'));
    }
    requestId = result.requestId;
    if (result.functionError !== undefined) {
      response = gatewayError(502, 'Internal Server Error');
    } else {
      try {
        response = v1 ? mapV1(result.payload) : mapV2(result.payload);
      } catch (error) {
        if (!(error instanceof MalformedResponseError)) throw error;
        response = gatewayError(502, 'Internal Server Error');
      }
    }
  } catch (error) {
    if (res.headersSent) return void res.destroy();
    response = error instanceof HttpError ? gatewayError(error.status, error.message) : gatewayError(500, 'Internal Server Error');
  }
  write(res, response, { ...(requestId ? { 'apigw-requestid': requestId } : {}) });
}

function safeDecode(value: string): string {
  try {
    return decodeURIComponent(value);
  } catch {
    return value;
  }
}
