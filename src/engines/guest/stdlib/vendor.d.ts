// core-js-pure ships no types: each entry exports the one constructor or function it names.
declare module 'core-js-pure/stable/url/index.js' {
  const URL: unknown;
  export default URL;
}
declare module 'core-js-pure/stable/url-search-params/index.js' {
  const URLSearchParams: unknown;
  export default URLSearchParams;
}
declare module 'core-js-pure/stable/structured-clone.js' {
  const structuredClone: <T>(value: T, options?: { transfer?: unknown[] }) => T;
  export default structuredClone;
}
// event-target-shim has types, but its `exports` map does not point at them.
declare module 'event-target-shim' {
  export const Event: typeof globalThis.Event;
  export type Event = globalThis.Event;
  export const EventTarget: typeof globalThis.EventTarget;
  export type EventTarget = globalThis.EventTarget;
}

/** Zone IDs where Node's ICU differs from the tz database (built by engines/guest-intl-build.ts). */
declare module 'lambdalet:icu-zone-ids' {
  const ids: Readonly<Record<string, string>>;
  export default ids;
}
declare module 'core-js-pure/stable/array/from-async.js' {
  const fromAsync: (this: unknown, asyncItems: unknown, mapfn?: unknown, thisArg?: unknown) => Promise<unknown[]>;
  export default fromAsync;
}
/** The locales with a data chunk of their own (engines/guest-intl-locales.ts), 'en' aside. */
declare module 'lambdalet:intl-locales' {
  const tags: readonly string[];
  export default tags;
}
declare module 'core-js-pure/actual/disposable-stack/index.js' {
  const DisposableStack: unknown;
  export default DisposableStack;
}
declare module 'core-js-pure/actual/async-disposable-stack/index.js' {
  const AsyncDisposableStack: unknown;
  export default AsyncDisposableStack;
}
declare module 'core-js-pure/actual/suppressed-error.js' {
  const SuppressedError: unknown;
  export default SuppressedError;
}
