/**
 * The guest runtime: the JavaScript that runs INSIDE every JS sandbox, written once for every
 * engine. Evaluated as a script, it installs the globals a handler relies on and evaluates to
 * `install(log, userModule) → dispatch`. The host's log function arrives as an argument, never as
 * a global, so user code cannot reach it; `dispatch` is the one entry point the host calls.
 *
 * Nothing here trusts user code: intrinsics the runtime needs are captured before user code runs.
 * Nothing here is trusted by the host either: it validates every reply (environment/).
 */
import { answerSlotOver, host, inFrame } from './bridge.ts';
import { resolveBuiltin } from './builtins.ts';
import { createConsole, logControlsFrom } from './console.ts';
import { installGlobals, removeNode24Additions, timeZoneChanged } from './globals.ts';
import { installInterruptibleSort } from './interruptible-sort.ts';
import { installLazyApis } from './lazy-apis.ts';
import { installMemoryLedger, setMemoryBudget } from './memory-ledger.ts';
import { installWasmLedger, setWasmBudget } from './wasm-ledger.ts';
import { installLazyV8Headers, installStackHeaders } from './stack-header.ts';
import { formattedErrorLine, intoErrorSafely, runtimeError, toErrorShape, toInitError } from './errors.ts';
import { installAwsLambda, isStreamingHandler, streamingHighWaterMark } from './awslambda.ts';
import { attachProcessEvents, ProcessEvents } from './before-exit.ts';
import { startInvocation, type Handler, type LoadedHandler } from './invoke.ts';
import { Phase, type PhaseOutcome } from './phase.ts';
import { createProcess } from './process.ts';
import {
  decodeMessage,
  DEFERRED_REPLY,
  encodeOutcome,
  encodeReply,
  REPLY_STALE,
  SETTLED_REPLY_TURNS,
  traceHeader,
  type EnvironmentContextFields,
  type GuestDispatchFunction,
  type GuestHost,
  type GuestInstall,
  type GuestReply,
  type InitMessage,
  type RestoreMessage,
} from './protocol.ts';
import { afterRestore, beforeSnapshot, installRandom, reseed, type SnapStartHook } from './snapstart.ts';
import { TimerQueue } from './timers.ts';

type UserModule = () => Promise<unknown>;

const global = globalThis as unknown as Record<string | symbol, unknown>;
const now = Date.now;
/** Set by install(): the engine's fire-and-forget log function. */
let hostLog: GuestHost['log'] = () => {};

let logCount = 0;
/**
 * What the host keeps of a phase's output: LOG_CHARS_PER_PHASE characters, each line cut at
 * MAX_LINE_CHARS (environment/log-collector.ts: the same figures). The host enforces both; the guest stops sending what the host would drop, since every
 * line sent is copied to the host first: in-process v8's fire-and-forget callbacks queue on the
 * host's thread, and a guest logging 1 MiB lines for 5 s (memoryMb 512) grew the host's RSS from
 * 154 to 2,380 MB and held its thread, a neighbour answering 2 invocations in that time (issue #15).
 * A line is sent cut at one character past the host's bound (the host cuts it and marks it), and
 * lines go on being sent for GUEST_LOG_SLACK_CHARS past the phase's bound, so the host sees it
 * passed (its own count can differ a little: it measures remapped stack traces) and writes its
 * notice. Lines not sent are not counted in logCount (the host waits for that many).
 */
const GUEST_LOG_CHARS_PER_PHASE = 10 * 1024 * 1024;
const GUEST_LOG_LINE_CHARS = 256 * 1024;
const GUEST_LOG_SLACK_CHARS = 1024 * 1024;
/**
 * What a line costs beyond its text: the host counts the line it writes (a timestamp, the request
 * id, the level, tabs and the line end: about 68 characters in Text format), so an empty line is not
 * free; a 5 s loop of console.log('') sent 2.25 million lines, 2.6 GB of the host's RSS (issue #15).
 */
const GUEST_LOG_LINE_OVERHEAD = 64;
let phaseLogChars = 0;
const emit = (level: string, message: string): void => {
  if (phaseLogChars > GUEST_LOG_CHARS_PER_PHASE + GUEST_LOG_SLACK_CHARS) return;
  const text = typeof message === 'string' && message.length > GUEST_LOG_LINE_CHARS + 1 ? message.slice(0, GUEST_LOG_LINE_CHARS + 1) : message;
  phaseLogChars += (typeof text === 'string' ? text.length : 0) + GUEST_LOG_LINE_OVERHEAD;
  logCount++;
  hostLog(level, text);
};
const guestConsole = createConsole(emit);
const console = guestConsole.console;
/** The runtime client's `structuredConsole.logError`, in the function's log format. */
/**
 * What unwinds user code after process.exit() / process.abort(): Node stops at once; here the
 * phase's outcome is already the exit's, so whatever catches this, nothing it does reaches the caller.
 */
const PROCESS_EXITED = Object.freeze({ name: 'ProcessExited', message: 'process.exit() was called' });
const logError = (label: string, error: unknown): void => {
  // What unwinds the stack after process.exit() (exitRuntime) is no error of the function's.
  if (error === PROCESS_EXITED) return;
  guestConsole.logError(formattedErrorLine(label, error), intoErrorSafely(error));
};
const timers = new TimerQueue(now);

const thenOnResolved = Function.prototype.call.bind(Promise.prototype.then, Promise.resolve()) as (
  onFulfilled: () => void,
) => Promise<void>;
/** Captured before user code can replace the global (settled-mode replies are made with it). */
const NativePromise = Promise;

function enqueueMicrotask(fn: () => void): void {
  void thenOnResolved(() => {
    try {
      fn();
    } catch (err) {
      uncaught(err);
    }
  });
}

/**
 * process.nextTick's queue (Node's lib/internal/process/task_queues.js: the tick queue is drained
 * before the microtask queue). A tick queued while a task of the guest runs — a dispatch: INIT, the
 * invocation's start, a host answer, a timer, an immediate — runs once that task's synchronous part
 * is over (and after each timer or immediate callback), before the promise jobs the task queued, as
 * in Node. A tick queued from a promise job goes with the promise jobs: Node would run it once they
 * are all done, and no engine hook says when that is.
 */
const ticks: (() => void)[] = [];
let inTask = false;

function queueTick(fn: () => void): void {
  if (inTask) ticks.push(fn);
  else enqueueMicrotask(fn);
}

function drainTicks(): void {
  // Ticks queued by ticks run in the same drain, as Node's processTicksAndRejections loop does.
  for (let i = 0; i < ticks.length; i++) {
    try {
      ticks[i]!();
    } catch (err) {
      uncaught(err);
    }
  }
  ticks.length = 0;
}

function callable(cb: unknown): (...args: unknown[]) => void {
  if (typeof cb === 'function') return cb as (...args: unknown[]) => void;
  const error = new TypeError(`The "callback" argument must be of type function. Received ${typeof cb}`) as TypeError & {
    code: string;
  };
  error.code = 'ERR_INVALID_ARG_TYPE';
  throw error;
}

function defineGlobal(name: string | symbol, value: unknown): void {
  Object.defineProperty(global, name, { value, writable: true, configurable: true, enumerable: false });
}

defineGlobal('console', console);
defineGlobal('global', globalThis);
defineGlobal('setTimeout', (cb: unknown, ms?: unknown, ...args: unknown[]) => timers.add(inFrame(cb), ms, args, false));
defineGlobal('setInterval', (cb: unknown, ms?: unknown, ...args: unknown[]) => timers.add(inFrame(cb), ms, args, true));
defineGlobal('setImmediate', (cb: unknown, ...args: unknown[]) => timers.addImmediate(inFrame(cb), args));
defineGlobal('clearTimeout', (h: unknown) => timers.clear(h));
defineGlobal('clearInterval', (h: unknown) => timers.clear(h));
defineGlobal('clearImmediate', (h: unknown) => timers.clear(h));
// util.promisify(setTimeout) / (setImmediate) are timers/promises' functions in Node (lib/timers.js
// defines these getters); without them promisify wrapped the callback API and threw on the delay.
for (const name of ['setTimeout', 'setImmediate'] as const) {
  Object.defineProperty((global as unknown as Record<string, object>)[name], Symbol.for('nodejs.util.promisify.custom'), {
    enumerable: true,
    configurable: true,
    get: () => (resolveBuiltin('timers/promises') as Record<string, unknown>)[name],
  });
}
const processParts = createProcess({ now, enqueueMicrotask, queueTick, callable, onTimeZoneChange: () => timeZoneChanged() });
const processEnv = processParts.env;
/** process.env's object itself (process.ts createEnv): the invoke's trace header is written there, as the proxy would. */
const processEnvTarget = processParts.envTarget;
const processEvents = new ProcessEvents();
attachProcessEvents(processParts.process, processEvents);
defineGlobal('process', processParts.process);
// A bare V8 context has no queueMicrotask (it is the embedder's API), and process.nextTick used to
// call it: every nextTick threw a ReferenceError. Both queue on a promise captured here, before user
// code can patch Promise.prototype.then; a throwing callback is an uncaught exception, as in Node.
defineGlobal('queueMicrotask', (cb: unknown) => {
  enqueueMicrotask(inFrame(callable(cb)));
});
// Node built-ins are resolved here (the bundler turns `import 'fs'` into this call), each made on
// first use; modules lambdalet cannot offer throw a clear "not available" error.
defineGlobal(Symbol.for('lambdalet.builtin'), resolveBuiltin);
// First, before the lazy stubs replace Intl: off-heap memory counted against memoryMb (v8).
installMemoryLedger();
// Then WebAssembly, bounded by memoryMb with the same shadows (v8; QuickJS has none).
installWasmLedger();
// Before the lazy stubs: Error.captureStackTrace goes on the constructor user code sees (QuickJS:
// the stand-in that gives `err.stack` Node's header line).
installStackHeaders();
// V8: the header formatted when `stack` is first read, as Node does.
installLazyV8Headers();
// Before installGlobals: it makes `Date` a lazy global, and the stubs patch the engine's own Date.prototype.
installLazyApis();
installGlobals();
// Before user code: the engines' own sorts cannot be interrupted by the deadline (issue #15).
installInterruptibleSort();
installRandom();
host.enqueueMicrotask = enqueueMicrotask;
host.resolveBuiltin = resolveBuiltin;
// process.stdout / stderr and fs.writeSync(1 | 2): each line is a raw line of the function's log,
// as Lambda records a runtime's standard output (no timestamp or level; the collector adds none).
host.writeOutput = (fd: 1 | 2, text: string): void => {
  if (text === '') return;
  const body = text.endsWith('\n') ? text.slice(0, -1) : text;
  for (const line of body.split('\n')) emit(fd === 1 ? 'STDOUT' : 'STDERR', line);
};

let phase = new Phase(() => {});
phase.settle({ ok: true });
let handler: LoadedHandler | undefined;
let fixedContext: EnvironmentContextFields | undefined;
/** Set when user code failed outside any phase's control: the environment must be discarded. */
let broken = false;
/**
 * A settled-mode reply with an outcome has been given in the current call (see
 * GuestDispatchFunction): if the environment breaks later in that call, the host must be told.
 */
let gaveOutcome = false;

/** The invocation being served (its id prefixes an exit's message, as Lambda's does); undefined during INIT. */
let currentRequestId: string | undefined;
/** Set by process.exit() / process.abort(): the outcome of every phase from then on. */
let exitOutcome: PhaseOutcome | undefined;

/**
 * process.exit(code) and process.abort() in a Lambda handler: the Node process ends, the runtime
 * client never posts a response, and Lambda fails the invocation with Runtime.ExitError —
 * "Runtime exited without providing a reason" for code 0, "Runtime exited with error: exit status N"
 * otherwise, "signal: aborted" for abort (the Go ProcessState text the Lambda service reports) —
 * and replaces the environment (lambda-compat.md, "Function-error payloads").
 */
function exitRuntime(reason: string): never {
  const prefix = currentRequestId === undefined ? '' : `RequestId: ${currentRequestId} Error: `;
  broken = true;
  // The first exit is the process's end; it wins over any outcome the phase had (the process
  // never posted it). A synchronous exit inside startInit/startInvocation is re-applied to the new
  // phase when the dispatch ends (see `dispatch`).
  exitOutcome ??= { ok: false, fatal: true, error: { errorType: 'Runtime.ExitError', errorMessage: prefix + reason, trace: [] } };
  phase.outcome = exitOutcome;
  if (gaveOutcome) {
    gaveOutcome = false;
    hostLog(REPLY_STALE, '');
  }
  // eslint-disable-next-line @typescript-eslint/only-throw-error -- not an Error: no stack, nothing to report
  throw PROCESS_EXITED;
}

function exitCodeOf(code: unknown): number {
  const value = code === undefined || code === null ? processParts.process.exitCode : code;
  const n = Number(value ?? 0);
  return Number.isInteger(n) ? n & 0xff : 1;
}

Object.assign(processParts.process, {
  exit(code?: unknown): never {
    const status = exitCodeOf(code);
    return exitRuntime(status === 0 ? 'Runtime exited without providing a reason' : `Runtime exited with error: exit status ${status}`);
  },
  abort(): never {
    return exitRuntime('Runtime exited with error: signal: aborted');
  },
  reallyExit(code?: unknown): never {
    return (processParts.process as unknown as { exit(code?: unknown): never }).exit(code);
  },
});

/** `process.on('uncaughtException')` of the runtime client: log, post the error, exit (129). */
function uncaught(error: unknown): void {
  if (error === PROCESS_EXITED) return;
  logError('Uncaught Exception', error);
  broken = true;
  phase.settle({ ok: false, error: toErrorShape(error), fatal: true });
  if (gaveOutcome) {
    gaveOutcome = false;
    hostLog(REPLY_STALE, '');
  }
}

function safeJson(value: unknown): string {
  try {
    return JSON.stringify(value);
  } catch {
    return '{}';
  }
}

function resolveHandler(root: unknown, message: InitMessage): LoadedHandler {
  let target: unknown = root;
  for (const key of message.handlerPath) {
    target = target === null || target === undefined ? undefined : (target as Record<string, unknown>)[key];
  }
  if (target === undefined) throw runtimeError('HandlerNotFound', `${message.handler} is undefined or not exported`);
  if (typeof target !== 'function') throw runtimeError('HandlerNotFound', `${message.handler} is not a function`);
  const fn = target as Handler;
  if (message.runtime === 'nodejs24.x' && fn.length >= 3) {
    throw runtimeError(
      'CallbackHandlerDeprecated',
      'ERROR: AWS Lambda has removed support for callback-based function handlers starting with Node.js 24. You need to modify this function to use a supported handler signature to use Node.js 24 or later. For more information see https://docs.aws.amazon.com/lambda/latest/dg/nodejs-handler.html.',
    );
  }
  const streaming = isStreamingHandler(fn);
  const isAsync = isAsyncFunction(fn);
  // The runtime client's checkForDeprecatedCallback (src/WarningForCallbackHandlers.js), nodejs22.x.
  if (message.runtime === 'nodejs22.x' && processEnv.AWS_LAMBDA_NODEJS_DISABLE_CALLBACK_WARNING === undefined
    && fn.length === 3 && !isAsync && !streaming) {
    console.warn(CALLBACK_WARNING);
  }
  return { fn, isAsync, runtime: message.runtime, streaming, highWaterMark: streaming ? streamingHighWaterMark(fn) : undefined };
}

const CALLBACK_WARNING =
  'AWS Lambda plans to remove support for callback-based function handlers starting with Node.js 24. You will need to update this function to use an async handler to use Node.js 24 or later. For more information and to provide feedback on this change, see https://github.com/aws/aws-lambda-nodejs-runtime-interface-client/issues/137. To disable this warning, set the AWS_LAMBDA_NODEJS_DISABLE_CALLBACK_WARNING environment variable.';

/** The runtime client's `_isAsync`: the constructor's name, read defensively. */
function isAsyncFunction(fn: Handler): boolean {
  try {
    return fn.constructor?.name === 'AsyncFunction';
  } catch {
    return false;
  }
}

function startInit(userModule: UserModule, message: InitMessage): Phase {
  for (const key of Object.keys(processEnv)) delete processEnv[key];
  Object.assign(processEnv, message.env);
  processParts.setRuntime(message.runtime);
  // Node 23.8 made URLPattern a global: the nodejs22.x runtime's Node has none.
  if (message.runtime === 'nodejs22.x') {
    delete (globalThis as { URLPattern?: unknown }).URLPattern;
    removeNode24Additions();
  }
  fixedContext = message.context;
  setWasmBudget(Number(message.context.memoryLimitInMB));
  setMemoryBudget(Number(message.context.memoryLimitInMB));
  // LogPatch.patchConsole: the runtime client reads its log controls from the environment at start.
  guestConsole.configure(logControlsFrom(processEnv));
  installAwsLambda(processEnv);
  const init = new Phase(() => {
    // Node exits with code 13 when top-level await never settles.
    init.settle({
      ok: false,
      fatal: true,
      error: { errorType: 'Runtime.ExitError', errorMessage: 'Runtime exited with error: exit status 13', trace: [] },
    });
  });
  // The runtime client's process.on('uncaughtException') at INIT: `Uncaught Exception` with the
  // error as toFormatted writes it, then /runtime/init/error.
  const fail = (err: unknown): void => {
    if (err === PROCESS_EXITED) return; // the phase's outcome is the exit's (exitRuntime)
    const error = toInitError(err, message.moduleScope);
    logError('Uncaught Exception', error);
    init.settle({ ok: false, error: toErrorShape(error), fatal: true });
  };
  try {
    userModule().then((root) => {
      try {
        handler = resolveHandler(root, message);
        init.settle({ ok: true });
      } catch (err) {
        fail(err);
      }
    }, fail);
  } catch (err) {
    fail(err);
  }
  return init;
}

/**
 * SnapStart's runtime hooks as one phase: each awaited in turn; the first failure is the phase's
 * error (`Runtime.BeforeSnapshotError` / `Runtime.AfterRestoreError`, as Lambda's Python runtime
 * names them) and ends the environment, as a failed INIT does.
 */
function startHooks(hooks: readonly SnapStartHook[], errorType: string): Phase {
  const hooksPhase = new Phase(() => {
    hooksPhase.settle({
      ok: false,
      fatal: true,
      error: { errorType, errorMessage: 'A runtime hook returned a promise that never settled', trace: [] },
    });
  });
  // No hooks (the common case): settled now, so the host has its outcome from this one call.
  if (hooks.length === 0) {
    hooksPhase.settle({ ok: true, payload: 'null' });
    return hooksPhase;
  }
  void (async () => {
    try {
      for (const hook of hooks) await hook();
      hooksPhase.settle({ ok: true, payload: 'null' });
    } catch (err) {
      const cause = toErrorShape(err);
      const error = { errorType, errorMessage: `${cause.errorType}: ${cause.errorMessage}`, trace: cause.trace };
      console.error(errorType, `\t${safeJson(error)}`);
      hooksPhase.settle({ ok: false, error, fatal: true });
    }
  })();
  return hooksPhase;
}

/** The first message after a restore: this environment's identity and entropy, then the hooks. */
function startRestore(message: RestoreMessage): Phase {
  logCount = 0; // the template's lines went to the template's log
  processParts.resetClock();
  reseed(message.seed);
  fixedContext = message.context;
  return startHooks(afterRestore(), 'Runtime.AfterRestoreError');
}

/** Settled at once: ok when the guest holds a loaded handler (a restored image is intact). */
function verified(): Phase {
  const check = new Phase(() => {});
  if (handler && typeof handler.fn === 'function' && fixedContext) check.settle({ ok: true, payload: 'true' });
  else check.settle({ ok: false, error: { errorType: 'Runtime.SnapshotInvalid', errorMessage: 'no handler is loaded', trace: [] } });
  return check;
}

/**
 * The next timer, or sooner if host operations (fetch, sockets) are in flight and need polling; -1
 * when nothing keeps the loop alive (an unref'd socket alone does not, but is polled as often as it
 * asks while something else does).
 */
function nextWakeIn(): number {
  let wake = timers.nextDueIn();
  const pollers = host.pollers;
  if (pollers.length === 0) return wake;
  let alive = wake >= 0;
  let unreferenced = timers.nextDueIn(true); // unref'd timers run while a host operation keeps the loop alive
  for (const poller of pollers) {
    const delay = poller.delay();
    if (delay < 0) continue;
    if (poller.keepsAlive()) {
      alive = true;
      wake = wake < 0 ? delay : Math.min(wake, delay);
    } else {
      unreferenced = unreferenced < 0 ? delay : Math.min(unreferenced, delay);
    }
  }
  if (!alive) return -1;
  return unreferenced < 0 ? wake : Math.min(wake, unreferenced);
}

function reply(): GuestReply {
  const outcome = phase.outcome;
  return {
    done: outcome !== undefined,
    ok: outcome?.ok,
    payload: outcome?.payload,
    error: outcome?.error,
    fatal: broken || outcome?.fatal === true,
    nextTimerInMs: nextWakeIn(),
    logCount,
  };
}

/** The reply as it crosses (one string), read now: {@link reply}, encoded. Also deferred mode's answer (DEFERRED_REPLY). */
const replyText = (): string => {
  const outcome = phase.outcome;
  return encodeOutcome(outcome, broken || outcome?.fatal === true, nextWakeIn(), logCount);
};

/**
 * The invocation's logger and event-loop hooks: the same for every invocation, made once. The
 * console's methods are read when a line is written, as the runtime client's `console.error` is
 * (a handler may have replaced them).
 */
const invocationLogger = {
  error: (...args: unknown[]): void => console.error(...args),
  warn: (...args: unknown[]): void => console.warn(...args),
  logError,
};
const invocationImmediate = (fn: () => void): void => void timers.addImmediate(fn, []);
const invocationTimer = (fn: () => void, ms: number): void => void timers.add(fn, ms, [], false);

/**
 * The settled-mode answer (calls on v8 and quickjs): the reply as soon as the phase has an outcome, checked once per
 * microtask turn, or the pending reply after SETTLED_REPLY_TURNS turns. Either is exact: a pending
 * reply makes the host read the status after every microtask, and `uncaught` marks an outcome
 * reply stale. So an async handler that settles in its call's microtasks costs one host call.
 */
function settledReply(): string | Promise<string> {
  if (phase.done) {
    gaveOutcome = true;
    return encodeReply(reply());
  }
  return new NativePromise<string>((resolve) => {
    let turns = 0;
    const answer = (): void => {
      gaveOutcome = phase.done;
      resolve(encodeReply(reply()));
    };
    const turn = (): void => {
      if (phase.done || ++turns >= SETTLED_REPLY_TURNS) answer();
      else next();
    };
    const next = (): void => {
      try {
        void thenOnResolved(turn);
      } catch {
        answer(); // user code broke promise species: answer now (pending is exact, only slower)
      }
    };
    next();
  });
}

function bind(log: GuestHost['log'], hostCall: GuestHost['call'] | undefined, binary?: boolean, answerSlot?: SharedArrayBuffer): void {
  // A guest restored from a V8 startup snapshot has V8's own WebAssembly again: bounded before any
  // user code runs there (wasm-ledger.ts). A no-op when the bounded one is in place.
  installWasmLedger();
  hostLog = log;
  // In-process v8's deferred host calls (protocol.ts "Host calls"); anything else leaves none.
  host.answerSlot = answerSlotOver(answerSlot);
  // Absent when a sandbox is booted without the channel (the V8 code-cache warm-up): keep the default.
  if (typeof hostCall === 'function') {
    host.call = hostCall;
    // The engine marks a host function that takes and gives payloads as ArrayBuffers: quickjs on
    // the function, v8 (whose Callback arrives as a plain function) with an argument.
    host.binary = binary === true || (hostCall as { binary?: unknown }).binary === true;
    host.parseMarks = (hostCall as { parseMarks?: unknown }).parseMarks === true;
  }
}

const install: GuestInstall = Object.assign(function install(
  log: GuestHost['log'],
  userModule: UserModule,
  hostCall: GuestHost['call'],
  seed?: string,
  binary?: boolean,
  answerSlot?: SharedArrayBuffer,
): GuestDispatchFunction {
  bind(log, hostCall, binary, answerSlot);
  // A guest booted from an image of this runtime shares the image's generator state and clock.
  if (typeof seed === 'string' && /^[0-9a-f]{32,}$/.test(seed)) {
    reseed(seed);
    processParts.resetClock();
  }
  return function dispatch(type: string, body: string, settled?: boolean | typeof DEFERRED_REPLY): string | Promise<string> | (() => string) {
    gaveOutcome = false;
    inTask = true;
    try {
      const message = decodeMessage(type, body);
      // A new phase: a new log budget, as the host's (LogCollector.requestId).
      if (message.type !== 'status' && message.type !== 'tick' && message.type !== 'drain') phaseLogChars = 0;
      switch (message.type) {
        case 'init':
          phase = startInit(userModule, message);
          break;
        case 'invoke':
          if (!handler || !fixedContext) throw new Error('invoke before a successful init');
          // The runtime client copies Lambda-Runtime-Trace-Id here before every invoke (lambda-compat.md);
          // made by the host where it is cheaper there (protocol.ts, the wire format). `now`, not
          // Date.now: reading the global Date loads the date chunk (globals.ts), 4 ms of a v8 cold start.
          processEnvTarget._X_AMZN_TRACE_ID = message.traceId || traceHeader(message.requestId, now());
          currentRequestId = message.requestId;
          host.asyncContext?.reset();
          phase = startInvocation(handler, fixedContext, message, invocationLogger, invocationImmediate, invocationTimer);
          break;
        case 'status':
          break;
        case 'tick':
          for (const poller of host.pollers) poller.poll();
          drainTicks();
          timers.runDue(drainTicks);
          break;
        case 'drain':
          // Node's beforeExit: the runtime client's listener first, then the user's (code 0).
          if (!phase.done) phase.onDrain();
          processEvents.emit('beforeExit', processParts.process, [0]);
          break;
        case 'snapshot':
          if (!handler) throw new Error('snapshot before a successful init');
          phase = startHooks(beforeSnapshot(), 'Runtime.BeforeSnapshotError');
          break;
        case 'restore':
          if (!handler) throw new Error('restore of a guest without a loaded handler');
          phase = startRestore(message);
          break;
        case 'verify':
          phase = verified();
          break;
      }
    } catch (err) {
      uncaught(err);
    }
    drainTicks();
    inTask = false;
    if (exitOutcome) phase.outcome = exitOutcome;
    if (settled === DEFERRED_REPLY) return replyText;
    return settled === true ? settledReply() : replyText();
  };
}, { rebind: bind });

export default install;
