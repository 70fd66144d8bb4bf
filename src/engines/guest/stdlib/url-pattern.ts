/**
 * Node 24's `URLPattern` global (added to the globals in Node 23.8; Lambda's nodejs24.x has it,
 * nodejs22.x does not: guest/index.ts removes it there). Node's is ada's C++ implementation
 * (lib/internal/url.js binds `internalBinding('url_pattern')`); this one is the WHATWG polyfill
 * (urlpattern-polyfill, which the spec's editors keep against the Web Platform Tests) inside a
 * class with Node's outside:
 *
 * - construction: a non-string, non-object input is ERR_INVALID_ARG_TYPE "Input must be an object or
 *   a string", a base URL followed by a non-object is ERR_INVALID_ARG_TYPE "options must be an
 *   object", a pattern the parser refuses is ERR_INVALID_URL_PATTERN "Failed to construct
 *   URLPattern" (the polyfill's own reason is not Node's words); calling it without `new` is
 *   ERR_CONSTRUCT_CALL_REQUIRED;
 * - `exec`/`test`: a null-prototype result whose keys are sorted (hash, hostname, inputs, password,
 *   pathname, port, protocol, search, username), each component `{ groups, input }` with the named
 *   groups after the numbered ones in reverse order of appearance, as Node 24.x gives them; an input
 *   that is neither string nor object is ERR_INVALID_ARG_TYPE, an object with a base URL
 *   ERR_OPERATION_FAILED "Failed to exec|test URLPattern";
 * - the component getters and both methods on the prototype, enumerable as Node's are; called on
 *   anything else, TypeError "Illegal invocation".
 */
import { URLPattern as PolyfillTyped } from 'urlpattern-polyfill/urlpattern';
import { nodeError } from '../bridge.ts';
import { addApiFunctionKeys } from './api-function.ts';

type Input = string | Record<string, unknown>;
type Component = { input: string; groups: Record<string, string | undefined> };
type PolyfillResult = Record<string, unknown> & { inputs: unknown[] };
type Options = { ignoreCase?: boolean };

/** The polyfill as version 10 behaves (its bundled types lack the options and hasRegExpGroups). */
interface PolyfillPattern {
  readonly protocol: string;
  readonly username: string;
  readonly password: string;
  readonly hostname: string;
  readonly port: string;
  readonly pathname: string;
  readonly search: string;
  readonly hash: string;
  readonly hasRegExpGroups: boolean;
  exec(input: Input, baseURL?: string): PolyfillResult | null;
  test(input: Input, baseURL?: string): boolean;
}
const Polyfill = PolyfillTyped as unknown as new (input: Input, baseURLOrOptions?: string | Options, options?: Options) => PolyfillPattern;

const inner = new WeakMap<object, PolyfillPattern>();
const COMPONENTS = ['protocol', 'username', 'password', 'hostname', 'port', 'pathname', 'search', 'hash'] as const;
/** exec's keys as Node orders them (sorted). */
const RESULT_KEYS = ['hash', 'hostname', 'inputs', 'password', 'pathname', 'port', 'protocol', 'search', 'username'] as const;

function illegalInvocation(): TypeError {
  return new TypeError('Illegal invocation');
}

function patternOf(receiver: unknown): PolyfillPattern {
  const pattern = typeof receiver === 'object' && receiver !== null ? inner.get(receiver) : undefined;
  if (pattern === undefined) throw illegalInvocation();
  return pattern;
}

function isObject(value: unknown): value is Record<string, unknown> {
  return (typeof value === 'object' && value !== null) || typeof value === 'function';
}

/** Node's component: `groups` first, numbered groups then named ones in reverse order. */
function component(from: Component): { groups: Record<string, string | undefined>; input: string } {
  const groups: Record<string, string | undefined> = {};
  const named: string[] = [];
  for (const key of Object.keys(from.groups)) {
    if (/^(0|[1-9]\d*)$/.test(key)) groups[key] = from.groups[key];
    else named.push(key);
  }
  for (let i = named.length - 1; i >= 0; i--) groups[named[i]!] = from.groups[named[i]!];
  return { groups, input: from.input };
}

function nodeResult(result: PolyfillResult): Record<string, unknown> {
  const out = Object.create(null) as Record<string, unknown>;
  for (const key of RESULT_KEYS) out[key] = key === 'inputs' ? result.inputs : component(result[key] as Component);
  return out;
}

/** The checks Node's exec and test make before matching; `undefined` input matches as `{}`. */
function matchArgs(method: 'exec' | 'test', args: unknown[]): [Input, string?] {
  const [input, baseURL] = args;
  if (input !== undefined && input !== null && typeof input !== 'string' && !isObject(input)) {
    throw nodeError(TypeError, 'ERR_INVALID_ARG_TYPE', 'URLPattern input needs to be a string or an object');
  }
  if (baseURL !== undefined && typeof baseURL !== 'string') throw nodeError(TypeError, 'ERR_INVALID_ARG_TYPE', 'baseURL must be a string');
  if (baseURL !== undefined && typeof input !== 'string') throw nodeError(TypeError, 'ERR_OPERATION_FAILED', `Failed to ${method} URLPattern`);
  const given: Input = input ?? {};
  return baseURL === undefined ? [given] : [given, baseURL];
}

/**
 * What Node 24 and 26 match a string that is not a URL (and has no base URL) as: ada reads it as a
 * URL without a scheme (`'/users/1'` has pathname '/users/1', `'//host/p'` hostname 'host', `'a
 * b?x=1#h'` pathname '/a%20b', search 'x=1', hash 'h'; `''` every component empty), where the
 * spec's match would answer null. The components are resolved here against a non-special base with
 * an empty path, which encodes them as that parse does.
 */
function schemelessInit(input: string): Record<string, string> | undefined {
  if (URL.canParse(input)) return undefined; // a URL: matched as the spec says
  if (input === '') return { protocol: '', username: '', password: '', hostname: '', port: '', pathname: '', search: '', hash: '' };
  let url: URL;
  try {
    url = new URL(input, 'lambdalet-schemeless:/');
  } catch {
    return undefined;
  }
  return {
    protocol: '',
    username: url.username,
    password: url.password,
    hostname: url.hostname,
    port: url.port,
    pathname: url.pathname,
    search: url.search.slice(1),
    hash: url.hash.slice(1),
  };
}

/** Node's URLPattern (a function, not a class: Node's own message for a call without `new`). */
export function URLPattern(this: unknown, ...args: unknown[]): void {
  if (new.target === undefined) throw nodeError(TypeError, 'ERR_CONSTRUCT_CALL_REQUIRED', 'Cannot call constructor without `new`');
  const [input, second, third] = args;
  if (input !== undefined && input !== null && typeof input !== 'string' && !isObject(input)) {
    throw nodeError(TypeError, 'ERR_INVALID_ARG_TYPE', 'Input must be an object or a string');
  }
  let baseURL: string | undefined;
  let options: unknown;
  if (typeof second === 'string') {
    baseURL = second;
    if (args.length > 2 && third !== undefined && !isObject(third)) throw nodeError(TypeError, 'ERR_INVALID_ARG_TYPE', 'options must be an object');
    options = third;
  } else {
    options = second;
  }
  const given: Input = input ?? {};
  const optionsGiven: Options = isObject(options) ? { ignoreCase: Boolean(options.ignoreCase) } : {};
  let pattern: PolyfillPattern;
  try {
    pattern = baseURL === undefined ? new Polyfill(given, optionsGiven) : new Polyfill(given, baseURL, optionsGiven);
  } catch {
    throw nodeError(TypeError, 'ERR_INVALID_URL_PATTERN', 'Failed to construct URLPattern');
  }
  inner.set(this as object, pattern);
}

const methods = {
  exec(this: unknown, ...args: unknown[]): Record<string, unknown> | null {
    const pattern = patternOf(this);
    const [input, baseURL] = matchArgs('exec', args);
    // The spec's match first: a string it matches is a URL, parsed once (a `new URL` costs
    // 0.2-0.8 ms in QuickJS's interpreter). Only a miss asks whether the string was a URL at all.
    const result = baseURL === undefined ? pattern.exec(input) : pattern.exec(input, baseURL);
    if (result) return nodeResult(result);
    const schemeless = baseURL === undefined && typeof input === 'string' ? schemelessInit(input) : undefined;
    if (schemeless === undefined) return null;
    const found = pattern.exec(schemeless);
    return found ? nodeResult({ ...found, inputs: [input] }) : null;
  },
  test(this: unknown, ...args: unknown[]): boolean {
    const pattern = patternOf(this);
    const [input, baseURL] = matchArgs('test', args);
    if (baseURL === undefined ? pattern.test(input) : pattern.test(input, baseURL)) return true;
    const schemeless = baseURL === undefined && typeof input === 'string' ? schemelessInit(input) : undefined;
    return schemeless !== undefined && pattern.test(schemeless);
  },
};

const descriptors: PropertyDescriptorMap = {};
for (const name of COMPONENTS) {
  // Anonymous getters, enumerable and not configurable, as Node's prototype has them.
  descriptors[name] = { get: [function (this: unknown): string { return patternOf(this)[name]; }][0], enumerable: true, configurable: false };
}
descriptors.hasRegExpGroups = {
  get: [function (this: unknown): boolean { return patternOf(this).hasRegExpGroups; }][0],
  enumerable: true,
  configurable: false,
};
for (const name of ['exec', 'test'] as const) {
  descriptors[name] = { value: methods[name], writable: true, enumerable: true, configurable: true };
}
// Node's prototype lists the getters and methods first and `constructor` last.
const prototype = Object.defineProperties({}, descriptors);
Object.defineProperty(prototype, 'constructor', { value: URLPattern, writable: true, enumerable: false, configurable: true });
Object.defineProperty(prototype, Symbol.toStringTag, { value: 'URLPattern', configurable: true });
URLPattern.prototype = prototype;
addApiFunctionKeys(URLPattern, ...[...COMPONENTS, 'hasRegExpGroups'].map((name) => Object.getOwnPropertyDescriptor(prototype, name)!.get!));
