/**
 * Build-time changes to FormatJS's Intl polyfills for the guest's `intl` chunk (guest/stdlib/intl.ts),
 * made once when the standard library is bundled so QuickJS pays nothing for them at run time:
 *
 * - The DateTimeFormat locale data reads as Node 24's ICU formats it: a plain space before AM/PM,
 *   not CLDR 42+'s U+202F (V8's web-compatibility revert, ICU-22421 / crbug 1414292), and a date
 *   joined to its time as this Node's ICU joins them in that locale (" at " after a long English
 *   date: CLDR's atTime patterns, which ICU's pattern generator uses; FormatJS's `dateTimeFormat`
 *   and its pre-joined skeleton `formats` say ", ").
 * - One locale matcher for every polyfill, matching a locale only to data of its own language
 *   (stdlib/intl.ts loads locale data per locale: see the plugin below).
 * - Speed fixes, same results: findIntervalFormat re-parsed and compared all ~730 interval
 *   skeletons for each of ~760 format skeletons (a first `new Intl.DateTimeFormat()` took over a
 *   second on QuickJS): it now looks them up in an index built once. The tz database (~600 zones) was unpacked whole when loaded:
 *   each zone is now unpacked on first use. A locale's ~760 format skeletons were each parsed whole
 *   (pattern, 12-hour pattern, interval patterns) on the first DateTimeFormat, though the format
 *   matcher reads only each skeleton's fields and one format's patterns: the patterns are now
 *   parsed when first read (FORMATS_PARSE below: a first toLocaleString ~0.44 → ~0.27 CPU-s), and
 *   the interval index is filled only as far as a lookup needs, from each skeleton's fields alone
 *   (loading the chunk itself built it whole for en and en-GB: ~0.07 CPU-s).
 *
 * Each patch checks that the text it replaces is still there, so an upgrade that changes it fails
 * the build instead of silently losing the patch.
 */
import { readFile } from 'node:fs/promises';
import { dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Plugin } from 'esbuild';

/**
 * How ICU (this Node's) joins a date of `length` to a time in `locale`, as a CLDR pattern of {1} (the
 * date) and {0} (the time): "{1} 'at' {0}" in English, "{1} 'um' {0}" in German, "{1}, {0}" in
 * Spanish, "'lúc' {0} {1}" in Vietnamese (for full and long dates these are CLDR's atTime patterns,
 * which ICU's pattern generator uses; FormatJS's data has only the plain `dateTimeFormat`).
 * Undefined when ICU's output does not read as the date and the time with literals around them.
 */
export function icuDateTimePattern(locale: string, length: 'full' | 'long' | 'medium' | 'short'): string | undefined {
  const date = new Date(Date.UTC(2024, 2, 10, 6, 59, 30));
  const format = (options: Intl.DateTimeFormatOptions): string => new Intl.DateTimeFormat(locale, { timeZone: 'UTC', ...options }).format(date);
  const dateOnly = format({ dateStyle: length });
  const timeOnly = format({ timeStyle: 'short' });
  const both = format({ dateStyle: length, timeStyle: 'short' });
  const at = both.indexOf(dateOnly);
  const to = both.indexOf(timeOnly);
  if (at < 0 || to < 0 || both.indexOf(dateOnly, at + 1) >= 0 || both.indexOf(timeOnly, to + 1) >= 0) return undefined;
  const [first, second] = at < to ? [{ at, text: dateOnly, field: '{1}' }, { at: to, text: timeOnly, field: '{0}' }] : [{ at: to, text: timeOnly, field: '{0}' }, { at, text: dateOnly, field: '{1}' }];
  if (first.at + first.text.length > second.at) return undefined;
  return quoted(both.slice(0, first.at)) + first.field + quoted(both.slice(first.at + first.text.length, second.at)) + second.field + quoted(both.slice(second.at + second.text.length));
}

/** `text` as literal text in a CLDR pattern: its ASCII letters quoted, its apostrophes doubled. */
function quoted(text: string): string {
  return text.replace(/'/g, "''").replace(/\p{L}*[A-Za-z]\p{L}*/gu, (word) => `'${word}'`);
}

/**
 * A pre-joined date-and-time format of FormatJS's data (skeleton "yMd Hm" → "dd/MM/y HH:mm": the
 * date skeleton's own pattern, a space or a comma, a time) joined as ICU's pattern generator joins
 * that date to a time: with the date-time pattern of the date's length (a 4-letter month with a
 * weekday full, without long, 3 letters medium, else short: ICU's rule), here "{1}, {0}" →
 * "dd/MM/y, HH:mm". Left as it is when it does not read as date, separator, time.
 */
function rejoin(skeleton: string, pattern: string, formats: Readonly<Record<string, string>>, joiners: Joiners): string {
  const parts = /^([A-Za-z]+)(?:, |\u060c | )(.+)$/.exec(skeleton);
  if (!parts || /[hHkKjJCmsaBb]/.test(parts[1]!)) return pattern;
  const date = parts[1]!;
  const datePattern = formats[date];
  if (typeof datePattern !== 'string') return pattern;
  // FormatJS joins with a comma (Latin, or Arabic's) and a space, or a space.
  const separator = [', ', '\u060c ', ' '].find((sep) => pattern.startsWith(`${datePattern}${sep}`));
  if (separator === undefined) return pattern;
  const time = pattern.slice(datePattern.length + separator.length);
  const unquoted = time.replace(/'[^']*'/g, '');
  // A time starts with its first field (not with a joiner already put in: "'at' h:mm a").
  if (!/^[hHkKaBb]/.test(time) || !/[hHkK]/.test(unquoted) || /[GyYuUrQqMLlwWdDFgEec]/.test(unquoted)) return pattern;
  const month = /M+|L+/.exec(date)?.[0].length ?? 0;
  const length = month === 4 ? (/E/.test(date) ? 'full' : 'long') : month === 3 ? 'medium' : 'short';
  const joiner = joiners[length];
  if (joiner === undefined) return pattern;
  return joiner.replace('{1}', () => datePattern).replace('{0}', () => time);
}

interface StyleData {
  formats: Record<string, Record<string, string>>;
  dateFormat: Record<string, string>;
  timeFormat: Record<string, string>;
}

/**
 * FormatJS's formats keyed by a date style's pattern and a time style's, joined with a space or a
 * comma ("dd/MM/y HH:mm:ss", what Date#toLocaleString's default matches): joined as ICU joins a date
 * of that style to a time ("{1}, {0}" in Portuguese: "dd/MM/y, HH:mm:ss").
 */
function rejoinStyles(data: StyleData, joiners: Joiners): void {
  const times = new Set(Object.values(data.timeFormat));
  for (const formats of Object.values(data.formats)) {
    const original = { ...formats };
    for (const [key, pattern] of Object.entries(original)) {
      const rejoined = rejoin(key, pattern, original, joiners);
      if (rejoined !== pattern) {
        formats[key] = rejoined;
        continue;
      }
      const text = key.replace(/\u202f/g, ' ');
      if (pattern !== text) continue;
      for (const length of ['full', 'long', 'medium', 'short'] as const) {
        const date = data.dateFormat[length];
        const joiner = joiners[length];
        if (date === undefined || joiner === undefined) continue;
        const separator = text.startsWith(`${date}, `) ? ', ' : text.startsWith(`${date} `) ? ' ' : undefined;
        const time = separator === undefined ? undefined : text.slice(date.length + separator.length);
        if (time === undefined || !times.has(time)) continue;
        formats[key] = joiner.replace('{1}', () => date).replace('{0}', () => time);
        break;
      }
    }
  }
}

/** "EEEE, MMMM d, y, h:mm a" → "EEEE, MMMM d, y 'at' h:mm a": a long-month date joined to a time (pattern-like keys). */
function atTime(pattern: string, joiner: string): string {
  if (!/MMMM|LLLL/.test(pattern) || /MMMMM|LLLLL/.test(pattern)) return pattern;
  let inQuote = false;
  for (let i = 0; i < pattern.length; i++) {
    const ch = pattern[i]!;
    if (ch === "'") inQuote = !inQuote;
    if (inQuote || !'hHkK'.includes(ch)) continue;
    return pattern.slice(0, i).endsWith(', ') ? `${pattern.slice(0, i - 2)}${joiner}${pattern.slice(i)}` : pattern;
  }
  return pattern;
}

/**
 * The locale data as ICU in Node 24 formats it (see above); `joiners`: how ICU joins a date of each
 * length to a time in this locale ({@link icuDateTimePattern}).
 */
type Joiners = Partial<Record<'full' | 'long' | 'medium' | 'short', string>>;
export function asIcu(value: unknown, path: readonly string[] = [], joiners: Joiners = { full: "{1} 'at' {0}", long: "{1} 'at' {0}" }): unknown {
  if (typeof value === 'string') {
    const text = value.replace(/\u202f/g, ' ');
    // data.formats.<calendar>.<skeleton> → a pattern
    if (path[path.length - 3] !== 'formats') return text;
    const joiner = /^\{1\}(.*)\{0\}$/.exec(joiners.long ?? '')?.[1];
    return joiner === undefined || joiner === ', ' ? text : atTime(text, joiner);
  }
  if (Array.isArray(value)) return value.map((item) => asIcu(item, path, joiners));
  if (typeof value !== 'object' || value === null) return value;
  const out: Record<string, unknown> = {};
  for (const [key, item] of Object.entries(value)) out[key] = asIcu(item, [...path, key], joiners);
  if (typeof out.formats === 'object' && out.formats !== null && typeof out.dateFormat === 'object' && typeof out.timeFormat === 'object') {
    rejoinStyles(out as unknown as StyleData, joiners);
  }
  if (path[path.length - 1] === 'dateTimeFormat') {
    for (const length of ['full', 'long', 'medium', 'short'] as const) {
      const pattern = joiners[length];
      if (pattern !== undefined && typeof out[length] === 'string' && out[length].includes('{0}') && out[length].includes('{1}')) out[length] = pattern;
    }
  }
  return out;
}

/** The date-time patterns of {@link asIcu} for `locale`, from this Node's ICU. */
export function icuJoiners(locale: string): Joiners {
  const out: Joiners = {};
  for (const length of ['full', 'long', 'medium', 'short'] as const) {
    const pattern = icuDateTimePattern(locale, length);
    if (pattern !== undefined) out[length] = pattern;
  }
  return out;
}

function replaceOnce(source: string, from: string, to: string, file: string): string {
  if (!source.includes(from)) throw new Error(`${file} changed: re-check lambdalet's patch of ${JSON.stringify(from.slice(0, 60))}`);
  return source.replace(from, to);
}

const UNPACK = `function unpack(data) {
	const abbrvs = data.abbrvs.split("|");
	const offsets = data.offsets.split("|").map((n) => parseInt(n, 36));
	const packedZones = data.zones;
	const zones = {};
	for (const d of packedZones) {
		const [zone, ...zoneData] = d.split("|");
		zones[zone] = zoneData.map((z) => z.split(",")).map(([ts, abbrvIndex, offsetIndex, dst]) => [
			ts === "" ? -Infinity : parseInt(ts, 36),
			abbrvs[+abbrvIndex],
			offsets[+offsetIndex],
			dst === "1"
		]);
	}
	return zones;
}`;

const LAZY_UNPACK = `function unpack(data) {
	const abbrvs = data.abbrvs.split("|");
	const offsets = data.offsets.split("|").map((n) => parseInt(n, 36));
	const zones = {};
	for (const d of data.zones) {
		const bar = d.indexOf("|");
		const zone = bar < 0 ? d : d.slice(0, bar);
		Object.defineProperty(zones, zone, { enumerable: true, configurable: true, get() {
			const value = d.split("|").slice(1).map((z) => z.split(",")).map(([ts, abbrvIndex, offsetIndex, dst]) => [
				ts === "" ? -Infinity : parseInt(ts, 36),
				abbrvs[+abbrvIndex],
				offsets[+offsetIndex],
				dst === "1"
			]);
			Object.defineProperty(zones, zone, { value, enumerable: true, configurable: true, writable: true });
			return value;
		} });
	}
	return zones;
}`;

const FIND_INTERVAL_LOOP = `	for (const key of Object.keys(intervalFormats)) {
		if (typeof intervalFormats[key] !== "object") continue;
		const candidate = parseDateTimeSkeleton(key);
		const numericMonth = (month) => month === "numeric" || month === "2-digit";
		if (numericMonth(target.month) !== numericMonth(candidate.month)) continue;
		if (DATE_TIME_PROPS.every((field) => target[field] !== void 0 === (candidate[field] !== void 0))) return intervalFormats[key];
	}`;

const FIND_INTERVAL_INDEXED = `	// lambdalet: the first interval skeleton with the target's signature, from an index filled once
	// per data set, as far as a lookup needs (the original re-parsed and compared every interval
	// skeleton for every call). A skeleton's signature needs only its own fields, not its pattern.
	let index = INTERVAL_INDEX.get(intervalFormats);
	if (!index) {
		index = { bySignature: new Map(), keys: Object.keys(intervalFormats), next: 0 };
		INTERVAL_INDEX.set(intervalFormats, index);
	}
	const wanted = intervalSignature(target);
	if (index.bySignature.has(wanted)) return index.bySignature.get(wanted);
	while (index.next < index.keys.length) {
		const key = index.keys[index.next++];
		if (typeof intervalFormats[key] !== "object") continue;
		const signature = intervalSignature(skeletonFields(key));
		if (index.bySignature.has(signature)) continue;
		index.bySignature.set(signature, intervalFormats[key]);
		if (signature === wanted) return intervalFormats[key];
	}
	return void 0;`;

const FIND_INTERVAL_TARGET = `	const target = parseDateTimeSkeleton(skeleton);
	if (target.hour || target.minute || target.second || target.dayPeriod || target.timeZoneName) return void 0;`;

const FIND_INTERVAL_TARGET_FIELDS = `	const target = skeletonFields(skeleton);
	if (target.hour || target.minute || target.second || target.dayPeriod || target.timeZoneName) return void 0;`;

/** Same test as the loop it replaces: numeric month or not, and which fields are present. */
const INTERVAL_HELPERS = `const INTERVAL_INDEX = new WeakMap();
/** The fields parseDateTimeSkeleton(skeleton) sets on its result (from the skeleton alone), without its patterns. */
const skeletonFields = (skeleton) => { const fields = Object.create(null); replaceDateTimeTokens(skeleton, fields); return fields; };
const intervalSignature = (s) => (s.month === "numeric" || s.month === "2-digit" ? "n" : "t") + DATE_TIME_PROPS.map((field) => s[field] !== void 0 ? 1 : 0).join("");`;

const FORMATS_PARSE = `return parsed ??= Object.keys(formats[calendar]).map((skeleton) => parseDateTimeSkeleton(skeleton, formats[calendar][skeleton], calendarIntervals[skeleton] || findIntervalFormat(skeleton, calendarIntervals), calendarIntervals.intervalFormatFallback));`;

const FORMATS_LAZY = `return parsed ??= Object.keys(formats[calendar]).map((skeleton) => lazyDateTimeSkeleton(skeleton, formats[calendar][skeleton], calendarIntervals));`;

/**
 * The same object parseDateTimeSkeleton returns (same keys, same order, same values), with the
 * skeleton's fields (what the format matchers score) set at once and the four pattern properties
 * computed by the original on first read, then data properties. A pattern's fields (what
 * getDateTimePatternFields caches for the original's result) are computed from rawPattern on demand,
 * as that function already does for any other format.
 */
const LAZY_SKELETON = `function lazyDateTimeSkeleton(skeleton, rawPattern, calendarIntervals) {
	const result = Object.create(null);
	let full;
	const settle = (key, value) => Object.defineProperty(result, key, { value, writable: true, enumerable: true, configurable: true });
	const lazy = (key) => Object.defineProperty(result, key, { enumerable: true, configurable: true,
		get() {
			full ??= parseDateTimeSkeleton(skeleton, rawPattern, calendarIntervals[skeleton] || findIntervalFormat(skeleton, calendarIntervals), calendarIntervals.intervalFormatFallback);
			for (const k of LAZY_SKELETON_KEYS) if (Object.getOwnPropertyDescriptor(result, k).get) settle(k, full[k]);
			return result[key];
		},
		set(value) { settle(key, value); }
	});
	lazy("pattern");
	lazy("pattern12");
	result.skeleton = skeleton;
	result.rawPattern = rawPattern;
	lazy("rangePatterns");
	lazy("rangePatterns12");
	replaceDateTimeTokens(skeleton, result);
	return result;
}
const LAZY_SKELETON_KEYS = ["pattern", "pattern12", "rangePatterns", "rangePatterns12"];`;

/**
 * Zone IDs as ICU (so Node) reports them in resolvedOptions(): ICU keeps the older canonical names
 * (Asia/Calcutta for Asia/Kolkata, Europe/Kiev for Europe/Kyiv...) where the tz database moved on.
 * Read from this Node's ICU at build time for every zone FormatJS knows.
 */
async function icuZoneIds(): Promise<Record<string, string>> {
  const source = await readFile(new URL(import.meta.resolve('@formatjs/intl-datetimeformat/add-all-tz.js')), 'utf8');
  const names = new Set([...source.matchAll(/"([A-Za-z_+-]+(?:\/[A-Za-z0-9_+-]+)+|UTC|GMT)\|/g)].map((m) => m[1]!));
  const out: Record<string, string> = {};
  for (const name of names) {
    try {
      const icu = new Intl.DateTimeFormat('en', { timeZone: name }).resolvedOptions().timeZone;
      if (icu !== name) out[name] = icu;
    } catch {
      // a zone this Node's ICU does not know: FormatJS's name stands
    }
  }
  return out;
}

const CROSS_LANGUAGE = 'let result = desired.language === supported.language ? 0 : matchingData.language[languages] ?? matchingData.defaults[0];';
const SAME_LANGUAGE_ONLY = 'if (desired.language !== supported.language) return Infinity;\n\tlet result = 0;';

/** The esbuild plugin that applies the changes above. */
export const formatjsPatches: Plugin = {
  name: 'lambdalet-formatjs',
  setup(b) {
    b.onResolve({ filter: /^lambdalet:icu-zone-ids$/ }, () => ({ path: 'icu-zone-ids', namespace: 'lambdalet-intl' }));
    b.onLoad({ filter: /.*/, namespace: 'lambdalet-intl' }, async () => ({ contents: `export default ${JSON.stringify(await icuZoneIds())};`, loader: 'js' }));
    b.onLoad({ filter: /@formatjs[\\/]intl-datetimeformat[\\/]polyfill-force\.js$/ }, async (args) => {
      let source = await readFile(args.path, 'utf8');
      source = replaceOnce(source, FIND_INTERVAL_TARGET, FIND_INTERVAL_TARGET_FIELDS, args.path);
      source = replaceOnce(source, FIND_INTERVAL_LOOP, FIND_INTERVAL_INDEXED, args.path);
      source = replaceOnce(source, 'function findIntervalFormat(skeleton, intervalFormats) {', `${INTERVAL_HELPERS}\nfunction findIntervalFormat(skeleton, intervalFormats) {`, args.path);
      source = replaceOnce(source, UNPACK, LAZY_UNPACK, args.path);
      source = replaceOnce(source, FORMATS_PARSE, FORMATS_LAZY, args.path);
      source = replaceOnce(source, 'function parseDateTimeSkeleton(skeleton, rawPattern = skeleton, rangePatterns, intervalFormatFallback) {', `${LAZY_SKELETON}\nfunction parseDateTimeSkeleton(skeleton, rawPattern = skeleton, rangePatterns, intervalFormatFallback) {`, args.path);
      return { contents: source, loader: 'js' };
    });
    // Best fit matches a locale only to data of its own language (FormatJS would also take a
    // neighbour's under CLDR's language distances, e.g. Swiss German to German): with the data loaded
    // per locale (stdlib/intl.ts), a neighbour's match would depend on which locales happen to be
    // loaded; a language outside the set falls back to the default, as in a Node built with small-icu.
    // One locale matcher for every polyfill, the newest (ICU's algorithm): intl-relativetimeformat
    // depends on a newer one than the others, and stdlib/intl.ts predicts with it which locale a list
    // resolves to.
    b.onResolve({ filter: /^@formatjs\/intl-localematcher$/ }, async (args) => {
      if ((args.pluginData as { lambdalet?: boolean } | undefined)?.lambdalet) return undefined;
      const from = dirname(fileURLToPath(import.meta.resolve('@formatjs/intl-relativetimeformat/polyfill-force.js')));
      const resolved = await b.resolve(args.path, { kind: 'import-statement', resolveDir: from, pluginData: { lambdalet: true } });
      if (resolved.errors.length > 0) return { errors: resolved.errors };
      return { path: resolved.path };
    });
    b.onLoad({ filter: /@formatjs[\\/]intl-localematcher[\\/]index\.js$/ }, async (args) => {
      const source = await readFile(args.path, 'utf8');
      return { contents: replaceOnce(source, CROSS_LANGUAGE, SAME_LANGUAGE_ONLY, args.path), loader: 'js' };
    });
    b.onLoad({ filter: /@formatjs[\\/]intl-datetimeformat[\\/]locale-data[\\/][^\\/]+\.js$/ }, async (args) => {
      const source = await readFile(args.path, 'utf8');
      const match = /JSON\.parse\(("(?:[^"\\]|\\.)*")\)/.exec(source);
      if (!match) throw new Error(`${args.path} changed: lambdalet expected one JSON.parse("...") of the locale data`);
      const data = JSON.parse(JSON.parse(match[1]!) as string) as { locale?: unknown };
      const locale = typeof data.locale === 'string' ? data.locale : args.path.replace(/^.*[\\/]/, '').replace(/\.js$/, '');
      const patched = JSON.stringify(JSON.stringify(asIcu(data, [], icuJoiners(locale))));
      return { contents: source.replace(match[0], `JSON.parse(${patched})`), loader: 'js' };
    });
  },
};
