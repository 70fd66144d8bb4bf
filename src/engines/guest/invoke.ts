/**
 * Calls the user's handler with Lambda's Node.js semantics: the context object, async and sync
 * handlers, callbacks (first call wins, callbackWaitsForEmptyEventLoop) and context.succeed/fail/
 * done on nodejs22.x; nodejs24.x drops the callback model, as RIC v4 does.
 */
import { runtimeError, toErrorShape } from './errors.ts';
import { createResponseStream, responseStreamRoom, type GuestResponseStream } from './streaming.ts';
import { Phase } from './phase.ts';
import type { DecodedInvokeMessage, EnvironmentContextFields } from './protocol.ts';

/** What an invocation reads of its message. */
type InvocationMessage = Pick<DecodedInvokeMessage, 'requestId' | 'deadlineText' | 'extras' | 'event'>;

export type Handler = (event: unknown, context: object, callback?: unknown) => unknown;

export interface LoadedHandler {
  readonly fn: Handler;
  /** An `async function`: a never-settling promise ends in Runtime.NodeJsExit, not null. */
  readonly isAsync: boolean;
  readonly runtime: 'nodejs22.x' | 'nodejs24.x';
  /** Marked by `awslambda.streamifyResponse`. */
  readonly streaming: boolean;
  /** The highWaterMark given to `awslambda.streamifyResponse`, if any. */
  readonly highWaterMark?: number | undefined;
}

interface Logger {
  error(...args: unknown[]): void;
  warn(...args: unknown[]): void;
  /** `structuredConsole.logError(label, error)`. */
  logError(label: string, error: unknown): void;
}

const NODEJS_EXIT_MESSAGE =
  'The Lambda runtime client detected an unexpected Node.js exit code. This is most commonly caused by a Promise that was never settled. For more information, see https://nodejs.org/docs/latest/api/process.html#exit-codes';

/** Serialises a response as the runtime client does (`undefined` becomes `null`): its JSON text, or the error to throw. */
function serialize(value: unknown, runtime: LoadedHandler['runtime']): string | Error {
  try {
    return JSON.stringify(value === undefined ? null : value) ?? 'null';
  } catch {
    const error = new Error('Unable to stringify response body');
    if (runtime === 'nodejs24.x') error.name = 'Runtime.JSONStringifyError';
    return error;
  }
}

const noop = (): void => {};

/**
 * One invocation: its phase, and the runtime client's outcome functions as methods. QuickJS
 * interprets every closure and object an invocation makes, so the common path (a nodejs24.x
 * handler) makes only the two its promise's `then` needs; the callback model's closures are made
 * for nodejs22.x alone.
 */
class Invocation extends Phase {
  // `declare`d fields and no initialisers: a class field is a property definition when the object
  // is made, and QuickJS interprets each one (they were defined, then assigned again below).
  declare readonly handler: LoadedHandler;
  declare readonly log: Logger;
  /** The runtime client's onlyAllowFirstCall, shared by `done` and the callback. */
  declare finished: boolean;
  /** context.callbackWaitsForEmptyEventLoop. */
  declare waitForEmptyEventLoop: boolean;
  /** Set for nodejs22.x handlers (their callback posts from a setImmediate). */
  declare setImmediate: (fn: () => void) => void;

  constructor(handler: LoadedHandler, log: Logger) {
    // Node's beforeExit for this invocation: the loop drained and no outcome was posted.
    super(drainInvocation);
    this.handler = handler;
    this.log = log;
    this.finished = false;
    this.waitForEmptyEventLoop = true;
    this.setImmediate = noop;
  }

  /** The runtime client logs `Invoke Error` before it posts, even for an outcome that loses the race. */
  postError(err: unknown): void {
    if (this.done) return; // an uncaught exception ended the invocation first
    // QuickJS's own out-of-memory error ends the environment as Runtime.OutOfMemory (the host's
    // quickjs-sandbox.ts): on Lambda the runtime is killed and logs nothing, so neither does this.
    if (!isEngineOutOfMemory(err)) this.log.logError('Invoke Error', err);
    this.settle({ ok: false, error: toErrorShape(err) });
  }

  /**
   * Throws when the result cannot be serialised, as RAPIDClient.postInvocationResponse does: into
   * the user's code (callback without waiting, context.succeed/done), into the async path's
   * `.catch(fail)`, or out of the drain (beforeExit) as an uncaught exception that ends the
   * environment (callback with callbackWaitsForEmptyEventLoop).
   */
  complete(result: unknown): void {
    if (this.done) {
      this.log.error('Invocation has already been reported as done. Cannot call complete more than once per invocation.');
      return;
    }
    const payload = serialize(result, this.handler.runtime);
    if (typeof payload !== 'string') throw payload;
    this.settle({ ok: true, payload });
  }

  /**
   * The runtime client's `done` under onlyAllowFirstCall: a call that throws (a response that does
   * not serialise) does not count, so the error can still be reported.
   */
  finish(err: unknown, result?: unknown): void {
    if (this.finished) return;
    this.onDrain = noop;
    if (err !== undefined && err !== null) this.postError(err);
    else this.complete(result);
    this.finished = true;
  }

  /** The nodejs22.x callback, under the same onlyAllowFirstCall. */
  callback(err: unknown, result?: unknown): void {
    if (this.finished) return;
    if (err !== undefined && err !== null) {
      this.onDrain = noop;
      this.postError(err);
    } else if (!this.waitForEmptyEventLoop) {
      this.onDrain = noop;
      this.complete(result);
    } else {
      // The runtime client's beforeExit listener posts from a setImmediate, so the user's own
      // beforeExit listeners (and what they schedule first) run before the response.
      const setImmediate = this.setImmediate;
      this.onDrain = () => setImmediate(() => this.complete(result));
    }
    this.finished = true;
  }

}

/** The phase's drain (called as `phase.onDrain()`): a never-settled async handler, or a sync one's null. */
function drainInvocation(this: Invocation): void {
  if (this.handler.isAsync) this.postError(runtimeError('NodeJsExit', NODEJS_EXIT_MESSAGE));
  else this.complete(null);
}

export function startInvocation(
  handler: LoadedHandler,
  fixed: EnvironmentContextFields,
  message: InvocationMessage,
  console: Logger,
  setImmediate: (fn: () => void) => void,
  setTimer: (fn: () => void, ms: number) => void,
): Phase {
  const invocation = new Invocation(handler, console);
  if (handler.streaming) {
    return startStreaming(handler, invocation, fixed, message, console, setImmediate, setTimer, (err) => invocation.postError(err));
  }

  const legacy = handler.runtime === 'nodejs22.x';
  let callback: ((err: unknown, result?: unknown) => void) | undefined;
  let context: object;
  if (legacy) {
    invocation.setImmediate = setImmediate;
    callback = (err: unknown, result?: unknown) => invocation.callback(err, result);
    context = buildContext(fixed, message, {
      get: () => invocation.waitForEmptyEventLoop,
      set: (value: boolean) => {
        invocation.waitForEmptyEventLoop = value;
      },
      succeed: (result: unknown) => invocation.finish(null, result),
      fail: (err: unknown) => invocation.finish(err === undefined || err === null ? 'handled' : err, null),
      done: (err: unknown, result: unknown) => invocation.finish(err, result),
    });
  } else {
    context = buildContext(fixed, message, undefined);
  }

  let event: unknown;
  try {
    event = JSON.parse(message.event);
  } catch (err) {
    invocation.postError(err);
    return invocation;
  }
  try {
    const fn = handler.fn; // called bare so the frame reads `at handler`, not `at Object.handler [as fn]`
    const result = callback ? fn(event, context, callback) : fn(event, context);
    if (isPromiseLike(result)) {
      // `result.then(succeed, fail).catch(fail)`, as the runtime client chains it.
      const fail = (err: unknown): void => invocation.finish(err === undefined || err === null ? 'handled' : err, null);
      Promise.resolve(result.then((value) => invocation.finish(null, value), fail)).catch(fail);
    } else if (!legacy) {
      // RIC v4 treats a plain return value as the response; v3 ignores it (null at drain).
      invocation.finish(null, result);
    }
  } catch (err) {
    if (callback) callback(err);
    else invocation.finish(err, null);
  }
  return invocation;
}

/**
 * A streaming handler's invocation (the runtime client's `handleOnceStreaming`): the body it
 * writes is the response; see streaming.ts.
 */
function startStreaming(
  handler: LoadedHandler,
  phase: Phase,
  fixed: EnvironmentContextFields,
  message: InvocationMessage,
  console: Logger,
  setImmediate: (fn: () => void) => void,
  setTimer: (fn: () => void, ms: number) => void,
  fail: (err: unknown) => void,
): Phase {
  // A promise that never settles: Runtime.NodeJsExit, as RIC v4 treats every handler.
  phase.onDrain = () => fail(runtimeError('NodeJsExit', NODEJS_EXIT_MESSAGE));
  let waitForEmptyEventLoop = true;
  const context = buildContext(fixed, message, undefined);
  Object.defineProperty(context, 'callbackWaitsForEmptyEventLoop', {
    get: () => waitForEmptyEventLoop,
    set: (value: boolean) => { waitForEmptyEventLoop = value; },
    enumerable: true,
    configurable: true,
  });
  let response: GuestResponseStream;
  let result: unknown;
  try {
    const event: unknown = JSON.parse(message.event);
    response = createResponseStream(handler.highWaterMark, responseStreamRoom(message.extras), setTimer, () => !phase.done);
    const fn = handler.fn;
    // (event, responseStream, context), as streamifyResponse handlers take them.
    result = fn(event, response.stream, context);
  } catch (err) {
    fail(err);
    return phase;
  }
  if (!isPromiseLike(result)) {
    fail('Streaming does not support non-async handlers.');
    return phase;
  }
  Promise.resolve(result).then((value) => {
    if (value !== undefined) console.warn('Streaming handlers ignore return values.');
    // The runtime client awaits the HTTP response before it checks: 'finish' has been emitted.
    setImmediate(() => response.afterFlush(() => {
      if (!response.stream.writableFinished) fail('Response stream is not finished.');
      // Streamed to the host (InvokeWithResponseStream): the bytes are there, the payload is unused.
      else phase.settle({ ok: true, payload: JSON.stringify(response.body()) });
    }));
  }, fail);
  return phase;
}

function isPromiseLike(value: unknown): value is PromiseLike<unknown> {
  return (typeof value === 'object' || typeof value === 'function') && value !== null
    && typeof (value as { then?: unknown }).then === 'function';
}

interface LegacyHooks {
  get(): boolean;
  set(value: boolean): void;
  succeed(result: unknown): void;
  fail(err: unknown): void;
  done(err: unknown, result: unknown): void;
}

interface InvokeExtras {
  readonly clientContext?: unknown;
  readonly identity?: unknown;
  readonly invokedFunctionArn?: string;
  readonly tenantId?: string;
}

/** An invoke without extras (the common case): read, never written, so one object serves them all. */
const NO_EXTRAS: InvokeExtras = Object.freeze({});

/** The context object; its own enumerable data properties give Lambda's `JSON.stringify(context)`. */
function buildContext(c: EnvironmentContextFields, message: InvocationMessage, legacy: LegacyHooks | undefined): object {
  const extras = message.extras
    ? (JSON.parse(message.extras) as InvokeExtras)
    : NO_EXTRAS;
  // Read as a number only when asked (protocol.ts DecodedInvokeMessage): the same text, so the same value.
  const deadline = message.deadlineText;
  if (!legacy) {
    // One literal (QuickJS makes it in one go), the same properties in the same order as below.
    return {
      functionVersion: c.functionVersion,
      functionName: c.functionName,
      memoryLimitInMB: c.memoryLimitInMB,
      logGroupName: c.logGroupName,
      logStreamName: c.logStreamName,
      clientContext: extras.clientContext,
      identity: extras.identity,
      invokedFunctionArn: typeof extras.invokedFunctionArn === 'string' ? extras.invokedFunctionArn : c.invokedFunctionArn,
      awsRequestId: message.requestId,
      tenantId: typeof extras.tenantId === 'string' ? extras.tenantId : undefined,
      getRemainingTimeInMillis: () => Math.max(0, Number(deadline) - Date.now()),
    };
  }
  // nodejs22.x: the callback model's members first.
  const context: Record<string, unknown> = {};
  Object.defineProperty(context, 'callbackWaitsForEmptyEventLoop', {
    get: legacy.get,
    set: legacy.set,
    enumerable: true,
    configurable: true,
  });
  context.succeed = legacy.succeed;
  context.fail = legacy.fail;
  context.done = legacy.done;
  context.functionVersion = c.functionVersion;
  context.functionName = c.functionName;
  context.memoryLimitInMB = c.memoryLimitInMB;
  context.logGroupName = c.logGroupName;
  context.logStreamName = c.logStreamName;
  context.clientContext = extras.clientContext;
  context.identity = extras.identity;
  // A qualified invoke (version or alias) names its own ARN; the environment's is the unqualified one.
  context.invokedFunctionArn = typeof extras.invokedFunctionArn === 'string' ? extras.invokedFunctionArn : c.invokedFunctionArn;
  context.awsRequestId = message.requestId;
  // RIC: from Lambda-Runtime-Aws-Tenant-Id, undefined unless the function has tenant isolation.
  context.tenantId = typeof extras.tenantId === 'string' ? extras.tenantId : undefined;
  context.getRemainingTimeInMillis = () => Math.max(0, Number(deadline) - Date.now());
  return context;
}

/** QuickJS's InternalError (captured at load, before user code); V8 has none. */
const EngineInternalError = (globalThis as { InternalError?: new () => Error }).InternalError;

/**
 * QuickJS's `InternalError: out of memory` (quickjs.c JS_ThrowOutOfMemory): an own data `message`
 * on an InternalError. Read without calling a getter of the user's (a hostile error's getters must
 * run only where the runtime client reads them, Errors.toRapidResponse); a Proxy's traps may run,
 * and whatever they throw is swallowed here. Never true on V8.
 */
function isEngineOutOfMemory(err: unknown): boolean {
  if (EngineInternalError === undefined || typeof err !== 'object' || err === null) return false;
  try {
    const message = Reflect.getOwnPropertyDescriptor(err, 'message');
    return message !== undefined && 'value' in message && message.value === 'out of memory' && err instanceof EngineInternalError;
  } catch {
    return false;
  }
}
