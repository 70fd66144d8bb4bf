/**
 * Schedules: expressions validated as EventBridge does (EventBridge user guide, "Schedule
 * expressions for rules": rate units singular for 1 and plural otherwise; cron's six fields, their
 * ranges, `?` in exactly one of day-of-month / day-of-week, L W #; EventBridge Scheduler
 * "Schedule types" for at()); firings on the event clock with EventBridge's scheduled event (the
 * shape of AWS's sample, src/testing's scheduledEvent), at most one per time, durable with dataDir.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { ScheduledEvent } from 'aws-lambda';
import { describe, expect, it } from 'vitest';
import { nextFire, parseScheduleExpression } from '../../src/async/schedule-expression.ts';
import { InvalidParameterValueException, ResourceConflictException, ResourceNotFoundException, type Runtime } from '../../src/index.ts';
import { scheduledEvent } from '../../src/testing/index.ts';
import type { CapturedLogs } from '../helpers/runtime.ts';
import { withRt } from '../registry/helpers.ts';
import { TestClock } from './helpers.ts';

const LOGGER = `export const handler = async (event) => { console.log('EVENT ' + JSON.stringify(event)); return {}; };`;
const FN = 'arn:aws:lambda:us-east-1:123456789012:function:tick';

function events(logs: CapturedLogs): ScheduledEvent[] {
  return logs.lines.filter((l) => l.includes('EVENT {')).map((l) => JSON.parse(l.slice(l.indexOf('EVENT ') + 6)) as ScheduledEvent);
}

async function setup(body: (rt: Runtime, logs: CapturedLogs, clock: TestClock) => Promise<void>, dataDir?: string, clock = new TestClock()): Promise<void> {
  await withRt(async (rt, logs) => {
    if (dataDir === undefined || rt.listFunctions().length === 0) await rt.deploy({ name: 'tick', code: { files: { 'index.mjs': LOGGER } } });
    await body(rt, logs, clock);
  }, { eventClock: clock, ...(dataDir ? { dataDir } : {}) });
}

describe('schedule expressions', () => {
  it.each([
    'rate(1 minute)', 'rate(5 minutes)', 'rate(1 hour)', 'rate(2 hours)', 'rate(1 day)', 'rate(7 days)',
    'cron(0 12 * * ? *)', 'cron(0/15 * ? * MON-FRI *)', 'cron(0 8 1 * ? 2027)', 'cron(0 10 ? * 6L 2026-2030)',
    'cron(15 10 ? * 6#3 *)', 'cron(0 12 L * ? *)', 'cron(0 12 15W * ? *)', 'cron(59 23 31 DEC ? 2199)', 'cron(0 0 1 JAN ? 1970)',
    'cron(0 0 ? * 1 *)', 'cron(0 0 ? * 7 *)', 'cron(0,30 9-17 ? * SUN,SAT *)', 'at(2026-12-01T10:00:00)',
  ])('accepted: %s', (expression) => {
    expect(() => parseScheduleExpression(expression)).not.toThrow();
  });

  it.each([
    ['rate(0 minutes)', 'positive'],
    ['rate(1 minutes)', 'use "minute" with 1'],
    ['rate(5 minute)', 'use "minutes" with 5'],
    ['rate(5 seconds)', 'expected rate(...)'],
    ['cron(0 12 * * * *)', 'exactly one of day-of-month and day-of-week must be ?'],
    ['cron(0 12 ? * ? *)', 'exactly one of day-of-month and day-of-week must be ?'],
    ['cron(60 * * * ? *)', 'minutes must be from 0 to 59, got "60"'],
    ['cron(0 24 * * ? *)', 'hours must be from 0 to 23'],
    ['cron(0 0 32 * ? *)', 'day-of-month must be from 1 to 31'],
    ['cron(0 0 0 * ? *)', 'day-of-month must be from 1 to 31'],
    ['cron(0 0 ? 13 * *)', 'month must be from 1 to 12'],
    ['cron(0 0 ? * 8 *)', 'day-of-week must be from 1 to 7'],
    ['cron(0 0 ? * 0 *)', 'day-of-week must be from 1 to 7'],
    ['cron(0 0 * * ? 1969)', 'year must be from 1970 to 2199'],
    ['cron(0 0 * * ? 2200)', 'year must be from 1970 to 2199'],
    ['cron(0 12 * * ?)', 'has 6 fields'],
    ['cron(? 12 * * ? *)', '? is only allowed in day-of-month or day-of-week'],
    ['at(2026-13-01T10:00:00)', 'is not a date and time'],
    ['every 5 minutes', 'expected rate(...), cron(...) or at(...)'],
  ])('refused: %s', (expression, reason) => {
    const error = (() => { try { parseScheduleExpression(expression); } catch (e) { return e; } })();
    expect(error).toBeInstanceOf(InvalidParameterValueException);
    expect((error as InvalidParameterValueException).field).toBe('scheduleExpression');
    expect((error as Error).message).toContain('Parameter ScheduleExpression is not valid: ');
    expect((error as Error).message).toContain(reason);
  });
});

describe('schedule times', () => {
  const from = Date.UTC(2026, 11, 1, 10, 0, 0); // Tuesday 2026-12-01 10:00 UTC
  it.each([
    ['cron(15 10 ? * 6#3 *)', '2026-12-18T10:15:00.000Z'], // third Friday (1 = Sunday)
    ['cron(0 10 ? * 6L *)', '2026-12-25T10:00:00.000Z'], // last Friday
    ['cron(0 12 L * ? *)', '2026-12-31T12:00:00.000Z'],
    ['cron(0 8 1 * ? 2027)', '2027-01-01T08:00:00.000Z'], // the year field
    ['cron(0/15 * ? * MON-FRI *)', '2026-12-01T10:15:00.000Z'],
    ['cron(0 9 ? * 1 *)', '2026-12-06T09:00:00.000Z'], // 1 is Sunday
    ['rate(5 minutes)', '2026-12-01T10:05:00.000Z'],
    ['at(2026-12-01T11:00:00)', '2026-12-01T11:00:00.000Z'],
  ])('%s → %s', (expression, expected) => {
    expect(new Date(nextFire(parseScheduleExpression(expression), from, from)!).toISOString()).toBe(expected);
  });

  it('a past at() and a cron whose years are over never fire', () => {
    expect(nextFire(parseScheduleExpression('at(2026-01-01T00:00:00)'), from, from)).toBeUndefined();
    expect(nextFire(parseScheduleExpression('cron(0 8 1 * ? 2025)'), from, from)).toBeUndefined();
  });
});

describe('schedules', () => {
  it('rate(5 minutes): fires every 5 minutes with EventBridge\'s scheduled event', async () => {
    await setup(async (rt, logs, clock) => {
      const start = clock.now();
      const info = await rt.createSchedule({ name: 'every5', scheduleExpression: 'rate(5 minutes)', target: { arn: FN } });
      expect(info.arn).toBe('arn:aws:events:us-east-1:123456789012:rule/every5');
      await rt.eventsIdle();
      clock.advance(299_999);
      await rt.eventsIdle();
      expect(events(logs)).toHaveLength(0);
      clock.advance(1);
      await rt.eventsIdle();
      clock.advance(300_000);
      await rt.eventsIdle();
      const got = events(logs);
      expect(got.map((e) => e.time)).toEqual([new Date(start + 300_000).toISOString().replace('.000Z', 'Z'), new Date(start + 600_000).toISOString().replace('.000Z', 'Z')]);
      expect(Object.keys(got[0]!).sort()).toEqual(Object.keys(scheduledEvent()).sort());
      expect(got[0]).toMatchObject({ version: '0', 'detail-type': 'Scheduled Event', source: 'aws.events', account: '123456789012', region: 'us-east-1', resources: [info.arn], detail: {} });
    });
  });

  it('cron(0 12 * * ? *): fires at noon UTC each day; at(...) fires once; target.input replaces the event', async () => {
    await setup(async (rt, logs, clock) => {
      // The clock starts at 2026-12-01T10:00:00Z.
      await rt.createSchedule({ name: 'noon', scheduleExpression: 'cron(0 12 * * ? *)', target: { arn: FN, input: '{"kind":"noon"}' } });
      await rt.createSchedule({ name: 'once', scheduleExpression: 'at(2026-12-01T11:00:00)', target: { arn: FN } });
      for (let hour = 0; hour < 28; hour++) {
        clock.advance(3_600_000);
        await rt.eventsIdle();
      }
      const got = events(logs) as unknown as Record<string, unknown>[];
      expect(got.filter((e) => e.kind === 'noon')).toHaveLength(2);
      expect(got.filter((e) => e['detail-type'] === 'Scheduled Event').map((e) => e.time)).toEqual(['2026-12-01T11:00:00Z']);
    });
  });

  it('update, disable and delete stop the old firings; names, targets and time zones are checked', async () => {
    await setup(async (rt, logs, clock) => {
      await rt.createSchedule({ name: 's', scheduleExpression: 'rate(1 minute)', target: { arn: FN } });
      await expect(rt.createSchedule({ name: 's', scheduleExpression: 'rate(1 minute)', target: { arn: FN } })).rejects.toThrow(ResourceConflictException);
      await rt.updateSchedule('s', { scheduleExpression: 'rate(10 minutes)', target: { arn: FN } });
      clock.advance(60_000);
      await rt.eventsIdle();
      expect(events(logs)).toHaveLength(0); // the 1-minute firing belonged to the old generation
      await rt.updateSchedule('s', { scheduleExpression: 'rate(10 minutes)', target: { arn: FN }, state: 'DISABLED' });
      clock.advance(3_600_000);
      await rt.eventsIdle();
      expect(events(logs)).toHaveLength(0);
      await rt.updateSchedule('s', { scheduleExpression: 'rate(1 minute)', target: { arn: FN } });
      rt.deleteSchedule('s');
      clock.advance(600_000);
      await rt.eventsIdle();
      expect(events(logs)).toHaveLength(0);
      expect(() => rt.getSchedule('s')).toThrow(ResourceNotFoundException);
      await expect(rt.createSchedule({ name: 'bad name', scheduleExpression: 'rate(1 minute)', target: { arn: FN } })).rejects.toThrow(InvalidParameterValueException);
      await expect(rt.createSchedule({ name: 't', scheduleExpression: 'rate(1 minute)', target: { arn: `${FN}x` } })).rejects.toThrow(ResourceNotFoundException);
      await expect(rt.createSchedule({ name: 't', scheduleExpression: 'cron(0 12 * * ? *)', scheduleExpressionTimezone: 'Mars/Olympus', target: { arn: FN } })).rejects.toThrow(InvalidParameterValueException);
    });
  });

  it('durable: a schedule and its next firing survive the runtime; a time missed while down fires once', async () => {
    const dataDir = mkdtempSync(join(tmpdir(), 'lambdalet-sched-'));
    const clock = new TestClock();
    try {
      await setup(async (rt) => {
        await rt.createSchedule({ name: 'every5', scheduleExpression: 'rate(5 minutes)', target: { arn: FN } });
      }, dataDir, clock);
      clock.advance(3 * 300_000); // three periods pass while no runtime runs
      await setup(async (rt, logs) => {
        expect(rt.getSchedule('every5').scheduleExpression).toBe('rate(5 minutes)');
        await rt.eventsIdle();
        expect(events(logs)).toHaveLength(1);
        clock.advance(300_000);
        await rt.eventsIdle();
        expect(events(logs)).toHaveLength(2);
      }, dataDir, clock);
    } finally {
      rmSync(dataDir, { recursive: true, force: true });
    }
  });
});
