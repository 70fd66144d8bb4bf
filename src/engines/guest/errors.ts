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

/** The runtime client's `toRapidResponse`: Error → name/message/stack lines; anything else → typeof/String. */
export function toErrorShape(value: unknown): ErrorShape {
  try {
    if (looksLikeError(value)) {
      const stack = typeof value.stack === 'string' ? value.stack : `${value.name}: ${value.message}`;
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
      trace: (value.stack ?? '').split('\n'),
    };
  }
  const code = typeof value === 'object' && value !== null ? (value as { code?: unknown }).code : undefined;
  if (code === 'MODULE_NOT_FOUND' || code === 'ERR_MODULE_NOT_FOUND') {
    const error = value as Error;
    return {
      errorType: 'Runtime.ImportModuleError',
      errorMessage: `${error.name}: ${error.message}`,
      trace: (error.stack ?? '').split('\n'),
    };
  }
  return toErrorShape(value);
}
