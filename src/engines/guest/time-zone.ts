/**
 * The function's time zone for the engine's own Intl (V8's), installed at boot so Intl and Date
 * agree whichever the guest uses first. V8 has one ICU zone per process, the host's: before this,
 * the default-zone patch came with the Date chunk (stdlib/date.ts), so a handler whose first act
 * was `new Intl.DateTimeFormat().resolvedOptions().timeZone` got the host's zone (and read it:
 * a host detail leaking into the guest), and formatted in it until something read `Date`.
 *
 * Node re-reads TZ when process.env.TZ is assigned (node src/node_env_var.cc
 * DateTimeConfigurationChangeNotification) and ICU's default zone follows; Lambda sets TZ=':UTC'
 * (docs: "Defined runtime environment variables"). The zone is read from process.env at each
 * construction here, which is the same thing. QuickJS has no native Intl: its polyfill (stdlib/intl.ts)
 * takes the same zone itself, and this leaves a lazily loaded Intl alone.
 */

/** The zone TZ names: ':UTC' and 'UTC' alike; empty or absent is UTC (Lambda's default). */
export function functionTimeZone(): string {
  const raw = String((globalThis as { process?: { env?: Record<string, string | undefined> } }).process?.env?.TZ ?? '');
  return raw.replace(/^:/, '') || 'UTC';
}

/**
 * Intl.DateTimeFormat with the function's zone as its default (dayjs and luxon read it with
 * resolvedOptions()). A zone ICU does not know is read as UTC, as Node's Date reads one (Node's
 * Intl then names no zone at all, `resolvedOptions().timeZone` undefined; formatting is UTC's).
 * An Intl that is not a plain data property of the global (a lazily loaded polyfill) is left alone.
 */
export function installIntlDefaultZone(): void {
  const descriptor = Object.getOwnPropertyDescriptor(globalThis, 'Intl');
  if (!descriptor || !('value' in descriptor) || typeof descriptor.value !== 'object' || descriptor.value === null) return;
  const intl = descriptor.value as typeof Intl;
  const maybe = intl.DateTimeFormat as typeof Intl.DateTimeFormat | undefined;
  if (typeof maybe !== 'function') return;
  const Original = maybe;
  const construct = Reflect.construct;
  function DateTimeFormat(this: unknown, locales?: string | string[], options?: Intl.DateTimeFormatOptions): Intl.DateTimeFormat {
    const target = new.target ?? Original;
    const given = options?.timeZone;
    if (given !== undefined) return construct(Original, [locales, options], target) as Intl.DateTimeFormat;
    const zone = functionTimeZone();
    try {
      return construct(Original, [locales, { ...(options ?? {}), timeZone: zone }], target) as Intl.DateTimeFormat;
    } catch (error) {
      if (!(error instanceof RangeError) || zone === 'UTC') throw error;
      // An unknown TZ: UTC (an options error of the caller's own is thrown again by this call).
      return construct(Original, [locales, { ...(options ?? {}), timeZone: 'UTC' }], target) as Intl.DateTimeFormat;
    }
  }
  Object.defineProperty(DateTimeFormat, 'name', { value: 'DateTimeFormat' });
  Object.defineProperty(DateTimeFormat, 'length', { value: Original.length });
  Object.defineProperty(DateTimeFormat, 'prototype', { value: Original.prototype });
  Object.defineProperty(DateTimeFormat, 'supportedLocalesOf', { value: Original.supportedLocalesOf.bind(Original), writable: true, configurable: true });
  Object.defineProperty(Original.prototype, 'constructor', { value: DateTimeFormat, writable: true, configurable: true, enumerable: false });
  Object.defineProperty(intl, 'DateTimeFormat', { value: DateTimeFormat, writable: true, configurable: true, enumerable: false });
}
