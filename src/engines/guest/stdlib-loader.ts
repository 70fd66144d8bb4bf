/**
 * Loads the standard library's code on first use. The library (stdlib/) is built apart from this
 * runtime into CommonJS chunks (guest-bundle.ts: esbuild code splitting, so a module several
 * chunks share, such as Buffer, exists once) which the host hands over through the `stdlib` host
 * call: QuickJS parses its whole boot script on every cold start, so the library stays out of it
 * (embedding the chunks as string literals still cost QuickJS 17 ms a boot). A chunk is evaluated
 * the first time a handler touches something in it.
 */
import * as bridge from './bridge.ts';
import { STDLIB_PARSE_BEGIN, STDLIB_PARSE_END } from './protocol.ts';

/** The runtime's own module the library shares (one `host`). */
const shared: Readonly<Record<string, unknown>> = { 'lambdalet:bridge': bridge };
const modules = new Map<string, { exports: unknown }>();
let loading = 0;

/**
 * A chunk is being evaluated. Polyfills look for a native version of themselves while they load
 * (core-js reads globalThis.URL): the lazy globals (globals.ts) must then read as absent, not load
 * a chunk that is half-made.
 */
export function stdlibLoading(): boolean {
  return loading > 0;
}
// Captured before user code runs: a handler that replaces globalThis.eval cannot intercept loading.
const indirectEval = eval;
const hasOwn = Object.prototype.hasOwnProperty;

type ChunkFunction = (require: (name: string) => unknown, module: { exports: unknown }, exports: unknown) => void;

/** The exports of the library entry `name` (fs, buffer, crypto, ...). */
export function stdlib<T>(name: string): T {
  return load(name) as T;
}

function load(name: string): unknown {
  if (hasOwn.call(shared, name)) return shared[name];
  const key = name.replace(/^\.\//, '').replace(/\.js$/, '');
  const cached = modules.get(key);
  if (cached) return cached.exports;
  const source = bridge.hostCall('stdlib', [key]).value as string;
  // The parse between the marks runs nothing but lambdalet's library (the captured eval of a
  // template of two strings; the marks' answers are not even read): QuickJS keeps no source text for
  // its functions (protocol.ts STDLIB_PARSE_BEGIN), their stack positions stay.
  const { host } = bridge;
  const marks = host.parseMarks;
  let fn: ChunkFunction;
  if (marks) host.call('stdlib', STDLIB_PARSE_BEGIN);
  try {
    fn = indirectEval(`(function (require, module, exports) {"use strict";${source}\n})\n//# sourceURL=/var/runtime/stdlib/${key}.js`) as ChunkFunction;
  } finally {
    if (marks) host.call('stdlib', STDLIB_PARSE_END);
  }
  const module = { exports: {} as unknown };
  modules.set(key, module);
  loading++;
  try {
    fn(load, module, module.exports);
  } catch (error) {
    modules.delete(key);
    throw error;
  } finally {
    loading--;
  }
  return module.exports;
}
