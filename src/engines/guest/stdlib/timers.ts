/** node:timers and node:timers/promises over the guest's own timers. */
const g = globalThis as unknown as Record<string, (...args: unknown[]) => unknown>;

export const timers = {
  setTimeout: (...a: unknown[]) => g.setTimeout!(...a),
  clearTimeout: (...a: unknown[]) => g.clearTimeout!(...a),
  setInterval: (...a: unknown[]) => g.setInterval!(...a),
  clearInterval: (...a: unknown[]) => g.clearInterval!(...a),
  setImmediate: (...a: unknown[]) => g.setImmediate!(...a),
  clearImmediate: (...a: unknown[]) => g.clearImmediate!(...a),
};

interface Signalled {
  readonly signal?: AbortSignal;
}

function abortable<T>(start: (resolve: (v: T) => void) => unknown, clear: (h: unknown) => void, options?: Signalled): Promise<T> {
  const signal = options?.signal;
  if (signal?.aborted) return Promise.reject(signal.reason as Error);
  return new Promise<T>((resolve, reject) => {
    const handle = start(resolve);
    signal?.addEventListener('abort', () => {
      clear(handle);
      reject(signal.reason as Error);
    }, { once: true });
  });
}

export const timersPromises = {
  setTimeout: <T>(ms?: number, value?: T, options?: Signalled) =>
    abortable<T>((r) => g.setTimeout!(() => r(value as T), ms), (h) => g.clearTimeout!(h), options),
  setImmediate: <T>(value?: T, options?: Signalled) =>
    abortable<T>((r) => g.setImmediate!(() => r(value as T)), (h) => g.clearImmediate!(h), options),
  async *setInterval<T>(ms?: number, value?: T) {
    for (;;) {
      await new Promise((r) => g.setTimeout!(r, ms));
      yield value;
    }
  },
  scheduler: {
    wait: (ms: number, options?: Signalled) => abortable<void>((r) => g.setTimeout!(r, ms), (h) => g.clearTimeout!(h), options),
    yield: () => new Promise<void>((r) => g.setImmediate!(r)),
  },
};

// node:timers' setTimeout and setImmediate promisify to timers/promises' (Node's lib/timers.js), as the globals do.
for (const name of ['setTimeout', 'setImmediate'] as const) {
  Object.defineProperty(timers[name], Symbol.for('nodejs.util.promisify.custom'), { value: timersPromises[name], enumerable: true, configurable: true });
}
