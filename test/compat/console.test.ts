/**
 * console.log / util.format / util.inspect inside the sandbox print exactly what Node prints: each
 * input (the list and the usual suspects) is built by the same source text in the sandbox
 * and here, and the expected line is this Node's own util.format of it.
 */
import { format, inspect } from 'node:util';
import { expect, it } from 'vitest';
import { deployAndInvoke, forEachEngine } from '../helpers/runtime.ts';

/** Source text of each console.log call's argument list. */
const INPUTS: readonly string[] = [
  `'hello'`, `42`, `-0`, `10n`, `true, null, undefined`, `Symbol('sym')`,
  `[1, 2, 3]`, `{ a: 1, b: 'two' }`, `{ a: { b: { c: { d: 1 } } } }`, `[[[[1]]]]`,
  `Buffer.from('hi')`, `new Uint8Array([1, 2, 3])`, `new Float64Array([1.5, -2])`, `new ArrayBuffer(4)`,
  `'%s', { toString() { return 'custom'; } }`, `'%s', { a: { b: 1 } }`, `'%s', 42, 'rest', { r: 1 }`,
  `class Foo {}`, `class Bar extends Array {}`, `function named() {}`, `() => {}`, `async function af() {}`,
  `{ [Symbol('s')]: 1, x: 2 }`, `["it's", 'say "hi"', 'both \\'"']`, `{ s: 'a\\nb' }`, `{ 'key-with-dash': 1, valid_key: 2 }`,
  `Array.from({ length: 30 }, (_, i) => i)`, `Array.from({ length: 26 }, (_, i) => 'item' + i)`, `new Array(120).fill(7)`, `[undefined, , 3]`,
  `new Map([['a', 1], ['b', { c: 2 }]])`, `new Set(['x', 1])`, `new WeakMap()`,
  `new Date(0)`, `/re/g`, `new String('s')`, `Object.create(null)`, `{ get g() { return 1; }, set s(v) {} }`, `{ n: 5n, u: undefined }`,
  `(() => { const o = { name: 'self' }; o.self = o; return o; })()`,
  `'%d', '42'`, `'%i', 3.9`, `'%f', '1.5'`, `'%j', { j: [1] }`, `'%o', [1]`, `'%O', { O: 1 }`, `'%c styled', 'color: red'`, `'%%s %s', 'x'`,
  `'a', 'b', 1`, `new Proxy({ p: 1 }, {})`, `{ long: 'x'.repeat(100) }`, `Object.assign(Object.create({ inherited: 1 }), { own: 2 })`,
];

/** The args of each input, built here by the same source text. */
function hostArgs(source: string): unknown[] {
  // The same source text the sandbox runs, evaluated here: the inputs are this file's own constants.
  // eslint-disable-next-line @typescript-eslint/no-implied-eval
  return new Function('Buffer', `return [${source}];`)(Buffer) as unknown[];
}

/**
 * The function runs as nodejs22.x, so the reference is Node 22's (and 24's) output. Where a newer
 * host Node prints an input differently, the line Node 22 and 24 print (measured on both) stands
 * in: Node 26 prints a Proxy as `Proxy({ p: 1 })`, Node 22 and 24 print its target.
 */
function emulatedLine(source: string): string | undefined {
  const hostMajor = Number(process.versions.node.split('.')[0]);
  if (hostMajor >= 26 && source === `new Proxy({ p: 1 }, {})`) return '{ p: 1 }';
  return undefined;
}

forEachEngine(({ withRuntime }) => {
  it(`console.log prints each of ${INPUTS.length} inputs exactly as Node's util.format does`, () =>
    withRuntime(async ({ rt, logs }) => {
      const calls = INPUTS.map((source) => `console.log(${source});`).join('\n');
      const result = await deployAndInvoke(rt, `exports.handler = async () => {\n${calls}\nreturn 'done'; };`, {}, { file: 'index.js' });
      expect(result.payload).toBe('done');
      const printed = logs.forRequest(result.requestId).filter((l) => /\tINFO\t/.test(l)).map((l) => l.split('\t').slice(3).join('\t'));
      const expected = INPUTS.map((source) => (emulatedLine(source) ?? format(...hostArgs(source))).replace(/\n/g, '\r'));
      expect(printed).toEqual(expected);
    }));

  it('util.inspect with options and util.format answer as Node\'s', () =>
    withRuntime(async ({ rt }) => {
      const result = await deployAndInvoke(rt, `
        const util = require('util');
        exports.handler = async () => [
          util.inspect({ a: { b: { c: { d: 1 } } } }, { depth: 0 }), util.inspect({ a: { b: { c: { d: 1 } } } }, { depth: null }),
          util.inspect('str'), util.inspect([1, 2, 3], { compact: false }), util.inspect({ a: 1, b: 2 }, { breakLength: 3 }),
          util.inspect(new Map([[1, 2]]), { showHidden: true }), util.format('%s:%s', 'a'), util.inspect({ s: 'x'.repeat(30) }, { maxStringLength: 5 }),
          util.inspect(Array.from({ length: 10 }, (_, i) => i), { maxArrayLength: 3 }), util.inspect({ b: 2, a: 1 }, { sorted: true }),
        ];`, {}, { file: 'index.js' });
      expect(result.payload).toEqual([
        inspect({ a: { b: { c: { d: 1 } } } }, { depth: 0 }), inspect({ a: { b: { c: { d: 1 } } } }, { depth: null }),
        inspect('str'), inspect([1, 2, 3], { compact: false }), inspect({ a: 1, b: 2 }, { breakLength: 3 }),
        inspect(new Map([[1, 2]]), { showHidden: true }), format('%s:%s', 'a'), inspect({ s: 'x'.repeat(30) }, { maxStringLength: 5 }),
        inspect(Array.from({ length: 10 }, (_, i) => i), { maxArrayLength: 3 }), inspect({ b: 2, a: 1 }, { sorted: true }),
      ]);
    }));
});
