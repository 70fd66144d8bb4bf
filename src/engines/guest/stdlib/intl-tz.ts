/**
 * Every IANA time zone for the guest's Intl.DateTimeFormat (FormatJS's packed tz database, each
 * zone unpacked on first use: engines/guest-intl-build.ts). Loaded by stdlib/intl.ts the first time
 * a zone other than UTC is asked for. Needs the `intl` chunk loaded first.
 */
import '@formatjs/intl-datetimeformat/add-all-tz.js';
