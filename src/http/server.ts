/**
 * The HTTP server in front of a runtime (`rt.serve()`, `lambdalet serve`): node:http (its parser,
 * header limits and timeouts are Node's; no framework: the routes are a fixed table and the
 * hot path is one regex match), the Lambda API, SigV4 verification when access keys are
 * configured, a bound on requests in flight (past it: 429 at once, so overload costs no memory),
 * and Lambda's error shape for every failure. A malformed request, one whose headers trickle in
 * past `headersTimeoutMs`, or one whose body does not arrive within `requestTimeoutMs` gets a
 * clear 400 / 408 / 431 from the `clientError` handler; the server goes on serving.
 */
import { context, trace } from '@opentelemetry/api';
import { randomUUID } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { Socket } from 'node:net';
import type { Runtime } from '../runtime.ts';
import { BodyBudget, readBody } from './body.ts';
import { errorResponse, HttpError } from './errors.ts';
import { serveFunctionUrl } from './function-url.ts';
import { serveHttpApi, type HttpApiDeps } from './http-api.ts';
import type { HttpApis } from './http-api-config.ts';
import type { ApiContext } from './lambda-api/context.ts';
import { lambdaApiRouter, tooLarge } from './lambda-api/routes.ts';
import type { ApiResponse, Router } from './router.ts';
import { parseServeOptions, type ServeOptions, type ServeOptionsInput } from './options.ts';
import { SigV4Verifier } from './sigv4.ts';
import { ServerMetrics } from './metrics.ts';
import { observe, type Observation } from './observe.ts';
import type { LogSink } from '../observability/log-sink.ts';
import type { FunctionExtras } from './function-extras.ts';
import type { FunctionUrlConfigs } from './url-config.ts';

/** What the runtime hands the server besides itself. */
export interface ServerInternals {
  readonly region: string;
  readonly accountId: string;
  /** Called once when the server starts closing (the runtime forgets it). */
  readonly onClose: () => void;
  /** The runtime's function URL configurations. */
  readonly urls: FunctionUrlConfigs;
  /** The runtime's HTTP APIs. */
  readonly httpApis: HttpApis;
  /** The runtime's Role, tags and resource policies per function (kept like the URLs). */
  readonly extras: FunctionExtras;
  /** The runtime's random source (canary picks). */
  readonly random: () => number;
  /** The runtime's log sink (access log lines). */
  readonly sink: LogSink;
}

/** `/execute-api/<apiId>/<stage>/...`: an HTTP API by path. */
const API_PATH = /^\/execute-api\/([a-z0-9]{10})(\/.*)?$/;
/** `<apiId>.execute-api.<region>.amazonaws.com` (or `.localhost`): an HTTP API by host name. */
const API_HOST = /^([a-z0-9]{10})\.execute-api\./;

/** `/lambda-url/<urlId>/rest`: a function URL by path. */
const URL_PATH = /^\/lambda-url\/([a-z0-9]{32})(\/.*)?$/;
/** `<urlId>.lambda-url.<region>.(on.aws|localhost)[:port]`: a function URL by host name. */
const URL_HOST = /^([a-z0-9]{32})\.lambda-url\./;

/** A running server: `url` (`http://127.0.0.1:9001/`), `close()`. */
export class LambdaletServer implements AsyncDisposable {
  readonly url: string;
  readonly host: string;
  readonly port: number;
  readonly #server: Server;
  readonly #router: Router;
  readonly #options: ServeOptions;
  readonly #verifier: SigV4Verifier | undefined;
  readonly #onClose: () => void;
  readonly #urls: FunctionUrlConfigs;
  readonly #urlDeps: HttpApiDeps;
  readonly #apis: HttpApis;
  readonly #metrics: ServerMetrics;
  readonly #sink: LogSink;
  #inFlight = 0;
  /** Request body bytes held by the requests being served (options.maxRequestBodiesMb). */
  readonly #bodies: BodyBudget;
  #closing: Promise<void> | undefined;

  /** @internal use `rt.serve()`. */
  constructor(server: Server, router: Router, options: ServeOptions, port: number, internals: ServerInternals, rt: Runtime) {
    this.#server = server;
    this.#onClose = internals.onClose;
    this.#urls = internals.urls;
    this.#apis = internals.httpApis;
    this.#metrics = new ServerMetrics(rt);
    this.#sink = internals.sink;
    this.#router = router;
    this.#options = options;
    this.#bodies = new BodyBudget(options.maxRequestBodiesMb * 1024 * 1024);
    this.#verifier = options.auth ? new SigV4Verifier(options.auth.keys, options.clock) : undefined;
    this.host = options.host;
    this.port = port;
    this.url = `http://${options.host.includes(':') ? `[${options.host}]` : options.host}:${port}/`;
    this.#urlDeps = { rt, accountId: internals.accountId, region: internals.region, verifier: this.#verifier, clock: options.clock ?? Date.now, random: internals.random, responseStream: options.responseStream };
  }

  /** Requests being handled now. */
  get inFlight(): number {
    return this.#inFlight;
  }

  /** Request body bytes held now by the requests being served (at most `maxRequestBodiesMb` MiB). */
  get requestBodyBytes(): number {
    return this.#bodies.heldBytes;
  }

  /** @internal the request listener. */
  handle(req: IncomingMessage, res: ServerResponse): void {
    if (this.#inFlight >= this.#options.maxInFlight) {
      // Refused before the body is read: overload costs a few hundred bytes per request.
      send(res, errorResponse(new HttpError(429, 'TooManyRequestsException', `The server is handling ${this.#options.maxInFlight} requests (its maxInFlight); retry later`)));
      return;
    }
    this.#inFlight++;
    this.#bodies.begin(req);
    const observation = observe(req, res, this.#metrics, this.#options.accessLog ? this.#sink : undefined);
    // The request's span is the active one while it is served: an invocation's span is its child.
    void context.with(trace.setSpan(context.active(), observation.span), () => this.#serve(req, res, observation)).finally(() => {
      this.#inFlight--;
      this.#bodies.end(req);
    });
  }

  async #serve(req: IncomingMessage, res: ServerResponse, observation: Observation): Promise<void> {
    try {
      const url = req.url ?? '/';
      const q = url.indexOf('?');
      const rawPath = q < 0 ? url : url.slice(0, q);
      const rawQuery = q < 0 ? '' : url.slice(q + 1);
      const method = req.method ?? 'GET';
      const byHost = URL_HOST.exec(req.headers.host ?? '');
      const byPath = byHost === null ? URL_PATH.exec(rawPath) : null;
      const urlId = byHost?.[1] ?? byPath?.[1];
      if (urlId !== undefined) {
        const config = this.#urls.byId(urlId);
        observation.operation = 'FunctionUrl';
        if (config === undefined) throw new HttpError(404, 'ResourceNotFoundException', `No function URL has the id ${urlId}`);
        observation.functionName = config.functionName;
        await serveFunctionUrl(this.#urlDeps, config, req, res, byHost ? rawPath : (byPath?.[2] ?? '/'), rawQuery);
        return;
      }
      const apiByHost = API_HOST.exec(req.headers.host ?? '');
      const apiByPath = apiByHost === null ? API_PATH.exec(rawPath) : null;
      const apiId = apiByHost?.[1] ?? apiByPath?.[1];
      if (apiId !== undefined) {
        const api = this.#apis.byId(apiId);
        observation.operation = 'HttpApi';
        if (api === undefined) throw new HttpError(404, 'NotFoundException', `No HTTP API has the id ${apiId}`);
        await serveHttpApi(this.#urlDeps, api, req, res, apiByHost ? rawPath : (apiByPath?.[2] ?? ''), rawQuery);
        return;
      }
      if (rawPath === '/metrics' && (method === 'GET' || method === 'HEAD')) {
        observation.operation = 'Metrics';
        const text = await this.#metrics.text();
        send(res, { status: 200, headers: { 'Content-Type': this.#metrics.contentType }, body: method === 'HEAD' ? '' : text });
        return;
      }
      const { route, params } = this.#router.match(method, rawPath);
      observation.operation = route.operation;
      if (params.FunctionName !== undefined) observation.functionName = params.FunctionName;
      const body = await readBody(req, { maxBytes: route.maxBodyBytes, tooLarge: tooLarge(route.operation, route.maxBodyBytes) });
      if (route.jsonBody && body.length > 0) checkJsonType(req.headers['content-type']);
      if (this.#verifier) await this.#verifier.verify({ method, rawPath, rawQuery, headers: req.headers, body }, 'lambda');
      const response = await route.handler({ method, rawPath, rawQuery, query: new URLSearchParams(rawQuery), headers: req.headers, body, params });
      if (response.stream) {
        for (const [name, value] of Object.entries(response.headers ?? {})) res.setHeader(name, value);
        res.writeHead(response.status);
        await response.stream(res);
      } else {
        send(res, response);
      }
    } catch (error) {
      if (res.headersSent) res.destroy();
      else send(res, errorResponse(error));
    }
  }

  /**
   * Stops accepting connections, lets requests in flight finish (their invocations included),
   * then closes idle keep-alive connections. Idempotent.
   */
  close(): Promise<void> {
    this.#closing ??= new Promise<void>((resolve) => {
      this.#onClose();
      this.#urls.origin = '';
      this.#apis.origin = '';
      this.#server.close(() => resolve());
      this.#server.closeIdleConnections();
    });
    return this.#closing;
  }

  [Symbol.asyncDispose](): Promise<void> {
    return this.close();
  }
}

/** The SDK sends `application/json` (restJson1); a declared other type is refused, as Lambda refuses a non-JSON Invoke body type. */
function checkJsonType(type: string | undefined): void {
  if (type === undefined || /^application\/(?:[a-z0-9.+-]*\+)?(?:x-amz-)?json(?:-[0-9.]+)?\s*(?:;|$)/i.test(type)) return;
  throw new HttpError(415, 'UnsupportedMediaTypeException', `The request body must be JSON (Content-Type: application/json), got Content-Type: ${type}`);
}

function send(res: ServerResponse, response: ApiResponse): void {
  const headers: Record<string, string> = { ...response.headers };
  if (!('x-amzn-RequestId' in headers)) headers['x-amzn-RequestId'] = randomUUID();
  const body = response.body;
  // A length rather than chunked framing, as Lambda answers (and one write for small bodies).
  if (body !== undefined) headers['Content-Length'] = String(typeof body === 'string' ? Buffer.byteLength(body) : body.length);
  // setHeader (not writeHead's argument) so the access log and span can read them back.
  for (const [name, value] of Object.entries(headers)) res.setHeader(name, value);
  res.writeHead(response.status);
  res.end(response.body);
}

/** node:http's parser errors, answered with Lambda's error shape (Node's default is a bare status line). */
function clientError(error: Error & { code?: string }, socket: Socket): void {
  if (!socket.writable) {
    socket.destroy();
    return;
  }
  const [status, reason, message] =
    error.code === 'ERR_HTTP_REQUEST_TIMEOUT'
      ? [408, 'Request Timeout', 'The request was not received in time (headersTimeoutMs / requestTimeoutMs)']
      : error.code === 'HPE_HEADER_OVERFLOW'
        ? [431, 'Request Header Fields Too Large', 'The request headers are over the server\'s limit']
        : [400, 'Bad Request', `The request is not valid HTTP/1.1 (${error.code ?? error.message})`];
  const body = JSON.stringify({ Type: 'User', Message: message });
  socket.end(`HTTP/1.1 ${status} ${reason}\r\nConnection: close\r\nContent-Type: application/json\r\nx-amzn-ErrorType: ${status === 408 ? 'RequestTimeoutException' : 'BadRequestException'}\r\nContent-Length: ${Buffer.byteLength(body)}\r\n\r\n${body}`);
}

/** Starts a server for `rt`; resolves once it listens. @throws InvalidParameterValueException (options), the listen error (EADDRINUSE...). */
export async function startServer(rt: Runtime, internals: ServerInternals, input: ServeOptionsInput | undefined): Promise<LambdaletServer> {
  const options = parseServeOptions(input);
  const ctx: ApiContext = { rt, region: internals.region, accountId: internals.accountId, roles: internals.extras.roles, tags: internals.extras.tags, policies: internals.extras.policies, urls: internals.urls, responseStream: options.responseStream };
  const router = lambdaApiRouter(ctx);
  const server = createServer({
    headersTimeout: options.headersTimeoutMs,
    requestTimeout: options.requestTimeoutMs,
    keepAliveTimeout: options.keepAliveTimeoutMs,
    // The default 16 KB; the checks of requests that trickle in run this often.
    connectionsCheckingInterval: Math.min(1000, options.headersTimeoutMs),
  });
  server.on('clientError', clientError);
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port, options.host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  const address = server.address();
  const port = typeof address === 'object' && address !== null ? address.port : options.port;
  const lambdalet = new LambdaletServer(server, router, options, port, internals, rt);
  internals.urls.origin = lambdalet.url.slice(0, -1);
  internals.httpApis.origin = internals.urls.origin;
  server.on('request', (req: IncomingMessage, res: ServerResponse) => lambdalet.handle(req, res));
  if (!options.auth && !isLoopback(options.host)) {
    process.emitWarning(`lambdalet is serving ${lambdalet.url} on a non-loopback address without authentication: anyone who can reach it can deploy and run code. Pass auth: { keys: [...] }.`, { code: 'LAMBDALET_UNAUTHENTICATED' });
  }
  return lambdalet;
}

export function isLoopback(host: string): boolean {
  return host === 'localhost' || host === '::1' || /^127\.\d+\.\d+\.\d+$/.test(host);
}
