/** The dispatcher: admission control, warm pools, throttling and metrics. Imports no engine. */
export { Dispatcher, TENANT_ENVIRONMENTS_PER_1000_CONCURRENCY, type CreateEnvironment, type DispatcherOptions } from './dispatcher.ts';
export { FunctionPool, Lease, type PoolConfig, type PooledEnvironment } from './pool.ts';
export { systemClock, type Clock, type TimerHandle } from './clock.ts';
export { DurationHistogram, type DurationStats } from './histogram.ts';
export { TokenBucket } from './token-bucket.ts';
export type { FunctionMetrics, InvocationReport, RuntimeMetrics, TenantMetrics } from './metrics.ts';
