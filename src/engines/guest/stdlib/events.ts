/** node:events: the `events` package (Node's EventEmitter, as browserify ships it), plus `on`, `errorMonitor` and `addAbortListener`. */
import EventEmitter from 'events';
import { nodeError } from '../bridge.ts';

type Emitter = InstanceType<typeof EventEmitter>;

/** events.on(emitter, name): an async iterator of the event's argument lists. */
function on(emitter: Emitter, name: string): AsyncIterableIterator<unknown[]> {
  const queue: unknown[][] = [];
  const waiting: ((r: IteratorResult<unknown[]>) => void)[] = [];
  let error: unknown;
  const push = (...args: unknown[]): void => {
    const next = waiting.shift();
    if (next) next({ value: args, done: false });
    else queue.push(args);
  };
  const fail = (err: unknown): void => {
    error = err;
  };
  emitter.on(name, push);
  if (name !== 'error') emitter.on('error', fail);
  const iterator: AsyncIterableIterator<unknown[]> = {
    next() {
      // Node rejects with whatever the emitter's 'error' event carried.
      // eslint-disable-next-line @typescript-eslint/prefer-promise-reject-errors
      if (error !== undefined) return Promise.reject(error);
      const value = queue.shift();
      if (value) return Promise.resolve({ value, done: false });
      return new Promise((resolve) => waiting.push(resolve));
    },
    return() {
      emitter.off(name, push);
      emitter.off('error', fail);
      return Promise.resolve({ value: undefined, done: true });
    },
    [Symbol.asyncIterator]() {
      return iterator;
    },
  };
  return iterator;
}

/**
 * events.errorMonitor (Node >= 13.6, https://nodejs.org/docs/latest-v24.x/api/events.html#eventserrormonitor):
 * listeners on this symbol see every 'error' before the 'error' listeners do, and do not count as
 * handling it (an emitter with only a monitor still throws). The `events` package predates it, so
 * emit is wrapped once here; Node's own check is the same (lib/events.js, `kErrorMonitor`).
 */
export const errorMonitor: unique symbol = Symbol('events.errorMonitor');
const emitWithoutMonitor = EventEmitter.prototype.emit;
EventEmitter.prototype.emit = function emit(this: Emitter & { _events?: Record<PropertyKey, unknown> }, type: string | symbol, ...args: unknown[]): boolean {
  if (type === 'error' && this._events?.[errorMonitor] !== undefined) emitWithoutMonitor.call(this, errorMonitor, ...args);
  return emitWithoutMonitor.call(this, type, ...args);
};

/** Symbol.dispose (globals.ts defines Node's stand-in where the engine has none). */
const symbolDispose: symbol = (Symbol as { dispose?: symbol }).dispose ?? Symbol.for('nodejs.dispose');

/**
 * events.addAbortListener(signal, listener) (Node 20.5 / 18.18,
 * https://nodejs.org/docs/latest-v24.x/api/events.html#eventsaddabortlistenersignal-listener): the
 * listener once on 'abort' — at once (a microtask) when the signal is aborted already — and a
 * Disposable that removes it. undici's core/util.js destructures it from node:events at load time.
 */
function addAbortListener(signal: AbortSignal | undefined, listener: unknown): object {
  if (signal === undefined) throw nodeError(TypeError, 'ERR_INVALID_ARG_TYPE', 'The "signal" argument must be an instance of AbortSignal. Received undefined');
  if (typeof listener !== 'function') {
    throw nodeError(TypeError, 'ERR_INVALID_ARG_TYPE', `The "listener" argument must be of type function. Received type ${typeof listener} (${String(listener)})`);
  }
  const fn = listener as () => void;
  let remove: (() => void) | undefined;
  if (signal.aborted) {
    queueMicrotask(() => fn());
  } else {
    signal.addEventListener('abort', fn, { once: true });
    remove = () => signal.removeEventListener('abort', fn);
  }
  return {
    __proto__: null,
    [symbolDispose]() {
      remove?.();
    },
  };
}

const eventsModule = EventEmitter as unknown as Record<string, unknown>;
eventsModule.addAbortListener ??= addAbortListener;
eventsModule.errorMonitor ??= errorMonitor;
eventsModule.on ??= on as unknown;
eventsModule.EventEmitter ??= EventEmitter;
eventsModule.default ??= EventEmitter;

export const events = eventsModule;
