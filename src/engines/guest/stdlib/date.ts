/**
 * Local time inside the sandbox is the function's TZ (default UTC, as on Lambda), never the
 * host's: both engines take local time from the host process (V8's one ICU zone per process;
 * emscripten's localtime reads the host's Date), so the guest replaces the local-time half of
 * Date. The instant (Date.now, getTime, the UTC methods, toISOString) stays the engine's; every
 * local field is computed from it with the zone's UTC offset at that instant. Offsets and zone
 * names come from the host's tz database (`tz` host call, strings in and out), cached per
 * 15 minutes of time; a UTC zone needs no call at all. TZ is read again when process.env.TZ
 * changes, as Node does. Installed on the first read of `Date` (globals.ts), so a handler that
 * never touches Date never loads this.
 */
import { hostCall } from '../bridge.ts';
import { functionTimeZone } from '../time-zone.ts';

type DateCtor = DateConstructor;
const MINUTE = 60_000;
const BUCKET = 15 * MINUTE;
const DAYS = ['Sun', 'Mon', 'Tue', 'Wed', 'Thu', 'Fri', 'Sat'];
const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];

interface ZoneInfo {
  /** Minutes east of UTC (the opposite sign of getTimezoneOffset). */
  readonly offset: number;
  readonly name: string;
}

let zone = 'UTC';
const cache = new Map<number, ZoneInfo>();
const UTC_INFO: ZoneInfo = { offset: 0, name: 'Coordinated Universal Time' };

/** The zone TZ names: ':UTC' and 'UTC' alike; empty or absent is UTC (Lambda's default). */
export function readTimeZone(): void {
  zone = functionTimeZone();
  cache.clear();
}

function info(t: number): ZoneInfo {
  if (zone === 'UTC' || zone === 'Etc/UTC' || Number.isNaN(t)) return UTC_INFO;
  const bucket = Math.floor(t / BUCKET);
  let found = cache.get(bucket);
  if (!found) {
    const answer = hostCall('tz', [zone, bucket * BUCKET]).value as ZoneInfo | null;
    // An unknown zone is UTC, as glibc and Node treat it.
    found = answer ?? UTC_INFO;
    if (cache.size > 4096) cache.clear();
    cache.set(bucket, found);
  }
  return found;
}

const HALF_DAY = 12 * 60 * MINUTE;

/**
 * The UTC instant of wall-clock time `wall` (ms, as if UTC) in the zone, disambiguated as V8
 * does (ECMAScript's "compatible"): a time repeated when clocks go back is its earlier instant;
 * a time skipped when they go forward is read with the offset before the change.
 */
function fromWall(wall: number): number {
  if (Number.isNaN(wall)) return NaN;
  const before = info(wall - HALF_DAY).offset;
  const after = info(wall + HALF_DAY).offset;
  const tBefore = wall - before * MINUTE;
  if (before === after) return tBefore;
  const tAfter = wall - after * MINUTE;
  const validBefore = info(tBefore).offset === before;
  const validAfter = info(tAfter).offset === after;
  if (validBefore && validAfter) return Math.min(tBefore, tAfter);
  if (validAfter) return tAfter;
  return tBefore;
}

const pad = (n: number, width = 2): string => String(n).padStart(width, '0');

export function installLocalTime(Original: DateCtor): DateCtor {
  const proto = Original.prototype;
  // The engine's own local getters (the host's zone), before they are replaced below: parse needs them.
  const hostFields = (d: Date): number[] =>
    (['getFullYear', 'getMonth', 'getDate', 'getHours', 'getMinutes', 'getSeconds', 'getMilliseconds'] as const).map((name) => hostGetters[name]!.call(d));
  const hostGetters: Partial<Record<string, (this: Date) => number>> = {};
  for (const name of ['getFullYear', 'getMonth', 'getDate', 'getHours', 'getMinutes', 'getSeconds', 'getMilliseconds']) {
    hostGetters[name] = proto[name as keyof Date] as (this: Date) => number;
  }
  const getTime = Function.prototype.call.bind(proto.getTime) as (d: Date) => number;
  const wallOf = (d: Date): Date => {
    const t = getTime(d);
    return new Original(t + info(t).offset * MINUTE);
  };
  const setLocal = (d: Date, update: (wall: Date) => void): number => {
    const wall = wallOf(d);
    update(wall);
    const t = fromWall(wall.getTime());
    proto.setTime.call(d, t);
    return proto.getTime.call(d);
  };
  const fields = ['FullYear', 'Month', 'Date', 'Day', 'Hours', 'Minutes', 'Seconds', 'Milliseconds'] as const;
  const define = (name: string, value: (this: Date, ...args: never[]) => unknown): void => {
    Object.defineProperty(proto, name, { value, writable: true, configurable: true, enumerable: false });
  };
  for (const field of fields) {
    const utcGetter = proto[`getUTC${field}` as keyof Date] as (this: Date) => number;
    define(`get${field}`, function (this: Date) {
      return utcGetter.call(wallOf(this));
    });
    if (field === 'Day') continue;
    const utcSetter = proto[`setUTC${field}` as keyof Date] as (this: Date, ...args: number[]) => number;
    define(`set${field}`, function (this: Date, ...args: number[]) {
      return setLocal(this, (wall) => utcSetter.apply(wall, args));
    });
  }
  define('getYear', function (this: Date) {
    return this.getFullYear() - 1900;
  });
  define('getTimezoneOffset', function (this: Date) {
    const t = getTime(this);
    return Number.isNaN(t) ? NaN : -info(t).offset;
  });
  const offsetText = (t: number): string => {
    const minutes = info(t).offset;
    const sign = minutes < 0 ? '-' : '+';
    return `GMT${sign}${pad(Math.floor(Math.abs(minutes) / 60))}${pad(Math.abs(minutes) % 60)}`;
  };
  const dateText = (d: Date): string => {
    const w = wallOf(d);
    const year = w.getUTCFullYear();
    const yearText = year < 0 ? `-${pad(-year, 6)}` : pad(year, 4);
    return `${DAYS[w.getUTCDay()]} ${MONTHS[w.getUTCMonth()]} ${pad(w.getUTCDate())} ${yearText}`;
  };
  const timeText = (d: Date): string => {
    const t = getTime(d);
    const w = wallOf(d);
    return `${pad(w.getUTCHours())}:${pad(w.getUTCMinutes())}:${pad(w.getUTCSeconds())} ${offsetText(t)} (${info(t).name})`;
  };
  // V8's formats (Node's): "Thu Jan 01 1970 09:00:00 GMT+0900 (Japan Standard Time)".
  define('toString', function (this: Date) {
    return Number.isNaN(getTime(this)) ? 'Invalid Date' : `${dateText(this)} ${timeText(this)}`;
  });
  define('toDateString', function (this: Date) {
    return Number.isNaN(getTime(this)) ? 'Invalid Date' : dateText(this);
  });
  define('toTimeString', function (this: Date) {
    return Number.isNaN(getTime(this)) ? 'Invalid Date' : timeText(this);
  });
  for (const name of ['toLocaleString', 'toLocaleDateString', 'toLocaleTimeString'] as const) {
    const original = proto[name];
    define(name, function (this: Date, locales?: string | string[], options?: Intl.DateTimeFormatOptions) {
      if (typeof Intl !== 'object') {
        // No Intl (QuickJS): the engine formats in the host's local time, so hand it our wall clock as host-local.
        const w = wallOf(this);
        const hostWall = new Original(w.getUTCFullYear(), w.getUTCMonth(), w.getUTCDate(), w.getUTCHours(), w.getUTCMinutes(), w.getUTCSeconds(), w.getUTCMilliseconds());
        return original.call(hostWall, locales, options);
      }
      return original.call(this, locales, { timeZone: zone, ...(options ?? {}) });
    });
  }

  const parse = (text: string): number => {
    const s = String(text).trim();
    const instant = Original.parse(s);
    if (Number.isNaN(instant)) return NaN;
    // ECMAScript: a date-only ISO form is UTC; a string naming its zone or offset is absolute.
    if (/^[+-]?\d{4,6}(-\d\d(-\d\d)?)?$/.test(s) || /(Z|[+-]\d\d:?\d\d|\bGMT\b|\bUTC\b|\bZ\b)/i.test(s.replace(/^[+-]?\d{4,6}-\d\d-\d\d/, ''))) return instant;
    // Otherwise local: the engine read it in the host's zone; take the wall clock back out and place it in ours.
    const [y, mo, d, h, mi, sec, ms] = hostFields(new Original(instant));
    return fromWall(Original.UTC(y!, mo, d, h, mi, sec, ms));
  };

  function LocalDate(this: unknown, ...args: unknown[]): Date | string {
    if (!new.target) return new (LocalDate as unknown as DateCtor)().toString();
    let date: Date;
    if (args.length === 0) date = new Original();
    else if (args.length === 1) {
      const value = args[0];
      date = typeof value === 'string' ? new Original(parse(value)) : new Original(value as number);
    } else {
      const [y, m, d = 1, h = 0, min = 0, s = 0, ms = 0] = args.map(Number);
      const year = y! >= 0 && y! <= 99 ? 1900 + Math.trunc(y!) : y!;
      date = new Original(fromWall(Original.UTC(year, m, d, h, min, s, ms)));
    }
    if (new.target !== LocalDate) Object.setPrototypeOf(date, (new.target as { prototype: object }).prototype);
    return date;
  }
  Object.defineProperty(LocalDate, 'name', { value: 'Date' });
  Object.defineProperty(LocalDate, 'length', { value: 7 });
  LocalDate.prototype = proto;
  Object.defineProperty(proto, 'constructor', { value: LocalDate, writable: true, configurable: true, enumerable: false });
  Object.assign(LocalDate, { now: Original.now, UTC: Original.UTC, parse });
  for (const key of ['now', 'UTC', 'parse']) Object.defineProperty(LocalDate, key, { enumerable: false });
  readTimeZone();
  // V8's Intl.DateTimeFormat got the function's zone at boot (guest/time-zone.ts).
  return LocalDate as unknown as DateCtor;
}
