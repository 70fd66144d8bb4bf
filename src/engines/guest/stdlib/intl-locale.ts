/**
 * Intl.Locale for the guest (FormatJS's polyfill, with its CLDR alias and likely-subtags data):
 * loaded by guest/intl.ts on the first read of Intl.Locale. Needs the `intl` chunk loaded first.
 */
import '@formatjs/intl-locale/polyfill-force.js';
