/**
 * V8's stack-trace API where the engine lacks it (QuickJS): `Error.captureStackTrace(target,
 * constructorOpt)` and, for it, `Error.stackTraceLimit` and `Error.prepareStackTrace` with CallSite
 * objects. A library chunk: the boot script has only a stub that loads it (guest/lazy-apis.ts). Libraries rely on them: depd (so express, body-parser, http-errors) reads
 * its caller's file from CallSites at load; http-errors and many others call captureStackTrace.
 *
 * Frames come from the engine's own `new Error().stack` ("    at name (file:line:column)"); a
 * `constructorOpt` is matched by function name, the only thing QuickJS's frames carry. Errors made
 * with `new Error()` keep the engine's own stack: QuickJS builds it natively, without these hooks.
 * Source: https://v8.dev/docs/stack-trace-api
 */

interface Frame {
  readonly functionName: string | null;
  readonly fileName: string | null;
  readonly line: number | null;
  readonly column: number | null;
  readonly native: boolean;
  readonly text: string;
}

const FRAME = /^ {4}at (?:(.*?) \((.*)\)|(.*))$/;

function parseFrame(line: string): Frame | undefined {
  const match = FRAME.exec(line);
  if (!match) return undefined;
  const name = match[1] ?? null;
  const location = match[2] ?? match[3] ?? '';
  const position = /^(.*):(\d+):(\d+)$/.exec(location);
  const functionName = name === null || name === '<anonymous>' ? null : name;
  const native = location === 'native';
  return {
    functionName,
    fileName: position ? position[1]! : native ? null : location,
    line: position ? Number(position[2]) : null,
    column: position ? Number(position[3]) : null,
    native,
    text: line,
  };
}

/** V8's CallSite, for Error.prepareStackTrace. */
class CallSite {
  readonly #frame: Frame;
  constructor(frame: Frame) {
    this.#frame = frame;
  }
  getFileName(): string | undefined { return this.#frame.fileName ?? undefined; }
  getScriptNameOrSourceURL(): string | undefined { return this.#frame.fileName ?? undefined; }
  getLineNumber(): number | null { return this.#frame.line; }
  getColumnNumber(): number | null { return this.#frame.column; }
  getFunctionName(): string | null { return this.#frame.functionName; }
  getMethodName(): string | null { return null; }
  getTypeName(): string | null { return null; }
  getThis(): undefined { return undefined; }
  getFunction(): undefined { return undefined; }
  getEvalOrigin(): undefined { return undefined; }
  getPromiseIndex(): null { return null; }
  isEval(): boolean { return false; }
  isNative(): boolean { return this.#frame.native; }
  isToplevel(): boolean { return this.#frame.functionName === null; }
  isConstructor(): boolean { return false; }
  isAsync(): boolean { return false; }
  isPromiseAll(): boolean { return false; }
  toString(): string { return this.#frame.text.slice(7); }
}

/** `Name: message` as V8 heads a stack (Error.prototype.toString for anything with name/message). */
function header(target: object): string {
  try {
    return Error.prototype.toString.call(target);
  } catch {
    return 'Error';
  }
}

type ErrorWithHooks = ErrorConstructor & { stackTraceLimit?: unknown; prepareStackTrace?: unknown };

/**
 * Error.captureStackTrace's work, called by the boot-time stub (guest/lazy-apis.ts) with the
 * number of frames above the caller's to drop (this function's and the stub's).
 */
export function captureStackTrace(target: object, constructorOpt: unknown, ownFrames: number): void {
  const ErrorCtor = Error as ErrorWithHooks;
  if ((typeof target !== 'object' || target === null) && typeof target !== 'function') {
    throw new TypeError('Invalid argument');
  }
  let frames = (new Error().stack ?? '').split('\n').map(parseFrame).filter((f): f is Frame => f !== undefined).slice(ownFrames);
  if (typeof constructorOpt === 'function' && constructorOpt.name) {
    const at = frames.findIndex((frame) => frame.functionName === constructorOpt.name);
    // V8: a constructorOpt that is not on the stack leaves no frames.
    frames = at < 0 ? [] : frames.slice(at + 1);
  }
  const limit = ErrorCtor.stackTraceLimit;
  frames = frames.slice(0, typeof limit === 'number' && limit >= 0 ? Math.floor(limit) : 0);
  // V8 collects the frames now and formats them on the first read of `stack`, with the
  // Error.prepareStackTrace of that moment (depd sets it, captures, reads, then restores it).
  let formatted: { value: unknown } | undefined;
  Object.defineProperty(target, 'stack', {
    configurable: true,
    enumerable: false,
    get() {
      if (!formatted) {
        const prepare = ErrorCtor.prepareStackTrace;
        formatted = {
          value: typeof prepare === 'function'
            ? (prepare as unknown as (e: object, sites: CallSite[]) => unknown)(target, frames.map((frame) => new CallSite(frame)))
            : [header(target), ...frames.map((frame) => frame.text)].join('\n'),
        };
      }
      return formatted.value;
    },
    set(value: unknown) {
      formatted = { value };
    },
  });
}
