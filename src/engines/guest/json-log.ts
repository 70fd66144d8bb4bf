/**
 * A console call as one JSON application log line, the runtime client's `formatJsonMessage`
 * (src/LogPatch.js) without the envelope (timestamp, level, requestId), which the host adds.
 *
 * One argument is the message itself, Errors (nested ones too) written as `{errorType,
 * errorMessage, stackTrace, ...own properties}`; if that cannot be serialised, the message is
 * `util.format` of it. Several arguments: the message is `util.format` of them all, and the first
 * Error among them adds `errorType`, `errorMessage` and `stackTrace`.
 */
import { stackText, v8Message } from './errors.ts';

type Format = (args: readonly unknown[]) => string;

function errorType(error: Error): string {
  // `value?.constructor?.name ?? 'UnknownError'`, read defensively.
  try {
    return (error.constructor as { name?: string } | undefined)?.name ?? 'UnknownError';
  } catch {
    return 'UnknownError';
  }
}

function replacer(_key: string, value: unknown): unknown {
  if (!(value instanceof Error)) return value;
  return Object.assign(
    {
      errorType: errorType(value),
      errorMessage: typeof value.message === 'string' ? v8Message(value.message) : value.message,
      stackTrace: typeof value.stack === 'string' ? stackText(value).split('\n') : value.stack,
    },
    value,
  );
}

/** `{"message":...[,"errorType","errorMessage","stackTrace"]}` as JSON text. */
export function jsonLogMessage(args: readonly unknown[], format: Format): string {
  if (args.length === 1) {
    try {
      const text = JSON.stringify({ message: args[0] }, replacer);
      if (text !== undefined) return text;
    } catch {
      // a cycle, a BigInt, a throwing toJSON: the formatted text instead
    }
    return JSON.stringify({ message: format(args) });
  }
  const result: Record<string, unknown> = { message: format(args) };
  const error = args.find((arg): arg is Error => arg instanceof Error);
  if (error !== undefined) {
    result.errorType = errorType(error);
    result.errorMessage = error.message;
    result.stackTrace = typeof error.stack === 'string' ? stackText(error).split('\n') : [];
  }
  return JSON.stringify(result);
}
