/**
 * The locales the quickjs engine's `Intl` has data for (FormatJS's CLDR data; V8 has Node's full
 * ICU). All of CLDR is 276 MB of FormatJS files, so the set is chosen: the languages Chrome and
 * Android ship their UI in (what a product's users read, so what its invoices, dates and lists are
 * formatted in), each as its base locale (de, fr, ja: CLDR's default region for the language), plus
 * the regional variants that format differently and that commerce uses (en-GB and en-IN dates and
 * digit grouping, de-CH and fr-CH numbers, es-419 and es-MX, pt-PT, zh-Hant and zh-Hant-HK, ar-*'s
 * digits...). docs/quickjs.md lists it.
 *
 * Every locale's data is its own standard-library chunk, loaded on demand (stdlib/intl.ts); the
 * chunks of a language are stored together brotli-compressed (a regional variant repeats most of its
 * base locale's data: ~10 KB each compressed together, ~0.35 MB each as source) and inflated on the
 * host when one of them is asked for (guest-bundle.ts).
 */
export const INTL_LANGUAGES = [
  'af', 'am', 'ar', 'az', 'be', 'bg', 'bn', 'bs', 'ca', 'cs', 'cy', 'da', 'de', 'el', 'en', 'es', 'et', 'eu', 'fa', 'fi', 'fil',
  'fr', 'ga', 'gl', 'gu', 'he', 'hi', 'hr', 'hu', 'hy', 'id', 'is', 'it', 'ja', 'ka', 'kk', 'km', 'kn', 'ko', 'lt', 'lv', 'mk',
  'ml', 'mn', 'mr', 'ms', 'my', 'nb', 'ne', 'nl', 'nn', 'no', 'pa', 'pl', 'pt', 'ro', 'ru', 'si', 'sk', 'sl', 'sq', 'sr', 'sv',
  'sw', 'ta', 'te', 'th', 'tr', 'uk', 'ur', 'uz', 'vi', 'zh', 'zu',
] as const;

/** Regional (and script) variants in the set, beside each language's base locale. */
export const INTL_VARIANTS = [
  'en-GB', 'en-AU', 'en-CA', 'en-IN', 'en-IE', 'en-NZ', 'en-ZA', 'en-SG', 'en-HK', 'en-PH', 'en-NG', 'en-AE', 'en-001', 'en-150',
  'de-AT', 'de-CH', 'fr-CA', 'fr-CH', 'fr-BE', 'it-CH', 'nl-BE', 'sv-FI', 'pt-PT', 'es-419', 'es-MX', 'es-AR', 'es-CO', 'es-CL', 'es-US',
  'zh-Hant', 'zh-Hant-HK', 'zh-Hans-SG', 'ar-AE', 'ar-EG', 'ar-SA', 'ar-MA', 'sr-Latn', 'ms-SG', 'ru-UA',
] as const;

/** The chunk that holds `tag`'s data, inside the compressed group of its language. */
export function intlDataChunk(tag: string): string {
  return `intl-data-${tag}`;
}

/** At most this many locales of a language are compressed together: inflating English's 14 whole took ~0.1 s. */
const GROUP_SIZE = 4;

/** The compressed group that holds the data chunk of `tag`: `intl-locales-de`, `intl-locales-en-2`... */
export function intlGroupChunk(tag: string): string {
  const language = tag.split('-')[0]!;
  const same = [...INTL_LANGUAGES, ...INTL_VARIANTS].filter((other) => other !== 'en' && other.split('-')[0] === language);
  const index = Math.max(0, same.indexOf(tag as (typeof same)[number]));
  const part = Math.floor(index / GROUP_SIZE);
  return part === 0 ? `intl-locales-${language}` : `intl-locales-${language}-${part + 1}`;
}
