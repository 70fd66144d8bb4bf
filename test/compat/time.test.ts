/**
 * Local time in the sandbox is the function's TZ (default UTC, as on Lambda), never the host's:
 * this test file runs its host process under TZ=America/New_York. Each answer is compared with
 * plain Node run with the same TZ. Setting process.env.TZ takes effect as in Node.
 */
import { expect, it } from 'vitest';
import { deployAndInvoke, forEachEngine, GENEROUS_TIMEOUT_MS, SLOW_CASE_LIMIT_MS } from '../helpers/runtime.ts';
import { runInNode } from './node-baseline.ts';

// Before any sandbox exists: the host's own local time is New York's.
process.env.TZ = 'America/New_York';

/**
 * Plain Node's answer for a module and TZ: one child process, shared by every engine's case (the
 * modules are deterministic: fixed dates, no clock), instead of one per engine.
 */
const baselines = new Map<string, Promise<unknown>>();
function nodeAnswer(source: string, env: Record<string, string>): Promise<unknown> {
  const key = JSON.stringify([source, env]);
  let answer = baselines.get(key);
  if (answer === undefined) baselines.set(key, (answer = runInNode(source, {}, env)));
  return answer;
}

const PROBE = `exports.handler = async () => {
  const winter = new Date(Date.UTC(2021, 0, 15, 12, 0, 0));
  const summer = new Date(Date.UTC(2021, 6, 15, 12, 0, 0));
  const local = new Date(2021, 2, 14, 2, 30);
  const set = new Date(0); set.setHours(23, 59); set.setDate(31); set.setMonth(11);
  class Sub extends Date {}
  return {
    tz: process.env.TZ ?? null,
    epochOffset: new Date(0).getTimezoneOffset(), winter: [winter.getTimezoneOffset(), winter.getHours(), winter.toString()],
    summer: [summer.getTimezoneOffset(), summer.getHours(), summer.getDay(), summer.toString(), summer.toDateString(), summer.toTimeString()],
    local: [local.toISOString(), local.getHours(), local.getMinutes()], set: set.toISOString(),
    parsed: [Date.parse('2021-07-15T08:00'), Date.parse('2021-07-15'), Date.parse('2021-07-15T08:00Z'), Date.parse('Jul 15 2021 08:00'), new Date('2021-07-15 08:00:00').getTime()],
    sub: [new Sub(2021, 0, 1).toISOString(), new Sub(0) instanceof Date, Object.prototype.toString.call(new Sub())],
    called: typeof Date(), invalid: [String(new Date(NaN)), new Date('nope').getHours()],
    year: [new Date(99, 0).getFullYear(), new Date(-1, 0).getFullYear()],
    overlap: new Date(2021, 10, 7, 1, 30).toISOString(),
    intl: typeof Intl === 'object' ? [new Intl.DateTimeFormat('en-US').resolvedOptions().timeZone, Intl.DateTimeFormat('en-US', { hour: 'numeric', minute: 'numeric', hourCycle: 'h23' }).format(summer)] : null,
  };
};`;

const TZ_CHANGE = `process.env.TZ = 'Asia/Kolkata';
const atInit = new Date(0).getHours() + ':' + new Date(0).getMinutes();
exports.handler = async () => {
  const before = new Date(0).toString();
  process.env.TZ = 'UTC';
  const after = new Date(0).toString();
  delete process.env.TZ;
  return { atInit, before, after, deleted: new Date(0).getTimezoneOffset() };
};`;

// Intl before Date (issue #15): V8's Intl took the host's zone until something read Date, since the
// guest's default-zone patch came with the Date chunk. Node: ICU's default zone is TZ's, re-read
// when process.env.TZ is assigned (src/node_env_var.cc DateTimeConfigurationChangeNotification).
const INTL_FIRST = `const atInit = new Intl.DateTimeFormat('en-US').resolvedOptions().timeZone;
exports.handler = async () => {
  const called = Intl.DateTimeFormat('en-US').resolvedOptions().timeZone;
  const formatted = new Intl.DateTimeFormat('en-US', { hour: 'numeric', minute: 'numeric', timeZoneName: 'short' }).format(0);
  const named = new Intl.DateTimeFormat('en-US', { timeZone: 'Asia/Tokyo' }).resolvedOptions().timeZone;
  const sub = new (class extends Intl.DateTimeFormat {})('en-US');
  const shape = [Intl.DateTimeFormat.name, Intl.DateTimeFormat.length, new Intl.DateTimeFormat().constructor === Intl.DateTimeFormat, sub instanceof Intl.DateTimeFormat, sub.resolvedOptions().timeZone];
  process.env.TZ = 'Asia/Kolkata';
  const changed = [new Intl.DateTimeFormat('en-US').resolvedOptions().timeZone, new Date(0).getTimezoneOffset()];
  return { atInit, called, formatted, named, shape, changed };
};`;

/** Compared whole on every engine (QuickJS's Intl is the FormatJS polyfill: loading it takes ~1-2 s, hence the timeout). */
function comparable(_engine: string, payload: unknown): unknown {
  return payload;
}

// The probe's answer is what these cases compare, so its function deadline must never end it: on
// quickjs (Intl and time zone data loaded in the guest) it passed 30 s with two suites running at
// once at load ~35 (issue #12). GENEROUS_TIMEOUT_MS and SLOW_CASE_LIMIT_MS, as test/README.md says.
forEachEngine(({ withRuntime, engine }) => {
  it('Dates: local time is UTC by default, whatever the host\'s zone (host here: America/New_York), as plain Node with TZ=UTC', { timeout: SLOW_CASE_LIMIT_MS }, () =>
    withRuntime(async ({ rt }) => {
      const expected = (await nodeAnswer(PROBE, { TZ: ':UTC' })) as Record<string, unknown>;
      const result = await deployAndInvoke(rt, PROBE, {}, { file: 'index.js', timeoutMs: GENEROUS_TIMEOUT_MS });
      expect(comparable(engine, result.payload)).toEqual(comparable(engine, { ...expected, tz: ':UTC' }));
      expect((result.payload as { epochOffset: number }).epochOffset).toBe(0);
    }));

  for (const zone of ['Asia/Tokyo', 'America/Los_Angeles', 'Asia/Kolkata', 'Europe/London']) {
    it(`Dates: a function deployed with TZ=${zone} sees that zone (DST, parsing, setters, toString) as plain Node does`, { timeout: SLOW_CASE_LIMIT_MS }, () =>
      withRuntime(async ({ rt }) => {
        const expected = await nodeAnswer(PROBE, { TZ: zone });
        const result = await deployAndInvoke(rt, PROBE, {}, { file: 'index.js', env: { TZ: zone }, timeoutMs: GENEROUS_TIMEOUT_MS });
        expect(comparable(engine, result.payload)).toEqual(comparable(engine, expected));
      }));
  }

  for (const zone of [undefined, 'America/Los_Angeles']) {
    it(`Intl used before Date (at INIT and in the handler) has the function's zone (TZ=${zone ?? 'default'}), not the host's, as plain Node does`, { timeout: SLOW_CASE_LIMIT_MS }, () =>
      withRuntime(async ({ rt }) => {
        const expected = await nodeAnswer(INTL_FIRST, { TZ: zone ?? ':UTC' });
        const result = await deployAndInvoke(rt, INTL_FIRST, {}, { file: 'index.js', ...(zone ? { env: { TZ: zone } } : {}), timeoutMs: GENEROUS_TIMEOUT_MS });
        expect(result.payload).toEqual(expected);
        expect(result.payload).toMatchObject({ atInit: zone ?? 'UTC', called: zone ?? 'UTC', changed: ['Asia/Calcutta', -330] });
      }));
  }

  it('Dates: setting process.env.TZ (at INIT or in the handler) or deleting it takes effect at once, as in Node', () =>
    withRuntime(async ({ rt }) => {
      const expected = await nodeAnswer(TZ_CHANGE, { TZ: ':UTC' });
      const result = await deployAndInvoke(rt, TZ_CHANGE, {}, { file: 'index.js' });
      expect(result.payload).toEqual(expected);
      expect(result.payload).toMatchObject({ atInit: '5:30', deleted: 0 });
    }));
});
