/**
 * The guest's side of host calls (wire format in protocol.ts) and the runtime services the
 * standard library shares. `install()` fills `host` before any user code runs; library modules
 * read it when they are used, so nothing user code patches later (Promise.prototype.then,
 * globalThis.queueMicrotask) can reach them.
 */
import { DEFERRED_ANSWER_OP, DEFERRED_ANSWER_PREFIX, type HostCallError } from './protocol.ts';

export const host = {
  call: (op: string, _args: string, _bytes?: ArrayBuffer): HostAnswer => `e{"name":"Error","message":"${op} is not available before install"}`,
  /**
   * The engine's host function takes a binary payload as an ArrayBuffer (its third argument) and
   * may answer `[text, ArrayBuffer]` (quickjs: bytes are copied straight into and out of the
   * WebAssembly memory). Otherwise payloads cross as latin1 text (below).
   */
  binary: false,
  /**
   * The engine wants the `stdlib` host call's parse marks around each chunk's parse (protocol.ts
   * STDLIB_PARSE_BEGIN: quickjs, on the function); other engines are not sent them.
   */
  parseMarks: false,
  /**
   * Where the host says a deferred host call's answer is ready (see {@link awaitDeferred}): slot 0
   * of a SharedArrayBuffer only this guest and its host share. Undefined when the engine defers
   * nothing (quickjs, process isolation, the snapshot process).
   */
  answerSlot: undefined as Int32Array | undefined,
  /** Queues a callback as a microtask; a throw is an uncaught exception (index.ts). */
  enqueueMicrotask: (fn: () => void): void => void Promise.resolve().then(fn),
  /** Host operations in flight (fetch): while any are, the event loop stays alive. */
  pending: 0,
  /**
   * Host operations the guest polls from its ticks (fetch, sockets: each module adds its own when it
   * loads). `delay`: milliseconds until its `poll` should run again, or -1 when it has nothing in
   * flight; `keepsAlive`: whether what it has in flight keeps the event loop alive (an unref'd
   * socket does not: it is polled only while something else keeps the loop running, as in Node).
   */
  pollers: [] as Poller[],
  /** Node's built-in module `name` (builtins.ts; set by install): node:module's createRequire serves these. */
  resolveBuiltin: (name: string): unknown => {
    throw new Error(`${name}: built-ins are not available before install`);
  },
  /**
   * AsyncLocalStorage's frames, set by stdlib/async-hooks.ts when it loads (until then nothing is
   * captured): the callbacks queued with setTimeout, setInterval, setImmediate, process.nextTick
   * and queueMicrotask run in the frame current when they were queued (index.ts inFrame), and each
   * invocation starts in the empty frame (Lambda's runtime client calls the handler from its own
   * I/O callback, outside any store user code entered).
   */
  asyncContext: undefined as AsyncContextHooks | undefined,
  /** Writes to the function's log as process.stdout / process.stderr do (index.ts). */
  writeOutput: (fd: 1 | 2, text: string): void => {
    void fd;
    void text;
  },
};

/** See `host.asyncContext`. */
export interface AsyncContextHooks {
  /** The current frame. */
  capture(): unknown;
  /** Runs `fn` with `frame` current, then makes the previous frame current again. */
  runIn<R>(frame: unknown, fn: () => R): R;
  /** A new invocation: the empty frame. */
  reset(): void;
}

/**
 * `callback` bound to the AsyncLocalStorage frame current now (`host.asyncContext`), or itself
 * when node:async_hooks was never loaded or it is not a function (the caller's checks see it as is).
 */
export function inFrame<T>(callback: T): T {
  const context = host.asyncContext;
  if (context === undefined || typeof callback !== 'function') return callback;
  const frame = context.capture();
  const fn = callback as (...args: unknown[]) => unknown;
  return function (this: unknown, ...args: unknown[]): unknown {
    return context.runIn(frame, () => fn.apply(this, args));
  } as T;
}

/** A host operation the guest polls (see `host.pollers`). */
export interface Poller {
  poll(): void;
  delay(): number;
  keepsAlive(): boolean;
}

const fromCharCode = String.fromCharCode;
const CHUNK = 8192;

/**
 * Bytes → the payload form of the wire: one char per byte (latin1), except that a zero byte is
 * U+0100, because QuickJS passes strings through C strings, which end at the first NUL.
 */
export function toLatin1(bytes: Uint8Array): string {
  let text = '';
  for (let i = 0; i < bytes.length; i += CHUNK) {
    // apply, not spread: spreading a typed array goes through its iterator, byte by byte.
    // eslint-disable-next-line prefer-spread
    text += fromCharCode.apply(null, bytes.subarray(i, i + CHUNK) as unknown as number[]);
  }
  return text.includes('\0') ? text.replace(/\0/g, '\u0100') : text;
}

/** A payload → bytes (the low 8 bits of each char, which undoes the U+0100 of a zero byte). */
export function fromLatin1(text: string): Uint8Array {
  const bytes = new Uint8Array(text.length);
  for (let i = 0; i < text.length; i++) bytes[i] = text.charCodeAt(i) & 0xff;
  return bytes;
}

/** What the engine's host function answers: the wire's text, or (binary engines) its head and the payload's bytes. */
export type HostAnswer = string | readonly [text: string, bytes: ArrayBuffer];

const DEFERRED = DEFERRED_ANSWER_PREFIX.charCodeAt(0);
// Taken before any user code runs (a restored V8 snapshot binds its slot after INIT): a guest that
// replaces Atomics or Int32Array later cannot change how the runtime waits. (Not SharedArrayBuffer:
// V8 leaves it out of a context that is being snapshotted and adds it to the restored one.)
const atomicsWait = typeof Atomics === 'object' ? Atomics.wait : undefined;
const atomicsLoad = typeof Atomics === 'object' ? Atomics.load : undefined;
const NativeInt32Array = Int32Array;

/** The answer slot over the SharedArrayBuffer install or rebind was given by the host; undefined without one. */
export function answerSlotOver(buffer: unknown): Int32Array | undefined {
  if (typeof buffer !== 'object' || buffer === null) return undefined;
  try {
    return new NativeInt32Array(buffer as ArrayBufferLike, 0, 1);
  } catch {
    return undefined; // not a buffer of 4 bytes or more
  }
}

/**
 * Waits for the answer to a host call the host deferred (protocol.ts "Host calls": its work runs
 * off the host's thread): blocks this thread until the host has put the call's number in the
 * answer slot, then takes the answer with one more synchronous call. The host answers the take
 * with the same deferral while the answer is not ready (a wake-up the host did not make), so the
 * guest waits again; a termination (the invocation's timeout, the isolate disposed) ends the wait.
 */
function awaitDeferred(first: string): HostAnswer {
  let answer: HostAnswer = first;
  while (typeof answer === 'string' && answer.charCodeAt(0) === DEFERRED) {
    const slot = host.answerSlot;
    const call = Number(answer.slice(1));
    if (!slot || !atomicsWait || !atomicsLoad) throw new Error('lambdalet: the host deferred a call, but this guest has no answer slot');
    // Load, then wait only while the slot still holds what was loaded: a number stored in between
    // makes the wait return at once, so the host's wake-up is never missed.
    for (let seen = atomicsLoad(slot, 0); seen !== call; seen = atomicsLoad(slot, 0)) atomicsWait(slot, 0, seen);
    answer = host.call(DEFERRED_ANSWER_OP, `[${call}]`);
  }
  return answer;
}

/**
 * One synchronous host call. Returns the answer's JSON value and binary payload; throws the host's
 * error as an Error with Node's properties (code, errno, syscall, path, dest).
 */
export function hostCall(op: string, args: readonly unknown[], payload?: Uint8Array): { value: unknown; payload: Uint8Array | undefined } {
  const json = JSON.stringify(args);
  let answer: HostAnswer;
  if (payload === undefined) answer = host.call(op, json);
  else if (host.binary) answer = host.call(op, json, exactBuffer(payload));
  else answer = host.call(op, `${json}\n${toLatin1(payload)}`);
  if (typeof answer === 'string' && answer.charCodeAt(0) === DEFERRED) answer = awaitDeferred(answer);
  if (typeof answer !== 'string') {
    const [text, bytes] = answer;
    if (text[0] === 'o') return { value: JSON.parse(text.slice(1)) as unknown, payload: new Uint8Array(bytes) };
    throw reviveError(JSON.parse(text.slice(1)) as HostCallError);
  }
  const at = answer.indexOf('\n');
  const head = at < 0 ? answer.slice(1) : answer.slice(1, at);
  if (answer[0] === 'o') return { value: JSON.parse(head) as unknown, payload: at < 0 ? undefined : fromLatin1(answer.slice(at + 1)) };
  throw reviveError(JSON.parse(head) as HostCallError);
}

/** The bytes as an ArrayBuffer of exactly their length (a view's buffer may be larger, or shared). */
function exactBuffer(bytes: Uint8Array): ArrayBuffer {
  if (bytes.byteOffset === 0 && bytes.byteLength === bytes.buffer.byteLength && bytes.buffer instanceof ArrayBuffer) return bytes.buffer;
  // A copy of exactly these bytes: `slice()` of a Buffer (the guest's feross Buffer, as Node's) is a
  // view sharing the whole buffer, which would send the bytes around the slice too.
  return new Uint8Array(bytes).buffer;
}

export function reviveError(shape: HostCallError): Error {
  const Ctor = shape.name === 'TypeError' ? TypeError : shape.name === 'RangeError' ? RangeError : Error;
  const error = new Ctor(shape.message) as Error & Record<string, unknown>;
  if (shape.name === 'AbortError') error.name = 'AbortError';
  for (const key of ['errno', 'code', 'syscall', 'path', 'dest'] as const) {
    if (shape[key] !== undefined) error[key] = shape[key];
  }
  if (shape.cause === undefined) return error;
  let cause: Error & Record<string, unknown>;
  if (typeof shape.cause === 'string') cause = new Error(shape.cause) as Error & Record<string, unknown>;
  else {
    cause = new Error(shape.cause.message) as Error & Record<string, unknown>;
    // Node's own properties, in Node's order (a socket error's: errno, code, syscall, then where).
    for (const key of ['errno', 'code', 'syscall', 'address', 'port', 'hostname'] as const) {
      if (shape.cause[key] !== undefined) cause[key] = shape.cause[key];
    }
  }
  // As `new TypeError('fetch failed', { cause })` makes it: an own property, not enumerable.
  Object.defineProperty(error, 'cause', { value: cause, writable: true, enumerable: false, configurable: true });
  return error;
}

/** Node's ERR_* errors: a code and a message. */
export function nodeError<E extends Error>(Ctor: new (message: string) => E, code: string, message: string): E & { code: string } {
  const error = new Ctor(message) as E & { code: string };
  error.code = code;
  return error;
}
