/**
 * `Intl` on every engine against plain Node's (full ICU): numbers, dates in many time zones
 * (across a DST change), plural and relative-time rules, lists, collation, and dayjs (utc +
 * timezone) and luxon with time zones. On QuickJS, Intl is FormatJS's polyfills loaded on first use
 * (engines/guest/intl.ts); on V8 it is V8's own ICU.
 */
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { forEachEngine } from '../helpers/runtime.ts';
import { runInNode } from './node-baseline.ts';

const fixture = fileURLToPath(new URL('./fixtures/intl/intl.cjs', import.meta.url));
const baseline = runInNode(`module.exports = require(${JSON.stringify(fixture)});`);
const tzBaseline = runInNode(`exports.handler = require(${JSON.stringify(fixture)}).tzHandler;`);

forEachEngine(({ withRuntime, title, unsupported }) => {
  describe('Intl', () => {
    it('Intl, toLocale*String, dayjs and luxon with time zones give plain Node\'s output', () =>
      withRuntime(async ({ rt }) => {
        await rt.deploy({ name: 'intl', code: { entry: fixture }, handler: 'intl.handler', timeoutMs: 30_000 });
        const result = await rt.invoke('intl', {});
        expect(result.functionError, JSON.stringify(result.payload)).toBeUndefined();
        const node = (await baseline) as Record<string, unknown>;
        const got = result.payload as Record<string, unknown>;
        expect(Object.keys(got)).toEqual(Object.keys(node));
        for (const key of Object.keys(node)) expect.soft(got[key], key).toEqual(node[key]);
      }));

    const tzReason = {}; // v8 follows TZ too: stdlib/date.ts gives V8's Intl.DateTimeFormat the function's zone
    it.skipIf(unsupported(tzReason))(title('setting process.env.TZ changes the zone Intl formats in, as in Node', tzReason), () =>
      withRuntime(async ({ rt }) => {
        await rt.deploy({ name: 'intl-tz', code: { entry: fixture }, handler: 'intl.tzHandler', timeoutMs: 30_000 });
        const result = await rt.invoke('intl-tz', {});
        expect(result.payload).toEqual(await tzBaseline);
        expect((result.payload as { changed: string[] }).changed[0]).toBe('Asia/Tokyo');
      }));
  });
});
