/**
 * Node idioms a new user's handlers met (issue #12, the second trial): util.promisify of the
 * timers, timers/promises and events.on under an AbortSignal, captureRejections, CustomEvent,
 * process 'warning', structuredClone's DataCloneError, perf_hooks' measures and observers, and
 * node:stream's Web-stream adapters. Each handler runs in this (host) Node and in the sandbox; the
 * answers must be the same, on every engine. No answer depends on how long anything took.
 */
import { describe, expect, it } from 'vitest';
import { deployAndInvoke, forEachEngine, SLOW_CASE_LIMIT_MS } from '../helpers/runtime.ts';
import { runInNode as runInNodeChild } from './node-baseline.ts';

/** One Node child per handler, shared by the baseline case and every engine's. */
const nodeRuns = new Map<string, Promise<unknown>>();
function runInNode(source: string): Promise<unknown> {
  let run = nodeRuns.get(source);
  if (run === undefined) nodeRuns.set(source, (run = runInNodeChild(source)));
  return run;
}

/** What a caught error shows: name, code, message, class, own keys, and its cause's name/code/message. */
const FAILURE = `
  const failure = (e) => e === undefined ? 'no error' : [e.name, e.code ?? null, e.message, e.constructor.name, e instanceof Error, Object.keys(e),
    e.cause === undefined ? 'no cause' : typeof e.cause === 'object' ? [e.cause.name, e.cause.code, e.cause.message] : e.cause];
  const caught = async (f) => { try { await f(); return 'no error'; } catch (e) { return failure(e); } };`;

/** Finding 1: util.promisify(setTimeout / setImmediate) is timers/promises' (Node's lib/timers.js). */
const PROMISIFY = `${FAILURE}
  const util = require('util');
  const timers = require('timers');
  const tp = require('timers/promises');
  exports.handler = async () => {
    const custom = util.promisify.custom;
    return {
      same: [setTimeout[custom] === tp.setTimeout, setImmediate[custom] === tp.setImmediate, timers.setTimeout[custom] === tp.setTimeout,
        timers.setImmediate[custom] === tp.setImmediate, typeof setInterval[custom], custom in setTimeout],
      values: [await util.promisify(setTimeout)(1, 'v'), await util.promisify(setImmediate)('w'), await util.promisify(timers.setTimeout)(2)],
      sleep: await caught(() => util.promisify(setTimeout)(1)),
    };
  };`;

/** Finding 2: timers/promises reject with Node's AbortError, the signal's reason its cause. */
const TIMER_ABORTS = `${FAILURE}
  const tp = require('timers/promises');
  exports.handler = async () => {
    const intervalValues = [];
    const interval = await caught(async () => {
      const ac = new AbortController();
      for await (const v of tp.setInterval(2, 'i', { signal: ac.signal })) { intervalValues.push(v); if (intervalValues.length === 2) ac.abort(); }
    });
    const finished = [];
    for await (const v of tp.setInterval(1, 'j')) { finished.push(v); if (finished.length === 3) break; }
    return {
      timeout: await caught(() => tp.setTimeout(60000, 'v', { signal: AbortSignal.timeout(5) })),
      aborted: await caught(() => tp.setTimeout(60000, 'v', { signal: AbortSignal.abort() })),
      immediate: await caught(() => tp.setImmediate('v', { signal: AbortSignal.abort('why') })),
      later: await caught(() => { const ac = new AbortController(); const p = tp.setImmediate('v', { signal: ac.signal }); ac.abort(new RangeError('r')); return p; }),
      wait: await caught(() => tp.scheduler.wait(60000, { signal: AbortSignal.timeout(5) })),
      interval, intervalValues, finished,
      intervalPreAborted: await caught(async () => { for await (const v of tp.setInterval(5, 'i', { signal: AbortSignal.abort() })) {} }),
      badSignal: await caught(() => tp.setTimeout(10, 'v', { signal: 5 })),
      resolved: [await tp.setTimeout(1, 'a', { signal: new AbortController().signal }), (await Promise.all([tp.setImmediate('b', { ref: false }), tp.setTimeout(5)]))[0], await tp.scheduler.wait(1)],
    };
  };`;

/** Finding 3: events.on ends with the signal and the emitter's 'error'; close; captureRejections. */
const EVENTS = `${FAILURE}
  const events = require('events');
  const { EventEmitter } = events;
  exports.handler = async () => {
    const out = {};
    out.shape = [events.name, events.length, EventEmitter === events, new EventEmitter().constructor === events];
    const ee = new EventEmitter();
    const ac = new AbortController();
    setTimeout(() => { ee.emit('d', 1); ee.emit('d', 2, 'x'); setTimeout(() => ac.abort(), 2); }, 2);
    const got = [];
    out.aborted = await caught(async () => { for await (const v of events.on(ee, 'd', { signal: ac.signal })) got.push(v); });
    out.got = got;
    out.listenersAfterAbort = [ee.listenerCount('d'), ee.listenerCount('error')];
    out.preAborted = await caught(async () => { for await (const v of events.on(ee, 'd', { signal: AbortSignal.abort() })) {} });
    const ee2 = new EventEmitter();
    const got2 = [];
    setTimeout(() => { ee2.emit('d', 1); ee2.emit('error', new TypeError('bad')); }, 2);
    out.error = await caught(async () => { for await (const v of events.on(ee2, 'd')) got2.push(v); });
    out.got2 = got2;
    out.listenersAfterError = [ee2.listenerCount('d'), ee2.listenerCount('error')];
    const ee3 = new EventEmitter();
    setTimeout(() => { ee3.emit('d', 1); ee3.emit('d', 2); ee3.emit('end'); ee3.emit('d', 3); }, 2);
    const got3 = [];
    for await (const v of events.on(ee3, 'd', { close: ['end'] })) got3.push(v);
    out.closed = [got3, ee3.listenerCount('d'), ee3.listenerCount('end')];
    const ee4 = new EventEmitter();
    const it4 = events.on(ee4, 'd');
    ee4.emit('d', 'a'); ee4.emit('d', 'b');
    out.buffered = [await it4.next(), await it4.return(), await it4.next(), ee4.listenerCount('d')];
    out.badSignal = await caught(() => events.on(ee4, 'd', { signal: 1 }));

    const captured = new EventEmitter({ captureRejections: true });
    const firstError = events.once(captured, 'error');
    captured.on('x', async () => { throw new Error('rej'); });
    out.emitted = captured.emit('x');
    out.captured = failure((await firstError)[0]);
    const custom = new EventEmitter({ captureRejections: true });
    const seen = [];
    custom[Symbol.for('nodejs.rejection')] = function (e, ev, ...args) { seen.push(e.message, ev, args, this === custom); };
    custom.on('y', async (a) => { throw new Error('rej2'); });
    custom.emit('y', 7, 8);
    await new Promise((r) => setTimeout(r, 2));
    out.rejectionMethod = seen;
    const plain = new EventEmitter();
    plain.on('z', async () => 'fine');
    out.plainEmit = plain.emit('z');
    out.statics = [EventEmitter.captureRejections, typeof EventEmitter.captureRejectionSymbol, String(EventEmitter.captureRejectionSymbol),
      events.captureRejectionSymbol === Symbol.for('nodejs.rejection'), events.captureRejections];
    out.badOption = await caught(() => new EventEmitter({ captureRejections: 1 }));
    return out;
  };`;

/** Finding 4: CustomEvent, process 'warning', structuredClone's DataCloneError wording. */
const GLOBALS = `${FAILURE}
  exports.handler = async () => {
    const out = {};
    const ce = new CustomEvent('x', { detail: { a: 1 } });
    out.customEvent = [typeof CustomEvent, ce.type, ce.detail, ce instanceof Event, String(ce), new CustomEvent('y').detail,
      Object.keys(globalThis).includes('CustomEvent'), await caught(() => new CustomEvent())];
    const target = new EventTarget();
    target.addEventListener('hi', (e) => { out.dispatched = [e.type, e.detail, e instanceof CustomEvent]; });
    target.dispatchEvent(new CustomEvent('hi', { detail: 42 }));
    const warnings = [];
    process.on('warning', (w) => warnings.push([w.name, w.message, w.code ?? null, w instanceof Error, w.detail ?? null]));
    process.emitWarning('hello', 'MyWarning', 'C1');
    process.emitWarning(new Error('e'));
    process.emitWarning('opt', { type: 'OptWarning', code: 'C2', detail: 'more' });
    process.emitWarning('plain');
    const synchronously = warnings.length;
    await new Promise((r) => setImmediate(r));
    out.warnings = [synchronously, warnings];
    // V8's wording is the function's source text: a deployed bundle's is reformatted, so it is compared with String(fn).
    const cloneFailure = async (value, source) => {
      const f = await caught(() => structuredClone(value));
      return [f[0], f[1], source === undefined ? f[2] : f[2] === String(source) + ' could not be cloned.'];
    };
    const f = function f() {};
    const arrow = () => 1;
    class A { m() {} }
    const inMap = () => 2;
    out.clone = [
      await cloneFailure(f, f), await cloneFailure({ a: arrow }, arrow), await cloneFailure(Symbol('q')), await cloneFailure(A, A),
      await cloneFailure(Promise.resolve()), await cloneFailure(new WeakMap()), await cloneFailure(new Map([[1, inMap]]), inMap),
      await cloneFailure({ a: [1, { b: Symbol.iterator }] }),
    ];
    out.cloned = [structuredClone(new Map([[1, { a: [2n, new Date(0)] }]])).get(1).a[1].getTime(), structuredClone.length, structuredClone.name];
    return out;
  };`;

/** Finding 5: performance.measure records a PerformanceMeasure; observers see marks and measures. */
const PERF = `${FAILURE}
  const perf = require('perf_hooks');
  const { performance, PerformanceObserver } = perf;
  exports.handler = async () => {
    const out = {};
    const batches = [];
    const observer = new PerformanceObserver((list, o) => {
      batches.push([list.getEntries().map((e) => e.name + ':' + e.entryType).sort(), o === observer, list.getEntriesByType('mark').length, list.getEntriesByName('m').length]);
    });
    observer.observe({ entryTypes: ['mark', 'measure'] });
    const measures = new PerformanceObserver((list) => batches.push(['measures', list.getEntries().map((e) => e.name).sort()]));
    measures.observe({ type: 'measure' });
    performance.mark('a');
    performance.mark('b', { detail: 'd' });
    const m = performance.measure('m', 'a', 'b');
    const m2 = performance.measure('m2', { start: 'a', end: 'b', detail: 3 });
    const m3 = performance.measure('m3');
    const m4 = performance.measure('m4', 'a');
    const a = performance.getEntriesByName('a')[0];
    const b = performance.getEntriesByName('b')[0];
    out.measure = [m.constructor.name, m.name, m.entryType, m.duration === b.startTime - a.startTime, m.startTime === a.startTime, m.detail, m2.detail,
      m3.startTime, m4.startTime === a.startTime, typeof m4.duration, Object.prototype.toString.call(m), m instanceof perf.PerformanceEntry,
      m instanceof perf.PerformanceMeasure, Object.keys(m.toJSON())];
    out.mark = [b.constructor.name, b.entryType, b.detail, b.duration, b instanceof perf.PerformanceMark, Object.keys(b.toJSON())];
    out.byType = [performance.getEntriesByType('measure').map((e) => e.name).sort(), performance.getEntriesByType('mark').map((e) => e.name).sort(),
      performance.getEntries().map((e) => e.name).sort(), performance.getEntriesByName('m', 'measure').length, performance.getEntriesByName('m', 'mark').length];
    out.synchronously = batches.length;
    await new Promise((r) => setTimeout(r, 5));
    out.batches = batches;
    observer.disconnect();
    measures.disconnect();
    performance.mark('after');
    await new Promise((r) => setTimeout(r, 5));
    out.afterDisconnect = batches.length;
    // name, code, message (the sandbox's DOMException differs in its class name and own keys: not this case's subject)
    out.missing = (await caught(() => performance.measure('bad', 'nope'))).slice(0, 3);
    performance.clearMeasures('m');
    out.cleared = performance.getEntriesByType('measure').map((e) => e.name).sort();
    performance.clearMarks();
    performance.clearMeasures();
    out.clearedAll = [performance.getEntriesByType('mark').length, performance.getEntriesByType('measure').length];
    out.supported = PerformanceObserver.supportedEntryTypes.includes('mark') && PerformanceObserver.supportedEntryTypes.includes('measure');
    out.badObserve = await caught(() => new PerformanceObserver(() => {}).observe({}));
    return out;
  };`;

/** Finding 6: node:stream's Web-stream adapters (S3's Body.transformToWebStream() is Readable.toWeb). */
const STREAM_WEB = `${FAILURE}
  const { Readable, Writable, Duplex, PassThrough } = require('stream');
  exports.handler = async () => {
    const out = {};
    const web = Readable.toWeb(Readable.from([Buffer.from('ab'), Buffer.from('cd')]));
    const chunks = [];
    for await (const c of web) chunks.push([c instanceof Uint8Array, Buffer.isBuffer(c), Buffer.from(c).toString()]);
    out.toWeb = [typeof web.getReader, chunks];
    const objects = [];
    for await (const c of Readable.toWeb(Readable.from([{ a: 1 }, { b: 2 }]))) objects.push(c);
    out.objects = objects;
    const text = [];
    for await (const t of Readable.toWeb(Readable.from([Buffer.from('hé')])).pipeThrough(new TextDecoderStream())) text.push(t);
    out.text = text;
    const failing = new Readable({ read() { this.destroy(new Error('boom')); } });
    out.error = await caught(async () => { for await (const c of Readable.toWeb(failing)) {} });
    const encoder = new TextEncoder();
    const got = [];
    for await (const c of Readable.fromWeb(new ReadableStream({ start(c) { c.enqueue(encoder.encode('xy')); c.enqueue(encoder.encode('z')); c.close(); } }))) got.push([Buffer.isBuffer(c), c.toString()]);
    out.fromWeb = [got.every((g) => g[0]), got.map((g) => g[1]).join('')];
    const decoded = [];
    for await (const c of Readable.fromWeb(new ReadableStream({ start(c) { c.enqueue(encoder.encode('q')); c.close(); } }), { encoding: 'utf8' })) decoded.push(c);
    out.fromWebEncoding = decoded.join('');
    const fromWebObjects = [];
    for await (const c of Readable.fromWeb(new ReadableStream({ start(c) { c.enqueue({ o: 1 }); c.close(); } }), { objectMode: true })) fromWebObjects.push(c);
    out.fromWebObjects = fromWebObjects;
    out.fromWebError = await caught(async () => { for await (const c of Readable.fromWeb(new ReadableStream({ pull(c) { c.error(new TypeError('web boom')); } }))) {} });
    const written = [];
    const w = new Writable({ write(chunk, enc, cb) { written.push(chunk.toString()); cb(); } });
    const writer = Writable.toWeb(w).getWriter();
    await writer.write(encoder.encode('one'));
    await writer.write('two');
    await writer.close();
    out.toWebWritable = [written, w.writableFinished];
    const sink = [];
    const nw = Writable.fromWeb(new WritableStream({ write(c) { sink.push([c instanceof Uint8Array, new TextDecoder().decode(c)]); } }));
    nw.write('a');
    nw.write(Buffer.from('b'));
    await new Promise((resolve, reject) => nw.end('c', (e) => (e ? reject(e) : resolve())));
    out.fromWebWritable = sink;
    const { readable, writable } = Duplex.toWeb(new PassThrough());
    const dw = writable.getWriter();
    dw.write(encoder.encode('dup'));
    dw.close();
    const dr = [];
    for await (const c of readable) dr.push(Buffer.from(c).toString());
    out.duplexToWeb = dr.join('');
    const upper = new TransformStream({ transform(c, ctl) { ctl.enqueue(encoder.encode(new TextDecoder().decode(c).toUpperCase())); } });
    const d = Duplex.fromWeb(upper);
    d.end('shout');
    const dd = [];
    for await (const c of d) dd.push(c.toString());
    out.duplexFromWeb = dd.join('');
    out.bad = [await caught(() => Readable.toWeb({})), await caught(() => Readable.fromWeb({})), await caught(() => Writable.toWeb(5)), await caught(() => Writable.fromWeb(null))];
    return out;
  };`;

const CASES = { PROMISIFY, TIMER_ABORTS, EVENTS, GLOBALS, PERF, STREAM_WEB } as const;

describe('the baseline: Node answers each idiom', () => {
  it('runs every handler in Node', async () => {
    for (const source of Object.values(CASES)) expect(await runInNode(source)).toBeTypeOf('object');
    const promisify = (await runInNode(PROMISIFY)) as { same: unknown[] };
    expect(promisify.same.slice(0, 4)).toEqual([true, true, true, true]);
  }, SLOW_CASE_LIMIT_MS);
});

forEachEngine(({ withRuntime }) => {
  for (const [name, source] of Object.entries(CASES)) {
    it(`${name}: the same answers as Node's`, () =>
      withRuntime(async ({ rt }) => {
        const expected = await runInNode(source);
        const result = await deployAndInvoke(rt, source, {}, { file: 'index.js', timeoutMs: 20_000 });
        expect(result.functionError, JSON.stringify(result.payload)).toBeUndefined();
        expect(result.payload).toEqual(expected);
      }), SLOW_CASE_LIMIT_MS);
  }
});
