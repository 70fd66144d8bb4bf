/**
 * node:async_hooks. A sandbox has no hook into the engine's promise jobs (Node's
 * AsyncContextFrame is V8 embedder API that neither isolated-vm nor QuickJS exposes), so
 * AsyncLocalStorage keeps its store where a Lambda handler needs it: `run(store, fn)` makes the
 * store current for fn and, when fn returns a promise, until that promise settles. One
 * environment serves one invocation at a time, so a request-scoped store set with `run()` around
 * the handler's work is the one its awaits see. What the guest runtime queues itself carries its
 * frame as Node's async resources do: callbacks of setTimeout, setInterval, setImmediate,
 * process.nextTick and queueMicrotask run in the frame current when they were queued (bridge.ts
 * `inFrame`), and each invocation starts in the empty frame, so no store reaches the next request.
 * Continuations after `await` cannot be told apart: two `run()`s interleaved inside one
 * invocation share the most recent store there, and after them that store stays current until the
 * invocation ends. That is the limit of this approach.
 *
 * createHook() returns a hook whose enable/disable do nothing (no async resources are tracked);
 * AsyncResource runs functions in the store current when it was made.
 */

import { host } from '../bridge.ts';

const EMPTY: Map<AsyncLocalStorage<unknown>, unknown> = new Map();
let current = EMPTY;

function isThenable(value: unknown): value is PromiseLike<unknown> {
  return value !== null && (typeof value === 'object' || typeof value === 'function') && typeof (value as { then?: unknown }).then === 'function';
}

/** Runs fn with `frame` current; a returned promise keeps it current until it settles. */
function runIn<R>(frame: Map<AsyncLocalStorage<unknown>, unknown>, fn: () => R): R {
  const previous = current;
  current = frame;
  let result: R;
  try {
    result = fn();
  } catch (error) {
    current = previous;
    throw error;
  }
  if (isThenable(result)) {
    const restore = (): void => {
      if (current === frame) current = previous;
    };
    result.then(restore, restore);
  } else {
    current = previous;
  }
  return result;
}

export class AsyncLocalStorage<T> {
  #enabled = true;

  static bind<F extends (...args: never[]) => unknown>(fn: F): F {
    return AsyncResource.bind(fn);
  }

  static snapshot(): <R>(fn: (...args: unknown[]) => R, ...args: unknown[]) => R {
    const frame = current;
    return (fn, ...args) => runIn(frame, () => fn(...args));
  }

  getStore(): T | undefined {
    return this.#enabled ? (current.get(this) as T | undefined) : undefined;
  }

  run<R>(store: T, callback: (...args: unknown[]) => R, ...args: unknown[]): R {
    this.#enabled = true;
    const frame = new Map(current);
    frame.set(this, store);
    return runIn(frame, () => callback(...args));
  }

  exit<R>(callback: (...args: unknown[]) => R, ...args: unknown[]): R {
    const frame = new Map(current);
    frame.delete(this);
    return runIn(frame, () => callback(...args));
  }

  enterWith(store: T): void {
    this.#enabled = true;
    const frame = new Map(current);
    frame.set(this, store);
    current = frame;
  }

  disable(): void {
    this.#enabled = false;
    if (current.has(this)) {
      const frame = new Map(current);
      frame.delete(this);
      current = frame;
    }
  }
}

let nextAsyncId = 1;

export class AsyncResource {
  readonly type: string;
  readonly #frame = current;
  readonly #asyncId = ++nextAsyncId;

  constructor(type: string) {
    this.type = type;
  }

  static bind<F extends (...args: never[]) => unknown>(fn: F, type?: string, thisArg?: unknown): F {
    return new AsyncResource(type ?? (fn.name || 'bound-anonymous-fn')).bind(fn, thisArg);
  }

  bind<F extends (...args: never[]) => unknown>(fn: F, thisArg?: unknown): F {
    const run = (self: unknown, args: never[]): unknown => this.runInAsyncScope(fn, thisArg === undefined ? self : thisArg, ...args);
    const bound = function (this: unknown, ...args: never[]) {
      return run(this, args);
    };
    return bound as unknown as F;
  }

  runInAsyncScope<R>(fn: (...args: never[]) => R, thisArg?: unknown, ...args: never[]): R {
    return runIn(this.#frame, () => fn.apply(thisArg, args));
  }

  emitDestroy(): this {
    return this;
  }

  asyncId(): number {
    return this.#asyncId;
  }

  triggerAsyncId(): number {
    return 1;
  }
}

host.asyncContext = {
  capture: () => current,
  runIn: (frame, fn) => {
    const previous = current;
    current = frame as typeof current;
    try {
      return fn();
    } finally {
      current = previous;
    }
  },
  reset: () => {
    current = EMPTY;
  },
};

export const asyncHooks = {
  AsyncLocalStorage,
  AsyncResource,
  createHook: () => ({ enable() { return this; }, disable() { return this; } }),
  executionAsyncId: () => 1,
  triggerAsyncId: () => 0,
  executionAsyncResource: () => ({}),
  asyncWrapProviders: Object.freeze({}),
};
