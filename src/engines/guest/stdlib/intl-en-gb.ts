/**
 * The 'en-GB' locale data of the guest's Intl polyfills (NumberFormat, DateTimeFormat,
 * RelativeTimeFormat, ListFormat): 0.3 MB of the 1.05 MB `intl` chunk, loaded by stdlib/intl.ts the first
 * time a locale other than 'en' or 'en-US' is asked for (Lambda code mostly asks for neither or
 * for 'en-US'). Needs the `intl` chunk loaded first.
 */
import '@formatjs/intl-numberformat/locale-data/en-GB.js';
import '@formatjs/intl-datetimeformat/locale-data/en-GB.js';
import '@formatjs/intl-relativetimeformat/locale-data/en-GB.js';
import '@formatjs/intl-listformat/locale-data/en-GB.js';
