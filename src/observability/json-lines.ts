/**
 * Lambda's JSON log format (LoggingConfig.LogFormat `JSON`): application lines as the runtime
 * client writes them (src/LogPatch.js `formatJsonMessage`: timestamp, level, requestId, the
 * tenantId of a tenant-isolated function, then the message fields) and platform events as Lambda
 * writes its system logs, `{time, type, record}` with the record fields of the Telemetry API schema
 * (docs: "Lambda Telemetry API Event schema reference": platform.initStart, platform.start,
 * platform.report).
 */
import type { ReportFields } from './log-lines.ts';
import { billedDuration } from './log-lines.ts';

/** Envelope fields the runtime writes first; a guest's own keys of these names are dropped. */
const ENVELOPE = new Set(['timestamp', 'level', 'requestId', 'tenantId']);

/**
 * One JSON application line from the guest's message fields (`{"message":...}` JSON text, built in
 * the sandbox and so untrusted): the envelope is the host's, the rest is re-serialised, so a guest
 * can neither forge the envelope nor break the line. Text that is not a JSON object becomes the
 * message. (`console.log(undefined)` has no message key, as JSON.stringify leaves it out.)
 */
export function jsonApplicationLine(timestamp: Date, requestId: string | undefined, level: string, fields: string, tenantId?: string): string {
  let rest: Record<string, unknown> = { message: fields };
  if (fields.startsWith('{')) {
    try {
      const parsed: unknown = JSON.parse(fields);
      if (typeof parsed === 'object' && parsed !== null && !Array.isArray(parsed)) {
        rest = {};
        for (const [key, value] of Object.entries(parsed)) if (!ENVELOPE.has(key)) rest[key] = value;
      }
    } catch {
      // not JSON: the text is the message
    }
  }
  return JSON.stringify({ timestamp: timestamp.toISOString(), level, ...(requestId === undefined ? {} : { requestId }), ...(tenantId === undefined ? {} : { tenantId }), ...rest });
}

/** A platform event as one JSON line. */
export function platformEvent(type: string, record: Record<string, unknown>, time = new Date()): string {
  return JSON.stringify({ time: time.toISOString(), type, record });
}

/** `platform.initStart`: a cold start's INIT began. */
export function initStartEvent(initializationType: string, functionName: string, functionVersion: string): string {
  return platformEvent('platform.initStart', { initializationType, phase: 'init', functionName, functionVersion });
}

/** `platform.start`: the invocation began (the Text format's START line). */
export function startEvent(requestId: string, version: string): string {
  return platformEvent('platform.start', { requestId, version });
}

/** `platform.report` (the Text format's REPORT line); `status` success, error, timeout or failure. */
export function reportEvent(f: ReportFields, status: 'success' | 'error' | 'timeout' | 'failure', errorType?: string): string {
  const metrics: Record<string, number> = {
    durationMs: round2(f.durationMs),
    billedDurationMs: f.billedDurationMs,
    memorySizeMB: f.memorySizeMb,
    maxMemoryUsedMB: f.maxMemoryUsedMb,
  };
  if (f.initDurationMs !== undefined) metrics.initDurationMs = round2(f.initDurationMs);
  if (f.restoreDurationMs !== undefined) {
    metrics.restoreDurationMs = round2(f.restoreDurationMs);
    metrics.billedRestoreDurationMs = billedDuration(f.restoreDurationMs);
  }
  return platformEvent('platform.report', { requestId: f.requestId, metrics, status, ...(errorType === undefined ? {} : { errorType }) });
}

function round2(ms: number): number {
  return Math.round(ms * 100) / 100;
}
