/**
 * Node built-ins inside the sandbox, on every engine, each answer compared with the same code run
 * by this (host) Node: the module shapes libraries read at load time and round trips through them.
 */
import { describe, expect, it } from 'vitest';
import { deployAndInvoke, forEachEngine, GENEROUS_TIMEOUT_MS, SLOW_CASE_LIMIT_MS } from '../helpers/runtime.ts';
import { runInNode } from './node-baseline.ts';

/** A CommonJS handler body run both in the sandbox and in plain Node; it returns JSON-able facts. */
const MODULES = `
  const stream = require('stream');
  const { pipeline } = require('stream/promises');
  const zlib = require('zlib');
  const qs = require('querystring');
  const { StringDecoder } = require('string_decoder');
  const assert = require('assert');
  const { AsyncLocalStorage } = require('async_hooks');
  const dc = require('diagnostics_channel');
  const tty = require('tty');
  const { isMainThread, Worker } = require('worker_threads');
  const { createRequire, builtinModules, isBuiltin } = require('module');
  const util = require('util');
  const perf = require('perf_hooks');
  const { EventEmitter } = require('events');
  function Legacy() { stream.call(this); }
  util.inherits(Legacy, stream);
  exports.handler = async () => {
    const chunks = [];
    await pipeline(stream.Readable.from(['a', 'b', 'c']), new stream.Transform({
      transform(chunk, enc, done) { done(null, String(chunk).toUpperCase()); },
    }), new stream.Writable({ write(chunk, enc, done) { chunks.push(String(chunk)); done(); } }));
    const text = 'hello '.repeat(100);
    const gz = zlib.gzipSync(text);
    const viaStream = await new Promise((resolve, reject) => {
      const out = [];
      const gunzip = zlib.createGunzip();
      gunzip.on('data', (d) => out.push(d)).on('end', () => resolve(Buffer.concat(out).toString())).on('error', reject);
      gunzip.end(gz);
    });
    const deflated = await new Promise((resolve, reject) => zlib.deflate(text, (e, r) => (e ? reject(e) : resolve(r))));
    const br = zlib.brotliCompressSync(text);
    const decoder = new StringDecoder('utf8');
    const euro = Buffer.from('€');
    const als = new AsyncLocalStorage();
    const stored = await als.run({ id: 7 }, async () => { await null; await new Promise((r) => setTimeout(r, 1)); return als.getStore().id; });
    const seen = [];
    dc.subscribe('compat:test', (message, name) => seen.push([message, name]));
    dc.channel('compat:test').publish({ n: 1 });
    const traced = [];
    const tc = dc.tracingChannel('compat:trace');
    tc.subscribe({ start: () => traced.push('start'), end: () => traced.push('end'), asyncStart: () => traced.push('asyncStart'), asyncEnd: () => traced.push('asyncEnd'), error: () => traced.push('error') });
    await tc.tracePromise(async () => 1, {});
    let assertion;
    try { assert.deepStrictEqual({ a: 1 }, { a: 2 }); } catch (e) { assertion = [e.name, e.code, e.generatedMessage]; }
    let required;
    try { createRequire('/var/task/index.js')('left-pad'); } catch (e) { required = e.code; }
    const debug = util.debuglog('compat');
    return {
      streamIsFunction: typeof stream, legacy: new Legacy() instanceof EventEmitter, chunks,
      names: ['Readable', 'Writable', 'Duplex', 'Transform', 'PassThrough', 'Stream', 'pipeline', 'finished', 'promises', 'addAbortSignal', 'compose'].filter((n) => !(n in stream)),
      gunzip: zlib.gunzipSync(gz).toString() === text, gzipMagic: gz.subarray(0, 2).toString('hex'), viaStream: viaStream === text,
      inflate: zlib.inflateSync(deflated).toString() === text, raw: zlib.inflateRawSync(zlib.deflateRawSync('x')).toString(),
      unzip: zlib.unzipSync(gz).toString() === text, brotli: zlib.brotliDecompressSync(br).toString() === text,
      crc32: zlib.crc32('hello'), zconst: [zlib.constants.Z_BEST_COMPRESSION, zlib.constants.BROTLI_PARAM_QUALITY],
      qs: qs.parse('a=1&b=2&b=3&c=%E2%82%AC'), qsOut: qs.stringify({ a: [1, 2], b: 'x y', c: '€' }), esc: qs.escape("a b!'()*~"), unesc: qs.unescape('%E9%'),
      decoder: decoder.write(euro.subarray(0, 1)) + '|' + decoder.write(euro.subarray(1)) + '|' + decoder.end(),
      assertion, strictIsFn: typeof require('assert/strict'), ok: (() => { assert.ok(true); assert.equal(1, '1'); return true; })(),
      stored, outside: als.getStore() === undefined, seen, hasSubs: dc.hasSubscribers('compat:test'), traced,
      isatty: [tty.isatty(0), tty.isatty(1), tty.isatty(2)], isMainThread, workerIsClass: typeof Worker, required,
      builtins: ['fs', 'zlib', 'http', 'net'].every((b) => builtinModules.includes(b)), isBuiltin: [isBuiltin('node:fs'), isBuiltin('left-pad')],
      createRequireFs: typeof createRequire('/var/task/index.js')('fs').readFileSync,
      debuglog: typeof debug, debugEnabled: debug.enabled, perf: typeof perf.performance.now(),
      types: [util.types.isUint8Array(Buffer.from('a')), util.types.isPromise(Promise.resolve())],
    };
  };`;

describe('plain Node answers the same module questions (the baseline)', () => {
  it('runs the handler in Node', async () => {
    const node = (await runInNode(MODULES)) as Record<string, unknown>;
    expect(node.chunks).toEqual(['A', 'B', 'C']);
  });
});

forEachEngine(({ withRuntime }) => {
  it('Node built-ins: stream, zlib, querystring, string_decoder, assert, async_hooks, diagnostics_channel, tty, worker_threads, module, util, perf_hooks answer as in Node', () =>
    withRuntime(async ({ rt }) => {
      const expected = await runInNode(MODULES);
      const result = await deployAndInvoke(rt, MODULES, {}, { file: 'index.js' });
      expect(result.functionError, JSON.stringify(result.payload)).toBeUndefined();
      expect(result.payload).toEqual(expected);
    }));
});

forEachEngine(({ withRuntime }) => {
  it('zlib Brotli limits: maxOutputLength at, under and over the output; 8 MiB of input per call, not a byte more (it runs on the host)', () =>
    withRuntime(async ({ rt }) => {
      const result = await deployAndInvoke(rt, `
        const zlib = require('zlib');
        const attempt = (fn) => { try { return fn().length; } catch (e) { return e.name + ': ' + e.message; } };
        exports.handler = async () => {
          const text = 'x'.repeat(1000);
          const packed = zlib.brotliCompressSync(text);
          return {
            exact: attempt(() => zlib.brotliDecompressSync(packed, { maxOutputLength: 1000 })),
            over: attempt(() => zlib.brotliDecompressSync(packed, { maxOutputLength: 1001 })),
            under: attempt(() => zlib.brotliDecompressSync(packed, { maxOutputLength: 999 })),
            inputAtLimit: attempt(() => zlib.brotliCompressSync(Buffer.alloc(8 * 1024 * 1024), { params: { [zlib.constants.BROTLI_PARAM_QUALITY]: 1 } })) > 0,
            inputOverLimit: attempt(() => zlib.brotliCompressSync(Buffer.alloc(8 * 1024 * 1024 + 1))),
          };
        };`, {}, { file: 'index.js', memoryMb: 512, timeoutMs: GENEROUS_TIMEOUT_MS }); // 8 MiB of Brotli: under load 20 s was hit
      expect(result.payload).toMatchObject({
        exact: 1000, over: 1000, inputAtLimit: true,
        under: expect.stringMatching(/^RangeError: .*999/) as string,
        inputOverLimit: 'RangeError: zlib: lambdalet runs Brotli on the host, at most 8388608 bytes of input per call (got 8388609)',
      });
    }), SLOW_CASE_LIMIT_MS);
});
