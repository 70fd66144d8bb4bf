/**
 * HTTP APIs (API Gateway v2's shape, the parts a client sees): routes `METHOD /path/{param}`
 * (`ANY`, greedy `{proxy+}`, `$default`) whose target is a function name with an optional
 * qualifier that may use `${stageVariables.name}`; stages with variables; a canary per stage
 * that takes `percent` of the stage's requests with its own variable overrides. Kept by the
 * runtime in memory. Route selection follows API Gateway's "most specific match": a full match
 * beats a greedy one, more literal segments win, a method beats ANY, `$default` comes last
 * (API Gateway developer guide, "Working with routes for HTTP APIs").
 */
import { randomBytes } from 'node:crypto';
import { z } from 'zod';
import { expected, parseWith, type Subject } from '../config/format.ts';
import { ResourceConflictException, ResourceNotFoundException } from '../errors.ts';
import type { PersistSetting } from './url-config.ts';

/** One route: `routeKey` `'GET /orders/{id}'`, `'ANY /files/{proxy+}'` or `'$default'`. */
export interface HttpApiRouteInput {
  readonly routeKey: string;
  /** `orders`, `orders:live`, `orders:${stageVariables.alias}` or a function ARN. */
  readonly target: string;
  /** The event and response format. Default `'2.0'`. */
  readonly payloadFormatVersion?: '1.0' | '2.0';
}

export interface HttpApiStageInput {
  readonly variables?: Readonly<Record<string, string>>;
  /** `percent` (0 to 100) of this stage's requests use `variables` over the stage's own. */
  readonly canary?: { readonly percent: number; readonly variables?: Readonly<Record<string, string>> };
}

/** What `rt.createHttpApi()` accepts. */
export interface HttpApiInput {
  readonly name: string;
  readonly routes: readonly HttpApiRouteInput[];
  /** Stage name → stage. Names: `[a-zA-Z0-9_-]{1,128}`, or `$default`. */
  readonly stages: Readonly<Record<string, HttpApiStageInput>>;
}

/** An HTTP API as `rt.createHttpApi()` returns it. */
export interface HttpApiInfo {
  readonly apiId: string;
  readonly name: string;
  /** `<server>/execute-api/<apiId>` while a server runs; a stage is served under `<endpoint>/<stage>/`. */
  readonly apiEndpoint: string;
  readonly routes: readonly HttpApiRouteInput[];
  readonly stages: Readonly<Record<string, HttpApiStageInput>>;
}

const variables = z.record(z.string().regex(/^[a-zA-Z0-9_]{1,64}$/, expected('be variable names of [a-zA-Z0-9_]{1,64}')), z.string(expected('be a string')).max(2048, expected('be at most 2048 characters')), expected('be an object of strings'));
const schema = z.strictObject(
  {
    name: z.string(expected('be a name of 1 to 128 characters')).min(1, expected('be a name of 1 to 128 characters')).max(128, expected('be a name of 1 to 128 characters')),
    routes: z
      .array(
        z.strictObject(
          {
            routeKey: z.string().regex(/^(\$default|(ANY|GET|POST|PUT|PATCH|DELETE|HEAD|OPTIONS) \/[^\s]*)$/, expected("be '$default' or 'METHOD /path' (METHOD: ANY, GET, POST, PUT, PATCH, DELETE, HEAD, OPTIONS)")),
            target: z.string(expected('be a function name, name:qualifier or ARN')).min(1, expected('be a function name, name:qualifier or ARN')),
            payloadFormatVersion: z.enum(['1.0', '2.0'], expected("be '1.0' or '2.0'")).default('2.0'),
          },
          expected('be an object like { routeKey, target }'),
        ),
        expected('be an array of routes'),
      )
      .min(1, expected('be an array of 1 or more routes')),
    stages: z.record(
      z.string().regex(/^(\$default|[a-zA-Z0-9_-]{1,128})$/, expected("be stage names of [a-zA-Z0-9_-]{1,128} or '$default'")),
      z.strictObject(
        {
          variables: variables.optional(),
          canary: z.strictObject({ percent: z.number(expected('be a number from 0 to 100')).min(0, expected('be a number from 0 to 100')).max(100, expected('be a number from 0 to 100')), variables: variables.optional() }, expected('be an object like { percent, variables }')).optional(),
        },
        expected('be an object like { variables, canary }'),
      ),
      expected('be an object of stage name → stage'),
    ),
  },
  expected('be an object like { name, routes, stages }'),
);
const subject: Subject = { name: 'HTTP API', knownOptions: Object.keys(schema.shape), renames: {} };

/** A compiled route: its regex over the path after the stage, and its rank among matches. */
export interface CompiledRoute {
  readonly route: Required<HttpApiRouteInput>;
  readonly method: string;
  readonly regex: RegExp | undefined;
  readonly params: readonly string[];
  readonly rank: number;
}

export interface HttpApi {
  readonly info: Omit<HttpApiInfo, 'apiEndpoint'>;
  readonly routes: readonly CompiledRoute[];
}

function compile(route: Required<HttpApiRouteInput>): CompiledRoute {
  if (route.routeKey === '$default') return { route, method: 'ANY', regex: undefined, params: [], rank: -1 };
  const [method, path] = route.routeKey.split(' ') as [string, string];
  const params: string[] = [];
  let literals = 0;
  let greedy = false;
  const source = path
    .split('/')
    .map((segment) => {
      const greedyParam = /^\{([a-zA-Z0-9_]+)\+\}$/.exec(segment);
      if (greedyParam) {
        greedy = true;
        params.push(greedyParam[1]!);
        return '(.+)';
      }
      const param = /^\{([a-zA-Z0-9_]+)\}$/.exec(segment);
      if (param) {
        params.push(param[1]!);
        return '([^/]+)';
      }
      if (segment !== '') literals++;
      return segment.replace(/[.*+?^$()|[\]\\]/g, '\\$&');
    })
    .join('/');
  return { route, method, regex: new RegExp(`^${source}$`), params, rank: (greedy ? 0 : 10_000) + literals * 10 + (method === 'ANY' ? 0 : 1) };
}

export class HttpApis {
  readonly #apis = new Map<string, HttpApi>();
  /** The running server's origin, or '' when none runs. */
  origin = '';
  /** Set by the runtime when its store keeps HTTP settings (url-config.ts PersistSetting); called before memory changes. */
  persist: PersistSetting | undefined;

  /** The APIs a store kept (`http-api` settings): each as created, its routes compiled again. */
  restore(settings: readonly { readonly key: string; readonly json: string }[]): void {
    for (const { json } of settings) {
      const info = JSON.parse(json) as Omit<HttpApiInfo, 'apiEndpoint'>;
      this.#apis.set(info.apiId, { info: Object.freeze(info), routes: (info.routes as Required<HttpApiRouteInput>[]).map(compile) }); // kept after parsing: defaults applied
    }
  }

  /** Another runtime sharing the store (a cluster member) set (`json`) or deleted (undefined) API `apiId`: applied here, not kept again. */
  applyChange(apiId: string, json: string | undefined): void {
    if (json === undefined) this.#apis.delete(apiId);
    else this.restore([{ key: apiId, json }]);
  }

  create(input: unknown): HttpApiInfo {
    const parsed = parseWith(schema, input, subject);
    if ([...this.#apis.values()].some((api) => api.info.name === parsed.name)) throw new ResourceConflictException(`An HTTP API named ${parsed.name} already exists`);
    // API Gateway's api ids are 10 lower-case letters and digits.
    const apiId = randomBytes(16).toString('hex').slice(0, 10);
    const info = Object.freeze({ apiId, name: parsed.name, routes: Object.freeze(parsed.routes), stages: Object.freeze(parsed.stages) });
    this.persist?.(apiId, JSON.stringify(info));
    this.#apis.set(apiId, { info, routes: parsed.routes.map(compile) });
    return this.#view(info);
  }

  get(apiId: string): HttpApiInfo {
    return this.#view(this.#existing(apiId).info);
  }

  list(): HttpApiInfo[] {
    return [...this.#apis.values()].map((api) => this.#view(api.info));
  }

  delete(apiId: string): void {
    this.#existing(apiId);
    this.persist?.(apiId, undefined);
    this.#apis.delete(apiId);
  }

  /** The API a request's id names, or undefined. */
  byId(apiId: string): HttpApi | undefined {
    return this.#apis.get(apiId);
  }

  #existing(apiId: string): HttpApi {
    const api = this.#apis.get(apiId);
    if (!api) throw new ResourceNotFoundException(`Invalid API identifier specified ${apiId}`);
    return api;
  }

  #view(info: Omit<HttpApiInfo, 'apiEndpoint'>): HttpApiInfo {
    return Object.freeze({ ...info, apiEndpoint: `${this.origin}/execute-api/${info.apiId}` });
  }
}

/** The most specific route for `method` and `path` (after the stage), with its decoded path parameters. */
export function selectRoute(api: HttpApi, method: string, path: string): { route: CompiledRoute; pathParameters: Record<string, string> } | undefined {
  let best: { route: CompiledRoute; pathParameters: Record<string, string> } | undefined;
  for (const route of api.routes) {
    if (route.method !== 'ANY' && route.method !== method) continue;
    let pathParameters: Record<string, string> = {};
    if (route.regex) {
      const m = route.regex.exec(path);
      if (m === null) continue;
      pathParameters = Object.fromEntries(route.params.map((name, i) => [name, safeDecode(m[i + 1]!)]));
    }
    if (best === undefined || route.rank > best.route.rank) best = { route, pathParameters };
  }
  return best;
}

/** `orders:${stageVariables.alias}` with the stage's variables filled in. */
export function resolveTarget(target: string, stageVariables: Readonly<Record<string, string>>): string {
  return target.replace(/\$\{stageVariables\.([a-zA-Z0-9_]+)\}/g, (_, name: string) => stageVariables[name] ?? '');
}

function safeDecode(value: string): string {
  try {
    return decodeURIComponent(value);
  } catch {
    return value;
  }
}
