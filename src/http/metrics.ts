/**
 * `GET /metrics`: the runtime's figures in Prometheus text format, through prom-client (its
 * registry, exposition format and process metrics; not our own serialiser). Lambda's CloudWatch
 * metric names (Invocations, Errors, Throttles, Duration, ConcurrentExecutions, ...; Lambda
 * developer guide, "Types of metrics for Lambda functions") become `lambda_<snake_case>` series
 * labelled by function and version (aliases by alias and executed version). Every series is read
 * from one `rt.metrics()` snapshot taken per scrape. Duration and InitDuration are summaries (the
 * runtime keeps p50/p90/p99, count and sum); the server's own requests are a real histogram
 * (`lambdalet_http_request_duration_seconds`, by operation and status).
 */
import { collectDefaultMetrics, Counter, Histogram, Registry, type MetricValue } from 'prom-client';
import type { Metrics, Runtime } from '../runtime.ts';

type Values = MetricValue<string>[];
type Kind = 'counter' | 'gauge' | 'summary';

/** A metric whose values are computed from the scrape's snapshot (prom-client's registry calls `get`). */
class SnapshotMetric {
  readonly aggregator = 'sum';
  readonly name: string;
  readonly help: string;
  readonly type: Kind;
  readonly #compute: (m: Metrics) => Values;
  readonly #snapshot: () => Metrics;

  constructor(name: string, help: string, type: Kind, compute: (m: Metrics) => Values, snapshot: () => Metrics) {
    this.name = name;
    this.help = help;
    this.type = type;
    this.#compute = compute;
    this.#snapshot = snapshot;
  }

  get(): Promise<{ name: string; help: string; type: Kind; aggregator: string; values: Values }> {
    return Promise.resolve({ name: this.name, help: this.help, type: this.type, aggregator: this.aggregator, values: this.#compute(this.#snapshot()) });
  }

  reset(): void {}
}

export class ServerMetrics {
  readonly registry = new Registry();
  readonly requests: Counter;
  readonly duration: Histogram;
  readonly #rt: Runtime;
  #snapshot: Metrics | undefined;

  constructor(rt: Runtime) {
    this.#rt = rt;
    const snapshot = (): Metrics => (this.#snapshot ??= this.#rt.metrics());
    const perFunction = (name: string, help: string, type: Kind, pick: (f: Metrics['functions'][number]) => number): void => {
      this.registry.registerMetric(new SnapshotMetric(name, help, type, (m) => m.functions.map((f) => ({ labels: { function_name: f.functionName, version: f.version }, value: pick(f) })), snapshot) as never);
    };
    perFunction('lambda_invocations_total', 'Invocations that ran (function errors included, throttles not).', 'counter', (f) => f.Invocations);
    perFunction('lambda_errors_total', 'Invocations that ended in a function error.', 'counter', (f) => f.Errors);
    perFunction('lambda_throttles_total', 'Invokes refused with TooManyRequestsException.', 'counter', (f) => f.Throttles);
    perFunction('lambda_cold_starts_total', 'Invocations that started a new execution environment.', 'counter', (f) => f.ColdStarts);
    perFunction('lambda_concurrent_executions', 'Invocations of the function version running now.', 'gauge', (f) => f.ConcurrentExecutions);
    perFunction('lambda_provisioned_concurrent_executions', 'Running invocations served by provisioned environments.', 'gauge', (f) => f.ProvisionedConcurrentExecutions);
    perFunction('lambda_provisioned_concurrency_spillover_invocations_total', 'Invocations of a provisioned function that ran on on-demand environments.', 'counter', (f) => f.ProvisionedConcurrencySpilloverInvocations);
    perFunction('lambda_gb_seconds_total', 'Usage as Lambda bills it: billed seconds x memory GB.', 'counter', (f) => f.GBSeconds);
    perFunction('lambda_environments', 'Execution environments of the function version now (idle, busy, starting).', 'gauge', (f) => f.environments.idle + f.environments.busy + f.environments.starting);
    for (const [name, help, pick] of [
      ['lambda_duration_milliseconds', 'Invocation duration (the REPORT line\'s Duration).', (f: Metrics['functions'][number]) => f.Duration],
      ['lambda_init_duration_milliseconds', 'Boot and INIT time of cold starts.', (f: Metrics['functions'][number]) => f.InitDuration],
    ] as const) {
      this.registry.registerMetric(new SnapshotMetric(name, help, 'summary', (m) => m.functions.flatMap((f) => {
        const d = pick(f);
        const labels = { function_name: f.functionName, version: f.version };
        return [
          ...([['0.5', d.p50], ['0.9', d.p90], ['0.99', d.p99]] as const).map(([quantile, value]) => ({ labels: { ...labels, quantile }, value })),
          { metricName: `${name}_sum`, labels, value: d.sum },
          { metricName: `${name}_count`, labels, value: d.count },
        ];
      }), snapshot) as never);
    }
    const aliasMetric = (name: string, help: string, pick: (a: Metrics['aliases'][number]) => Values): void => {
      this.registry.registerMetric(new SnapshotMetric(name, help, 'counter', (m) => m.aliases.flatMap(pick), snapshot) as never);
    };
    aliasMetric('lambda_alias_invocations_total', 'Invocations through an alias, by the version that ran (the observed split).', (a) => Object.entries(a.versions).map(([version, value]) => ({ labels: { function_name: a.functionName, alias: a.alias, executed_version: version }, value })));
    aliasMetric('lambda_alias_errors_total', 'Function errors of invocations through an alias.', (a) => [{ labels: { function_name: a.functionName, alias: a.alias }, value: a.Errors }]);
    const account = (name: string, help: string, pick: (m: Metrics) => number): void => {
      this.registry.registerMetric(new SnapshotMetric(name, help, 'gauge', (m) => [{ labels: {}, value: pick(m) }], snapshot) as never);
    };
    account('lambda_account_concurrent_executions', 'Invocations running now, all functions.', (m) => m.ConcurrentExecutions);
    account('lambda_unreserved_concurrent_executions', 'Running invocations drawing on the unreserved pool.', (m) => m.UnreservedConcurrentExecutions);
    account('lambda_account_concurrency_limit', 'The account concurrency limit.', (m) => m.concurrency);
    account('lambda_queued_invokes', 'Invokes waiting for capacity now.', (m) => m.queued);
    account('lambda_async_events_received', 'Asynchronous events received (AsyncEventsReceived).', (m) => m.async.AsyncEventsReceived);
    account('lambda_async_events_dropped', 'Asynchronous events dropped (AsyncEventsDropped).', (m) => m.async.AsyncEventsDropped);
    this.requests = new Counter({ name: 'lambdalet_http_requests_total', help: 'HTTP requests answered, by operation and status.', labelNames: ['operation', 'status'], registers: [this.registry] });
    this.duration = new Histogram({ name: 'lambdalet_http_request_duration_seconds', help: 'HTTP request duration, by operation.', labelNames: ['operation'], buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30], registers: [this.registry] });
    collectDefaultMetrics({ register: this.registry, prefix: 'lambdalet_' });
  }

  /** One request answered. */
  observe(operation: string, status: number, seconds: number): void {
    this.requests.inc({ operation, status: String(status) });
    this.duration.observe({ operation }, seconds);
  }

  /** The exposition text: one snapshot of the runtime for every series. */
  async text(): Promise<string> {
    this.#snapshot = undefined;
    try {
      return await this.registry.metrics();
    } finally {
      this.#snapshot = undefined;
    }
  }

  get contentType(): string {
    return this.registry.contentType;
  }
}
