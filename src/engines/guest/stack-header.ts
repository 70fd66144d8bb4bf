/**
 * `err.stack` with Node's header line where the engine builds the stack without one (QuickJS,
 * issue #15). V8 (Node) starts every error's `stack` with `Name: message`; QuickJS 2025-09-13
 * (quickjs.c `build_backtrace`) writes only the frames, as an own data property, so loggers that
 * print `err.stack` (pino, winston, Powertools Logger) showed frames without the error.
 *
 * The error constructors (Error, TypeError, RangeError, SyntaxError, ReferenceError, EvalError,
 * URIError, AggregateError) are replaced by stand-ins that construct the native error (same
 * prototype, same `new.target`, so `instanceof`, subclasses and `Error.prototype.constructor`
 * behave as before) and turn its `stack` into an accessor like Node's: the header is
 * `Error.prototype.toString` of the error when `stack` is first read — Node formats the stack
 * lazily (lib/internal/errors.js `prepareStackTraceCallback` → `ErrorPrototypeToString(error)`),
 * so a name or message changed after construction but before the first read is in it — and a
 * value assigned to `stack` replaces it. Node 24 measured: `e = new Error('orig'); e.name =
 * 'Changed'; e.message = 'later'; e.stack` starts `Changed: later`; `new Error('')` is `Error`.
 *
 * Not covered: errors QuickJS makes in C (a TypeError from `null.x`, JSON.parse's SyntaxError, the
 * stack overflow): QuickJS 2025-09-13 has no hook between making them and the user's `catch` (no
 * Error.prepareStackTrace; `build_backtrace` defines the data property directly). Those still
 * reach `stackText` (guest/errors.ts) and the patched util.inspect with frames only, and both add
 * the header there, as before.
 */
import { registerNativeLook } from './native-look.ts';

const { apply, construct, defineProperty, getOwnPropertyDescriptor, getPrototypeOf, setPrototypeOf } = Reflect;
const { getOwnPropertyNames } = Object;
const errorToString = Error.prototype.toString;
const stringIndexOf = String.prototype.indexOf;
const stringSlice = String.prototype.slice;
const startsWith = String.prototype.startsWith;
const endsWith = String.prototype.endsWith;
const NAMES = ['Error', 'TypeError', 'RangeError', 'SyntaxError', 'ReferenceError', 'EvalError', 'URIError', 'AggregateError'] as const;

let guestError: ErrorConstructor = Error;

/**
 * The Error a guest class made after boot should extend: the stand-in where one is installed. A
 * class evaluated with the boot script (before {@link installStackHeaders}) extends the native one,
 * and its instances' stacks have no header on QuickJS.
 */
export function errorBase(): ErrorConstructor {
  return guestError;
}

/** Whether this engine's `new Error('x').stack` lacks V8's `Error: x` first line. */
export function engineStackHasNoHeader(): boolean {
  const stack: unknown = new Error('x').stack;
  return typeof stack === 'string' && !stack.startsWith('Error: x');
}

/** Node's header: `Error.prototype.toString` (the original), `Error` if that throws. */
function header(error: object): string {
  try {
    return apply(errorToString, error, []);
  } catch {
    return 'Error';
  }
}

/** The engine's frames text without its first `drop` lines (the stand-in's own frames) and trailing newline. */
function ownFrames(stack: string, drop: number): string {
  let at = 0;
  for (let i = 0; i < drop && at >= 0; i++) {
    at = apply(stringIndexOf, stack, ['\n', at]);
    if (at >= 0) at += 1;
  }
  if (at < 0) return '';
  const end = stack.length > at && apply(endsWith, stack, ['\n']) ? stack.length - 1 : stack.length;
  return apply(stringSlice, stack, [at, end]);
}

/**
 * V8 leaves out the frames of the constructors up to `newTarget`'s (a subclass's `super()` chain):
 * its first frame is the caller of `new Subclass()`. QuickJS's frames carry function names only, so
 * the last frame up to the first `at <newTarget.name> ` goes; when no frame has that name, none do.
 */
function withoutConstructors(frames: string, newTarget: unknown): string {
  // The own `name` (a class's), read without running a static getter.
  const name: unknown = typeof newTarget === 'function' ? getOwnPropertyDescriptor(newTarget, 'name')?.value : undefined;
  if (typeof name !== 'string' || name === '') return frames;
  const mark = `    at ${name} `;
  const leading = apply(startsWith, frames, [mark]);
  const at = leading ? 0 : apply(stringIndexOf, frames, [`\n${mark}`]) + 1;
  if (at === 0 && !leading) return frames;
  const next = apply(stringIndexOf, frames, ['\n', at]);
  return next < 0 ? '' : apply(stringSlice, frames, [next + 1]);
}

/** A WeakMap whose methods are its own (user code may patch WeakMap.prototype; it never sees these maps). */
function privateMap<V>(): WeakMap<object, V> {
  const map = new WeakMap<object, V>();
  for (const key of ['get', 'set', 'has', 'delete'] as const) defineProperty(map, key, { value: WeakMap.prototype[key] });
  return map;
}

/** The engine's frames of an error whose `stack` is not read yet, and the `new.target` it was made for. */
const rawStacks = privateMap<string>();
const newTargets = privateMap<unknown>();
/** `stack` once read or assigned. */
const stacks = privateMap<unknown>();
/** The stand-ins' own frames above the caller's (measured at install). */
let standInFrames = 0;

/** The error whose `stack` accessor `receiver` reaches (itself, or an object made from it). */
function ownerOf(receiver: unknown): object | undefined {
  for (let at = receiver; typeof at === 'object' && at !== null; at = getPrototypeOf(at)) {
    if (stacks.has(at) || rawStacks.has(at)) return at;
  }
  return undefined;
}

/** One getter and setter for every error (no closures per error): the state lives in the maps above. */
const STACK_ACCESSOR: PropertyDescriptor = {
  get(this: unknown): unknown {
    const owner = ownerOf(this);
    if (owner === undefined) return undefined;
    if (stacks.has(owner)) return stacks.get(owner);
    const own = ownFrames(rawStacks.get(owner)!, standInFrames);
    const frames = newTargets.has(owner) ? withoutConstructors(own, newTargets.get(owner)) : own;
    const head = header(owner);
    const value = frames === '' ? head : `${head}\n${frames}`;
    stacks.set(owner, value);
    rawStacks.delete(owner);
    newTargets.delete(owner);
    return value;
  },
  set(this: unknown, value: unknown): void {
    // V8's setter called on an object that is no error's does nothing (Node 24: `o.stack` stays undefined).
    const owner = ownerOf(this);
    if (owner === undefined) return;
    stacks.set(owner, value);
    rawStacks.delete(owner);
    newTargets.delete(owner);
  },
  configurable: true,
  enumerable: false,
};
setPrototypeOf(STACK_ACCESSOR, null);

/** Gives `error` a Node-like `stack` accessor over the engine's frames (formatted when first read). */
function lazyStack(error: object, newTarget: unknown): void {
  const raw: unknown = (error as { stack?: unknown }).stack;
  if (typeof raw !== 'string') return;
  rawStacks.set(error, raw);
  if (newTarget !== undefined) newTargets.set(error, newTarget);
  defineProperty(error, 'stack', STACK_ACCESSOR);
}

/**
 * Replaces the global error constructors with the stand-ins (once, before user code; a no-op on an
 * engine whose stacks already have the header).
 */
export function installStackHeaders(): void {
  if (!engineStackHasNoHeader()) return;
  const global = globalThis as unknown as Record<string, unknown>;
  const standIns = new Map<object, object>();
  for (const name of NAMES) {
    const Native = global[name] as (new (...args: unknown[]) => object) | undefined;
    if (typeof Native !== 'function') continue;
    const standIn = {
      [name]: function (this: unknown, ...args: unknown[]): object {
        const error = construct(Native, args, (new.target ?? standIn) as (...a: unknown[]) => unknown) as object;
        lazyStack(error, new.target === undefined || new.target === standIn ? undefined : new.target);
        return error;
      },
    }[name]!;
    // name, length and the statics (stackTraceLimit, isError...) as the native has them.
    for (const key of getOwnPropertyNames(Native)) {
      if (key !== 'prototype') defineProperty(standIn, key, getOwnPropertyDescriptor(Native, key)!);
    }
    // Same prototype object: instances, `instanceof` and subclasses see no difference.
    defineProperty(standIn, 'prototype', { value: Native.prototype, writable: false, enumerable: false, configurable: false });
    const prototype = Native.prototype as Record<string, unknown>;
    defineProperty(prototype, 'constructor', { ...getOwnPropertyDescriptor(prototype, 'constructor')!, value: standIn });
    standIns.set(Native, standIn);
    defineProperty(global, name, { ...getOwnPropertyDescriptor(global, name)!, value: standIn });
    registerNativeLook(standIn, name);
  }
  // TypeError's [[Prototype]] is Error, as in V8.
  for (const [Native, standIn] of standIns) {
    const parent = standIns.get(getPrototypeOf(Native) as object);
    if (parent) setPrototypeOf(standIn, parent);
  }
  const ErrorStandIn = global.Error as ErrorConstructor;
  guestError = ErrorStandIn;
  const probe = {
    lambdaletStackProbe(): string {
      return new ErrorStandIn().stack ?? '';
    },
  }.lambdaletStackProbe;
  const lines = probe().split('\n');
  const at = lines.findIndex((line) => line.includes('lambdaletStackProbe'));
  // The stand-in's frames above the caller's (`construct (native)` and the stand-in), measured with
  // none dropped; when the probe's own frame is not found, every frame is kept rather than the user's dropped.
  standInFrames = at > 0 ? at - 1 : 0;
}

/**
 * Node's lazy header on V8 (issue #12). A bare V8 isolate (isolated-vm sets no embedder
 * PrepareStackTraceCallback) heads `err.stack` with the message the error had when its frames were
 * captured; Node formats the whole stack when it is first read (lib/internal/errors.js
 * `prepareStackTraceCallback` → `ErrorPrototypeToString(error)`). So Zod 4's ZodError (its message
 * set after `super()`, then `Error.captureStackTrace`) and any `class E extends Error { constructor(m)
 * { super(); this.message = m; } }` lost their message: the trace of the function's error read
 * `["ZodError", "    at handler ..."]`. V8 calls `Error.prepareStackTrace`, when set, at that first
 * read with the CallSites; this one writes what Node's default does: the header, then each CallSite
 * (V8's CallSite toString is the text of its default frame lines). Node 24 has one too, a writable,
 * configurable, non-enumerable `ErrorPrepareStackTrace`; user code replaces it as there (depd,
 * source-map-support: theirs is called instead).
 */
export function installLazyV8Headers(): void {
  if (engineStackHasNoHeader() || typeof (Error as { captureStackTrace?: unknown }).captureStackTrace !== 'function') return;
  const join = Array.prototype.join;
  const prepareStackTrace = {
    ErrorPrepareStackTrace(error: unknown, sites: unknown): string {
      const head = typeof error === 'object' && error !== null ? header(error) : 'Error';
      const count = (sites as { length?: unknown } | null)?.length;
      if (typeof count !== 'number' || count === 0) return head;
      return `${head}\n    at ${apply(join, sites, ['\n    at '])}`;
    },
  }.ErrorPrepareStackTrace;
  defineProperty(Error, 'prepareStackTrace', { value: prepareStackTrace, writable: true, enumerable: false, configurable: true });
}

