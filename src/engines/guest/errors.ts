/** Errors as Lambda's Node.js runtime shapes them (aws-lambda-nodejs-runtime-interface-client). */
import type { ErrorShape } from './protocol.ts';

/** A runtime error with Lambda's `Runtime.*` name. */
export function runtimeError(type: string, message: string): Error {
  const error = new Error(message);
  error.name = `Runtime.${type}`;
  return error;
}

function looksLikeError(value: unknown): value is Error {
  if (value instanceof Error) return true;
  if (typeof value !== 'object' || value === null) return false;
  const v = value as Record<string, unknown>;
  return typeof v.name === 'string' && typeof v.message === 'string' && typeof v.stack === 'string'
    && v.name !== '' && v.message !== '' && v.stack !== '';
}

/**
 * An error's stack as Node prints it: `Name: message` then the frames. Engines differ here: V8's
 * `stack` starts with that header line, QuickJS's holds only the frames (and ends with a newline).
 */
export function stackText(error: Error, stack: unknown = error.stack): string {
  const header = error.message === '' ? String(error.name) : `${String(error.name)}: ${String(error.message)}`;
  if (typeof stack !== 'string' || stack === '') return header;
  const text = stack.endsWith('\n') ? stack.slice(0, -1) : stack;
  return text.startsWith('    at ') ? `${header}\n${text}` : text;
}

/** The runtime client's `toRapidResponse`: Error → name/message/stack lines; anything else → typeof/String. */
export function toErrorShape(value: unknown): ErrorShape {
  try {
    if (looksLikeError(value)) {
      const stack = stackText(value);
      return {
        errorType: String(value.name).replace(/\x7F/g, '%7F'),
        errorMessage: String(value.message).replace(/\x7F/g, '%7F'),
        trace: stack.replace(/\x7F/g, '%7F').split('\n'),
      };
    }
    return { errorType: typeof value, errorMessage: String(value), trace: [] };
  } catch {
    return {
      errorType: 'handled',
      errorMessage:
        'callback called with Error argument, but there was a problem while retrieving one or more of its message, name, and stack',
      trace: [],
    };
  }
}

/** Errors thrown while loading the user's module, mapped as the runtime client's loader maps them. */
export function toInitErrorShape(value: unknown): ErrorShape {
  if (value instanceof SyntaxError) {
    return {
      errorType: 'Runtime.UserCodeSyntaxError',
      errorMessage: `${value.name}: ${value.message}`,
      trace: stackText(value).split('\n'),
    };
  }
  const code = typeof value === 'object' && value !== null ? (value as { code?: unknown }).code : undefined;
  if (code === 'MODULE_NOT_FOUND' || code === 'ERR_MODULE_NOT_FOUND') {
    const error = value as Error;
    return {
      errorType: 'Runtime.ImportModuleError',
      errorMessage: `${error.name}: ${error.message}`,
      trace: stackText(error).split('\n'),
    };
  }
  return toErrorShape(value);
}
