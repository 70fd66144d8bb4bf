/**
 * Intl.Collator and String#localeCompare where the engine has none (QuickJS). No maintained
 * polyfill exists (FormatJS has no Collator), so this is lambdalet's approximation of ICU's root
 * collation for the cases handlers sort by: three levels — base letters (accents and case
 * stripped; whitespace and punctuation before digits before letters), then accents, then case
 * (lowercase first) — with `sensitivity`, `numeric` and `ignorePunctuation`. Scripts beyond Latin
 * compare by code point at the first level.
 */
const MARKS = /[\u0300-\u036f]/g;
/**
 * Combining marks in the order of their secondary weights in the DUCET (allkeys.txt), for the
 * accents of Latin text: acute < grave < breve < circumflex < caron < ring < diaeresis < double
 * acute < tilde < dot above < ... (code point order would put grave first).
 */
const MARK_ORDER = '\u0301\u0300\u0306\u0302\u030c\u030a\u0308\u030b\u0303\u0307\u0328\u0327\u0304';
const markRank = (mark: string): string => {
  const at = MARK_ORDER.indexOf(mark);
  return String.fromCharCode(0x0300 + (at < 0 ? 0x40 + mark.charCodeAt(0) - 0x0300 : at));
};
const PUNCTUATION = /[\s\p{P}\p{S}]/gu;

interface CollatorOptions {
  usage?: 'sort' | 'search';
  sensitivity?: 'base' | 'accent' | 'case' | 'variant';
  numeric?: boolean;
  ignorePunctuation?: boolean;
  caseFirst?: 'upper' | 'lower' | 'false';
}

function charClass(code: number): number {
  const ch = String.fromCodePoint(code);
  if (/[\s\p{P}\p{S}]/u.test(ch)) return 0;
  if (/\p{Nd}/u.test(ch)) return 1;
  return 2;
}

/** Compares two strings at the first level: class, then (numeric) digit runs by value, then code point. */
function comparePrimary(a: string, b: string, numeric: boolean): number {
  let i = 0;
  let j = 0;
  while (i < a.length && j < b.length) {
    if (numeric && /\d/.test(a[i]!) && /\d/.test(b[j]!)) {
      const x = /^\d+/.exec(a.slice(i))![0];
      const y = /^\d+/.exec(b.slice(j))![0];
      const nx = x.replace(/^0+(?=\d)/, '');
      const ny = y.replace(/^0+(?=\d)/, '');
      if (nx.length !== ny.length) return nx.length < ny.length ? -1 : 1;
      if (nx !== ny) return nx < ny ? -1 : 1;
      i += x.length;
      j += y.length;
      continue;
    }
    const ca = a.codePointAt(i)!;
    const cb = b.codePointAt(j)!;
    if (ca !== cb) {
      const classA = charClass(ca);
      const classB = charClass(cb);
      if (classA !== classB) return classA < classB ? -1 : 1;
      return ca < cb ? -1 : 1;
    }
    i += ca > 0xffff ? 2 : 1;
    j += cb > 0xffff ? 2 : 1;
  }
  return i < a.length ? 1 : j < b.length ? -1 : 0;
}

/** Third level: at the first case difference, lowercase sorts first (ICU's default "caseFirst: false" for root). */
function compareCase(a: string, b: string, upperFirst: boolean): number {
  for (let k = 0; k < Math.min(a.length, b.length); k++) {
    const x = a[k]!;
    const y = b[k]!;
    if (x === y) continue;
    const xl = x === x.toLowerCase();
    const yl = y === y.toLowerCase();
    if (xl !== yl) return (xl ? -1 : 1) * (upperFirst ? -1 : 1);
  }
  return 0;
}

export class Collator {
  readonly #options: Required<CollatorOptions> & { locale: string };
  constructor(locales?: string | string[], options: CollatorOptions = {}) {
    const locale = (Array.isArray(locales) ? locales[0] : locales) ?? 'en-US';
    const usage = options.usage ?? 'sort';
    this.#options = {
      locale: typeof Intl !== 'undefined' && Intl.getCanonicalLocales ? (Intl.getCanonicalLocales(locale)[0] ?? 'en-US') : String(locale),
      usage,
      sensitivity: options.sensitivity ?? 'variant',
      numeric: options.numeric === true,
      ignorePunctuation: options.ignorePunctuation === true,
      caseFirst: options.caseFirst ?? 'false',
    };
    // Bound, as ECMA-402's getter returns: `array.sort(collator.compare)` works.
    this.compare = this.compare.bind(this);
  }
  compare(x: unknown, y: unknown): number {
    let a = String(x).normalize('NFD');
    let b = String(y).normalize('NFD');
    const { sensitivity, numeric, ignorePunctuation, caseFirst } = this.#options;
    if (ignorePunctuation) {
      a = a.replace(PUNCTUATION, '');
      b = b.replace(PUNCTUATION, '');
    }
    const primary = comparePrimary(a.replace(MARKS, '').toLowerCase(), b.replace(MARKS, '').toLowerCase(), numeric);
    if (primary !== 0) return primary;
    if (sensitivity === 'accent' || sensitivity === 'variant') {
      const marksA = a.toLowerCase().replace(MARKS, markRank);
      const marksB = b.toLowerCase().replace(MARKS, markRank);
      if (marksA !== marksB) return marksA < marksB ? -1 : 1;
    }
    if (sensitivity === 'case' || sensitivity === 'variant') {
      const byCase = compareCase(a.replace(MARKS, ''), b.replace(MARKS, ''), caseFirst === 'upper');
      if (byCase !== 0) return byCase;
    }
    return 0;
  }
  resolvedOptions(): Record<string, unknown> {
    const { locale, usage, sensitivity, ignorePunctuation, numeric, caseFirst } = this.#options;
    return { locale, usage, sensitivity, ignorePunctuation, collation: 'default', numeric, caseFirst };
  }
  static supportedLocalesOf(locales?: string | string[]): string[] {
    const list = Array.isArray(locales) ? locales : locales === undefined ? [] : [locales];
    return list.filter((l) => /^en\b/i.test(l));
  }
  get [Symbol.toStringTag](): string {
    return 'Intl.Collator';
  }
}

/** String.prototype.localeCompare over the Collator. */
export function localeCompare(this: unknown, that: unknown, locales?: string | string[], options?: CollatorOptions): number {
  return new Collator(locales, options).compare(this, that);
}
