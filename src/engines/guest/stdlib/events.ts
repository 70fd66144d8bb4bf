/** node:events: the `events` package (Node's EventEmitter, as browserify ships it), plus `on`, `errorMonitor` and `addAbortListener`. */
import EventEmitter from 'events';
import { nodeError } from '../bridge.ts';
import { AbortError, invalidArgType, validateAbortSignal, validateInteger } from './node-errors.ts';

type Emitter = InstanceType<typeof EventEmitter>;
type Listener = (...args: unknown[]) => unknown;

interface OnOptions {
  readonly signal?: AbortSignal;
  readonly close?: Iterable<string | symbol>;
  readonly highWaterMark?: number;
  readonly highWatermark?: number;
  readonly lowWaterMark?: number;
  readonly lowWatermark?: number;
}

interface Pausable {
  pause?(): unknown;
  resume?(): unknown;
}

/** An emitter's or an EventTarget's listener, and how to take it off again. */
function listen(emitter: unknown, name: string | symbol, listener: Listener): () => void {
  const e = emitter as { on?: unknown; addEventListener?: unknown };
  if (typeof e.on === 'function') {
    (emitter as Emitter).on(name, listener);
    return () => (emitter as Emitter).removeListener(name, listener);
  }
  if (typeof e.addEventListener === 'function') {
    const target = emitter as EventTarget;
    const onEvent = (event: Event): unknown => listener(event);
    target.addEventListener(name as string, onEvent);
    return () => target.removeEventListener(name as string, onEvent);
  }
  throw invalidArgType('emitter', 'an instance of EventEmitter or EventTarget', emitter);
}

/**
 * events.on(emitter, name, options), as Node's (lib/events.js): an async iterator of the event's
 * argument lists. The events already queued are read first; then an 'error' event (or an abort of
 * `signal`, as Node's AbortError with the reason as cause) rejects, once; an event named in `close`
 * ends the iteration. Past `highWaterMark` queued events the emitter is paused, and resumed below
 * `lowWaterMark` (streams' backpressure).
 */
function on(emitter: Emitter, name: string | symbol, options: OnOptions = {}): AsyncIterableIterator<unknown[]> {
  if (options === null || typeof options !== 'object') throw invalidArgType('options', 'of type object', options);
  const { signal, close = [] } = options;
  validateAbortSignal(signal, 'options.signal');
  if (signal?.aborted) throw new AbortError(undefined, { cause: signal.reason });
  const highWaterMark = validateInteger(options.highWaterMark ?? options.highWatermark ?? Number.MAX_SAFE_INTEGER, 'options.highWaterMark', 1);
  const lowWaterMark = validateInteger(options.lowWaterMark ?? options.lowWatermark ?? 1, 'options.lowWaterMark', 1);
  const unconsumed: unknown[][] = [];
  const waiting: { resolve: (r: IteratorResult<unknown[]>) => void; reject: (e: unknown) => void }[] = [];
  let error: unknown = null;
  let finished = false;
  let paused = false;
  const removals: (() => void)[] = [];
  const removeAll = (): void => {
    for (const remove of removals.splice(0)) remove();
  };
  const closeHandler = (): Promise<IteratorResult<unknown[]>> => {
    removeAll();
    finished = true;
    const done: IteratorResult<unknown[]> = { value: undefined, done: true };
    for (const { resolve } of waiting.splice(0)) resolve(done);
    return Promise.resolve(done);
  };
  const errorHandler = (err: unknown): void => {
    const next = waiting.shift();
    if (next) next.reject(err);
    else error = err;
    void closeHandler();
  };
  removals.push(listen(emitter, name, (...args: unknown[]) => {
    const next = waiting.shift();
    if (next) return next.resolve({ value: args, done: false });
    unconsumed.push(args);
    if (!paused && unconsumed.length > highWaterMark) {
      paused = true;
      (emitter as Pausable).pause?.();
    }
  }));
  if (name !== 'error' && typeof (emitter as { on?: unknown }).on === 'function') removals.push(listen(emitter, 'error', errorHandler));
  for (const closeName of close) removals.push(listen(emitter, closeName, () => void closeHandler()));
  if (signal) {
    const onAbort = (): void => errorHandler(new AbortError(undefined, { cause: signal.reason }));
    signal.addEventListener('abort', onAbort, { once: true });
    removals.push(() => signal.removeEventListener('abort', onAbort));
  }
  // Node's throw() feeds the error in and returns nothing: not an AsyncIterator's throw.
  const iterator = {
    next(): Promise<IteratorResult<unknown[]>> {
      const value = unconsumed.shift();
      if (value) {
        if (paused && unconsumed.length < lowWaterMark) {
          (emitter as Pausable).resume?.();
          paused = false;
        }
        return Promise.resolve({ value, done: false });
      }
      if (error !== null) {
        const err = error;
        error = null;
        // Node rejects with whatever the emitter's 'error' event carried.
        // eslint-disable-next-line @typescript-eslint/prefer-promise-reject-errors
        return Promise.reject(err);
      }
      if (finished) return closeHandler();
      return new Promise((resolve, reject) => waiting.push({ resolve, reject }));
    },
    return() {
      return closeHandler();
    },
    throw(err: unknown) {
      if (!(err instanceof Error)) throw invalidArgType('EventEmitter.AsyncIterator', 'an instance of Error', err);
      errorHandler(err);
    },
    [Symbol.asyncIterator]() {
      return iterator;
    },
  };
  return iterator as unknown as AsyncIterableIterator<unknown[]>;
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
  const handler = this._events?.[type];
  // everCaptured: emitters that never asked for captureRejections (streams' many emits) skip the lookup.
  if (handler === undefined || !(everCaptured && (capturing.get(this) ?? captureByDefault))) return emitWithoutMonitor.call(this, type, ...args);
  // captureRejections: each listener's result is kept, so that a rejected promise reaches 'error'.
  for (const listener of typeof handler === 'function' ? [handler as Listener] : [...(handler as Listener[])]) {
    const result = Reflect.apply(listener, this, args);
    if (result !== undefined && result !== null) addCatch(this, result, type, args);
  }
  return true;
};

/**
 * captureRejections (Node 13.4+, https://nodejs.org/docs/latest-v24.x/api/events.html#capture-rejections-of-promises):
 * a listener's rejected promise goes, a tick later, to the emitter's Symbol.for('nodejs.rejection')
 * method if it has one, else to its 'error' event (lib/events.js addCatch /
 * emitUnhandledRejectionOrErr). Without it the rejection is unhandled and fails the invocation.
 * Kept beside the emitter, not on it: the `events` package's emitters have no such field.
 */
const kRejection = Symbol.for('nodejs.rejection');
const capturing = new WeakMap<object, boolean>();
let captureByDefault = false;
let everCaptured = false;

function addCatch(emitter: Emitter, result: unknown, type: string | symbol, args: unknown[]): void {
  try {
    const then = (result as { then?: unknown }).then;
    if (typeof then === 'function') {
      then.call(result, undefined, (err: unknown) => globalThis.process.nextTick(emitRejection, emitter, err, type, args));
    }
  } catch (err) {
    emitter.emit('error', err);
  }
}

function emitRejection(emitter: Emitter, err: unknown, type: string | symbol, args: unknown[]): void {
  const method = (emitter as unknown as Record<symbol, unknown>)[kRejection];
  if (typeof method === 'function') {
    method.call(emitter, err, type, ...args);
    return;
  }
  const own = capturing.get(emitter);
  capturing.set(emitter, false); // an 'error' listener's own rejection is not captured again
  try {
    emitter.emit('error', err);
  } finally {
    if (own === undefined) capturing.delete(emitter);
    else capturing.set(emitter, own);
  }
}

function validateBoolean(value: unknown, name: string): asserts value is boolean {
  if (typeof value !== 'boolean') throw invalidArgType(name, 'of type boolean', value);
}

/**
 * init(options): the `events` package's, plus Node's `captureRejections` option. Its constructor
 * passes no options to init, so node:events exports a constructor of its own that does (same
 * prototype: streams built on the package's constructor are still `instanceof EventEmitter`).
 */
const packageInit = (EventEmitter as unknown as { init: (this: Emitter) => void }).init;
function init(this: Emitter, options?: { captureRejections?: unknown }): void {
  packageInit.call(this);
  if (options?.captureRejections !== undefined) {
    validateBoolean(options.captureRejections, 'options.captureRejections');
    capturing.set(this, options.captureRejections);
    everCaptured ||= options.captureRejections;
  }
}
(EventEmitter as unknown as { init: typeof init }).init = init;
const NodeEventEmitter = function EventEmitter(this: Emitter, options?: { captureRejections?: unknown }): void {
  init.call(this, options);
} as unknown as typeof EventEmitter;
for (const key of Reflect.ownKeys(EventEmitter)) {
  if (key === 'length' || key === 'name' || key === 'prototype') continue;
  Object.defineProperty(NodeEventEmitter, key, Object.getOwnPropertyDescriptor(EventEmitter, key)!);
}
// Node's name (the bundle's minifier drops declared function names): `require('events').name`.
Object.defineProperty(NodeEventEmitter, 'name', { value: 'EventEmitter' });
NodeEventEmitter.prototype = EventEmitter.prototype;
Object.defineProperty(EventEmitter.prototype, 'constructor', { value: NodeEventEmitter, writable: true, configurable: true, enumerable: false });
Object.defineProperties(NodeEventEmitter, {
  captureRejectionSymbol: { value: kRejection, enumerable: true },
  captureRejections: {
    enumerable: true,
    get: () => captureByDefault,
    set: (value: unknown) => {
      validateBoolean(value, 'EventEmitter.captureRejections');
      captureByDefault = value;
      everCaptured ||= value;
    },
  },
});

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

const eventsModule = NodeEventEmitter as unknown as Record<string, unknown>;
eventsModule.addAbortListener ??= addAbortListener;
eventsModule.errorMonitor ??= errorMonitor;
eventsModule.on = on as unknown;
eventsModule.EventEmitter = NodeEventEmitter;
eventsModule.default = NodeEventEmitter;

export const events = eventsModule;
