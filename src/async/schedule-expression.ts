/**
 * Schedule expressions as EventBridge accepts them (EventBridge user guide, "Schedule expressions
 * for rules"; EventBridge Scheduler, "Schedule types"):
 * - `rate(<value> <unit>)`: a positive integer and minute(s) / hour(s) / day(s); the unit is singular
 *   when the value is 1 and plural otherwise;
 * - `cron(<minutes> <hours> <day-of-month> <month> <day-of-week> <year>)`: six fields; minutes 0-59,
 *   hours 0-23, day-of-month 1-31 (`L`, `W`), month 1-12 or JAN-DEC, day-of-week 1-7 (1 = Sunday) or
 *   SUN-SAT (`L`, `#`), year 1970-2199; `, - * /` in every field; `?` only in day-of-month or
 *   day-of-week, and exactly one of the two must be `?`;
 * - `at(yyyy-mm-ddThh:mm:ss)`: once.
 * Validation is ours (the rules above, with messages naming the field); the next time of a cron is
 * croner's (`alternativeWeekdays`: 1 = Sunday, as Quartz and EventBridge count; AND of day fields),
 * with the year field applied here since croner has none.
 */
import { Cron } from 'croner';
import { InvalidParameterValueException } from '../errors.ts';

export type ParsedSchedule =
  | { readonly kind: 'rate'; readonly everyMs: number }
  | { readonly kind: 'cron'; readonly cron: Cron; readonly years: ReadonlySet<number> | undefined }
  | { readonly kind: 'at'; readonly at: number };

const UNITS: Record<string, number> = { minute: 60_000, hour: 3_600_000, day: 86_400_000 };
const MONTHS = ['JAN', 'FEB', 'MAR', 'APR', 'MAY', 'JUN', 'JUL', 'AUG', 'SEP', 'OCT', 'NOV', 'DEC'];
const DAYS = ['SUN', 'MON', 'TUE', 'WED', 'THU', 'FRI', 'SAT'];

interface FieldRule {
  readonly name: string;
  readonly min: number;
  readonly max: number;
  readonly names?: readonly string[];
  /** Extra single-item forms this field allows. */
  readonly extra?: RegExp;
}

const FIELDS: readonly FieldRule[] = [
  { name: 'minutes', min: 0, max: 59 },
  { name: 'hours', min: 0, max: 23 },
  { name: 'day-of-month', min: 1, max: 31, extra: /^(?:L|LW|\d{1,2}W)$/ },
  { name: 'month', min: 1, max: 12, names: MONTHS },
  { name: 'day-of-week', min: 1, max: 7, names: DAYS, extra: /^(?:L|[1-7]L|[1-7]#[1-5])$/ },
  { name: 'year', min: 1970, max: 2199 },
];

function invalid(reason: string): InvalidParameterValueException {
  return new InvalidParameterValueException('scheduleExpression', `Parameter ScheduleExpression is not valid: ${reason}`);
}

/** Parses and checks an expression. @throws InvalidParameterValueException (field `scheduleExpression`). */
export function parseScheduleExpression(expression: unknown, timezone = 'UTC'): ParsedSchedule {
  if (typeof expression !== 'string') throw invalid(`expected a string, got ${typeof expression}`);
  const rate = /^rate\((\d+) (minute|minutes|hour|hours|day|days)\)$/.exec(expression);
  if (rate !== null) {
    const value = Number(rate[1]);
    const unit = rate[2]!;
    if (value < 1) throw invalid('the rate value must be a positive integer');
    if ((value === 1) !== !unit.endsWith('s')) throw invalid(`use "${value === 1 ? unit.replace(/s$/, '') : `${unit}s`}" with ${value}`);
    return { kind: 'rate', everyMs: value * UNITS[unit.replace(/s$/, '')]! };
  }
  const at = /^at\((\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2})\)$/.exec(expression);
  if (at !== null) {
    let once: Cron;
    try {
      once = new Cron(at[1]!, { timezone, paused: true });
    } catch (error) {
      throw invalid(`${at[1]} is not a date and time (${(error as Error).message})`);
    }
    const date = once.nextRun(new Date(0));
    if (date === null) throw invalid(`${at[1]} is not a date and time`);
    return { kind: 'at', at: date.getTime() };
  }
  const cron = /^cron\((.*)\)$/.exec(expression);
  if (cron === null) throw invalid(`expected rate(...), cron(...) or at(...), got ${JSON.stringify(expression)}`);
  const fields = cron[1]!.trim().split(/\s+/);
  if (fields.length !== 6) throw invalid(`a cron expression has 6 fields (minutes hours day-of-month month day-of-week year), got ${fields.length}`);
  fields.forEach((field, i) => checkField(field.toUpperCase(), FIELDS[i]!));
  const [minutes, hours, dom, month, dow, year] = fields.map((f) => f.toUpperCase()) as [string, string, string, string, string, string];
  if ((dom === '?') === (dow === '?')) throw invalid('exactly one of day-of-month and day-of-week must be ?');
  const parts = [minutes, hours, dom === '?' ? '*' : dom, month, dow === '?' ? '*' : dow === 'L' ? '7' : dow];
  const pattern = ['0', ...parts.map((field, i) => startStep(field, FIELDS[i]!.max))].join(' ');
  let compiled: Cron;
  try {
    compiled = new Cron(pattern, { timezone, paused: true, domAndDow: true, alternativeWeekdays: true });
  } catch (error) {
    throw invalid((error as Error).message);
  }
  return { kind: 'cron', cron: compiled, years: year === '*' ? undefined : expandYears(year) };
}

function checkField(field: string, rule: FieldRule): void {
  if (field === '?') {
    if (rule.name !== 'day-of-month' && rule.name !== 'day-of-week') throw invalid(`? is only allowed in day-of-month or day-of-week, not ${rule.name}`);
    return;
  }
  for (const item of field.split(',')) {
    if (item === '' ) throw invalid(`empty item in ${rule.name}`);
    if (rule.extra?.test(item)) continue;
    const [range, step] = item.split('/') as [string, string | undefined];
    if (step !== undefined && !/^\d+$/.test(step)) throw invalid(`${rule.name}: the step in ${item} must be a number`);
    if (range === '*') continue;
    for (const bound of range.split('-')) {
      const value = rule.names?.includes(bound) ? rule.names.indexOf(bound) + rule.min : /^\d+$/.test(bound) ? Number(bound) : NaN;
      if (!(value >= rule.min && value <= rule.max)) throw invalid(`${rule.name} must be from ${rule.min} to ${rule.max}${rule.names ? ` or ${rule.names[0]}-${rule.names.at(-1)}` : ''}, got ${JSON.stringify(bound)}`);
    }
    if (range.split('-').length > 2) throw invalid(`${rule.name}: ${item} is not a range`);
  }
}

/** EventBridge's `start/step` is croner's `start-max/step`. */
function startStep(field: string, max: number): string {
  return field
    .split(',')
    .map((item) => item.replace(/^(\d+|[A-Z]{3})\/(\d+)$/, `$1-${max}/$2`))
    .join(',');
}

function expandYears(field: string): Set<number> {
  const years = new Set<number>();
  for (const item of field.split(',')) {
    const [range, step] = item.split('/') as [string, string | undefined];
    const [from, to] = range === '*' ? [1970, 2199] : range.includes('-') ? range.split('-').map(Number) as [number, number] : [Number(range), step === undefined ? Number(range) : 2199];
    for (let y = from; y <= to; y += step === undefined ? 1 : Number(step)) years.add(y);
  }
  return years;
}

/** The first time strictly after `after` (epoch ms) the schedule fires, or undefined (a past `at`, no year left). */
export function nextFire(schedule: ParsedSchedule, after: number, start: number): number | undefined {
  switch (schedule.kind) {
    case 'rate':
      return start + (Math.floor((after - start) / schedule.everyMs) + 1) * schedule.everyMs;
    case 'at':
      return schedule.at > after ? schedule.at : undefined;
    case 'cron': {
      let from = new Date(after);
      for (let i = 0; i < 300; i++) {
        const next = schedule.cron.nextRun(from);
        if (next === null) return undefined;
        const year = next.getUTCFullYear();
        if (schedule.years === undefined || schedule.years.has(year)) return next.getTime();
        const later = [...schedule.years].filter((y) => y > year).sort((a, b) => a - b)[0];
        if (later === undefined) return undefined;
        from = new Date(Date.UTC(later, 0, 1) - 1);
      }
      return undefined;
    }
  }
}
