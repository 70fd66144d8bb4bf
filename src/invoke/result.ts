/** What `rt.invoke()` returns, and how a phase's outcome and its REPORT figures become one. */
import type { PhaseResult } from '../environment/environment.ts';
import { isJsonText } from './json-text.ts';
import { malformedResponse } from './malformed-response.ts';

/** What `rt.invoke()` returns: Lambda's Invoke response plus the REPORT figures. */
export interface InvokeResult {
  /** 200 for a synchronous (RequestResponse) invoke that reached the function, error or not. */
  readonly statusCode: number;
  /**
   * The handler's response parsed from JSON; for a function error, Lambda's error object. A response
   * of 64 Ki UTF-16 units or more is parsed when this is first read (an own enumerable property
   * either way; assignable).
   */
  readonly payload: unknown;
  /** Set when the function failed (thrown error, timeout, out of memory, INIT failure). */
  readonly functionError?: 'Unhandled';
  /** Last 4 KB of the invocation's log, base64, when `logType: 'Tail'` was asked for. */
  readonly logResult?: string;
  /** The version that ran: `$LATEST`, or a published number (an alias's pick, for an alias). */
  readonly executedVersion: string;
  readonly requestId: string;
  /** This invocation started a new execution environment (and ran INIT). */
  readonly coldStart: boolean;
  readonly durationMs: number;
  readonly billedDurationMs: number;
  /** Boot + INIT time, on cold starts only (not on SnapStart restores). */
  readonly initDurationMs?: number;
  /** SnapStart: restore + after-restore hooks, on cold starts of a snapStart function. */
  readonly restoreDurationMs?: number;
  readonly maxMemoryUsedMb: number;
  /**
   * Bytes of file content in the environment's /tmp after the invocation (0 when no environment
   * ran). Not part of the REPORT line, which stays as Lambda writes it.
   */
  readonly tmpUsedBytes: number;
}

/** The figures of one invocation's REPORT line. */
export interface Report {
  readonly durationMs: number;
  readonly billedDurationMs: number;
  readonly initDurationMs: number | undefined;
  readonly restoreDurationMs: number | undefined;
  readonly maxMemoryUsedMb: number;
}

/**
 * Errors the platform produces (not the runtime client) have no trace in their payload. The host's
 * own errors are flagged `platform`; the guest runtime's Runtime.ExitError (a top-level await that
 * never settles) is recognised by type, and only with an empty trace, so user code cannot use the
 * name to hide its trace.
 */
function isPlatformError(result: Extract<PhaseResult, { ok: false }>): boolean {
  return result.platform === true || (result.error.errorType === 'Runtime.ExitError' && result.error.trace.length === 0);
}

export function toInvokeResult(
  result: PhaseResult,
  requestId: string,
  coldStart: boolean,
  report: Report,
  logResult: string | undefined,
  executedVersion: string,
  tmpUsedBytes = 0,
): InvokeResult {
  // Built field by field in the result's key order (no spread copies: this runs on every invoke).
  const out: Record<string, unknown> = {
    statusCode: 200,
    executedVersion,
    requestId,
    coldStart,
    durationMs: report.durationMs,
    billedDurationMs: report.billedDurationMs,
    maxMemoryUsedMb: report.maxMemoryUsedMb,
    tmpUsedBytes,
  };
  if (report.initDurationMs !== undefined) out.initDurationMs = report.initDurationMs;
  if (report.restoreDurationMs !== undefined) out.restoreDurationMs = report.restoreDurationMs;
  if (logResult !== undefined) out.logResult = logResult;
  if (result.ok) {
    const text = result.payload;
    if (text.length >= LAZY_PAYLOAD_CHARS && isJsonText(text)) {
      definePayloadFromText(out, text);
      return out as unknown as InvokeResult;
    }
    const parsed = parsePayload(text);
    if (parsed.ok) {
      out.payload = parsed.value;
      return out as unknown as InvokeResult;
    }
    out.payload = parsed.error;
    out.functionError = 'Unhandled';
    return out as unknown as InvokeResult;
  }
  const { errorType, errorMessage, trace } = result.error;
  // The runtime client's `handled` shape (an error it could not read) has no trace key either.
  const untraced = isPlatformError(result) || (errorType === 'handled' && trace.length === 0);
  out.payload = untraced ? { errorType, errorMessage } : { errorType, errorMessage, trace };
  out.functionError = 'Unhandled';
  return out as unknown as InvokeResult;
}

/**
 * The response text as a value. The guest serialises with whatever `JSON.stringify` the user's code
 * left in place, as the runtime client does (RIC `JSON.stringify(result)` at response time), so a
 * handler that replaced it can send text that is not JSON: that is a function error, as the wasm
 * engine gives the same fault (malformed-response.ts), never a host SyntaxError thrown from `rt.invoke`.
 */
function parsePayload(text: string): { ok: true; value: unknown } | { ok: false; error: { errorType: string; errorMessage: string } } {
  try {
    return { ok: true, value: JSON.parse(text) as unknown };
  } catch (error) {
    return { ok: false, error: malformedResponse(text, error as Error) };
  }
}

/**
 * Responses from this many UTF-16 units up are parsed only when `payload` is first read: the Lambda
 * API's Invoke answers with the text itself ({@link responseTextOf}), and parsing a 5.5 MB object of
 * 340,000 keys on the host's thread only to JSON.stringify it again held the event loop ~270 ms
 * (issue #15). Below it, parsing at once costs less than the lazy property would.
 */
const LAZY_PAYLOAD_CHARS = 64 * 1024;

/** The response text of results whose payload is parsed on first read (never a function error's). */
const responseTexts = new WeakMap<object, string>();

/**
 * `payload` as an enumerable own property in its usual place, parsed from `text` (already checked to
 * be JSON) on first read, then a plain data property; an assignment before that replaces it.
 */
function definePayloadFromText(out: Record<string, unknown>, text: string): void {
  const settle = (target: object, value: unknown): void => {
    Object.defineProperty(target, 'payload', { value, writable: true, enumerable: true, configurable: true });
    responseTexts.delete(target);
  };
  Object.defineProperty(out, 'payload', {
    get(this: object) {
      const value = JSON.parse(text) as unknown;
      settle(this, value);
      return value;
    },
    set(this: object, value: unknown) {
      settle(this, value);
    },
    enumerable: true,
    configurable: true,
  });
  responseTexts.set(out, text);
}

/**
 * The function's response as the JSON text its runtime sent, when the result still holds it (a large
 * response whose `payload` nobody has read or replaced); otherwise undefined: stringify `payload`.
 */
export function responseTextOf(result: InvokeResult): string | undefined {
  return responseTexts.get(result);
}
