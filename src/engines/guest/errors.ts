/**
 * Errors as Lambda's Node.js runtime shapes them, to the letter of the runtime client's Errors.js
 * (aws-lambda-nodejs-runtime-interface-client src/Errors.js: toRapidResponse, toFormatted,
 * intoError) — and, whatever the engine, with V8's words for the common engine errors.
 */
import type { ErrorShape, ModuleScope } from './protocol.ts';

/**
 * A runtime error with Lambda's `Runtime.*` name. The runtime client's classes carry the name on
 * their prototype (Errors.js: `e.prototype.name = \`Runtime.${e.name}\``), so it is no own
 * enumerable property and the log line's JSON (toFormatted) has no `name` key.
 */
export function runtimeError(type: string, message: string): Error {
  const error = new Error(message);
  Object.defineProperty(error, 'name', { value: `Runtime.${type}`, writable: true, enumerable: false, configurable: true });
  return error;
}

/** The runtime client's `_isError`: an error-like object with non-empty string name, message and stack. */
function isErrorLike(value: unknown): boolean {
  if (typeof value !== 'object' || value === null) return false;
  const v = value as Record<string, unknown>;
  return Boolean(v.name && v.message && v.stack)
    && typeof v.name === 'string' && typeof v.message === 'string' && typeof v.stack === 'string';
}

/*
 * QuickJS words some engine errors differently from V8 (quickjs.c JS_ThrowReferenceErrorNotDefined,
 * JS_ThrowTypeErrorAtom...). Lambda runs V8, so messages that leave the sandbox (payloads, log
 * lines) are reworded to V8's text; V8 never produces the left-hand forms. Where QuickJS's message
 * lacks what V8's carries (`not a function` has no callee name), nothing can be recovered.
 */
/**
 * Each rewording with a literal test that must pass before its pattern runs: QuickJS's regular
 * expressions try every start position and backtrack char by char, so the patterns alone cost seconds
 * on a user's multi-megabyte message (a 16 MiB one took ~10 s of the invocation).
 */
const V8_WORDING: readonly [(message: string) => boolean, RegExp, string][] = [
  [(m) => m.startsWith("'") && m.endsWith("' is not defined"), /^'([^']*)' is not defined$/, '$1 is not defined'],
  [(m) => m.startsWith("cannot read property '"), /^cannot read property '([^']*)' of (undefined|null)$/, "Cannot read properties of $2 (reading '$1')"],
  [(m) => m.startsWith("cannot set property '"), /^cannot set property '([^']*)' of (undefined|null)$/, "Cannot set properties of $2 (setting '$1')"],
  [(m) => m.endsWith(' is not initialized') && !m.slice(0, -' is not initialized'.length).includes(' '), /^(\S+) is not initialized$/, "Cannot access '$1' before initialization"],
];
/** Engine messages name one identifier; a longer message is the user's own and stays as it is. */
const LONGEST_ENGINE_MESSAGE = 4096;

/** V8's wording of an engine message (unchanged when it already is V8's or the user's own). */
export function v8Message(message: string): string {
  if (message.length > LONGEST_ENGINE_MESSAGE) return message;
  for (const [applies, pattern, replacement] of V8_WORDING) {
    if (applies(message) && pattern.test(message)) return message.replace(pattern, replacement);
  }
  return message;
}

/**
 * An error's stack as Node prints it: `Name: message` then the frames. Engines differ here: V8's
 * `stack` starts with that header line, QuickJS's holds only the frames (and ends with a newline).
 */
export function stackText(error: Error, stack: unknown = error.stack): string {
  const message = v8Message(String(error.message));
  const header = message === '' ? String(error.name) : `${String(error.name)}: ${message}`;
  if (typeof stack !== 'string' || stack === '') return header;
  const text = stack.endsWith('\n') ? stack.slice(0, -1) : stack;
  if (text.startsWith('    at ')) return `${header}\n${text}`;
  // V8's header holds the message the error had when the stack was first read.
  const firstFrame = text.indexOf('\n    at ');
  const first = firstFrame < 0 ? text : text.slice(0, firstFrame);
  const reworded = v8Message(first.slice(first.indexOf(': ') + 2));
  return first.includes(': ') && reworded !== first.slice(first.indexOf(': ') + 2)
    ? `${first.slice(0, first.indexOf(': ') + 2)}${reworded}${firstFrame < 0 ? '' : text.slice(firstFrame)}`
    : text;
}

const HANDLED_MESSAGE =
  'callback called with Error argument, but there was a problem while retrieving one or more of its message, name, and stack';

/**
 * The runtime client's `toRapidResponse`: an Error → name, message and stack lines (DEL escaped as
 * `%7F`); anything else → `typeof` and `toString()` with an empty trace; and when reading any of
 * that throws (a `message` that is not a string, a missing stack, a throwing getter, a value
 * without `toString`) → errorType `handled` with no trace key at all.
 */
export function toErrorShape(value: unknown): ErrorShape {
  try {
    if (value instanceof Error || isErrorLike(value)) {
      const error = value as Error;
      // `?.replaceAll` as the runtime client calls it: a non-string name or message throws.
      const name = (error.name as unknown as string | undefined)?.replaceAll('\x7F', '%7F');
      const message = (error.message as unknown as string | undefined)?.replaceAll('\x7F', '%7F');
      const stack = (error.stack as unknown as string).replaceAll('\x7F', '%7F');
      const shaped = stackText(error, stack).split('\n');
      return {
        errorType: name as string,
        errorMessage: message === undefined ? (undefined as unknown as string) : v8Message(message),
        trace: shaped,
      };
    }
    return { errorType: typeof value, errorMessage: (value as { toString(): string }).toString(), trace: [] };
  } catch {
    // The runtime client's shape has no trace key; an empty trace with errorType `handled` says so
    // to the host (no other path yields that pair), which leaves the key out of the payload.
    return { errorType: 'handled', errorMessage: HANDLED_MESSAGE, trace: [] };
  }
}

/** The runtime client's `intoError`: what is not an Error becomes `new Error(value)`. */
export function intoError(value: unknown): Error {
  return value instanceof Error ? value : new Error(value as string);
}

/**
 * The runtime client's `toFormatted`: `\t` + the error as JSON, each Error (nested ones included)
 * as `{errorType, errorMessage, code, ...own enumerable properties, stack: lines}`; when that JSON
 * cannot be made (a cycle, a BigInt), the toRapidResponse shape instead.
 */
export function toFormatted(error: unknown): string {
  try {
    return '\t' + JSON.stringify(error, (_key, value: unknown) => withEnumerableProperties(value));
  } catch {
    return '\t' + JSON.stringify(toErrorShape(error));
  }
}

function withEnumerableProperties(value: unknown): unknown {
  if (!(value instanceof Error)) return value;
  const out = Object.assign(
    { errorType: value.name, errorMessage: typeof value.message === 'string' ? v8Message(value.message) : value.message, code: (value as { code?: unknown }).code },
    value,
  ) as unknown as Record<string, unknown>;
  if (typeof value.stack === 'string') out.stack = stackText(value).split('\n');
  return out;
}

/**
 * `intoError`, for the JSON log line; a value `new Error()` refuses (a Symbol) stays itself.
 */
export function intoErrorSafely(value: unknown): unknown {
  try {
    return intoError(value);
  } catch {
    return value;
  }
}

/** `structuredConsole.logError(label, err)` in Text format: `<label> \t{...}` as one ERROR line. */
export function formattedErrorLine(label: string, error: unknown): string {
  let value: Error;
  try {
    value = intoError(error);
  } catch {
    // `new Error(Symbol())` throws; the line then carries what the payload carries.
    return `${label} \t${JSON.stringify(toErrorShape(error))}`;
  }
  return `${label} ${toFormatted(value)}`;
}

/** Node's CommonJS globals (lib/internal/modules/esm/module_job.js `CJSGlobalLike`). */
const CJS_GLOBAL_LIKE = ['require', 'module', 'exports', '__filename', '__dirname'];

/**
 * An error thrown while loading the user's module, as the runtime client's loader reports it
 * (src/UserFunction.js `_loadUserApp`): a SyntaxError becomes Runtime.UserCodeSyntaxError, a
 * MODULE_NOT_FOUND Runtime.ImportModuleError, anything else is itself. When the handler's module
 * is an ES module (`moduleScope` given), a ReferenceError naming a CommonJS global gets the words
 * Node's module job adds (`require is not defined in ES module scope, you can use import instead`,
 * and for a `.js` file the note about its package.json).
 */
export function toInitError(value: unknown, moduleScope: ModuleScope | undefined): unknown {
  if (value instanceof SyntaxError) return wrapped('UserCodeSyntaxError', value);
  const code = typeof value === 'object' && value !== null ? (value as { code?: unknown }).code : undefined;
  if (code === 'MODULE_NOT_FOUND') return wrapped('ImportModuleError', value as Error);
  if (moduleScope && value instanceof ReferenceError && typeof value.message === 'string') {
    const message = v8Message(value.message);
    if (CJS_GLOBAL_LIKE.some((name) => message === `${name} is not defined`)) {
      let decorated = `${message} in ES module scope`;
      if (message.startsWith('require ')) decorated += ', you can use import instead';
      if (moduleScope.typeModulePackageJson !== undefined) {
        decorated += "\nThis file is being treated as an ES module because it has a '.js' file extension and " +
          `'${moduleScope.typeModulePackageJson}' contains "type": "module". To treat it as a CommonJS script, rename it to use the '.cjs' file extension.`;
      }
      // Node's stack is formatted when first read, after the decoration; a stack read earlier
      // (or an engine that formats eagerly) gets the same header.
      const stack: unknown = value.stack;
      const header = `${value.name}: ${String(value.message)}`;
      value.message = decorated;
      if (typeof stack === 'string' && stack.startsWith(header)) value.stack = `${value.name}: ${decorated}${stack.slice(header.length)}`;
    }
  }
  return value;
}

/** `new UserCodeSyntaxError(e)`: the message is `String(e)`, the stack the wrapper's own. */
export function wrapped(type: string, cause: Error): Error {
  const error = runtimeError(type, `${String(cause.name)}: ${v8Message(String(cause.message))}`);
  // The wrapper's frames are the runtime client's; the cause's frames say where the user's code is.
  const frames = stackText(cause).split('\n').filter((line) => line.startsWith('    at '));
  error.stack = [`${error.name}: ${error.message}`, ...frames].join('\n');
  return error;
}
