/**
 * node:util: format / inspect / formatWithOptions are node-inspect-extracted (Node's own
 * inspect.js, stdlib/inspect.ts); promisify / callbackify, types, inherits, deprecate, debuglog
 * are written here after Node's lib/util.js: the `util` package on npm is browserify's copy of
 * Node 0.x util, with an old inspect.
 */
import { nodeError } from '../bridge.ts';
import { format as formatArgs, formatWithOptions, inspect } from './inspect.ts';
import { TextDecoder, TextEncoder } from './encoding.ts';

const customPromisify = Symbol.for('nodejs.util.promisify.custom');
const customInspect = Symbol.for('nodejs.util.inspect.custom');
const tag = (v: unknown): string => Object.prototype.toString.call(v);
const TypedArray = Object.getPrototypeOf(Uint8Array) as { prototype: object };
const typedArrayTag = Object.getOwnPropertyDescriptor(TypedArray.prototype, Symbol.toStringTag)!.get!;
const typedTag = (v: unknown): string | undefined => typedArrayTag.call(v) as string | undefined;

type Callback = (err: unknown, ...values: unknown[]) => void;
type Fn = (...args: unknown[]) => unknown;

function promisify(fn: Fn): Fn {
  if (typeof fn !== 'function') throw nodeError(TypeError, 'ERR_INVALID_ARG_TYPE', 'The "original" argument must be of type function');
  const custom = (fn as unknown as Record<symbol, unknown>)[customPromisify];
  if (typeof custom === 'function') return custom as Fn;
  const promisified = function (this: unknown, ...args: unknown[]): Promise<unknown> {
    return new Promise((resolve, reject) => {
      // Node rejects with whatever the callback's error argument was.
      // eslint-disable-next-line @typescript-eslint/prefer-promise-reject-errors
      fn.call(this, ...args, (err: unknown, ...values: unknown[]) => (err ? reject(err) : resolve(values[0])));
    });
  };
  Object.setPrototypeOf(promisified, Object.getPrototypeOf(fn) as object);
  return Object.defineProperties(promisified, Object.getOwnPropertyDescriptors(fn));
}
(promisify as unknown as Record<string, symbol>).custom = customPromisify;

function callbackify(fn: (...args: unknown[]) => Promise<unknown>): Fn {
  return function (this: unknown, ...args: unknown[]) {
    const cb = args.pop() as Callback;
    fn.apply(this, args).then(
      (value) => globalThis.process.nextTick(cb, null, value),
      (err: unknown) => globalThis.process.nextTick(cb, err ?? Object.assign(new Error('Promise was rejected with a falsy value'), { reason: err })),
    );
  };
}

const types = {
  isDate: (v: unknown) => tag(v) === '[object Date]',
  isRegExp: (v: unknown) => tag(v) === '[object RegExp]',
  isMap: (v: unknown) => tag(v) === '[object Map]',
  isSet: (v: unknown) => tag(v) === '[object Set]',
  isWeakMap: (v: unknown) => tag(v) === '[object WeakMap]',
  isWeakSet: (v: unknown) => tag(v) === '[object WeakSet]',
  isPromise: (v: unknown) => tag(v) === '[object Promise]',
  isNativeError: (v: unknown) => tag(v) === '[object Error]',
  isArrayBuffer: (v: unknown) => tag(v) === '[object ArrayBuffer]',
  isSharedArrayBuffer: (v: unknown) => tag(v) === '[object SharedArrayBuffer]',
  isAnyArrayBuffer: (v: unknown) => tag(v) === '[object ArrayBuffer]' || tag(v) === '[object SharedArrayBuffer]',
  isArrayBufferView: (v: unknown) => ArrayBuffer.isView(v),
  isDataView: (v: unknown) => tag(v) === '[object DataView]',
  isTypedArray: (v: unknown) => typedTag(v) !== undefined,
  isUint8Array: (v: unknown) => typedTag(v) === 'Uint8Array',
  isUint8ClampedArray: (v: unknown) => typedTag(v) === 'Uint8ClampedArray',
  isUint16Array: (v: unknown) => typedTag(v) === 'Uint16Array',
  isUint32Array: (v: unknown) => typedTag(v) === 'Uint32Array',
  isInt8Array: (v: unknown) => typedTag(v) === 'Int8Array',
  isInt16Array: (v: unknown) => typedTag(v) === 'Int16Array',
  isInt32Array: (v: unknown) => typedTag(v) === 'Int32Array',
  isFloat32Array: (v: unknown) => typedTag(v) === 'Float32Array',
  isFloat64Array: (v: unknown) => typedTag(v) === 'Float64Array',
  isBigInt64Array: (v: unknown) => typedTag(v) === 'BigInt64Array',
  isBigUint64Array: (v: unknown) => typedTag(v) === 'BigUint64Array',
  isAsyncFunction: (v: unknown) => tag(v) === '[object AsyncFunction]' || tag(v) === '[object AsyncGeneratorFunction]',
  isGeneratorFunction: (v: unknown) => tag(v) === '[object GeneratorFunction]' || tag(v) === '[object AsyncGeneratorFunction]',
  isGeneratorObject: (v: unknown) => tag(v) === '[object Generator]',
  isBoxedPrimitive: (v: unknown) =>
    v !== null && typeof v === 'object' && ['[object Number]', '[object String]', '[object Boolean]', '[object BigInt]', '[object Symbol]'].includes(tag(v)),
  isSymbolObject: (v: unknown) => typeof v === 'object' && tag(v) === '[object Symbol]',
  isProxy: () => false,
};

void customInspect;

type DebugLogger = ((...args: unknown[]) => void) & { enabled: boolean };

/**
 * util.debuglog(section): logs to stderr as `SECTION PID: message` when NODE_DEBUG names the
 * section (comma-separated, `*` wildcards), as Node's does; otherwise does nothing.
 */
function debuglog(section: string, callback?: (fn: DebugLogger) => void): DebugLogger {
  const name = String(section).toUpperCase();
  const patterns = String(globalThis.process?.env?.NODE_DEBUG ?? '')
    .split(/[\s,]+/)
    .filter(Boolean)
    .map((p) => new RegExp(`^${p.replace(/[|\\{}()[\]^$+?.]/g, '\\$&').replace(/\*/g, '.*')}$`, 'i'));
  const enabled = patterns.some((re) => re.test(name));
  const logger = ((...args: unknown[]) => {
    if (enabled) globalThis.process.stderr.write(`${name} ${String(globalThis.process.pid)}: ${formatArgs(...args)}\n`);
  }) as DebugLogger;
  logger.enabled = enabled;
  if (callback) callback(logger);
  return logger;
}

function isDeepStrictEqual(a: unknown, b: unknown): boolean {
  if (Object.is(a, b)) return true;
  if (typeof a !== 'object' || typeof b !== 'object' || a === null || b === null) return false;
  if (Object.getPrototypeOf(a) !== Object.getPrototypeOf(b) || tag(a) !== tag(b)) return false;
  if (a instanceof Date) return a.getTime() === (b as Date).getTime();
  if (a instanceof Map || a instanceof Set) return isDeepStrictEqual([...a], [...(b as Map<unknown, unknown>)]);
  const ka = Object.keys(a);
  const kb = Object.keys(b);
  return ka.length === kb.length && ka.every((k) => isDeepStrictEqual((a as Record<string, unknown>)[k], (b as Record<string, unknown>)[k]));
}

const warned = new Set<string>();

export const util = {
  format: formatArgs,
  formatWithOptions,
  inspect,
  debuglog,
  debug: debuglog,
  promisify,
  callbackify,
  types,
  isDeepStrictEqual,
  inherits(ctor: Fn, superCtor: Fn) {
    Object.defineProperty(ctor, 'super_', { value: superCtor, writable: true, configurable: true });
    Object.setPrototypeOf(ctor.prototype as object, superCtor.prototype as object);
  },
  /** Node's: the first call warns through process.emitWarning (once per code). */
  deprecate<T extends Fn>(fn: T, message: string, code?: string): T {
    return function (this: unknown, ...args: unknown[]) {
      const key = code ?? message;
      if (!warned.has(key)) {
        warned.add(key);
        (globalThis.process.emitWarning as (m: string, type: string, code?: string) => void)(message, 'DeprecationWarning', code);
      }
      return (new.target ? Reflect.construct(fn, args, new.target) : fn.apply(this, args)) as unknown;
    } as T;
  },
  isArray: Array.isArray,
  isError: (v: unknown) => v instanceof Error,
  TextEncoder,
  TextDecoder,
  stripVTControlCharacters: (s: string) => s.replace(new RegExp(`${String.fromCharCode(27)}\\[[0-9;]*[A-Za-z]`, 'g'), ''),
  toUSVString: (s: string) => String(s).replace(/[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/g, '\ufffd'),
};
