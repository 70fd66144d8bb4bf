/**
 * The guest's `URL` (core-js's, with lambdalet's build-time patches: src/engines/guest-url-build.ts)
 * against the host Node's, on our own cases and the inputs where core-js is known to differ from
 * Node (found by running the Web Platform Tests' URL test data, which is not kept here): every
 * property after construction, the searchParams entries, a few setters, and the errors (TypeError
 * 'Invalid URL' with Node's code, input and base).
 *
 * Two comparisons. On the host, the patched core-js against core-js as published, both run in a bare
 * V8 context (no native URL): the same answers for every input above plus 30,000 generated ones
 * (which the patches' fast paths see), so the patches change speed and errors only. Then in each
 * engine, against Node: the same answers except core-js's own gaps (IDNA mapping it does not ship),
 * asserted one by one so a new difference fails.
 */
import { createContext, runInContext } from 'node:vm';
import { build } from 'esbuild';
import { describe, expect, it } from 'vitest';
import { coreJsUrlPatches } from '../../src/engines/guest-url-build.ts';
import { deployAndInvoke, forEachEngine, GENEROUS_TIMEOUT_MS, SLOW_CASE_LIMIT_MS } from '../helpers/runtime.ts';
import { runInNode } from './node-baseline.ts';

type Case = readonly [input: string, base: string | null];

const API = 'https://api.example.com';
const OWN: Case[] = [
  [`${API}/v1/users/123?expand=profile&limit=10`, null],
  ['https://s3.us-east-1.amazonaws.com/bucket/key%20name/a+b?x-id=GetObject&list-type=2', null],
  ['https://dynamodb.eu-west-1.amazonaws.com/', null],
  ['/v1/items?x=1', 'https://example.com/base/path'],
  ['../x/y?a=1&b=two#frag', 'https://example.com/base/path'],
  ['?q=only', `${API}/p/q?old=1#h`],
  ['#only', `${API}/p/q?old=1`],
  ['//other.example/x', `${API}/p`],
  ['', `${API}/p?a#b`],
  ['http://[2001:db8::1]:8080/p', null],
  ['http://[::ffff:192.168.0.1]/', null],
  ['http://[0:0:0:0:0:0:0:1]/', null],
  ['https://münchen.example/straße', null],
  ['https://xn--mnchen-3ya.example/', null],
  ['https://EXAMPLE.COM./A/B', null],
  ['file:///var/task/index.mjs', null],
  ['file:///C:/x/../y', null],
  ['file://host/share/x', null],
  ['data:text/plain;base64,SGVsbG8=', null],
  ['data:text/html,<b>hi there</b>?x #y', null],
  ['mailto:someone@example.com?subject=hi there', null],
  ['blob:https://example.com/uuid', null],
  ['ws://h:80/chat', null],
  ['wss://h:443/chat', null],
  ['ftp://u:p@h:21/f', null],
  ['https://user:p%40ss@h.example:8443/p?q#f', null],
  ['https://us er:pa:ss@h/', null],
  ['http://a@b@c/', null],
  ['https://h/a/./b/../c/%2e/%2E%2e/d', null],
  ['https://h/a b/"q"/<x>/`y`/{z}/^/|/~', null],
  ["https://h/p?a b&c='d'&e=\"f\"&g=<h>&i=`j`&k={l}", null],
  ["foo://h/p?a b&c='d'", null],
  ['https://h/p#a b"c"<d>`e`\'f\'{g}', null],
  ['https://h/p?a=1&a=2&b=%20x+y&c&=d&e=&&f=g=h&%zz=1&%e2%82%ac=euro', null],
  ['  \t https://h/p \n ', null],
  ['ht\ttp://h\n/p\r?q', null],
  ['HTTPS://H/P', null],
  ['https:\\\\h\\p\\q', null],
  ['foo://h\\p', null],
  ['foo:/p', null],
  ['foo:', null],
  ['foo://', null],
  ['http://0x7f.1/', null],
  ['http://127.1/', null],
  ['http://1.2.3.4.5/', null],
  ['http://%41.com/', null],
  ['http://ex%2eample/', null],
  ['http://h:0065535/', null],
  ['http://h:80/', null],
  ['https://h:443/', null],
  ['https://h:/', null],
  ['non-special://[1:2::3]:80/', null],
  ['https://h/\u{1F600}?\u{1F600}#\u{1F600}', null],
  ['https://h/\uD800?\uDC00#\uD800', null],
  ['https://h/%', null],
  ['https://h/p?%', null],
  // Failures: Node's TypeError with code, input and base.
  ['', null],
  ['foo', null],
  ['http://', null],
  ['https://', null],
  ['http://[::1', null],
  ['https://a:99999/', null],
  ['https://a b/', null],
  ['https://h:port/', null],
  ['http://[1:2:3:4:5:6:7:8:9]/', null],
  ['x', 'nope'],
  ['x', ''],
  ['/p', 'mailto:x'],
  ['https://h/', 'not a url'],
  ['foo', 'null'],
  [' http://a b ', null],
  ['\thttps://h:99999/ ', 'https://base.example/'],
];


/**
 * Where core-js (as published) answers otherwise than Node 24 (ada), as [input, base]: the inputs of
 * the WPT URL test data (url/resources/urltestdata.json, run once on 2026-12-03) on which the two
 * differ; the host comparison above shows the patches change none of them. file: URLs: core-js drops
 * a host before a Windows drive letter and the empty segments leading a path, which Node keeps. blob:
 * URLs: core-js gives the inner URL's origin for any scheme, Node (and the spec) only for http(s).
 * IDNA: core-js ships a subset of UTS #46's mapping (its domainToASCII says which), so a host
 * of mathematical letters is punycoded where Node maps it to 'localhost' (and a file: URL drops it).
 */
const CORE_JS_GAPS: readonly Case[] = [
  ["/", "file://h/C:/a/b"],
  ["file:\\\\//", null],
  ["file:\\\\\\\\", null],
  ["file:\\\\\\\\?fox", null],
  ["file:\\\\\\\\#guppy", null],
  ["file://spider///", null],
  ["file:\\\\localhost//", null],
  ["file://\\/localhost//cat", null],
  ["file://localhost//a//../..//", null],
  ["/////mouse", "file:///elephant"],
  ["\\/localhost//pig", "file://lion/"],
  ["//localhost//pig", "file://lion/"],
  ["/..//localhost//pig", "file://lion/"],
  ["C|", "file://host/dir/file"],
  ["C|", "file://host/D:/dir1/dir2/file"],
  ["C|#", "file://host/dir/file"],
  ["C|?", "file://host/dir/file"],
  ["C|/", "file://host/dir/file"],
  ["C|\n/", "file://host/dir/file"],
  ["C|\\", "file://host/dir/file"],
  ["/c:/foo/bar", "file://host/path"],
  ["..", "file://x/C:/"],
  ["file://example.net/C:/", null],
  ["file://1.2.3.4/C:/", null],
  ["file://[1::8]/C:/", null],
  ["C|/", "file://host/"],
  ["/C:/", "file://host/"],
  ["file:C:/", "file://host/"],
  ["file:/C:/", "file://host/"],
  ["file://localhost//a//../..//foo", null],
  ["file://localhost////foo", null],
  ["file:////foo", null],
  ["file:////one/two", "file:///"],
  ["////one/two", "file:///"],
  ["file:///.//", "file:////"],
  ["file:.//p", null],
  ["file:/.//p", null],
  ["blob:blob:https://example.org/", null],
  ["blob:ftp://host/path", null],
  ["blob:ws://example.org/", null],
  ["blob:wss://example.org/", null],
  ["file://loC\ud835\udc00\ud835\udc0b\ud835\udc07\ud835\udc28\ud835\udc2c\ud835\udc2d/usr/bin", null],
  ["/\\//\\/a/../", "file:///"],
];

/** Our cases, then the gaps (so the engines' comparison sees each of them differ, in this order). */
const CASES: Case[] = [...OWN, ...CORE_JS_GAPS];

/** CommonJS: exports.describeURL(URL, [input, base]) → every observable of the result; `handler` runs it over `cases`. */
function describer(cases: readonly Case[] | null): string {
  return String.raw`
const describeURL = (U, [input, base]) => {
  try {
    const u = base === null ? new U(input) : new U(input, base);
    return ['ok', u.href, u.origin, u.protocol, u.username, u.password, u.host, u.hostname, u.port, u.pathname, u.search, u.hash,
      [...u.searchParams], u.searchParams.toString(), u.toString(), u.toJSON(), JSON.stringify(u)];
  } catch (e) {
    return ['error', e instanceof TypeError, e.name, e.message, e.code, e.input, e.base, Object.keys(e)];
  }
};
// Setters after construction (the URLSearchParams is made on first read: before and after a setter).
const setters = (U) => {
  const out = [];
  const u = new U('https://h.example/p?a=1&b=2#f');
  u.search = '?c=3&d=%20e+f';
  out.push(u.href, [...u.searchParams]);
  u.searchParams.append('g', 'h i');
  out.push(u.href, u.search);
  u.href = 'https://other.example/x?y=z';
  out.push([...u.searchParams], u.origin);
  const v = new U('https://h.example/p?a=1');
  const params = v.searchParams;
  v.search = '';
  out.push([...params], v.href, params === v.searchParams);
  v.hash = 'x y';
  v.pathname = '/a b/../c';
  v.host = 'h2.example:8080';
  v.username = 'u s';
  v.password = 'p:w';
  v.port = '443';
  v.protocol = 'http';
  out.push(v.href, v.port);
  try { v.href = 'not a url'; } catch (e) { out.push([e instanceof TypeError, e.name, e.message, e.code, e.input, Object.keys(e)]); }
  return out;
};
exports.describeURL = describeURL;
exports.setters = setters;
const CASES = ${cases === null ? 'null' : JSON.stringify(cases)};
exports.handler = async () => ({ cases: CASES.map((c) => describeURL(URL, c)), setters: setters(URL) });
`;
}

/** core-js's URL bundled as the guest's (with the patches) or as published, for a bare V8 context. */
async function coreJsBundle(patched: boolean): Promise<string> {
  const result = await build({
    stdin: { contents: "import URL from 'core-js-pure/stable/url/index.js'; globalThis.CoreJsURL = URL;", resolveDir: process.cwd() },
    bundle: true, write: false, format: 'iife', platform: 'neutral', mainFields: ['module', 'main'], target: 'es2023',
    plugins: patched ? [coreJsUrlPatches] : [],
  });
  const code = result.outputFiles[0]?.text;
  if (code === undefined) throw new Error('esbuild produced no bundle');
  return code;
}

/** Mulberry32: the generated inputs are the same on every run. */
function random(seed: number): () => number {
  let state = seed;
  return () => {
    state = (state + 0x6D2B79F5) | 0;
    let t = Math.imul(state ^ (state >>> 15), 1 | state);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** URL-shaped strings built from the pieces the patched states read (delimiters, encode sets, runs, dots, hosts). */
function generatedCases(count: number): Case[] {
  const next = random(21);
  const pick = <T>(list: readonly T[]): T => list[Math.floor(next() * list.length)] as T;
  const schemes = ['http:', 'https:', 'HTTP:', 'file:', 'foo:', 'data:', 'ws:', 'wss:', 'ftp:', 'blob:', '', 'a+b.c-d:', '1x:'];
  const slashes = ['//', '/', '\\\\', '', '///', '/\\', '\\'];
  const userinfo = ['', '', '', 'u@', 'u:p@', ':@', 'a%20b@', '@@', 'u s:p/q@', 'é@'];
  const hosts = ['a.b', 'EXAMPLE.com', 'api.example.com', '[::1]', '[1:2::3]', '[::1', '127.0.0.1', '0x7f.1', '1.2.3', '%41.com', 'xn--nxasmq6b',
    'münchen.de', 'a b', '', 'ex%2eample', 'h\u007F', 'h~', 'localhost', 'a..b', '09.1', 'ＡＢ.com'];
  const ports = ['', '', '', ':80', ':443', ':8080', ':', ':65536', ':0x1', ':00021'];
  const alphabet = [...'ab/.\\%2e?#\'"<>`{}^| \t\n:;=@[]~!$&()*+,-_AZ09', 'é', '\u{1F600}', '\uD800', '%2E', '%2e%2E', '..', '%41', '\u0000', '\u001F', '\u007F'];
  const noise = (max: number): string => Array.from({ length: Math.floor(next() * max) }, () => pick(alphabet)).join('');
  const bases = [null, null, 'https://example.com/base/path?q#f', 'file:///C:/dir/file', 'foo://h/p', 'data:x', 'http://h'];
  // Near the fast path's edges: clean special URLs and path-absolute inputs, with the pieces that send one to the state machine.
  const cleanSchemes = ['http:', 'https:', 'ws:', 'wss:', 'ftp:', 'file:', 'HTTPS:', 'foo:'];
  const cleanHosts = ['a.b', 'api.example.com', 'API.Example.COM', 'x', 'a-b.c-d', 'a.b1', 'a.1', '1.2.3.4', 'a.0x1', 'a..b', '.a', 'a.', 'localhost', 'xn--nxasmq6b.com', 'a_b.c', 'h%41', '[::1]'];
  const cleanPorts = ['', '', '', ':', ':0', ':80', ':443', ':21', ':8080', ':65535', ':65536', ':00080', ':x'];
  const fileStarts = ['file:///', 'file:///', 'file:///', 'file://', 'file:////', 'FILE:///', 'file:/', 'file:'];
  const driveLetters = ['', '', '', 'C:', 'c|', 'C:x', 'CC:', 'z:', '1:'];
  const segments = ['a', 'v1', 'users', '123', '', '.', '..', '%2e', '%2E%2e', '.a', 'a.', '...', 'a%20b', "a'b", 'a^b', 'a|b', 'a;b=c', '~u', '@', 'A'];
  const queryChars = [...'ab=&+%20?/:@\'!$()*,;[]^`{|}~AZ', ' ', '"', '#', '<'];
  const fragmentChars = [...'ab#?/=&%20`{}^|\'', ' ', '"', '<'];
  const some = (list: readonly string[], max: number, join: string): string => Array.from({ length: Math.floor(next() * max) }, () => pick(list)).join(join);
  const cleanBases = [null, 'https://example.com/base/path?q#f', 'http://h:8080/a/', 'wss://[::1]/x', 'https://u:p@h/', 'file:///C:/dir/file', 'foo://h/p', 'mailto:x'];
  const out: Case[] = [];
  for (let i = 0; i < count; i++) {
    const kind = next();
    let input: string;
    if (kind < 0.1) input = noise(24);
    else if (kind < 0.5) input = `${next() < 0.1 ? ' ' : ''}${pick(schemes)}${pick(slashes)}${pick(userinfo)}${pick(hosts)}${pick(ports)}${next() < 0.8 ? `/${noise(16)}` : ''}${next() < 0.2 ? ' ' : ''}`;
    else {
      const path = next() < 0.8 ? `/${some(segments, 5, '/')}` : '';
      const rest = `${path}${next() < 0.5 ? `?${some(queryChars, 12, '')}` : ''}${next() < 0.3 ? `#${some(fragmentChars, 8, '')}` : ''}`;
      if (kind < 0.7) input = `${pick(cleanSchemes)}//${next() < 0.05 ? 'u:p@' : ''}${pick(cleanHosts)}${pick(cleanPorts)}${rest}`;
      else if (kind < 0.8) input = `${pick(fileStarts)}${pick(driveLetters)}${rest}`;
      else input = `${next() < 0.05 ? '/' : ''}${rest}`;
      out.push([input, pick(cleanBases)]);
      continue;
    }
    out.push([input, pick(bases)]);
  }
  return out;
}

describe('the guest URL: core-js with lambdalet\'s patches against core-js as published', () => {
  it('gives the same answers for our cases, core-js\'s known gaps and 30,000 generated inputs (errors differ in message only)', async () => {
    const cases = [...CASES, ...generatedCases(30_000)];
    const run = async (patched: boolean): Promise<unknown[]> => {
      const context = createContext({});
      runInContext(await coreJsBundle(patched), context);
      const module = { exports: {} as { describeURL: (U: unknown, c: Case) => unknown[]; setters: (U: unknown) => unknown[] } };
      runInContext(`(function (exports) {${describer(null)}})`, context)(module.exports);
      const U = runInContext('CoreJsURL', context) as unknown;
      // An error's message and Node's properties are the patches' change; that it is a TypeError is not.
      const results = cases.map((c) => {
        const r = module.exports.describeURL(U, c);
        return r[0] === 'error' ? ['error', r[1], r[2]] : JSON.stringify(r);
      });
      return [...results, JSON.stringify(module.exports.setters(U).slice(0, -1))];
    };
    const [patched, published] = [await run(true), await run(false)];
    const differing = cases.flatMap((c, i) => (JSON.stringify(patched[i]) === JSON.stringify(published[i]) ? [] : [[c, published[i], patched[i]]]));
    expect(differing).toEqual([]);
    expect(patched.at(-1)).toEqual(published.at(-1));
    // The generated inputs reach both outcomes, so the comparison covers parses and failures.
    expect(patched.filter((r) => Array.isArray(r)).length).toBeGreaterThan(1000);
    expect(patched.filter((r) => typeof r === 'string').length).toBeGreaterThan(10_000);
  }, SLOW_CASE_LIMIT_MS);
});

forEachEngine(({ withRuntime }) => {
  it('new URL() answers as Node\'s does: our cases and core-js\'s known gaps, every property, searchParams, setters, errors', () =>
    withRuntime(async ({ rt }) => {
      const source = describer(CASES);
      const expected = (await runInNode(source)) as { cases: unknown[]; setters: unknown[] };
      const result = await deployAndInvoke(rt, source, {}, { file: 'index.js', runtime: 'nodejs24.x', timeoutMs: GENEROUS_TIMEOUT_MS });
      expect(result.functionError, JSON.stringify(result.payload)).toBeUndefined();
      const actual = result.payload as { cases: unknown[]; setters: unknown[] };
      const differing = CASES.filter((_, i) => JSON.stringify(actual.cases[i]) !== JSON.stringify(expected.cases[i]));
      expect(differing).toEqual(CORE_JS_GAPS);
      expect(actual.setters).toEqual(expected.setters);
    }), SLOW_CASE_LIMIT_MS);
});
