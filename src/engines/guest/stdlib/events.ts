/** node:events: the `events` package (Node's EventEmitter, as browserify ships it), plus `on`. */
import EventEmitter from 'events';

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

const eventsModule = EventEmitter as unknown as Record<string, unknown>;
eventsModule.errorMonitor ??= errorMonitor;
eventsModule.on ??= on as unknown;
eventsModule.EventEmitter ??= EventEmitter;
eventsModule.default ??= EventEmitter;

export const events = eventsModule;
