/**
 * Stubs, in the boot script, for APIs the engine may lack (QuickJS): V8's Error.captureStackTrace /
 * Error.stackTraceLimit, and `Intl` with the locale-sensitive built-ins (Number, BigInt and Date's
 * toLocale*String, String#localeCompare). Each stub loads its library chunk on first use
 * (stdlib/error-stack.ts, stdlib/intl-install.ts); the boot script stays small because QuickJS
 * parses all of it on every cold start.
 */
import { stdlib, stdlibLoading } from './stdlib-loader.ts';

type ErrorStackChunk = typeof import('./stdlib/error-stack.ts');
type IntlInstallChunk = typeof import('./stdlib/intl-install.ts');
type FromAsyncChunk = typeof import('./stdlib/array-from-async.ts');

const global = globalThis as unknown as Record<string, unknown>;
const loader = { stdlib, stdlibLoading };

export function installLazyApis(): void {
  const ErrorCtor = Error as ErrorConstructor & { stackTraceLimit?: unknown; captureStackTrace?: unknown };
  if (typeof ErrorCtor.captureStackTrace !== 'function') {
    // Node's default (V8's kDefaultStackTraceLimit).
    if (typeof ErrorCtor.stackTraceLimit !== 'number') ErrorCtor.stackTraceLimit = 10;
    Object.defineProperty(ErrorCtor, 'captureStackTrace', {
      value: function captureStackTrace(target: object, constructorOpt?: unknown): void {
        // Two frames above the caller's: the chunk's function and this one.
        stdlib<ErrorStackChunk>('error-stack').captureStackTrace(target, constructorOpt, 2);
      },
      writable: true,
      configurable: true,
    });
  }
  const ArrayCtor = Array as unknown as { fromAsync?: unknown };
  if (typeof ArrayCtor.fromAsync !== 'function') {
    // A stub with the built-in's shape (a non-constructor method of length 1, writable and
    // configurable): the first call loads core-js's and hands it the receiver (Array.fromAsync.call(C) builds a C).
    Object.defineProperty(ArrayCtor, 'fromAsync', {
      value: {
        fromAsync(this: unknown, asyncItems: unknown, ...rest: unknown[]): Promise<unknown[]> {
          const { fromAsync } = stdlib<FromAsyncChunk>('array-from-async');
          return Reflect.apply(fromAsync, this, [asyncItems, ...rest]) as Promise<unknown[]>;
        },
      }.fromAsync,
      writable: true,
      configurable: true,
    });
  }
  if (typeof global.Intl !== 'undefined') return;
  rewordBufferGrowth();
  const install = (): IntlInstallChunk => stdlib<IntlInstallChunk>('intl-install');
  Object.defineProperty(global, 'Intl', {
    configurable: true,
    get() {
      // While a library chunk loads, polyfills probe for a native Intl: they must find none.
      return stdlibLoading() ? undefined : install().installIntl(loader);
    },
    set(value: unknown) {
      Object.defineProperty(global, 'Intl', { value, writable: true, configurable: true });
    },
  });
  const protos: [object, string][] = [[Number.prototype, 'toLocaleString'], [Date.prototype, 'toLocaleString'],
    [Date.prototype, 'toLocaleDateString'], [Date.prototype, 'toLocaleTimeString'], [String.prototype, 'localeCompare']];
  if (typeof BigInt !== 'undefined') protos.push([BigInt.prototype, 'toLocaleString']);
  for (const [proto, name] of protos) {
    const standIn = function (this: unknown, ...args: unknown[]): unknown {
      return install().standIn(loader, proto, name, standIn).apply(this, args);
    };
    Object.defineProperty(proto, name, { value: standIn, writable: true, configurable: true });
  }
}

/**
 * QuickJS's words for a refused ArrayBuffer resize or SharedArrayBuffer grow, as V8's (Node 24):
 * past maxByteLength, negative, or a SharedArrayBuffer shrinking is "RangeError: invalid array
 * buffer length" in QuickJS, "RangeError: SharedArrayBuffer.prototype.grow: Invalid length
 * parameter" in V8; a buffer that is not resizable is "TypeError: array buffer is not resizable",
 * V8's "Method ArrayBuffer.prototype.resize called on incompatible receiver #<ArrayBuffer>". The
 * message is the method's (V8 builds it per builtin), so it cannot be reworded from the text alone
 * (guest/errors.ts v8Message). QuickJS only: the originals are kept in this closure.
 */
function rewordBufferGrowth(): void {
  const apply = Reflect.apply;
  const tagOf = Object.prototype.toString;
  const RangeErrorCtor = RangeError;
  const TypeErrorCtor = TypeError;
  const targets: [object | undefined, string, string][] = [
    [ArrayBuffer.prototype, 'resize', 'ArrayBuffer'],
    [typeof SharedArrayBuffer === 'function' ? (SharedArrayBuffer.prototype as object) : undefined, 'grow', 'SharedArrayBuffer'],
  ];
  for (const [proto, name, owner] of targets) {
    const slot = proto ? Object.getOwnPropertyDescriptor(proto, name) : undefined;
    if (!proto || typeof slot?.value !== 'function') continue;
    const native = slot.value as (this: unknown, length?: unknown) => unknown;
    const wrapper = {
      [name](this: unknown, length?: unknown): unknown {
        try {
          return apply(native, this, [length]);
        } catch (error) {
          if (error instanceof RangeErrorCtor && error.message === 'invalid array buffer length') throw new RangeErrorCtor(`${owner}.prototype.${name}: Invalid length parameter`);
          if (error instanceof TypeErrorCtor && error.message === 'array buffer is not resizable') {
            throw new TypeErrorCtor(`Method ${owner}.prototype.${name} called on incompatible receiver #<${apply<unknown, [], string>(tagOf, this, []).slice(8, -1)}>`);
          }
          throw error;
        }
      },
    }[name]!;
    Object.defineProperty(wrapper, 'length', { value: native.length, configurable: true });
    Object.defineProperty(proto, name, { ...slot, value: wrapper });
  }
}
