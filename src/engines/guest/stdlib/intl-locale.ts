/**
 * Intl.Locale for the guest (FormatJS's polyfill, with its CLDR alias and likely-subtags data):
 * loaded by guest/intl.ts on the first read of Intl.Locale. Needs the `intl` chunk loaded first.
 */
import '@formatjs/intl-locale/polyfill-force.js';
import { NODE_24_LOCALE_MEMBERS } from '../node24-additions.ts';

// nodejs22.x: Node 22's V8 (12.4) has neither `firstDayOfWeek` nor the get* methods (V8 13.x added
// them; guest/globals.ts removeNode24Additions takes them off a native Intl at INIT, before this
// chunk can load). The guest's process.versions is the emulated runtime's Node.
if ((globalThis as { process?: { versions?: { node?: string } } }).process?.versions?.node?.startsWith('22.')) {
  const prototype = Intl.Locale.prototype as unknown as Record<string, unknown>;
  for (const name of NODE_24_LOCALE_MEMBERS) delete prototype[name];
}
