/** node:timers and node:timers/promises over the guest's own timers. */
import { AbortError, invalidArgType, validateAbortSignal } from './node-errors.ts';

const g = globalThis as unknown as Record<string, (...args: unknown[]) => unknown>;

export const timers = {
  setTimeout: (...a: unknown[]) => g.setTimeout!(...a),
  clearTimeout: (...a: unknown[]) => g.clearTimeout!(...a),
  setInterval: (...a: unknown[]) => g.setInterval!(...a),
  clearInterval: (...a: unknown[]) => g.clearInterval!(...a),
  setImmediate: (...a: unknown[]) => g.setImmediate!(...a),
  clearImmediate: (...a: unknown[]) => g.clearImmediate!(...a),
};

interface TimerOptions {
  readonly signal?: AbortSignal;
  readonly ref?: boolean;
}

interface Handle {
  unref?(): unknown;
}

/** Node's checks on timers/promises' options (lib/timers/promises.js): an object, an AbortSignal, a boolean ref. */
function validated(options: unknown): { signal: AbortSignal | undefined; ref: boolean } {
  if (options === null || typeof options !== 'object') throw invalidArgType('options', 'of type object', options);
  const { signal, ref = true } = options as TimerOptions;
  validateAbortSignal(signal, 'options.signal');
  if (typeof ref !== 'boolean') throw invalidArgType('options.ref', 'of type boolean', ref);
  return { signal, ref };
}

const aborted = (signal: AbortSignal | undefined): AbortError => new AbortError(undefined, { cause: signal?.reason });

/**
 * One timer as a promise: an abort clears it and rejects with Node's AbortError, its cause the
 * signal's reason (Node's cancelListenerHandler); the abort listener goes when the promise settles.
 */
function abortable<T>(start: (resolve: (v: T) => void) => unknown, clear: (h: unknown) => void, options: unknown): Promise<T> {
  let signal: AbortSignal | undefined;
  let ref: boolean;
  try {
    ({ signal, ref } = validated(options));
  } catch (err) {
    // Node returns its validation errors as rejections (a TypeError, never anything else).
    // eslint-disable-next-line @typescript-eslint/prefer-promise-reject-errors
    return Promise.reject(err);
  }
  if (signal?.aborted) return Promise.reject(aborted(signal));
  let onAbort: (() => void) | undefined;
  const promise = new Promise<T>((resolve, reject) => {
    const handle = start(resolve);
    if (!ref) (handle as Handle).unref?.();
    if (signal) {
      onAbort = () => {
        clear(handle);
        reject(aborted(signal));
      };
      signal.addEventListener('abort', onAbort, { once: true });
    }
  });
  return onAbort === undefined ? promise : promise.finally(() => signal!.removeEventListener('abort', onAbort!));
}

/**
 * timers/promises' setInterval, as Node's (lib/timers/promises.js): one interval timer counts the
 * ticks not yet taken, each `next()` takes one (or waits for it), and an abort ends the iteration
 * with AbortError, the signal's reason its cause.
 */
async function* setIntervalPromises<T>(ms?: number, value?: T, options: unknown = {}): AsyncGenerator<T | undefined, void> {
  const { signal, ref } = validated(options);
  if (signal?.aborted) throw aborted(signal);
  let interval: unknown;
  let onAbort: (() => void) | undefined;
  try {
    let notYielded = 0;
    let wake: ((value?: unknown) => void) | undefined;
    interval = g.setInterval!(() => {
      notYielded++;
      wake?.();
      wake = undefined;
    }, ms);
    if (!ref) (interval as Handle).unref?.();
    if (signal) {
      onAbort = () => {
        g.clearInterval!(interval);
        wake?.(Promise.reject(aborted(signal)));
        wake = undefined;
      };
      signal.addEventListener('abort', onAbort, { once: true });
    }
    while (!signal?.aborted) {
      if (notYielded === 0) await new Promise((resolve) => (wake = resolve));
      for (; notYielded > 0; notYielded--) yield value;
    }
    throw aborted(signal);
  } finally {
    g.clearInterval!(interval);
    if (onAbort) signal?.removeEventListener('abort', onAbort);
  }
}

export const timersPromises = {
  setTimeout: <T>(ms?: number, value?: T, options: unknown = {}) =>
    abortable<T>((r) => g.setTimeout!(() => r(value as T), ms), (h) => g.clearTimeout!(h), options),
  setImmediate: <T>(value?: T, options: unknown = {}) =>
    abortable<T>((r) => g.setImmediate!(() => r(value as T)), (h) => g.clearImmediate!(h), options),
  setInterval: setIntervalPromises,
  scheduler: {
    wait: (ms: number, options: unknown = {}) => abortable<void>((r) => g.setTimeout!(r, ms), (h) => g.clearTimeout!(h), options),
    yield: () => new Promise<void>((r) => g.setImmediate!(r)),
  },
};

// node:timers' setTimeout and setImmediate promisify to timers/promises' (Node's lib/timers.js), as the globals do.
for (const name of ['setTimeout', 'setImmediate'] as const) {
  Object.defineProperty(timers[name], Symbol.for('nodejs.util.promisify.custom'), { value: timersPromises[name], enumerable: true, configurable: true });
}
