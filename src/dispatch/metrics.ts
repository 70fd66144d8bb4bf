/**
 * Per-function counters under Lambda's CloudWatch metric names, and the snapshot `rt.metrics()`
 * returns. Gauges (ConcurrentExecutions and friends) are the value now; `…Max` is the peak since
 * the runtime started (CloudWatch's Maximum statistic).
 */
import { DurationHistogram, type DurationStats } from './histogram.ts';

export type { DurationStats } from './histogram.ts';

/** One function version's figures (`$LATEST` or a published version). Durations in ms. */
export interface FunctionMetrics {
  readonly functionName: string;
  /** `$LATEST` or a published version number. */
  readonly version: string;
  /** Invocations that ran (function errors included, throttles not), as Lambda counts them. */
  readonly Invocations: number;
  /** Invocations that ended in a function error (`functionError: 'Unhandled'`). */
  readonly Errors: number;
  /** Invokes refused with TooManyRequestsException. */
  readonly Throttles: number;
  /** Invocation duration (the REPORT line's Duration, INIT excluded). */
  readonly Duration: DurationStats;
  /** Invocations of this function running now. */
  readonly ConcurrentExecutions: number;
  /** Peak of ConcurrentExecutions. */
  readonly ConcurrentExecutionsMax: number;
  /** This function's running invocations that draw on the account's unreserved pool. */
  readonly UnreservedConcurrentExecutions: number;
  /** Running invocations served by provisioned environments. */
  readonly ProvisionedConcurrentExecutions: number;
  /** ProvisionedConcurrentExecutions / provisionedConcurrency (0 when none is configured). */
  readonly ProvisionedConcurrencyUtilization: number;
  /** Invocations served by provisioned environments. */
  readonly ProvisionedConcurrencyInvocations: number;
  /** Invocations of a function with provisioned concurrency that ran on on-demand environments. */
  readonly ProvisionedConcurrencySpilloverInvocations: number;
  /** Invocations that started a new environment (INIT ran as part of them). */
  readonly ColdStarts: number;
  /** Boot + INIT time of cold starts (provisioned environments' INIT included). */
  readonly InitDuration: DurationStats;
  /** Usage as Lambda bills it: Σ billed ms × memoryMb / 1024 / 1000. */
  readonly GBSeconds: number;
  /** Environments of this function now: warm idle, busy, provisioned (idle or busy), being started. */
  readonly environments: { readonly idle: number; readonly busy: number; readonly provisioned: number; readonly starting: number };
  /**
   * Tenant isolation only: live tenant environments (active or idle) and their limit (2,500 per
   * 1,000 of the function's concurrency), and each tenant's figures by tenant id. `tenants` is
   * bounded: every tenant with a live environment (at most `environmentsMax` of them), and of the
   * tenants whose environments have all gone, the `environmentsMax` most recently retired — at most
   * 2 × `environmentsMax` entries, however many tenant ids were ever seen. A tenant forgotten past
   * that starts again from zero if it comes back; the function's own figures count every invocation.
   */
  readonly tenancy?: {
    readonly environments: number;
    readonly environmentsMax: number;
    readonly tenants: Readonly<Record<string, TenantMetrics>>;
  };
  /** Configured limits: reserved (undefined when none) and provisioned concurrency. */
  readonly reservedConcurrency: number | undefined;
  readonly provisionedConcurrency: number;
}

/** One tenant's figures (tenant isolation). Durations in ms. */
export interface TenantMetrics {
  readonly Invocations: number;
  readonly Errors: number;
  readonly ColdStarts: number;
  /** Σ invocation Duration. */
  readonly DurationMs: number;
  /** Usage as Lambda bills it: Σ billed ms × memoryMb / 1024 / 1000. */
  readonly GBSeconds: number;
  /** This tenant's environments now (busy, idle or starting). */
  readonly environments: number;
}

/** The runtime's figures: account-level gauges and every function's metrics. */
export interface RuntimeMetrics {
  /** Invocations running now, all functions. */
  readonly ConcurrentExecutions: number;
  readonly ConcurrentExecutionsMax: number;
  /** Running invocations drawing on the unreserved pool (functions without a reservation, past their provisioned). */
  readonly UnreservedConcurrentExecutions: number;
  readonly UnreservedConcurrentExecutionsMax: number;
  /** The account limit (`concurrency`). */
  readonly concurrency: number;
  /** The unreserved pool's size: concurrency minus every function's reservation (or provisioned, when unreserved). */
  readonly unreservedConcurrency: number;
  /** Invokes waiting for capacity now. */
  readonly queued: number;
  /** Sum of memoryMb of live environments, and the budget. */
  readonly memoryUsedMb: number;
  readonly memoryBudgetMb: number;
  /** Live environments, all functions. */
  readonly environments: number;
  /** Idle environments disposed to make room under the memory budget, and by the idle TTL. */
  readonly evictions: number;
  readonly reaped: number;
  readonly functions: readonly FunctionMetrics[];
}

/** What one finished invocation contributes. */
export interface InvocationReport {
  readonly durationMs: number;
  readonly billedDurationMs: number;
  /** Boot + INIT, on a cold start. */
  readonly initDurationMs?: number | undefined;
  readonly error: boolean;
}

/** The mutable counters behind one FunctionMetrics. */
export class FunctionCounters {
  invocations = 0;
  errors = 0;
  throttles = 0;
  coldStarts = 0;
  provisionedInvocations = 0;
  spilloverInvocations = 0;
  concurrentMax = 0;
  gbSeconds = 0;
  readonly duration = new DurationHistogram();
  readonly initDuration = new DurationHistogram();

  record(report: InvocationReport, memoryMb: number): void {
    this.invocations += 1;
    if (report.error) this.errors += 1;
    this.duration.record(report.durationMs);
    if (report.initDurationMs !== undefined) this.initDuration.record(report.initDurationMs);
    this.gbSeconds += (report.billedDurationMs * memoryMb) / 1024 / 1000;
  }
}

/** The mutable counters behind one TenantMetrics. */
export interface TenantCounters {
  invocations: number;
  errors: number;
  coldStarts: number;
  durationMs: number;
  gbSeconds: number;
  environments: number;
}
