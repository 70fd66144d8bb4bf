/**
 * Intl.Segmenter for the guest (FormatJS's polyfill: UAX #29 grapheme, word and sentence breaks):
 * loaded by intl-install.ts on the first read of Intl.Segmenter. Node has it from ICU; string-width
 * 7+ constructs one when it is imported. Needs the `intl` chunk loaded first.
 *
 * The polyfill's class is wrapped so that what Node checks first reads in V8's words: a call without
 * `new` ("Constructor Intl.Segmenter requires 'new'") and a granularity outside the three ("Value
 * line out of range for Intl.Segmenter options property granularity"), and the constructor is named
 * `Segmenter` (the bundle renames the polyfill's class). Left as the polyfill has them: its
 * prototype's extra `breaksAt` (its segment iterators call it), and sentence breaks without ICU's
 * abbreviation suppressions ("Mr. Smith" is one sentence here, two in Node).
 */
import '@formatjs/intl-segmenter/polyfill-force.js';

type SegmenterClass = typeof Intl.Segmenter;
const intl = (globalThis as unknown as { Intl: { Segmenter: SegmenterClass } }).Intl;
const Polyfill = intl.Segmenter;
const GRANULARITIES = ['grapheme', 'word', 'sentence'];

function Segmenter(this: unknown, ...args: unknown[]): Intl.Segmenter {
  const [locales, options] = args;
  if (new.target === undefined) throw new TypeError("Constructor Intl.Segmenter requires 'new'");
  const granularity = typeof options === 'object' && options !== null ? (options as { granularity?: unknown }).granularity : undefined;
  // ToString, as the spec's GetOption does (an object's own toString included).
  // eslint-disable-next-line @typescript-eslint/no-base-to-string -- the spec's ToString of any value
  const text = granularity === undefined ? undefined : String(granularity);
  if (text !== undefined && !GRANULARITIES.includes(text)) {
    throw new RangeError(`Value ${text} out of range for Intl.Segmenter options property granularity`);
  }
  return Reflect.construct(Polyfill, [locales, options], new.target) as Intl.Segmenter;
}
Object.defineProperty(Segmenter, 'name', { value: 'Segmenter' });
Object.defineProperty(Segmenter, 'prototype', { value: Polyfill.prototype, writable: false });
Object.defineProperty(Polyfill.prototype, 'constructor', { value: Segmenter, writable: true, configurable: true, enumerable: false });
Object.defineProperty(Segmenter, 'supportedLocalesOf', {
  value: { supportedLocalesOf: (...args: Parameters<SegmenterClass['supportedLocalesOf']>) => Polyfill.supportedLocalesOf(...args) }.supportedLocalesOf,
  writable: true,
  configurable: true,
  enumerable: false,
});
intl.Segmenter = Segmenter as unknown as SegmenterClass;
