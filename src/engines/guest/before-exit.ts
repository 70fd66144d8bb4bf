/**
 * `process` as an event emitter for the events a handler registers for: listeners are kept, and
 * `beforeExit` is emitted when the guest's event loop empties (the host's `drain`), after the
 * runtime client's own listener, as Node emits it to listeners in registration order and the
 * runtime client registers first (src/index.mjs). Other events are kept but never emitted: a
 * sandbox does not exit, and its rejections and exceptions are the runtime's to report.
 */

type Listener = (...args: unknown[]) => void;

interface Entry {
  readonly fn: Listener;
  readonly once: boolean;
}

export class ProcessEvents {
  readonly #listeners = new Map<string | symbol, Entry[]>();

  add(event: string | symbol, fn: unknown, once: boolean, prepend = false): void {
    if (typeof fn !== 'function') {
      const error = new TypeError(`The "listener" argument must be of type function. Received ${fn === null ? 'null' : typeof fn}`) as TypeError & { code: string };
      error.code = 'ERR_INVALID_ARG_TYPE';
      throw error;
    }
    const list = this.#listeners.get(event) ?? [];
    const entry = { fn: fn as Listener, once };
    if (prepend) list.unshift(entry);
    else list.push(entry);
    this.#listeners.set(event, list);
  }

  remove(event: string | symbol, fn: unknown): void {
    const list = this.#listeners.get(event);
    if (!list) return;
    // Node removes the most recently added matching listener.
    for (let i = list.length - 1; i >= 0; i--) {
      if (list[i]!.fn === fn) {
        list.splice(i, 1);
        return;
      }
    }
  }

  removeAll(event?: string | symbol): void {
    if (event === undefined) this.#listeners.clear();
    else this.#listeners.delete(event);
  }

  listeners(event: string | symbol): Listener[] {
    return (this.#listeners.get(event) ?? []).map((entry) => entry.fn);
  }

  count(event: string | symbol): number {
    return this.#listeners.get(event)?.length ?? 0;
  }

  /** Calls the listeners registered now, in order; returns whether there were any. */
  emit(event: string | symbol, thisArg: unknown, args: readonly unknown[]): boolean {
    const list = this.#listeners.get(event);
    if (!list || list.length === 0) return false;
    for (const entry of [...list]) {
      if (entry.once) this.remove(event, entry.fn);
      entry.fn.apply(thisArg, args as unknown[]);
    }
    return true;
  }
}

/** Gives `process` (the compat layer's object) its listener methods, backed by `events`. */
export function attachProcessEvents(process: Record<string, unknown>, events: ProcessEvents): void {
  type Key = string | symbol;
  Object.assign(process, {
    on(this: unknown, event: Key, listener: unknown) {
      events.add(event, listener, false);
      return this;
    },
    addListener(this: unknown, event: Key, listener: unknown) {
      events.add(event, listener, false);
      return this;
    },
    prependListener(this: unknown, event: Key, listener: unknown) {
      events.add(event, listener, false, true);
      return this;
    },
    once(this: unknown, event: Key, listener: unknown) {
      events.add(event, listener, true);
      return this;
    },
    prependOnceListener(this: unknown, event: Key, listener: unknown) {
      events.add(event, listener, true, true);
      return this;
    },
    off(this: unknown, event: Key, listener: unknown) {
      events.remove(event, listener);
      return this;
    },
    removeListener(this: unknown, event: Key, listener: unknown) {
      events.remove(event, listener);
      return this;
    },
    removeAllListeners(this: unknown, event?: Key) {
      events.removeAll(event);
      return this;
    },
    listeners: (event: Key) => events.listeners(event),
    rawListeners: (event: Key) => events.listeners(event),
    listenerCount: (event: Key) => events.count(event),
    emit(this: unknown, event: Key, ...args: unknown[]) {
      return events.emit(event, this, args);
    },
  });
}
