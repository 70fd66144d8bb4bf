/**
 * The events a function behind an HTTP endpoint receives: payload format 2.0 (function URLs and
 * HTTP APIs) and 1.0 (HTTP APIs, the REST-proxy shape). Sources: Lambda developer guide,
 * "Invoking Lambda function URLs" (request payload format) and API Gateway developer guide,
 * "Create AWS Lambda proxy integrations for HTTP APIs" (payload format versions 1.0 and 2.0):
 * headers lower-cased with repeated values joined by commas; 2.0 moves the Cookie header's values
 * to `cookies` and joins repeated query parameters with commas; 1.0 keeps the last value in the
 * single-value maps and every value in `multiValue*`; a binary body (a content type that is not
 * text) is base64 with `isBase64Encoded: true`; absent parts are left out (2.0) or null (1.0).
 */
import type { IncomingMessage } from 'node:http';

/** The parts of a request an event is built from. */
export interface EventSource {
  readonly method: string;
  /** The path the function sees (percent-encoded, as sent). */
  readonly rawPath: string;
  readonly rawQuery: string;
  readonly req: IncomingMessage;
  readonly body: Buffer;
  readonly requestId: string;
  readonly nowMs: number;
}

/** Where the request came in: the names in requestContext. */
export interface EventContext {
  readonly accountId: string;
  readonly apiId: string;
  readonly domainName: string;
  readonly domainPrefix: string;
  readonly routeKey: string;
  readonly stage: string;
  readonly pathParameters?: Readonly<Record<string, string>> | undefined;
  readonly stageVariables?: Readonly<Record<string, string>> | undefined;
  /** Payload 1.0's `resource` (the route's path, `/orders/{id}`). */
  readonly resource?: string;
}

const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];

/** `12/Mar/2020:19:03:58 +0000`, requestContext.time's format. */
export function clfTime(ms: number): string {
  const d = new Date(ms);
  const p = (n: number): string => String(n).padStart(2, '0');
  return `${p(d.getUTCDate())}/${MONTHS[d.getUTCMonth()]}/${d.getUTCFullYear()}:${p(d.getUTCHours())}:${p(d.getUTCMinutes())}:${p(d.getUTCSeconds())} +0000`;
}

/** Content types whose bodies are passed as text; everything else is base64. */
export function isTextType(contentType: string | undefined): boolean {
  if (contentType === undefined) return true;
  const type = contentType.split(';')[0]!.trim().toLowerCase();
  return type.startsWith('text/') || /^application\/(?:json|javascript|xml|yaml|x-yaml|x-www-form-urlencoded|graphql|ld\+json)$/.test(type) || /\+(?:json|xml)$/.test(type) || type === '';
}

function bodyFields(source: EventSource): { body?: string; isBase64Encoded: boolean } {
  if (source.body.length === 0) return { isBase64Encoded: false };
  const type = source.req.headers['content-type'];
  return isTextType(type) ? { body: source.body.toString('utf8'), isBase64Encoded: false } : { body: source.body.toString('base64'), isBase64Encoded: true };
}

function sourceIp(req: IncomingMessage): string {
  const ip = req.socket.remoteAddress ?? '';
  return ip.startsWith('::ffff:') ? ip.slice(7) : ip;
}

function queryPairs(rawQuery: string): [string, string][] {
  return rawQuery === '' ? [] : [...new URLSearchParams(rawQuery)];
}

/** Payload format 2.0. */
export function eventV2(source: EventSource, ctx: EventContext): Record<string, unknown> {
  const headers: Record<string, string> = {};
  let cookies: string[] | undefined;
  for (const [name, values] of Object.entries(source.req.headersDistinct)) {
    if (values === undefined) continue;
    if (name === 'cookie') {
      cookies = values.flatMap((v) => v.split(/;\s*/)).filter((c) => c !== '');
      continue;
    }
    headers[name] = values.join(',');
  }
  const query: Record<string, string> = {};
  for (const [name, value] of queryPairs(source.rawQuery)) query[name] = name in query ? `${query[name]},${value}` : value;
  return {
    version: '2.0',
    routeKey: ctx.routeKey,
    rawPath: source.rawPath,
    rawQueryString: source.rawQuery,
    ...(cookies ? { cookies } : {}),
    headers,
    ...(source.rawQuery !== '' ? { queryStringParameters: query } : {}),
    requestContext: {
      accountId: ctx.accountId,
      apiId: ctx.apiId,
      domainName: ctx.domainName,
      domainPrefix: ctx.domainPrefix,
      http: { method: source.method, path: safeDecode(source.rawPath), protocol: `HTTP/${source.req.httpVersion}`, sourceIp: sourceIp(source.req), userAgent: source.req.headers['user-agent'] ?? '' },
      requestId: source.requestId,
      routeKey: ctx.routeKey,
      stage: ctx.stage,
      time: clfTime(source.nowMs),
      timeEpoch: source.nowMs,
    },
    ...(ctx.pathParameters ? { pathParameters: ctx.pathParameters } : {}),
    ...bodyFields(source),
    ...(ctx.stageVariables ? { stageVariables: ctx.stageVariables } : {}),
  };
}

/** Payload format 1.0 (HTTP APIs; the shape of REST API proxy integrations). */
export function eventV1(source: EventSource, ctx: EventContext): Record<string, unknown> {
  const headers: Record<string, string> = {};
  const multiValueHeaders: Record<string, string[]> = {};
  for (const [name, values] of Object.entries(source.req.headersDistinct)) {
    if (values === undefined) continue;
    headers[name] = values.at(-1)!;
    multiValueHeaders[name] = values;
  }
  const pairs = queryPairs(source.rawQuery);
  const query: Record<string, string> = {};
  const multiQuery: Record<string, string[]> = {};
  for (const [name, value] of pairs) {
    query[name] = value;
    (multiQuery[name] ??= []).push(value);
  }
  const { body, isBase64Encoded } = bodyFields(source);
  const path = safeDecode(source.rawPath);
  return {
    version: '1.0',
    resource: ctx.resource ?? path,
    path,
    httpMethod: source.method,
    headers,
    multiValueHeaders,
    queryStringParameters: pairs.length > 0 ? query : null,
    multiValueQueryStringParameters: pairs.length > 0 ? multiQuery : null,
    requestContext: {
      accountId: ctx.accountId,
      apiId: ctx.apiId,
      domainName: ctx.domainName,
      domainPrefix: ctx.domainPrefix,
      extendedRequestId: source.requestId,
      httpMethod: source.method,
      identity: { sourceIp: sourceIp(source.req), userAgent: source.req.headers['user-agent'] ?? '' },
      path: `/${ctx.stage}${path}`,
      protocol: `HTTP/${source.req.httpVersion}`,
      requestId: source.requestId,
      requestTime: clfTime(source.nowMs),
      requestTimeEpoch: source.nowMs,
      resourcePath: ctx.resource ?? path,
      stage: ctx.stage,
    },
    pathParameters: ctx.pathParameters ?? null,
    stageVariables: ctx.stageVariables ?? null,
    body: body ?? null,
    isBase64Encoded,
  };
}

function safeDecode(path: string): string {
  try {
    return decodeURIComponent(path);
  } catch {
    return path;
  }
}
