/**
 * node:diagnostics_channel, after Node's lib/diagnostics_channel.js (channels by name, subscribe /
 * unsubscribe, bindStore / runStores, and tracingChannel with traceSync / tracePromise /
 * traceCallback), which undici, pino and the AWS SDK's tracing look for at load time. No port
 * of this module exists outside Node, and it is a publish/subscribe registry of ~150 lines.
 */
type Subscriber = (message: unknown, name: string | symbol) => void;
interface StoreLike {
  run<R>(store: unknown, fn: () => R): R;
}

const channels = new Map<string | symbol, Channel>();

function invalidName(name: unknown): TypeError {
  const error = new TypeError(`The "channel" argument must be one of type string or symbol. Received ${typeof name}`) as TypeError & { code: string };
  error.code = 'ERR_INVALID_ARG_TYPE';
  return error;
}

export class Channel {
  readonly name: string | symbol;
  #subscribers: Subscriber[] = [];
  #stores = new Map<StoreLike, ((message: unknown) => unknown) | undefined>();

  constructor(name: string | symbol) {
    this.name = name;
  }

  get hasSubscribers(): boolean {
    return this.#subscribers.length > 0 || this.#stores.size > 0;
  }

  subscribe(subscription: Subscriber): void {
    this.#subscribers = [...this.#subscribers, subscription];
  }

  unsubscribe(subscription: Subscriber): boolean {
    const index = this.#subscribers.indexOf(subscription);
    if (index < 0) return false;
    this.#subscribers = this.#subscribers.filter((_, i) => i !== index);
    return true;
  }

  bindStore(store: StoreLike, transform?: (message: unknown) => unknown): void {
    this.#stores.set(store, transform);
  }

  unbindStore(store: StoreLike): boolean {
    return this.#stores.delete(store);
  }

  publish(message: unknown): void {
    for (const subscriber of this.#subscribers) {
      try {
        subscriber(message, this.name);
      } catch (error) {
        // Node reports a subscriber's throw as an uncaught exception, on the next tick.
        globalThis.process.nextTick(() => {
          throw error;
        });
      }
    }
  }

  runStores<R>(message: unknown, fn: (...args: unknown[]) => R, thisArg?: unknown, ...args: unknown[]): R {
    let run = (): R => {
      this.publish(message);
      return fn.apply(thisArg, args);
    };
    for (const [store, transform] of this.#stores) {
      const inner = run;
      run = () => store.run(transform ? transform(message) : message, inner);
    }
    return run();
  }
}

function channel(name: string | symbol): Channel {
  if (typeof name !== 'string' && typeof name !== 'symbol') throw invalidName(name);
  let existing = channels.get(name);
  if (!existing) {
    existing = new Channel(name);
    channels.set(name, existing);
  }
  return existing;
}

const EVENTS = ['start', 'end', 'asyncStart', 'asyncEnd', 'error'] as const;
type TraceEvent = (typeof EVENTS)[number];
type Handlers = Partial<Record<TraceEvent, Subscriber>>;

export class TracingChannel {
  readonly start: Channel;
  readonly end: Channel;
  readonly asyncStart: Channel;
  readonly asyncEnd: Channel;
  readonly error: Channel;

  constructor(nameOrChannels: string | Record<TraceEvent, Channel>) {
    const make = (event: TraceEvent): Channel =>
      typeof nameOrChannels === 'string' ? channel(`tracing:${nameOrChannels}:${event}`) : nameOrChannels[event];
    this.start = make('start');
    this.end = make('end');
    this.asyncStart = make('asyncStart');
    this.asyncEnd = make('asyncEnd');
    this.error = make('error');
  }

  get hasSubscribers(): boolean {
    return EVENTS.some((event) => this[event].hasSubscribers);
  }

  subscribe(handlers: Handlers): void {
    for (const event of EVENTS) if (handlers[event]) this[event].subscribe(handlers[event]);
  }

  unsubscribe(handlers: Handlers): boolean {
    let done = true;
    for (const event of EVENTS) if (handlers[event] && !this[event].unsubscribe(handlers[event])) done = false;
    return done;
  }

  traceSync<R>(fn: (...args: unknown[]) => R, context: Record<string, unknown> = {}, thisArg?: unknown, ...args: unknown[]): R {
    if (!this.hasSubscribers) return fn.apply(thisArg, args);
    return this.start.runStores(context, () => {
      try {
        const result = fn.apply(thisArg, args);
        context.result = result;
        return result;
      } catch (err) {
        context.error = err;
        this.error.publish(context);
        throw err;
      } finally {
        this.end.publish(context);
      }
    });
  }

  tracePromise<R>(fn: (...args: unknown[]) => Promise<R>, context: Record<string, unknown> = {}, thisArg?: unknown, ...args: unknown[]): Promise<R> {
    if (!this.hasSubscribers) return fn.apply(thisArg, args);
    const resolve = (result: R): R => {
      context.result = result;
      this.asyncStart.publish(context);
      this.asyncEnd.publish(context);
      return result;
    };
    const reject = (err: unknown): never => {
      context.error = err;
      this.error.publish(context);
      this.asyncStart.publish(context);
      this.asyncEnd.publish(context);
      throw err;
    };
    return this.start.runStores(context, () => {
      try {
        return Promise.resolve(fn.apply(thisArg, args)).then(resolve, reject);
      } catch (err) {
        context.error = err;
        this.error.publish(context);
        throw err;
      } finally {
        this.end.publish(context);
      }
    });
  }

  traceCallback<R>(fn: (...args: unknown[]) => R, position = -1, context: Record<string, unknown> = {}, thisArg?: unknown, ...args: unknown[]): R {
    if (!this.hasSubscribers) return fn.apply(thisArg, args);
    const at = position < 0 ? args.length + position : position;
    const callback = args[at] as (err: unknown, result?: unknown) => unknown;
    if (typeof callback !== 'function') {
      const error = new TypeError('The "callback" argument must be of type function.') as TypeError & { code: string };
      error.code = 'ERR_INVALID_ARG_TYPE';
      throw error;
    }
    const wrapped = (err: unknown, result?: unknown): unknown => {
      if (err) {
        context.error = err;
        this.error.publish(context);
      } else {
        context.result = result;
      }
      return this.asyncStart.runStores(context, () => {
        try {
          return callback.call(thisArg, err, result);
        } finally {
          this.asyncEnd.publish(context);
        }
      });
    };
    const patched = [...args];
    patched[at] = wrapped;
    return this.start.runStores(context, () => {
      try {
        return fn.apply(thisArg, patched);
      } catch (err) {
        context.error = err;
        this.error.publish(context);
        throw err;
      } finally {
        this.end.publish(context);
      }
    });
  }
}

export const diagnosticsChannel = {
  channel,
  hasSubscribers: (name: string | symbol): boolean => channels.get(name)?.hasSubscribers ?? false,
  subscribe: (name: string | symbol, subscription: Subscriber): void => channel(name).subscribe(subscription),
  unsubscribe: (name: string | symbol, subscription: Subscriber): boolean => channel(name).unsubscribe(subscription),
  tracingChannel: (nameOrChannels: string | Record<TraceEvent, Channel>) => new TracingChannel(nameOrChannels),
  Channel,
};
