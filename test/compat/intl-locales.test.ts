/**
 * `Intl` in many locales against plain Node's (full ICU), on every engine: numbers (decimal,
 * currency, percent, compact), dates (styles, with time zones), relative times, lists, plural rules,
 * toLocale*String and supportedLocalesOf. On QuickJS each locale of the set
 * (src/engines/guest-intl-locales.ts) loads its data on first use (stdlib/intl.ts); a locale outside
 * it falls back to the default, as in a Node built with small-icu.
 */
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { INTL_LANGUAGES, INTL_VARIANTS } from '../../src/engines/guest-intl-locales.ts';
import { forEachEngine } from '../helpers/runtime.ts';
import { runInNode } from './node-baseline.ts';

const fixture = fileURLToPath(new URL('./fixtures/intl/locales.cjs', import.meta.url));

/** Locales as handlers pass them: a language with its region (resolved through likely subtags), or a variant of the set. */
const LOCALES = ['de-DE', 'fr-FR', 'en-IN', 'en-GB', 'en-AU', 'ja-JP', 'es-MX', 'es-ES', 'pt-BR', 'pt-PT', 'it-IT', 'nl-NL', 'pl-PL', 'sv-SE',
  'ru-RU', 'ko-KR', 'zh-CN', 'zh-TW', 'ar-EG', 'hi-IN', 'tr-TR', 'de-CH', 'fr-CA', 'he-IL', 'th-TH', 'vi-VN', 'id-ID', 'uk-UA', 'cs-CZ'];

/**
 * Where FormatJS's polyfill (QuickJS) formats differently from ICU (Node, V8): `locale/group/index`.
 * - Date#toLocaleString's default date and time (a numeric date joined to a time from FormatJS's
 *   pre-joined skeletons): another date pattern than ICU's in ja, zh-CN and zh-TW.
 * - vi: a month and day with a time lacks ICU's "lúc" (FormatJS's pre-joined format is time first).
 * - zh-Hant's flexible day periods (清晨, 凌晨: ICU's 'B' in its short time patterns): FormatJS says 上午;
 *   with a long time it writes a 24-hour hour after 下午.
 * - zh-CN's resolvedOptions().locale: 'zh' (ICU: 'zh-CN'); what it formats is the same.
 * - th: ICU's default calendar for Thai is the Buddhist one (2567); FormatJS's is the Gregorian; with
 *   a time from a skeleton FormatJS adds "น.".
 * - Arabic with a time zone name: FormatJS keeps Latin digits in the GMT offset.
 * - he: ICU's list joins "ו-" before a non-Hebrew word; FormatJS "ו".
 * - vi: ICU capitalises a relative day standing alone ("Hôm qua"); FormatJS does not.
 * - id with a long time: FormatJS ends the zone name with a period.
 */
const QUICKJS_MISMATCHES = new Set([
  'ja-JP/toLocale/2', 'zh-CN/toLocale/2', 'vi-VN/date/13', 'ja-JP/date/12', 'zh-CN/date/12', 'zh-TW/date/12', 'zh-TW/date/13', 'zh-TW/toLocale/2', 'zh-TW/toLocale/4',
  'zh-TW/date/4', 'zh-TW/date/5', 'zh-TW/date/6', 'zh-TW/date/7',
  'zh-CN/number/8', 'zh-CN/date/11', 'zh-CN/relative/4', 'zh-CN/list/2',
  ...['0', '1', '2', '3', '6', '7', '8', '10', '12', '13'].map((i) => `th-TH/date/${i}`), 'th-TH/toLocale/2', 'th-TH/toLocale/3', 'th-TH/toLocale/5',
  'ar-EG/date/7', 'he-IL/list/0', 'vi-VN/relative/0', 'id-ID/date/7',
]);

type Table = Record<string, Record<string, unknown[]>>;

const baseline = runInNode(`module.exports = require(${JSON.stringify(fixture)});`, { locales: [...LOCALES, 'gsw-CH', 'en-US'] }) as Promise<Table>;

forEachEngine(({ engine, withRuntime }) => {
  describe('Intl in many locales', () => {
    it("formats numbers, dates, relative times, lists and plurals in each locale as plain Node does", () =>
      withRuntime(async ({ rt }) => {
        await rt.deploy({ name: 'intl-locales', code: { entry: fixture }, handler: 'locales.handler', timeoutMs: 300_000 });
        const result = await rt.invoke('intl-locales', { locales: LOCALES });
        expect(result.functionError, JSON.stringify(result.payload)).toBeUndefined();
        const node = await baseline;
        const got = result.payload as Table;
        let compared = 0;
        for (const locale of LOCALES) {
          for (const [group, values] of Object.entries(node[locale]!)) {
            values.forEach((value, index) => {
              const key = `${locale}/${group}/${index}`;
              if (engine === 'quickjs' && QUICKJS_MISMATCHES.has(key)) {
                expect.soft(got[locale]![group]![index], `${key} now matches Node: take it off QUICKJS_MISMATCHES`).not.toEqual(value);
                return;
              }
              compared++;
              expect.soft(got[locale]![group]![index], key).toEqual(value);
            });
          }
        }
        expect(compared).toBeGreaterThan(LOCALES.length * 45);
      }));

    it('a locale outside the set falls back to the default locale, and supportedLocalesOf leaves it out (QuickJS; V8 has every locale)', () =>
      withRuntime(async ({ rt }) => {
        await rt.deploy({ name: 'intl-outside', code: { entry: fixture }, handler: 'locales.handler', timeoutMs: 300_000 });
        const result = await rt.invoke('intl-outside', { locales: ['gsw-CH', 'en-US'] });
        const got = result.payload as Table;
        const node = await baseline;
        if (engine !== 'quickjs') {
          expect(got['gsw-CH']).toEqual(node['gsw-CH']);
          return;
        }
        // Swiss German is not in the set (German is): it formats as the default does, not as German.
        const outside = got['gsw-CH']!;
        const fallback = got['en-US']!;
        expect(outside.supported).toEqual(['', '', '', '', '']);
        for (const group of ['number', 'date', 'relative', 'list', 'plural', 'toLocale']) {
          // Every value but the resolved locale, which names the default ('en').
          const strip = (values: unknown[]): unknown[] => values.filter((value) => value !== 'en' && value !== 'en-US');
          expect(strip(outside[group]!), group).toEqual(strip(fallback[group]!));
        }
        expect(outside.number![8]).toBe('en');
      }));

    it('each locale at the boundary of the set: every language and variant resolves to itself, one more region of it to the nearest', () =>
      withRuntime(async ({ rt }) => {
        const code = `exports.handler = async (event) => event.tags.map((tag) => [
          new Intl.NumberFormat(tag).resolvedOptions().locale, Intl.DateTimeFormat.supportedLocalesOf([tag]).length, new Intl.NumberFormat(tag).format(-1234.5)]);`;
        await rt.deploy({ name: 'intl-boundary', code: { files: { 'index.js': code } }, timeoutMs: 300_000 });
        const tags = [...INTL_LANGUAGES, ...INTL_VARIANTS];
        const result = await rt.invoke('intl-boundary', { tags });
        expect(result.functionError, JSON.stringify(result.payload)).toBeUndefined();
        const node = (await runInNode(code, { tags })) as [string, number, string][];
        const got = result.payload as [string, number, string][];
        tags.forEach((tag, i) => {
          expect.soft(got[i]![0], `${tag} resolves`).toBe(node[i]![0]);
          expect.soft(got[i]![1], `${tag} is supported`).toBe(1);
          expect.soft(got[i]![2], `${tag} formats`).toBe(node[i]![2]);
        });
      }));
  });
});
