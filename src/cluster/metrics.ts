/**
 * `rt.clusterMetrics()`: every member's figures and the cluster's totals, from Redis.
 *
 * Each member writes its own `rt.metrics()` snapshot to the hash `<prefix>metrics` (field: its id)
 * every third of `leaseTtlMs`, stamped with Redis's `TIME` (never a member's clock, so clock skew
 * between members changes nothing), and deletes it when it closes. A reader asks for a fresh write
 * of its own snapshot, then reads them all: a report older than `leaseTtlMs` is a member that died
 * without closing (SIGKILL) and is left out, as its concurrency leases expire after the same time.
 *
 * Totals add up what adds up across members, per function version and for the account:
 * Invocations, Errors, Throttles, ColdStarts, GBSeconds, ConcurrentExecutions (now) and the async
 * counters. Percentiles (Duration, InitDuration) and peaks do not add up: they stay per member.
 */
import type { Redis } from 'ioredis';

/** The figures a member reports: `rt.metrics()`'s shape, kept opaque here (runtime.ts owns it). */
export interface ReportedMetrics {
  readonly ConcurrentExecutions: number;
  readonly functions: readonly FunctionTotals[];
  readonly async: Readonly<Record<string, number>>;
}

/** One member's last report. */
export interface MemberReport<M extends ReportedMetrics = ReportedMetrics> {
  /** The member's id (a UUID per runtime). */
  readonly member: string;
  /** When it was written, by Redis's clock (ISO 8601). */
  readonly reportedAt: string;
  /** Its `rt.metrics()` then. */
  readonly metrics: M;
}

/** Per function version: one member's figures, or (in {@link ClusterMetrics}) their sums over members. */
export interface FunctionTotals {
  readonly functionName: string;
  readonly version: string;
  readonly Invocations: number;
  readonly Errors: number;
  readonly Throttles: number;
  readonly ColdStarts: number;
  readonly GBSeconds: number;
  readonly ConcurrentExecutions: number;
}

export interface ClusterMetrics<M extends ReportedMetrics = ReportedMetrics> {
  /** The cluster's name. */
  readonly cluster: string;
  /** Every live member's last report, this member's first (written just now). */
  readonly members: readonly MemberReport<M>[];
  /** What adds up across members. */
  readonly totals: {
    readonly ConcurrentExecutions: number;
    readonly functions: readonly FunctionTotals[];
    readonly async: Readonly<Record<string, number>>;
  };
}

/** How long close() waits for Redis to drop this member's report, ms. */
const CLOSE_WAIT_MS = 1000;

/** Writes `ARGV[2]` under field ARGV[1] as `<redis ms>\n<json>`. */
const WRITE = `
local t = redis.call('TIME')
redis.call('HSET', KEYS[1], ARGV[1], (t[1] * 1000 + math.floor(t[2] / 1000)) .. '\\n' .. ARGV[2])
return 'OK'
`;

/** Redis's time (ms) and every report. */
const READ = `
local t = redis.call('TIME')
return { tostring(t[1] * 1000 + math.floor(t[2] / 1000)), redis.call('HGETALL', KEYS[1]) }
`;

export class MetricsBoard {
  readonly #redis: Redis;
  readonly #key: string;
  readonly #member: string;
  readonly #ttlMs: number;
  #snapshot: (() => ReportedMetrics) | undefined;
  #timer: NodeJS.Timeout | undefined;

  constructor(redis: Redis, prefix: string, member: string, ttlMs: number) {
    this.#redis = redis;
    this.#key = `${prefix}metrics`;
    this.#member = member;
    this.#ttlMs = ttlMs;
  }

  /** Starts reporting `snapshot()` every third of the TTL (and once now); skipped while Redis is away. */
  start(snapshot: () => ReportedMetrics): void {
    this.#snapshot = snapshot;
    const tick = (): void => {
      if (this.#redis.status === 'ready') void this.report().catch(() => {});
    };
    tick();
    this.#timer = setInterval(tick, Math.max(1, Math.floor(this.#ttlMs / 3)));
    this.#timer.unref();
  }

  /** Writes this member's snapshot now. */
  async report(): Promise<void> {
    if (this.#snapshot === undefined) return;
    await this.#redis.eval(WRITE, 1, this.#key, this.#member, JSON.stringify(this.#snapshot()));
  }

  /** Every live member's report (this one's written first) and the totals. */
  async read<M extends ReportedMetrics>(cluster: string): Promise<ClusterMetrics<M>> {
    await this.report();
    const [now, flat] = (await this.#redis.eval(READ, 1, this.#key)) as [string, string[]];
    const entries: [string, string][] = [];
    for (let i = 0; i < flat.length; i += 2) entries.push([flat[i]!, flat[i + 1]!]);
    const members = liveReports<M>(entries, Number(now), this.#ttlMs).sort((a, b) => (a.member === this.#member ? -1 : b.member === this.#member ? 1 : 0));
    return { cluster, members, totals: totals(members.map((m) => m.metrics)) };
  }

  /**
   * Stops reporting and removes this member's report — when Redis answers: close() never waits on
   * an outage (the report then lapses after `leaseTtlMs`, as a dead member's does).
   */
  async close(): Promise<void> {
    clearInterval(this.#timer);
    const started = this.#snapshot !== undefined;
    this.#snapshot = undefined;
    if (!started || this.#redis.status !== 'ready') return;
    let timer: NodeJS.Timeout | undefined;
    const gaveUp = new Promise<void>((resolve) => (timer = setTimeout(resolve, CLOSE_WAIT_MS)));
    await Promise.race([this.#redis.hdel(this.#key, this.#member).catch(() => 0), gaveUp]);
    clearTimeout(timer);
  }
}

/**
 * The reports of live members: written at most `ttlMs` before `nowMs` (Redis's clock). One older
 * is a member that died without closing. Exported for its boundary test.
 */
export function liveReports<M extends ReportedMetrics>(entries: readonly [string, string][], nowMs: number, ttlMs: number): MemberReport<M>[] {
  const out: MemberReport<M>[] = [];
  for (const [member, value] of entries) {
    const at = value.indexOf('\n');
    const writtenMs = Number(value.slice(0, at));
    if (!(nowMs - writtenMs <= ttlMs)) continue;
    out.push({ member, reportedAt: new Date(writtenMs).toISOString(), metrics: JSON.parse(value.slice(at + 1)) as M });
  }
  return out;
}

function totals(reports: readonly ReportedMetrics[]): ClusterMetrics['totals'] {
  const functions = new Map<string, { -readonly [K in keyof FunctionTotals]: FunctionTotals[K] }>();
  const async: Record<string, number> = {};
  let concurrent = 0;
  for (const report of reports) {
    concurrent += report.ConcurrentExecutions;
    for (const [name, n] of Object.entries(report.async)) async[name] = (async[name] ?? 0) + n;
    for (const fn of report.functions) {
      const key = `${fn.functionName}\n${fn.version}`;
      const sum = functions.get(key) ?? { functionName: fn.functionName, version: fn.version, Invocations: 0, Errors: 0, Throttles: 0, ColdStarts: 0, GBSeconds: 0, ConcurrentExecutions: 0 };
      sum.Invocations += fn.Invocations;
      sum.Errors += fn.Errors;
      sum.Throttles += fn.Throttles;
      sum.ColdStarts += fn.ColdStarts;
      sum.GBSeconds += fn.GBSeconds;
      sum.ConcurrentExecutions += fn.ConcurrentExecutions;
      functions.set(key, sum);
    }
  }
  return { ConcurrentExecutions: concurrent, functions: [...functions.values()], async };
}
