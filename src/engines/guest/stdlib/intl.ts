/**
 * ECMA-402 `Intl` for engines without it (QuickJS), from FormatJS's polyfills (the ones
 * react-intl ships; CLDR data): getCanonicalLocales, PluralRules, NumberFormat, DateTimeFormat,
 * RelativeTimeFormat, ListFormat, each with the 'en' and
 * 'en-GB' locale data (other locales fall back to 'en'; engines/guest-intl-build.ts aligns the data with ICU and makes it
 * faster to load); their polyfills also replace Number/BigInt/Date#toLocale*String. Collator is
 * lambdalet's (intl-collator.ts): FormatJS has none. The guest loads this chunk only when a handler
 * first touches `Intl` or a toLocale* method (guest/intl.ts); two heavier parts are chunks of their
 * own, loaded later still: every IANA time zone (intl-tz.ts, on the first time zone other than the
 * default UTC) and Intl.Locale (intl-locale.ts, on first read).
 * Import order matters: each polyfill uses the ones before it.
 */
import '@formatjs/intl-getcanonicallocales/polyfill-force.js';
import '@formatjs/intl-pluralrules/polyfill-force.js';
import '@formatjs/intl-pluralrules/locale-data/en.js';
import '@formatjs/intl-numberformat/polyfill-force.js';
import '@formatjs/intl-numberformat/locale-data/en.js';
import '@formatjs/intl-numberformat/locale-data/en-GB.js';
import '@formatjs/intl-datetimeformat/polyfill-force.js';
import '@formatjs/intl-datetimeformat/locale-data/en.js';
import '@formatjs/intl-datetimeformat/locale-data/en-GB.js';
import '@formatjs/intl-relativetimeformat/polyfill-force.js';
import '@formatjs/intl-relativetimeformat/locale-data/en.js';
import '@formatjs/intl-relativetimeformat/locale-data/en-GB.js';
import '@formatjs/intl-listformat/polyfill-force.js';
import '@formatjs/intl-listformat/locale-data/en.js';
import '@formatjs/intl-listformat/locale-data/en-GB.js';
import icuZoneIds from 'lambdalet:icu-zone-ids';
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
    syncTimeZone(args[1]);
    return Reflect.apply(target, thisArg, args) as unknown;
  },
  construct(target, args: unknown[], newTarget) {
    syncTimeZone(args[1]);
    return Reflect.construct(target, args, newTarget === intl.DateTimeFormat ? target : newTarget) as object;
  },
});
// As in V8: an instance's constructor is the global Intl.DateTimeFormat (the proxy, not the polyfill behind it).
Object.defineProperty(NativeDateTimeFormat.prototype, 'constructor', { value: intl.DateTimeFormat, writable: true, configurable: true, enumerable: false });
for (const name of ['toLocaleString', 'toLocaleDateString', 'toLocaleTimeString'] as const) {
  const method = Date.prototype[name];
  Object.defineProperty(Date.prototype, name, {
    value: { [name](this: Date, ...args: unknown[]): string { syncTimeZone(args[1]); return Reflect.apply(method, this, args) as string; } }[name],
    writable: true, configurable: true, enumerable: false,
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
