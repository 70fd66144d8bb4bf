/**
 * Running one admitted invocation on its lease's environment: cold-start it first when the lease
 * has none (boot + INIT, or a SnapStart restore), then START, the invoke phase, END and REPORT.
 *
 * Contract: the caller holds the lease and releases it afterwards, whatever happens; this attaches
 * a newly booted environment to the lease at once, so a failure after boot still lets the
 * dispatcher dispose it. Function errors come back in `result`; a failed SnapStart restore throws
 * SnapStartException / SnapStartTimeoutException.
 *
 * Nothing may be lost (issue #15): when the environment dies before the invocation's own user code
 * started — its engine worker was terminated for a neighbour's call stuck past its deadline while
 * this invocation's first call (or its cold start's INIT or restore) waited behind it in that
 * worker (PhaseResult `notStarted`) — the invocation runs once more on a fresh environment in the
 * same lease (Dispatcher.renew): a cold start, answered as one (Init Duration). Lambda never fails
 * an invocation for another's fault. Only once, and never after any of its user code ran: an
 * invocation whose handler had started fails as the environment's crash (Runtime.ExitError), so
 * no invocation runs user code twice (at most once, as Lambda's synchronous invoke).
 */
import type { InvokeOptions } from '../config/index.ts';
import type { Dispatcher } from '../dispatch/index.ts';
import type { ExecutionEnvironment, PhaseResult } from '../environment/environment.ts';
import type { LogCollector } from '../environment/log-collector.ts';
import type { ResponseSink } from '../environment/response-sink.ts';
import type { ColdStart } from '../environment/snap-start.ts';
import { SnapStartException, SnapStartTimeoutException } from '../errors.ts';
import { performance } from '../host-clock.ts';
import type { LogSink } from '../observability/log-sink.ts';
import { bootEnvironment, type Deployment, type EnvironmentLease } from '../registry/deployment.ts';
import { finishInvocation } from './report.ts';
import type { Report } from './result.ts';

export interface RunOutcome {
  readonly result: PhaseResult;
  readonly report: Report;
  readonly logs: LogCollector;
  readonly coldStart: boolean;
  readonly tmpUsedBytes: number;
}

/** `firstAttempt` false: the invocation's one run on a fresh environment (see the module comment). */
export async function runOnLease(
  dispatcher: Dispatcher<ExecutionEnvironment, Deployment>,
  sink: LogSink,
  lease: EnvironmentLease,
  requestId: string,
  eventJson: string,
  options: InvokeOptions,
  tail: boolean,
  invokedFunctionArn: string | undefined,
  responseSink?: ResponseSink,
  firstAttempt = true,
): Promise<RunOutcome> {
  const deployment = lease.target;
  let env = lease.env;
  const coldStart = env === undefined;
  let initDurationMs: number | undefined;
  let restoreDurationMs: number | undefined;
  let result: PhaseResult | undefined;
  if (env === undefined && deployment.snapStart) {
    const cold = await deployment.snapStart.start((started) => {
      dispatcher.attach(lease, started);
      started.logs.tenantId = options.tenantId;
      if (tail) started.logs.startCapture();
    });
    env = cold.env;
    ({ initDurationMs, restoreDurationMs } = cold);
    if (firstAttempt && cold.failure && notStarted(cold.failure.result) && dispatcher.renew(lease)) {
      return runOnLease(dispatcher, sink, lease, requestId, eventJson, options, tail, invokedFunctionArn, responseSink, false);
    }
    if (cold.failure) result = coldStartFailure(cold.env, cold.failure);
  } else if (env === undefined) {
    const started = performance.now();
    env = await bootEnvironment(deployment, sink, 'on-demand');
    dispatcher.attach(lease, env);
    env.logs.tenantId = options.tenantId;
    if (tail) env.logs.startCapture();
    const init = await env.init();
    initDurationMs = performance.now() - started;
    if (firstAttempt && notStarted(init) && dispatcher.renew(lease)) {
      return runOnLease(dispatcher, sink, lease, requestId, eventJson, options, tail, invokedFunctionArn, responseSink, false);
    }
    if (!init.ok) result = init;
  } else if (tail) {
    env.logs.startCapture();
  }

  const logs = env.logs;
  logs.requestId = requestId;
  logs.start(requestId, deployment.identity.version);
  const started = performance.now();
  result ??= await env.invoke({
    requestId,
    event: eventJson,
    clientContext: options.clientContext,
    identity: options.identity,
    invokedFunctionArn,
    tenantId: options.tenantId,
    responseSink,
  });
  if (firstAttempt && notStarted(result) && dispatcher.renew(lease)) {
    return runOnLease(dispatcher, sink, lease, requestId, eventJson, options, tail, invokedFunctionArn, responseSink, false);
  }
  const durationMs = reportedDuration(performance.now() - started, deployment.config.timeoutMs, result);
  const report = finishInvocation(logs, requestId, durationMs, deployment.config.memoryMb, env.maxMemoryUsedMb, { initDurationMs, restoreDurationMs }, result);
  return { result, report, logs, coldStart, tmpUsedBytes: env.tmpUsage().bytes };
}

/** The environment died before any of the phase's user code ran (PhaseResult `notStarted`): the invocation may run again once. */
function notStarted(result: PhaseResult): boolean {
  return !result.ok && result.notStarted === true;
}

/**
 * The invoke phase's Duration as Lambda reports it: a timed-out invocation ran for exactly its
 * timeout (Lambda answers at the deadline: `Duration: <timeout>.00 ms`, lambda-compat.md A3 "Timeout"),
 * and nothing runs past it. The host notices a deadline a little after it passes (a timer, a
 * loaded machine), and a guest stuck in an uninterruptible built-in is answered for at the deadline
 * (environment/event-loop.ts) while its thread runs on: neither is the function's time.
 */
function reportedDuration(measuredMs: number, timeoutMs: number, result: PhaseResult): number {
  if (!result.ok && result.platform === true && result.error.errorType === 'Sandbox.Timedout') return timeoutMs;
  return Math.min(measuredMs, timeoutMs);
}

/**
 * A cold start whose environment could not be made ready. INIT's own error (the fallback path ran
 * INIT) is a function error, as for any cold start; a failed restore phase is Lambda's service
 * error: SnapStartException, or SnapStartTimeoutException when the after-restore hooks ran out of
 * time.
 */
function coldStartFailure(env: ExecutionEnvironment, { phase, result }: NonNullable<ColdStart['failure']>): PhaseResult {
  if (phase === 'init') return result;
  env.dispose();
  if (result.platform === true && result.error.errorType === 'Sandbox.Timedout') {
    throw new SnapStartTimeoutException(`The after-restore hooks did not finish in time: ${result.error.errorMessage}`);
  }
  throw new SnapStartException('SnapStart: the restore phase failed', result.error);
}
