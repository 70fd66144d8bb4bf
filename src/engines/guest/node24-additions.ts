/**
 * Intl.Locale's members Node 24's V8 (13.x) added over Node 22's (12.4): nodejs22.x takes them off
 * a native Intl at INIT (globals.ts removeNode24Additions) and off FormatJS's Locale when QuickJS's
 * Intl loads later (stdlib/intl-locale.ts). One list for both.
 */
export const NODE_24_LOCALE_MEMBERS: readonly string[] = [
  'firstDayOfWeek', 'getCalendars', 'getCollations', 'getHourCycles', 'getNumberingSystems', 'getTimeZones', 'getTextInfo', 'getWeekInfo',
];
