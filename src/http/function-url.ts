/**
 * Serving one function URL request: CORS preflight answered without invoking; the body read
 * within Lambda's 6 MB invocation payload; AWS_IAM URLs checked with SigV4; a payload 2.0 event;
 * BUFFERED: rt.invoke and the 2.0 response mapping (a function error or a malformed result is 502);
 * RESPONSE_STREAM: rt.invokeWithResponseStream with the HttpResponseStream prelude's status,
 * headers and cookies, the body piped as the function writes it (chunked), up to 200 MB.
 * Sources: Lambda developer guide, "Lambda function URLs" (auth types, CORS, invoke modes,
 * payloads; quotas: 6 MB request and buffered response, 200 MB streamed).
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { pipeline } from 'node:stream/promises';
import { REQUEST_PAYLOAD_MAX_BYTES } from '../config/index.ts';
import { LambdaletError, TooManyRequestsException } from '../errors.ts';
import type { Runtime } from '../runtime.ts';
import { readBody } from './body.ts';
import { HttpError } from './errors.ts';
import { eventV2, type EventContext } from './events.ts';
import { corsPreflight, corsResponseHeaders, FRAMING_HEADERS, isFinalStatus, MalformedResponseError, mapV2, type MappedResponse } from './responses.ts';
import type { ServeOptions } from './options.ts';
import type { SigV4Verifier } from './sigv4.ts';
import type { FunctionUrlConfig } from './url-config.ts';

export interface UrlDeps {
  readonly rt: Runtime;
  readonly accountId: string;
  readonly region: string;
  readonly verifier: SigV4Verifier | undefined;
  readonly clock: () => number;
  /** serve({ responseStream }): the size limit and bandwidth cap of RESPONSE_STREAM URLs. */
  readonly responseStream: ServeOptions['responseStream'];
}

/** API Gateway's and function URLs' answer to failures: a JSON `message`. */
export function gatewayError(status: number, message: string, extra: Record<string, string> = {}): MappedResponse {
  return { status, headers: { 'content-type': 'application/json', ...extra }, body: Buffer.from(JSON.stringify({ message })) };
}

/** The HTTP answer for a service error of the invocation (throttled, too large, gone). */
export function invocationFailure(error: unknown, throttleStatus = 429): MappedResponse {
  if (error instanceof TooManyRequestsException) return gatewayError(throttleStatus, 'Too Many Requests');
  if (error instanceof HttpError) return gatewayError(error.status, error.message);
  if (error instanceof LambdaletError) {
    if (error.code === 'RequestTooLargeException') return gatewayError(413, 'Request Entity Too Large');
    if (error.code === 'ResourceNotFoundException') return gatewayError(404, 'Not Found');
  }
  return gatewayError(500, 'Internal Server Error');
}

export function write(res: ServerResponse, response: MappedResponse, extra: Record<string, string> = {}): void {
  for (const [name, value] of Object.entries({ ...response.headers, ...extra, 'content-length': String(response.body.length) })) res.setHeader(name, value);
  res.writeHead(response.status);
  res.end(response.body);
}

function header(req: IncomingMessage, name: string): string | undefined {
  const v = req.headers[name];
  return Array.isArray(v) ? v[0] : v;
}

export async function serveFunctionUrl(deps: UrlDeps, url: FunctionUrlConfig, req: IncomingMessage, res: ServerResponse, rawPath: string, rawQuery: string): Promise<void> {
  const method = req.method ?? 'GET';
  const origin = header(req, 'origin');
  const cors = corsResponseHeaders(url.cors, origin);
  if (method === 'OPTIONS' && url.cors && origin !== undefined && header(req, 'access-control-request-method') !== undefined) {
    write(res, corsPreflight(url.cors, origin, header(req, 'access-control-request-method')));
    return;
  }
  let response: MappedResponse;
  try {
    const body = await readBody(req, { maxBytes: REQUEST_PAYLOAD_MAX_BYTES, tooLarge: () => new HttpError(413, 'RequestTooLargeException', 'Request Entity Too Large'), tooMany: () => new HttpError(429, 'TooManyRequestsException', 'Too Many Requests') });
    if (url.authType === 'AWS_IAM') {
      if (!deps.verifier) throw new HttpError(403, 'AccessDeniedException', 'Forbidden: this AWS_IAM function URL needs the server started with auth keys');
      await deps.verifier.verify({ method, rawPath: req.url?.split('?')[0] ?? '/', rawQuery, headers: req.headers, body }, 'lambda');
    }
    const ctx: EventContext = {
      accountId: deps.accountId,
      apiId: url.urlId,
      domainName: `${url.urlId}.lambda-url.${deps.region}.on.aws`,
      domainPrefix: url.urlId,
      routeKey: '$default',
      stage: '$default',
    };
    const nowMs = deps.clock();
    // The event's requestId is the invocation's: the runtime assigns it, so use a fresh id here as API Gateway does.
    const event = eventV2({ method, rawPath, rawQuery, req, body, requestId: crypto.randomUUID(), nowMs }, ctx);
    if (url.invokeMode === 'RESPONSE_STREAM') {
      await stream(deps, url, event, res, cors);
      return;
    }
    const result = await deps.rt.invoke(url.functionName, event, { qualifier: url.qualifier });
    if (result.functionError !== undefined) {
      response = gatewayError(502, 'Internal Server Error');
    } else {
      try {
        response = mapV2(result.payload);
      } catch (error) {
        if (!(error instanceof MalformedResponseError)) throw error;
        response = gatewayError(502, 'Internal Server Error');
      }
    }
    write(res, response, { ...cors, 'x-amzn-requestid': result.requestId });
  } catch (error) {
    if (res.headersSent) {
      res.destroy();
      return;
    }
    write(res, invocationFailure(error), cors);
  }
}

async function stream(deps: UrlDeps, url: FunctionUrlConfig, event: unknown, res: ServerResponse, cors: Record<string, string>): Promise<void> {
  const s = await deps.rt.invokeWithResponseStream(url.functionName, event, { ...deps.responseStream, qualifier: url.qualifier, stripPrelude: true });
  const prelude = s.prelude;
  const headers: Record<string, string | string[]> = { 'content-type': s.contentType };
  if (prelude) {
    for (const [name, value] of Object.entries(prelude.headers ?? {})) {
      if (!FRAMING_HEADERS.has(name.toLowerCase())) headers[name.toLowerCase()] = String(value);
    }
    if (Array.isArray(prelude.cookies) && prelude.cookies.length > 0) headers['set-cookie'] = prelude.cookies.map(String);
  }
  // A 1xx would be an interim response: the client would take the next one on the connection as this one's.
  const status = isFinalStatus(prelude?.statusCode) ? prelude.statusCode : 200;
  for (const [name, value] of Object.entries({ ...headers, ...cors, 'x-amzn-requestid': s.requestId })) res.setHeader(name, value);
  res.writeHead(status);
  // Chunked transfer: the bytes go out as the function writes them. A client that goes away
  // destroys `payload`, which stops reading; the function runs to its end (Lambda's behaviour).
  await pipeline(s.payload, res).catch(() => undefined);
  await s.completion.catch(() => undefined);
}
