/**
 * Lambda's log lines, built in this one place (Text format, as CloudWatch shows them):
 * platform lines START/END/REPORT and the runtime client's application lines.
 */

export interface ReportFields {
  readonly requestId: string;
  readonly durationMs: number;
  readonly billedDurationMs: number;
  readonly memorySizeMb: number;
  readonly maxMemoryUsedMb: number;
  /** Only on the first invocation of an environment (a cold start). */
  readonly initDurationMs?: number | undefined;
  /** SnapStart: only on the first invocation of a restored environment (replaces Init Duration). */
  readonly restoreDurationMs?: number | undefined;
  /**
   * `timeout` when the invocation timed out; `error` when the runtime failed under it (out of
   * memory, the process exited), with {@link errorType}: CloudWatch's REPORT then ends in
   * `Status: timeout` / `Status: error\tError Type: Runtime.OutOfMemory`.
   */
  readonly status?: 'timeout' | 'error';
  /** With status `error`: the runtime failure's type (`Runtime.OutOfMemory`, `Runtime.ExitError`). */
  readonly errorType?: string | undefined;
}

export function startLine(requestId: string, version: string): string {
  return `START RequestId: ${requestId} Version: ${version}`;
}

export function endLine(requestId: string): string {
  return `END RequestId: ${requestId}`;
}

/** Tab-separated with a trailing tab; Init Duration after Max Memory Used, as real AWS prints it. */
export function reportLine(f: ReportFields): string {
  let line =
    `REPORT RequestId: ${f.requestId}\tDuration: ${f.durationMs.toFixed(2)} ms\t` +
    `Billed Duration: ${f.billedDurationMs} ms\tMemory Size: ${f.memorySizeMb} MB\t` +
    `Max Memory Used: ${f.maxMemoryUsedMb} MB\t`;
  if (f.initDurationMs !== undefined) line += `Init Duration: ${f.initDurationMs.toFixed(2)} ms\t`;
  if (f.restoreDurationMs !== undefined) {
    line += `Restore Duration: ${f.restoreDurationMs.toFixed(2)} ms\tBilled Restore Duration: ${billedDuration(f.restoreDurationMs)} ms\t`;
  }
  if (f.status !== undefined) line += `Status: ${f.status}\t`;
  if (f.status === 'error' && f.errorType !== undefined) line += `Error Type: ${f.errorType}\t`;
  return line;
}

/**
 * `<ISO8601>\t<requestId>\t<LEVEL>\t<message>`; embedded newlines become `\r` so one console call
 * stays one log event (the runtime client's LogPatch). During INIT the request id is `undefined`.
 */
export function applicationLine(timestamp: Date, requestId: string | undefined, level: string, message: string): string {
  return `${timestamp.toISOString()}\t${requestId ?? 'undefined'}\t${level}\t${message.replace(/\n/g, '\r')}`;
}

/** Billed duration: rounded up to the next millisecond, at least 1 ms. */
export function billedDuration(durationMs: number): number {
  return Math.max(1, Math.ceil(durationMs));
}

/** `Task timed out after 3.00 seconds`, Lambda's wording for a timeout. */
export function timeoutMessage(timeoutMs: number): string {
  return `Task timed out after ${(timeoutMs / 1000).toFixed(2)} seconds`;
}

/** The last `maxBytes` of the invocation's log as base64 (Invoke's LogType: Tail). */
export function logTail(lines: readonly string[], maxBytes: number): string {
  const text = Buffer.from(lines.map((l) => l + '\n').join(''), 'utf8');
  return text.subarray(Math.max(0, text.length - maxBytes)).toString('base64');
}

/**
 * The runtime client's `Uncaught Exception` line for an INIT failure found at deploy (bundling):
 * `structuredConsole.logError` writes the error as `toFormatted` does — errorType, errorMessage,
 * Node's `code` when there is one, then the stack's lines under `stack` (not `trace`).
 */
export function uncaughtInitFailure(failure: { readonly errorType: string; readonly errorMessage: string; readonly code?: string; readonly trace: readonly string[] }): string {
  const { errorType, errorMessage, code, trace } = failure;
  return `Uncaught Exception \t${JSON.stringify({ errorType, errorMessage, code, stack: trace })}`;
}

/** The same failure as a JSON application line's fields: `console.error(error)` of the runtime client. */
export function uncaughtInitFailureJson(failure: { readonly errorType: string; readonly errorMessage: string; readonly code?: string; readonly trace: readonly string[] }): string {
  const { errorType, errorMessage, code, trace } = failure;
  // LogPatch's jsonErrorReplacer names the type by the constructor (Runtime.* classes are UserCodeSyntaxError...).
  const ctor = errorType.startsWith('Runtime.') ? errorType.slice('Runtime.'.length) : errorType;
  return JSON.stringify({ message: { errorType: ctor, errorMessage, stackTrace: trace, ...(code === undefined ? {} : { code }) } });
}
