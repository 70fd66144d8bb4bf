/** The end of an invocation in the log stream: END and REPORT lines (built in observability/). */
import type { PhaseResult } from '../environment/environment.ts';
import type { LogCollector } from '../environment/log-collector.ts';
import { billedDuration } from '../observability/log-lines.ts';
import type { Report } from './result.ts';

/** Writes END and REPORT for `requestId` and returns the REPORT figures. */
export function finishInvocation(
  logs: LogCollector,
  requestId: string,
  durationMs: number,
  memorySizeMb: number,
  maxMemoryUsedMb: number,
  { initDurationMs, restoreDurationMs }: { initDurationMs?: number | undefined; restoreDurationMs?: number | undefined },
  result: PhaseResult,
): Report {
  const billedDurationMs = billedDuration(durationMs);
  const timedOut = !result.ok && result.platform === true && result.error.errorType === 'Sandbox.Timedout';
  // The runtime itself failed (killed out of memory, exited): Lambda's REPORT says so; a function
  // error (the handler threw) and the platform's refusals (an oversized response) do not.
  const runtimeFailure = !result.ok && result.platform === true && !timedOut && result.error.errorType.startsWith('Runtime.') ? result.error.errorType : undefined;
  // A runtime killed out of memory had reached its Memory Size (the engines' last reading may
  // predate the bomb: v8 reads the heap after a call, quickjs its last sample).
  if (runtimeFailure === 'Runtime.OutOfMemory') maxMemoryUsedMb = Math.max(maxMemoryUsedMb, memorySizeMb);
  logs.end(
    {
      requestId,
      durationMs,
      billedDurationMs,
      memorySizeMb,
      maxMemoryUsedMb,
      initDurationMs,
      restoreDurationMs,
      status: timedOut ? 'timeout' : runtimeFailure !== undefined ? 'error' : undefined,
      errorType: runtimeFailure,
    },
    // The Telemetry API's statuses: a function error is `error`, a platform failure `failure`.
    result.ok ? 'success' : timedOut ? 'timeout' : result.platform === true ? 'failure' : 'error',
    result.ok ? undefined : result.error.errorType,
  );
  logs.requestId = undefined;
  return { durationMs, billedDurationMs, initDurationMs, restoreDurationMs, maxMemoryUsedMb };
}
