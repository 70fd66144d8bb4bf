/**
 * Explicit resource management (ECMA-262 2026; V8 13.4, so Node 24): DisposableStack,
 * AsyncDisposableStack, SuppressedError, the iterators' dispose methods and `using`, against the
 * host's Node on each engine for nodejs24.x. QuickJS has none of it natively: core-js's stacks and
 * error (stdlib/disposable.ts) with V8's names, key order and disposal message. Node 22 (V8 12.4) has
 * none of it: nodejs22.x removes it on both engines and keeps Symbol.dispose, which Node 22 defines.
 */
import { execFileSync } from 'node:child_process';
import { expect, it } from 'vitest';
import { deployAndInvoke, forEachEngine, SLOW_CASE_LIMIT_MS } from '../helpers/runtime.ts';

const PROBE = `async () => {
  const keys = (o) => Reflect.ownKeys(o).map(String);
  const shape = [
    keys(DisposableStack.prototype), keys(DisposableStack), DisposableStack.length, DisposableStack.name,
    keys(AsyncDisposableStack.prototype), AsyncDisposableStack.length, AsyncDisposableStack.name,
    keys(SuppressedError.prototype), keys(SuppressedError), SuppressedError.length, SuppressedError.name,
    Object.getPrototypeOf(SuppressedError) === Error, SuppressedError.prototype.name, SuppressedError.prototype.message,
    String(Symbol.dispose), String(Symbol.asyncDispose), Symbol.keyFor(Symbol.dispose) ?? null,
    Object.prototype.toString.call(new DisposableStack()), Object.prototype.toString.call(new AsyncDisposableStack()),
  ];
  const made = new SuppressedError(1, 2, 'm');
  const bare = new SuppressedError(1, 2);
  shape.push(keys(made), String(made), made instanceof Error, made.error, made.suppressed, keys(bare), String(bare));
  const misuse = [];
  const attempt = (f) => { try { f(); misuse.push('no error'); } catch (error) { misuse.push(error.constructor.name + ': ' + error.message); } };
  attempt(() => DisposableStack());
  attempt(() => { const s = new DisposableStack(); s.dispose(); s.use({}); });
  attempt(() => new DisposableStack().use(1));
  attempt(() => new DisposableStack().use({}));
  attempt(() => DisposableStack.prototype.dispose.call({}));
  attempt(() => { const s = new DisposableStack(); s.dispose(); s.move(); });
  const behaviour = [];
  attempt(() => new DisposableStack().use(null));
  attempt(() => new DisposableStack().adopt(1, 2));
  attempt(() => new DisposableStack().defer(2));
  behaviour.push(misuse.splice(6));
  {
    const s = new DisposableStack();
    s.use({ [Symbol.dispose]() { behaviour.push('use'); } });
    s.adopt(7, (v) => behaviour.push('adopt ' + v));
    s.defer(() => behaviour.push('defer'));
    const moved = s.move();
    behaviour.push(s.disposed, moved.disposed);
    moved.dispose();
    behaviour.push(moved.disposed);
    moved.dispose();
  }
  {
    const s = new AsyncDisposableStack();
    s.use({ async [Symbol.asyncDispose]() { behaviour.push('async use'); } });
    s.use({ [Symbol.dispose]() { behaviour.push('sync in async'); } });
    s.defer(async () => behaviour.push('async defer'));
    const done = s.disposeAsync();
    behaviour.push(done instanceof Promise, await done, s.disposed);
  }
  try {
    const s = new DisposableStack();
    s.defer(() => { throw new Error('first'); });
    s.defer(() => { throw new Error('second'); });
    s.dispose();
  } catch (error) {
    behaviour.push(error.constructor.name, error.message, String(error), error.error.message, error.suppressed.message, keys(error));
  }
  const it = [1, 2, 3][Symbol.iterator]();
  behaviour.push(typeof it[Symbol.dispose], it[Symbol.dispose].name, it[Symbol.dispose].length);
  let closed = 0;
  const gen = (function* () { try { yield 1; yield 2; } finally { closed++; } })();
  gen.next();
  behaviour.push(gen[Symbol.dispose](), closed, gen.next().done);
  let asyncClosed = 0;
  const asyncGen = (async function* () { try { yield 1; } finally { asyncClosed++; } })();
  await asyncGen.next();
  const disposing = asyncGen[Symbol.asyncDispose]();
  behaviour.push(disposing instanceof Promise, await disposing, asyncClosed, asyncGen[Symbol.asyncDispose].name, asyncGen[Symbol.asyncDispose].length);
  const log = [];
  { using a = { [Symbol.dispose]() { log.push('a'); } }; using b = { [Symbol.dispose]() { log.push('b'); } }; log.push('body'); }
  try { using c = { [Symbol.dispose]() { throw new Error('in dispose'); } }; throw new Error('in body'); }
  catch (error) { log.push(error.constructor.name, error.message, error.error.message, error.suppressed.message); }
  behaviour.push(log);
  return { shape, misuse, behaviour };
}`;

interface Answers {
  shape: unknown[];
  misuse: string[];
  behaviour: unknown[];
}

/** core-js's words where V8's differ (QuickJS only), in the order of the probe's `misuse`. */
const CORE_JS_MISUSE = [
  'TypeError: Incorrect invocation',
  'ReferenceError: DisposableStack already disposed',
  'TypeError: 1 is not an object',
  'TypeError: undefined is not a function',
  'TypeError: Incompatible receiver, DisposableStack required',
  'ReferenceError: DisposableStack already disposed',
];

let host: Answers | undefined;
/** The host's Node, in a clean process (Node 24 and 26 have all of it natively). */
function hostAnswers(): Answers {
  host ??= JSON.parse(execFileSync(process.execPath, ['--input-type=module', '-e', `console.log(JSON.stringify(await (${PROBE})()))`], { encoding: 'utf8' })) as Answers;
  return host;
}

forEachEngine(({ engine, withRuntime }) => {
  it('nodejs24.x: DisposableStack, AsyncDisposableStack, SuppressedError, the iterators\' dispose and `using` answer as in Node', () =>
    withRuntime(async ({ rt }) => {
      const result = await deployAndInvoke(rt, `export const handler = ${PROBE};`, {}, { runtime: 'nodejs24.x' });
      const guest = result.payload as Answers;
      const node = hostAnswers();
      expect(guest.shape).toEqual(node.shape);
      expect(guest.behaviour).toEqual(node.behaviour);
      // V8's words: "Constructor DisposableStack requires 'new'", "Cannot call
      // DisposableStack.prototype.use on an already-disposed DisposableStack", ...
      expect(node.misuse[0]).toBe("TypeError: Constructor DisposableStack requires 'new'");
      if (engine === 'quickjs') {
        expect(guest.misuse).toEqual(CORE_JS_MISUSE);
        expect(guest.misuse).not.toEqual(node.misuse);
      } else {
        expect(guest.misuse).toEqual(node.misuse);
      }
    }), SLOW_CASE_LIMIT_MS);

  it('nodejs22.x: none of it (Node 22\'s V8 has none), Symbol.dispose and Symbol.asyncDispose stay', () =>
    withRuntime(async ({ rt }) => {
      const probe = `export const handler = async () => [typeof DisposableStack, typeof AsyncDisposableStack, typeof SuppressedError,
        typeof [][Symbol.iterator]()[Symbol.dispose], typeof (async function* () {})()[Symbol.asyncDispose], typeof Symbol.dispose, typeof Symbol.asyncDispose,
        'DisposableStack' in globalThis];`;
      const result = await deployAndInvoke(rt, probe, {}, { runtime: 'nodejs22.x' });
      expect(result.payload).toEqual(['undefined', 'undefined', 'undefined', 'undefined', 'undefined', 'symbol', 'symbol', false]);
    }), SLOW_CASE_LIMIT_MS);
});
