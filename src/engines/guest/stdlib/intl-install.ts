/**
 * Installs the guest's `Intl` when the boot stubs (guest/lazy-apis.ts) are first used: the polyfills
 * (the `intl` chunk), Intl.Locale on first read (the `intl-locale` chunk), the tz database on the
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
  const { stdlib, stdlibLoading } = loader;
  const chunk = stdlib<IntlChunk>('intl');
  const intl = chunk.Intl;
  loaded = intl;
  Object.defineProperty(global, 'Intl', { value: intl, writable: true, configurable: true, enumerable: false });
  chunk.setTimeZoneLoader(() => stdlib('intl-tz'));
  chunk.setLocaleLoader((tag) => stdlib(`intl-data-${tag}`));
  // Intl.Locale (its own chunk) on first read; while that chunk loads, the polyfill finds none.
  let loadingLocale = false;
  Object.defineProperty(intl, 'Locale', {
    configurable: true,
    enumerable: false,
    get() {
      if (loadingLocale || stdlibLoading()) return undefined;
      loadingLocale = true;
      try {
        stdlib('intl-locale');
      } finally {
        loadingLocale = false;
      }
      return (intl as { Locale?: unknown }).Locale;
    },
    set(value: unknown) {
      Object.defineProperty(intl, 'Locale', { value, writable: true, configurable: true, enumerable: false });
    },
  });
  return intl;
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
