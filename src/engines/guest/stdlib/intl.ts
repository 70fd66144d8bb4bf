/**
 * ECMA-402 `Intl` for engines without it (QuickJS), from FormatJS's polyfills (the ones
 * react-intl ships; CLDR data): getCanonicalLocales, PluralRules, NumberFormat, DateTimeFormat,
 * RelativeTimeFormat, ListFormat, each with the 'en' locale data here and every other locale of the
 * set (engines/guest-intl-locales.ts) in a chunk of its own, loaded when a locale list first resolves
 * to it (needLocales below; locales outside the set fall back to 'en', as in a Node built with
 * small-icu); engines/guest-intl-build.ts aligns the data with ICU and makes it faster to load; their polyfills also replace Number/BigInt/Date#toLocale*String. Collator is
 * lambdalet's (intl-collator.ts): FormatJS has none. The guest loads this chunk only when a handler
 * first touches `Intl` or a toLocale* method (guest/intl.ts); three heavier parts are chunks of their
 * own, loaded later still: every IANA time zone (intl-tz.ts, on the first time zone other than the
 * default UTC), Intl.Locale (intl-locale.ts, on first read) and each locale's data (`intl-data-<tag>`,
 * on the first locale list that resolves to it: needLocales below).
 * Import order matters: each polyfill uses the ones before it.
 */
import '@formatjs/intl-getcanonicallocales/polyfill-force.js';
import '@formatjs/intl-pluralrules/polyfill-force.js';
import '@formatjs/intl-pluralrules/locale-data/en.js';
import '@formatjs/intl-numberformat/polyfill-force.js';
import '@formatjs/intl-numberformat/locale-data/en.js';
import '@formatjs/intl-datetimeformat/polyfill-force.js';
import '@formatjs/intl-datetimeformat/locale-data/en.js';
import '@formatjs/intl-relativetimeformat/polyfill-force.js';
import '@formatjs/intl-relativetimeformat/locale-data/en.js';
import '@formatjs/intl-listformat/polyfill-force.js';
import '@formatjs/intl-listformat/locale-data/en.js';
import { match } from '@formatjs/intl-localematcher';
import icuZoneIds from 'lambdalet:icu-zone-ids';
import intlLocales from 'lambdalet:intl-locales';
import { Collator } from './intl-collator.ts';

type DateTimeFormatPolyfill = typeof Intl.DateTimeFormat & { __setDefaultTimeZone(tz: string | undefined): void };

const intl = (globalThis as unknown as { Intl: typeof Intl }).Intl;
Object.defineProperty(intl, 'Collator', { value: Collator, writable: true, configurable: true, enumerable: false });

/**
 * The local time zone Intl formats in: the function's TZ (Lambda runs in UTC; TZ=':UTC' there),
 * never the host's, re-read whenever process.env.TZ changes, as Node does. An unknown zone leaves
 * UTC, as ICU falls back to it.
 */
let appliedTz: string | undefined | null = null;
let tzLoaded = false;
/** Set by the guest (guest/intl.ts): loads the tz database chunk. */
let loadTimeZones: () => void = () => {};
export function setTimeZoneLoader(load: () => void): void {
  loadTimeZones = load;
}

/**
 * Every locale of the set but 'en' has a chunk of its own (engines/guest-intl-locales.ts), loaded
 * before anything resolves a locale list that could resolve to it: the list is matched here, with
 * FormatJS's own matcher, against the whole set (lookup and best fit, as the caller may ask for
 * either), and the chunk of the locale it resolves to is loaded first. The polyfill then resolves the
 * list against the locales loaded so far, and finds the same one: every answer is as with every
 * locale of the set always there. The default, 'en' and 'en-US' resolve to 'en' without a look.
 */
const setLocales: readonly string[] = ['en', ...intlLocales];
const loadedLocales = new Set<string>(['en']);
let loadLocale: (tag: string) => void = () => {};
export function setLocaleLoader(load: (tag: string) => void): void {
  loadLocale = load;
}
function need(tag: string): void {
  if (loadedLocales.has(tag)) return;
  loadedLocales.add(tag);
  loadLocale(tag);
}
/**
 * The canonical tags of a locale list, or undefined for the default, 'en' and 'en-US' (no lookup)
 * and for a list that is not one (the constructor or method it came to throws the same error).
 */
function requestedLocales(locales: unknown): string[] | undefined {
  if (locales === undefined || locales === 'en' || locales === 'en-US') return undefined;
  try {
    return intl.getCanonicalLocales(locales as string[]);
  } catch {
    return undefined;
  }
}
function needLocales(locales: unknown): void {
  const requested = requestedLocales(locales);
  if (requested === undefined || requested.length === 0) return;
  need(match(requested, setLocales, 'en', { algorithm: 'best fit' }));
  need(match(requested, setLocales, 'en', { algorithm: 'lookup' }));
}
/** supportedLocalesOf looks each locale of the list up on its own. */
function needEachLocale(locales: unknown): void {
  for (const tag of requestedLocales(locales) ?? []) need(match([tag], setLocales, 'en', { algorithm: 'lookup' }));
}

/**
 * Plural rules are data of a language (and pt-PT), and ICU resolves a PluralRules locale to that
 * data's locale ('de-DE' → 'de', 'zh-TW' → 'zh'): each requested locale is looked up by truncation
 * in the set's plural data (as ECMA-402's lookup does), and the polyfill is given what it found.
 */
function pluralLocales(locales: unknown): unknown {
  if (locales === 'en-US') return 'en';
  const requested = requestedLocales(locales);
  if (requested === undefined) return locales; // the default, 'en', or a list the polyfill refuses
  return requested.map((tag) => {
    let candidate = tag.replace(/-u-.*$/, '');
    while (candidate !== '') {
      if (candidate === 'en' || pluralData.has(candidate)) {
        need(candidate);
        return candidate;
      }
      const dash = candidate.lastIndexOf('-');
      candidate = dash < 0 ? '' : candidate.slice(0, dash);
    }
    return tag;
  });
}
/** The locales whose chunk has plural rules of their own: each language's base locale, and pt-PT. */
const pluralData = new Set(intlLocales.filter((tag) => !tag.includes('-') || tag === 'pt-PT'));

/** UTC needs no tz data; any other zone (named by an option or by TZ) loads the database once. */
function needZone(zone: unknown): void {
  if (tzLoaded || zone === undefined) return;
  if (typeof zone === 'string' && /^(etc\/)?(utc|gmt)$/i.test(zone)) return;
  tzLoaded = true;
  loadTimeZones();
}

function syncTimeZone(options?: unknown): void {
  if (typeof options === 'object' && options !== null) needZone((options as { timeZone?: unknown }).timeZone);
  const tz = (globalThis as { process?: { env?: Record<string, string | undefined> } }).process?.env?.TZ;
  if (tz === appliedTz) return;
  appliedTz = tz;
  const zone = tz === undefined || tz === '' ? 'UTC' : tz.replace(/^:/, '');
  needZone(zone);
  const dtf = intl.DateTimeFormat as unknown as DateTimeFormatPolyfill;
  try {
    dtf.__setDefaultTimeZone(zone);
  } catch {
    dtf.__setDefaultTimeZone('UTC');
  }
}

// Every way to a default time zone goes through a sync first: Intl.DateTimeFormat (called or
// constructed) and Date's toLocale*String (the polyfill's own, which use its DateTimeFormat).
const NativeDateTimeFormat = intl.DateTimeFormat;
intl.DateTimeFormat = new Proxy(NativeDateTimeFormat, {
  apply(target, thisArg, args: unknown[]) {
    needLocales(args[0]);
    syncTimeZone(args[1]);
    return Reflect.apply(target, thisArg, args) as unknown;
  },
  construct(target, args: unknown[], newTarget) {
    needLocales(args[0]);
    syncTimeZone(args[1]);
    return Reflect.construct(target, args, newTarget === intl.DateTimeFormat ? target : newTarget) as object;
  },
});
// As in V8: an instance's constructor is the global Intl.DateTimeFormat (the proxy, not the polyfill behind it).
Object.defineProperty(NativeDateTimeFormat.prototype, 'constructor', { value: intl.DateTimeFormat, writable: true, configurable: true, enumerable: false });
for (const name of ['toLocaleString', 'toLocaleDateString', 'toLocaleTimeString'] as const) {
  const method = Date.prototype[name];
  Object.defineProperty(Date.prototype, name, {
    value: { [name](this: Date, ...args: unknown[]): string { needLocales(args[0]); syncTimeZone(args[1]); return Reflect.apply(method, this, args) as string; } }[name],
    writable: true, configurable: true, enumerable: false,
  });
}

// The other constructors with locale data, their supportedLocalesOf, and Number/BigInt#toLocaleString
// ask for the locale data first (DateTimeFormat's and Date's above).
for (const name of ['NumberFormat', 'RelativeTimeFormat', 'ListFormat', 'PluralRules'] as const) {
  const Polyfill = intl[name] as unknown as (new (...args: unknown[]) => object) & { prototype: object };
  const plural = name === 'PluralRules';
  const wrapped: typeof Polyfill = new Proxy(Polyfill, {
    apply(target, thisArg, args: unknown[]) {
      needLocales(args[0]);
      return Reflect.apply(target as unknown as (...a: unknown[]) => unknown, thisArg, args);
    },
    construct(target, args: unknown[], newTarget): object {
      if (plural) args = [pluralLocales(args[0]), ...args.slice(1)];
      else needLocales(args[0]);
      return Reflect.construct(target, args, newTarget === wrapped ? target : newTarget) as object;
    },
  });
  (intl as unknown as Record<string, unknown>)[name] = wrapped;
  Object.defineProperty(Polyfill.prototype, 'constructor', { value: wrapped, writable: true, configurable: true, enumerable: false });
}
for (const name of ['NumberFormat', 'DateTimeFormat', 'RelativeTimeFormat', 'ListFormat', 'PluralRules'] as const) {
  const ctor = intl[name] as unknown as { supportedLocalesOf: (...args: unknown[]) => unknown };
  const descriptor = Object.getOwnPropertyDescriptor(ctor, 'supportedLocalesOf')!;
  const original = ctor.supportedLocalesOf;
  Object.defineProperty(ctor, 'supportedLocalesOf', {
    ...descriptor,
    value: new Proxy(original, { apply(target, thisArg, args: unknown[]) { needEachLocale(args[0]); return Reflect.apply(target, thisArg, args); } }),
  });
}
for (const proto of [Number.prototype, BigInt.prototype] as object[]) {
  const method = (proto as { toLocaleString: (...args: unknown[]) => string }).toLocaleString;
  const descriptor = Object.getOwnPropertyDescriptor(proto, 'toLocaleString')!;
  Object.defineProperty(proto, 'toLocaleString', {
    ...descriptor,
    value: new Proxy(method, { apply(target, thisArg, args: unknown[]) { needLocales(args[0]); return Reflect.apply(target, thisArg, args); } }),
  });
}

// resolvedOptions().timeZone names zones as ICU does (Asia/Calcutta, not Asia/Kolkata): see guest-intl-build.ts.
const polyfillResolvedOptions = NativeDateTimeFormat.prototype.resolvedOptions;
Object.defineProperty(NativeDateTimeFormat.prototype, 'resolvedOptions', {
  value: function resolvedOptions(this: Intl.DateTimeFormat): Intl.ResolvedDateTimeFormatOptions {
    const options = Reflect.apply<Intl.DateTimeFormat, [], Intl.ResolvedDateTimeFormatOptions>(polyfillResolvedOptions, this, []);
    const icu = (icuZoneIds as Record<string, string>)[options.timeZone];
    return icu === undefined ? options : { ...options, timeZone: icu };
  },
  writable: true, configurable: true, enumerable: false,
});

export { intl as Intl };
