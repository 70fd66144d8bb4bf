/**
 * Schedules: `rt.createSchedule({ name, scheduleExpression, target: { arn, input? } })` invokes a
 * function asynchronously (or sends to a lambdalet queue) on a rate, a cron or once, with
 * EventBridge's scheduled event (the shape of AWS's sample: version '0', id, detail-type
 * 'Scheduled Event', source 'aws.events', account, time, region, resources [the rule's ARN],
 * detail {}) or the target's `input` (JSON text) instead.
 *
 * Durable and exactly one firing per time: the next firing is an event of the backend queue
 * `schedule:<name>` (id `<generation>@<time>`); running it enqueues the target's event and the
 * following firing in the same atomic ack. A firing whose time passed while the runtime was down
 * fires once when it comes back (EventBridge does not catch up either: one, not every missed one).
 * The target's event of one firing has an id derived from the firing (`tickId`: a name-based
 * UUID of `<generation>@<time>`), the same however often the firing is run: a backend that runs it
 * again after a crash (a cluster member killed mid-tick, src/cluster/bullmq-queue.ts) enqueues the
 * same id, and skips it.
 * Updating a schedule starts a new generation (the old firing is dropped when it comes up);
 * deleting it drops its pending firing. A rate fires first one period after creation.
 */
import { randomUUID } from 'node:crypto';
import { v5 as uuidv5 } from 'uuid';
import type { RuntimeOptions } from '../config/index.ts';
import { InvalidParameterValueException, ResourceConflictException, ResourceNotFoundException } from '../errors.ts';
import { invokeEvent } from './async-invoke.ts';
import type { ConfigStore } from './config-store.ts';
import type { AsyncContext } from './context.ts';
import { parseDestination } from './destinations.ts';
import type { QueueHandler } from './pump.ts';
import type { LeasedEvent, NewEvent } from './queue.ts';
import type { QueueRegistry } from './queues.ts';
import { nextFire, parseScheduleExpression, type ParsedSchedule } from './schedule-expression.ts';

export interface ScheduleInput {
  readonly name: string;
  /** `rate(5 minutes)`, `cron(0 12 * * ? *)` or `at(2026-12-01T10:00:00)`. */
  readonly scheduleExpression: string;
  /** IANA time zone of cron and at expressions. Default `UTC`. */
  readonly scheduleExpressionTimezone?: string;
  /** A function ARN (invoked asynchronously) or a lambdalet queue ARN; `input` replaces the scheduled event. */
  readonly target: { readonly arn: string; readonly input?: string };
  /** Default `ENABLED`. */
  readonly state?: 'ENABLED' | 'DISABLED';
}

export interface ScheduleInfo extends Required<Omit<ScheduleInput, 'target'>> {
  readonly arn: string;
  readonly target: { readonly arn: string; readonly input?: string };
  /** Epoch ms the schedule was created or last updated (a rate counts from it). */
  readonly since: number;
  readonly generation: string;
}

const NAME = /^[0-9a-zA-Z\-_.]{1,64}$/;

export function scheduleQueue(name: string): string {
  return `schedule:${name}`;
}

export class Schedules implements QueueHandler {
  readonly #schedules = new Map<string, { info: ScheduleInfo; parsed: ParsedSchedule }>();
  readonly #ctx: AsyncContext;
  readonly #queues: QueueRegistry;
  readonly #store: ConfigStore;
  readonly #callbacks: ReadonlyMap<string, unknown>;

  constructor(ctx: AsyncContext, queues: QueueRegistry, store: ConfigStore, callbacks: ReadonlyMap<string, unknown>) {
    this.#ctx = ctx;
    this.#queues = queues;
    this.#store = store;
    this.#callbacks = callbacks;
    this.reload();
  }

  /** Reads the schedules again from the store (at restore; another runtime changed one). */
  reload(): void {
    this.#schedules.clear();
    for (const [name, value] of this.#store.all('schedule')) {
      const info = value as ScheduleInfo;
      this.#schedules.set(name, { info, parsed: parseScheduleExpression(info.scheduleExpression, info.scheduleExpressionTimezone) });
    }
  }

  /** @throws InvalidParameterValueException (name, expression, timezone, target), ResourceConflictException (name taken), ResourceNotFoundException (target). */
  async create(input: ScheduleInput): Promise<ScheduleInfo> {
    if (typeof input?.name !== 'string' || !NAME.test(input.name)) {
      throw new InvalidParameterValueException('name', `Expected the schedule name to be 1 to 64 characters from [0-9a-zA-Z-_.], got ${JSON.stringify(input?.name)}`);
    }
    if (this.#schedules.has(input.name)) throw new ResourceConflictException(`Schedule ${input.name} already exists.`);
    return this.#put(input);
  }

  async update(name: string, input: Omit<ScheduleInput, 'name'>): Promise<ScheduleInfo> {
    this.get(name);
    return this.#put({ ...input, name });
  }

  get(name: string): ScheduleInfo {
    const entry = this.#schedules.get(name);
    if (entry === undefined) throw new ResourceNotFoundException(`Schedule ${name} does not exist.`);
    return entry.info;
  }

  list(): ScheduleInfo[] {
    return [...this.#schedules.values()].map((e) => e.info);
  }

  delete(name: string): void {
    this.get(name);
    this.#schedules.delete(name);
    this.#store.delete('schedule', name);
  }

  async #put(input: ScheduleInput): Promise<ScheduleInfo> {
    const ctx = this.#ctx;
    const timezone = input.scheduleExpressionTimezone ?? 'UTC';
    try {
      new Intl.DateTimeFormat('en-US', { timeZone: timezone });
    } catch {
      throw new InvalidParameterValueException('scheduleExpressionTimezone', `Expected \`scheduleExpressionTimezone\` to be an IANA time zone, got ${JSON.stringify(timezone)}`);
    }
    const parsed = parseScheduleExpression(input.scheduleExpression, timezone);
    const target = parseDestination(input.target?.arn, 'target.arn', ctx.options, ctx.registry, this.#queues, this.#callbacks);
    if (target.kind === 'callback') throw new InvalidParameterValueException('target.arn', 'A schedule targets a function or a lambdalet queue');
    if (input.target.input !== undefined) {
      try {
        JSON.parse(input.target.input);
      } catch {
        throw new InvalidParameterValueException('target.input', 'Expected `target.input` to be JSON text');
      }
    }
    const state = input.state ?? 'ENABLED';
    if (state !== 'ENABLED' && state !== 'DISABLED') throw new InvalidParameterValueException('state', 'Expected `state` to be ENABLED or DISABLED');
    const now = ctx.clock.now();
    const info: ScheduleInfo = Object.freeze({
      name: input.name,
      arn: ruleArn(ctx.options, input.name),
      scheduleExpression: input.scheduleExpression,
      scheduleExpressionTimezone: timezone,
      target: Object.freeze({ ...input.target }),
      state,
      since: now,
      generation: randomUUID(),
    });
    this.#schedules.set(info.name, { info, parsed });
    this.#store.put('schedule', info.name, info);
    const first = state === 'ENABLED' ? nextFire(parsed, now, now) : undefined;
    if (first !== undefined) await ctx.backend.enqueue([firing(info, first, now)]);
    ctx.wake();
    return info;
  }

  leaseMs(): number {
    return 60_000;
  }

  async run(lease: LeasedEvent): Promise<void> {
    const ctx = this.#ctx;
    const { generation, at } = JSON.parse(lease.body) as { generation: string; at: number };
    const entry = this.#schedules.get(lease.queue.slice('schedule:'.length));
    if (entry === undefined || entry.info.generation !== generation || entry.info.state !== 'ENABLED') {
      await ctx.backend.ack(lease); // deleted, replaced or disabled since this firing was planned
      return;
    }
    const { info, parsed } = entry;
    const now = ctx.clock.now();
    const then: NewEvent[] = [];
    const target = this.#targetEvent(info, at, now);
    if (target === undefined) {
      ctx.counters.destinationDeliveryFailures += 1;
      ctx.log(info.name, `Schedule ${info.name}: target ${info.target.arn} no longer exists; this firing is skipped`);
    } else {
      then.push(target);
      if (target.queue.startsWith('invoke:')) ctx.counters.received += 1;
    }
    const next = nextFire(parsed, Math.max(now, at), info.since);
    if (next !== undefined) then.push(firing(info, next, now));
    await ctx.backend.ack(lease, then);
    ctx.wake();
  }

  #targetEvent(info: ScheduleInfo, at: number, now: number): NewEvent | undefined {
    const ctx = this.#ctx;
    const tick = tickId(info.generation, at);
    const body =
      info.target.input ??
      JSON.stringify({
        version: '0',
        id: tick,
        'detail-type': 'Scheduled Event',
        source: 'aws.events',
        account: ctx.options.accountId,
        time: new Date(at).toISOString().replace(/\.\d{3}Z$/, 'Z'),
        region: ctx.options.region,
        resources: [info.arn],
        detail: {},
      });
    let target;
    try {
      target = parseDestination(info.target.arn, 'target.arn', ctx.options, ctx.registry, this.#queues, this.#callbacks);
    } catch {
      return undefined;
    }
    if (target.kind === 'function') return invokeEvent(tick, { fn: target.name, q: target.qualifier, event: body }, now);
    if (target.kind === 'queue') {
      const queue = this.#queues.find(target.name);
      if (queue === undefined) return undefined;
      const event = this.#queues.message(queue, body, now, { delaySeconds: 0 });
      return { ...event, id: tick };
    }
    return undefined;
  }
}

/** Name-based UUIDs (RFC 9562 version 5) of firings live in this namespace. */
const TICK_NAMESPACE = uuidv5('lambdalet:schedule-tick', uuidv5.URL);

/** The id of one firing's target event (requestId or messageId): the same for the same generation and time. */
export function tickId(generation: string, at: number): string {
  return uuidv5(`${generation}@${at}`, TICK_NAMESPACE);
}

function ruleArn(options: RuntimeOptions, name: string): string {
  return `arn:aws:events:${options.region}:${options.accountId}:rule/${name}`;
}

function firing(info: ScheduleInfo, at: number, now: number): NewEvent {
  return { queue: scheduleQueue(info.name), id: `${info.generation}@${at}`, body: JSON.stringify({ generation: info.generation, at }), enqueuedAt: now, availableAt: at };
}

