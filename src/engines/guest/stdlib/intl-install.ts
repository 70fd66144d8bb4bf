/**
 * Installs the guest's `Intl` when the boot stubs (guest/lazy-apis.ts) are first used: the polyfills
 * (the `intl` chunk), Intl.Locale and Intl.Segmenter on first read (the `intl-locale` and `intl-segmenter` chunks), the tz database on the
 * first zone other than UTC (`intl-tz`), a locale's data when a locale list first resolves to it (`intl-data-<tag>`), and String#localeCompare over the collator (the small
 * `intl-collator` chunk, without the rest: sorting strings does not load Intl).
 */
/** The guest's chunk loader (stdlib-loader.ts), handed over by the boot stubs: chunks cannot import it. */
export interface Loader {
  stdlib<T>(name: string): T;
  stdlibLoading(): boolean;
}

type IntlChunk = typeof import('./intl.ts');
type CollatorChunk = typeof import('./intl-collator.ts');

const global = globalThis as unknown as Record<string, unknown>;
let loaded: typeof Intl | undefined;

/** Loads the polyfills once and makes `Intl` a plain global. */
export function installIntl(loader: Loader): typeof Intl {
  if (loaded) return loaded;
  const { stdlib } = loader;
  const chunk = stdlib<IntlChunk>('intl');
  const intl = chunk.Intl;
  loaded = intl;
  Object.defineProperty(global, 'Intl', { value: intl, writable: true, configurable: true, enumerable: false });
  chunk.setTimeZoneLoader(() => stdlib('intl-tz'));
  chunk.setLocaleLoader((tag) => stdlib(`intl-data-${tag}`));
  // Intl.Locale and Intl.Segmenter (each its own chunk) on first read.
  lazyMember(intl, 'Locale', 'intl-locale', loader);
  lazyMember(intl, 'Segmenter', 'intl-segmenter', loader);
  return intl;
}

/**
 * `intl[name]` made by loading `chunk` (a FormatJS polyfill-force module, which assigns it) on its
 * first read; while that chunk, or any other, loads, the member reads as absent, as the polyfills
 * that probe for a native one expect.
 */
function lazyMember(intl: typeof Intl, name: string, chunk: string, { stdlib, stdlibLoading }: Loader): void {
  let loading = false;
  Object.defineProperty(intl, name, {
    configurable: true,
    enumerable: false,
    get() {
      if (loading || stdlibLoading()) return undefined;
      loading = true;
      try {
        stdlib(chunk);
      } finally {
        loading = false;
      }
      return (intl as unknown as Record<string, unknown>)[name];
    },
    set(value: unknown) {
      Object.defineProperty(intl, name, { value, writable: true, configurable: true, enumerable: false });
    },
  });
}

/**
 * What a boot stand-in for `proto[name]` should call: localeCompare gets the collator's (installed
 * in its place); the toLocale* methods get what the polyfills installed.
 */
export function standIn(loader: Loader, proto: object, name: string, stub: unknown): (...args: unknown[]) => unknown {
  const target = proto as Record<string, unknown>;
  if (name === 'localeCompare') {
    const { localeCompare } = loader.stdlib<CollatorChunk>('intl-collator');
    Object.defineProperty(proto, name, { value: localeCompare, writable: true, configurable: true, enumerable: false });
    return localeCompare as (...args: unknown[]) => unknown;
  }
  installIntl(loader);
  const method = target[name];
  if (typeof method !== 'function' || method === stub) throw new TypeError(`${name} is not available`);
  return method as (...args: unknown[]) => unknown;
}
