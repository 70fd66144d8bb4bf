/**
 * A function's result as an HTTP response, by the rules of function URLs and HTTP APIs (Lambda
 * developer guide, "Invoking Lambda function URLs" — response payload format; API Gateway
 * developer guide, "Lambda function response format" for payload 2.0 and 1.0):
 * - 2.0: an object with `statusCode` is a response (`statusCode`, `headers`, `cookies` → one
 *   Set-Cookie each, `body`, `isBase64Encoded`); anything else is a 200 `application/json` whose
 *   body is the result (a string as is, other values as JSON).
 * - 1.0: `statusCode` is required (`headers`, `multiValueHeaders`, `body`, `isBase64Encoded`).
 * - A result that breaks these rules (a status outside 200-599, a non-string body...) is a 502, as
 *   a function error is; the message says which field was wrong. A 1xx status is refused: it
 *   is an interim response, so a client (or a proxy sharing the connection) would take the NEXT
 *   response on the connection — another request's, maybe another tenant's — as this one's.
 * - The headers that frame the message on the connection ({@link FRAMING_HEADERS}: Content-Length,
 *   Transfer-Encoding, Connection...) are the server's, never the function's: they are dropped from
 *   what the function returns (issue #15: a streamed response declaring `content-length: 1` and
 *   writing more put its extra bytes on the connection as the next response; one declaring more
 *   took the next response into its own body).
 * CORS (function URLs, Lambda's Cors config): the configured headers are added when the request's
 * Origin is allowed, and override the function's own.
 */
import type { CorsInput } from './url-config.ts';

/** What to write back. `body` bytes; `cookies` become Set-Cookie lines. */
export interface MappedResponse {
  readonly status: number;
  readonly headers: Record<string, string | string[]>;
  readonly body: Buffer;
}

/** Thrown when the function's result is not a valid response: the endpoint answers 502. */
export class MalformedResponseError extends Error {}

/**
 * Hop-by-hop and message-framing headers (RFC 9110 §7.6.1, RFC 9112 §6): the HTTP server writes
 * them for the connection, so a function's own values are dropped.
 */
export const FRAMING_HEADERS: ReadonlySet<string> = new Set(['connection', 'content-length', 'keep-alive', 'proxy-connection', 'te', 'trailer', 'transfer-encoding', 'upgrade']);

/** Whether `status` is a final HTTP status a function may answer with: 200 to 599. */
export function isFinalStatus(status: unknown): status is number {
  return typeof status === 'number' && Number.isInteger(status) && status >= 200 && status <= 599;
}

function stringHeaders(value: unknown, field: string): Record<string, string> {
  if (value === undefined || value === null) return {};
  if (typeof value !== 'object' || Array.isArray(value)) throw new MalformedResponseError(`\`${field}\` must be an object of header values`);
  const out: Record<string, string> = {};
  for (const [name, v] of Object.entries(value)) {
    if (typeof v !== 'string' && typeof v !== 'number' && typeof v !== 'boolean') throw new MalformedResponseError(`\`${field}.${name}\` must be a string, number or boolean`);
    if (!FRAMING_HEADERS.has(name.toLowerCase())) out[name.toLowerCase()] = String(v);
  }
  return out;
}

function status(value: unknown): number {
  const n = typeof value === 'string' && /^\d+$/.test(value) ? Number(value) : value;
  if (!isFinalStatus(n)) throw new MalformedResponseError(`\`statusCode\` must be an integer from 200 to 599, got ${JSON.stringify(value)}`);
  return n;
}

function bodyBytes(body: unknown, base64: unknown): Buffer {
  if (body === undefined || body === null) return Buffer.alloc(0);
  if (typeof body !== 'string') throw new MalformedResponseError('`body` must be a string');
  return base64 === true ? Buffer.from(body, 'base64') : Buffer.from(body, 'utf8');
}

/** Payload format 2.0's response (function URLs, HTTP APIs). @throws MalformedResponseError. */
export function mapV2(payload: unknown): MappedResponse {
  if (typeof payload === 'object' && payload !== null && !Array.isArray(payload) && 'statusCode' in payload) {
    const r = payload as Record<string, unknown>;
    const headers: Record<string, string | string[]> = stringHeaders(r.headers, 'headers');
    if (r.cookies !== undefined && r.cookies !== null) {
      if (!Array.isArray(r.cookies) || !r.cookies.every((c) => typeof c === 'string')) throw new MalformedResponseError('`cookies` must be an array of strings');
      if (r.cookies.length > 0) headers['set-cookie'] = r.cookies;
    }
    return { status: status(r.statusCode), headers, body: bodyBytes(r.body, r.isBase64Encoded) };
  }
  const text = typeof payload === 'string' ? payload : (JSON.stringify(payload) ?? 'null');
  return { status: 200, headers: { 'content-type': 'application/json' }, body: Buffer.from(text, 'utf8') };
}

/** Payload format 1.0's response (HTTP APIs). @throws MalformedResponseError. */
export function mapV1(payload: unknown): MappedResponse {
  if (typeof payload !== 'object' || payload === null || Array.isArray(payload) || !('statusCode' in payload)) {
    throw new MalformedResponseError('a payload 1.0 response must be an object with `statusCode`');
  }
  const r = payload as Record<string, unknown>;
  const headers: Record<string, string | string[]> = stringHeaders(r.headers, 'headers');
  if (r.multiValueHeaders !== undefined && r.multiValueHeaders !== null) {
    if (typeof r.multiValueHeaders !== 'object' || Array.isArray(r.multiValueHeaders)) throw new MalformedResponseError('`multiValueHeaders` must be an object of arrays');
    for (const [name, values] of Object.entries(r.multiValueHeaders)) {
      if (!Array.isArray(values)) throw new MalformedResponseError(`\`multiValueHeaders.${name}\` must be an array`);
      if (!FRAMING_HEADERS.has(name.toLowerCase())) headers[name.toLowerCase()] = values.map(String);
    }
  }
  return { status: status(r.statusCode), headers, body: bodyBytes(r.body, r.isBase64Encoded) };
}

/** The allowed origin to echo, or undefined when the request's origin is not allowed. */
function allowedOrigin(cors: CorsInput, origin: string | undefined): string | undefined {
  if (origin === undefined) return undefined;
  const origins = cors.allowOrigins ?? [];
  if (origins.includes('*')) return '*';
  return origins.some((o) => o.toLowerCase() === origin.toLowerCase()) ? origin : undefined;
}

/** CORS headers for an actual request (added to the function's response). */
export function corsResponseHeaders(cors: CorsInput | undefined, origin: string | undefined): Record<string, string> {
  if (!cors) return {};
  const allowed = allowedOrigin(cors, origin);
  if (allowed === undefined) return {};
  return {
    'access-control-allow-origin': allowed,
    ...(cors.allowCredentials ? { 'access-control-allow-credentials': 'true' } : {}),
    ...(cors.exposeHeaders?.length ? { 'access-control-expose-headers': cors.exposeHeaders.join(',') } : {}),
    ...(allowed !== '*' ? { vary: 'Origin' } : {}),
  };
}

/** The answer to a CORS preflight (OPTIONS with Origin and Access-Control-Request-Method), given without invoking. */
export function corsPreflight(cors: CorsInput, origin: string | undefined, method: string | undefined): MappedResponse {
  const allowed = allowedOrigin(cors, origin);
  const methods = cors.allowMethods ?? [];
  const methodOk = method !== undefined && (methods.includes('*') || methods.some((m) => m.toUpperCase() === method.toUpperCase()));
  if (allowed === undefined || !methodOk) return { status: 200, headers: {}, body: Buffer.alloc(0) };
  return {
    status: 200,
    headers: {
      ...corsResponseHeaders(cors, origin),
      'access-control-allow-methods': methods.join(','),
      ...(cors.allowHeaders?.length ? { 'access-control-allow-headers': cors.allowHeaders.join(',') } : {}),
      ...(cors.maxAge !== undefined ? { 'access-control-max-age': String(cors.maxAge) } : {}),
    },
    body: Buffer.alloc(0),
  };
}
