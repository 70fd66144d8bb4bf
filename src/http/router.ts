/**
 * A small route table: `METHOD /2015-03-31/functions/{FunctionName}/invocations` patterns matched
 * against the raw (still percent-encoded) path, labels decoded once matched. An unknown path is
 * 404 `UnknownOperationException`; a known path with another method is 405 with `Allow`. Routes
 * are few and fixed, so a list of regular expressions is all the routing needed (no framework).
 */
import type { IncomingHttpHeaders, ServerResponse } from 'node:http';
import { HttpError } from './errors.ts';

/** One request as a route handler sees it: body read, labels decoded. */
export interface ApiRequest {
  readonly method: string;
  /** The path as sent (percent-encoded). */
  readonly rawPath: string;
  /** The query string as sent, without `?`. */
  readonly rawQuery: string;
  readonly query: URLSearchParams;
  readonly headers: IncomingHttpHeaders;
  readonly body: Buffer;
  /** The route's `{Label}`s, decoded. */
  readonly params: Readonly<Record<string, string>>;
}

/** What a handler answers; `body` is sent as is (a string as UTF-8), or `stream` writes it (chunked) after the head. */
export interface ApiResponse {
  readonly status: number;
  readonly headers?: Readonly<Record<string, string>>;
  readonly body?: string | Buffer;
  readonly stream?: (res: ServerResponse) => Promise<void>;
}

export type Handler = (request: ApiRequest) => ApiResponse | Promise<ApiResponse>;

/** A route: its method, pattern, the body limit in bytes and the handler. */
export interface Route {
  readonly method: string;
  readonly pattern: string;
  readonly maxBodyBytes: number;
  /** The SDK operation name, for access logs and spans. */
  readonly operation: string;
  /** The body is JSON (415 UnsupportedMediaTypeException for another declared Content-Type); Invoke's is the raw event. */
  readonly jsonBody: boolean;
  readonly handler: Handler;
}

interface Compiled {
  readonly route: Route;
  readonly regex: RegExp;
  readonly labels: readonly string[];
}

/** The matched route and its labels, or an HttpError (404 / 405) saying why none matched. */
export interface Match {
  readonly route: Route;
  readonly params: Record<string, string>;
}

export class Router {
  readonly #routes: Compiled[] = [];

  add(route: Route): this {
    const labels: string[] = [];
    const source = route.pattern
      .split(/(\{[A-Za-z]+\})/)
      .map((part) => {
        const label = /^\{([A-Za-z]+)\}$/.exec(part)?.[1];
        if (label === undefined) return part.replace(/[.*+?^$()|[\]\\]/g, '\\$&');
        labels.push(label);
        return '([^/]+)';
      })
      .join('');
    this.#routes.push({ route, regex: new RegExp(`^${source}/?$`), labels });
    return this;
  }

  /** @throws HttpError 404 (no route has this path), 405 (another method), 400 (a label that is not valid percent-encoding). */
  match(method: string, rawPath: string): Match {
    const allowed: string[] = [];
    for (const { route, regex, labels } of this.#routes) {
      const m = regex.exec(rawPath);
      if (m === null) continue;
      if (route.method !== method) {
        allowed.push(route.method);
        continue;
      }
      const params: Record<string, string> = {};
      labels.forEach((label, i) => {
        try {
          params[label] = decodeURIComponent(m[i + 1]!);
        } catch {
          throw new HttpError(400, 'InvalidParameterValueException', `The path segment for ${label} is not valid percent-encoding: ${m[i + 1]}`);
        }
      });
      return { route, params };
    }
    if (allowed.length > 0) {
      throw new HttpError(405, 'MethodNotAllowedException', `${method} is not allowed on ${rawPath}; allowed: ${allowed.join(', ')}`, { headers: { Allow: allowed.join(', ') } });
    }
    throw new HttpError(404, 'UnknownOperationException', `No Lambda API operation has the path ${method} ${rawPath}`);
  }
}
