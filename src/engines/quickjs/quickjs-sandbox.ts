/**
 * One QuickJS runtime + context running the guest runtime and one user bundle. The guest's
 * `dispatch(type, body)` is called with two strings and answers one string, as in the V8 sandbox;
 * QuickJS has no event loop of its own, so after each `call` the sandbox drains the promise job
 * queue (the microtasks) itself, under the same deadline.
 *
 * Calls use the guest's deferred mode (guest/protocol.ts DEFERRED_REPLY): the answer is the guest's
 * reply function, called once the jobs have run, so the reply follows every microtask of the call —
 * an async handler that settles in them needs no `status` read after it (the server's peek), and
 * the guest makes no promise per call to wait for its outcome (settled mode's interpreted promise
 * turns cost about what the status read saved). An outcome the guest marked stale (REPLY_STALE on
 * its log channel, which only a settled-mode reply can be) is answered as pending, and the status
 * read that follows decides.
 */
import type { QuickJSContext, QuickJSHandle, QuickJSRuntime } from 'quickjs-emscripten-core';
import { SandboxFault, SnapshotUnsupportedError, type RejectionReason, type Sandbox, type SandboxImage } from '../engine.ts';
import { decodeReply, DEFERRED_REPLY, encodeMessage, type GuestReply, type HostMessage } from '../guest/protocol.ts';

/** What the sandbox needs from the WebAssembly instance it runs in. */
export interface QuickJSHost {
  readonly runtime: QuickJSRuntime;
  readonly context: QuickJSContext;
  readonly dispatch: QuickJSHandle;
  /** The first promise rejection left unhandled since the last call (and forgets them), if any. */
  readonly takeRejection: () => RejectionReason | undefined;
  /** The heap hit the memory cap (a growth was refused) since the last reset. */
  readonly growthRefused: () => boolean;
  readonly resetGrowthRefused: () => void;
  readonly memoryUsedBytes: () => number;
  /**
   * Frees what the sandbox holds. `clean` is false after a fault: the instance may be broken and
   * must not be touched again (quickjs-emscripten #30, #60).
   */
  readonly release: (clean: boolean) => void;
  /** SnapStart: an image of the instance (instance isolation only; absent in shared mode). */
  readonly snapshot?: () => Promise<SandboxImage>;
  /** Called once, when the sandbox's first invoke has returned (its cold start is over): in-thread.ts makes the next spare then. */
  readonly afterFirstInvoke?: () => void;
}

/** A `status` read runs no user code: bounded tightly, because it runs on the host's thread. */
const PEEK_TIMEOUT_MS = 1000;

/** QuickJS's own messages (quickjs.c: JS_ThrowOutOfMemory, JS_ThrowStackOverflow). */
const QUICKJS_OOM = { errorType: 'InternalError', errorMessage: 'out of memory' };
const QUICKJS_STACK_OVERFLOW = { errorType: 'InternalError', errorMessage: 'stack overflow' };
/** What Node (and so Lambda) says for the same thing. */
const NODE_STACK_OVERFLOW = { errorType: 'RangeError', errorMessage: 'Maximum call stack size exceeded' };

export class QuickJSSandbox implements Sandbox {
  readonly #host: QuickJSHost;
  /** performance.now() after which the interrupt handler stops the guest. */
  #deadline = Number.POSITIVE_INFINITY;
  #interrupted = false;
  /** Why the sandbox died, once it has: later calls fault with the same kind. */
  #fault: SandboxFault | undefined;
  /** The guest marked the outcome of the call in progress stale (see the module comment). */
  #replyStale = false;

  /** The number DEFERRED_REPLY as a handle, made once (a number holds nothing in the QuickJS heap). */
  #deferredHandle: QuickJSHandle | undefined;
  /**
   * The string 'invoke' as a handle, made at the first invoke and passed to every one after it (a
   * string crossing into QuickJS is a malloc, a copy and a free each time). Released before a
   * snapshot, so no image holds it.
   */
  #invokeType: QuickJSHandle | undefined;
  #afterFirstInvoke: (() => void) | undefined;

  constructor(host: QuickJSHost) {
    this.#host = host;
    this.#afterFirstInvoke = host.afterFirstInvoke;
  }

  #deferred(): QuickJSHandle {
    this.#deferredHandle ??= this.#host.context.newNumber(DEFERRED_REPLY);
    return this.#deferredHandle;
  }

  #releaseInvokeType(): void {
    this.#invokeType?.dispose();
    this.#invokeType = undefined;
  }

  /** Installed as the runtime's interrupt handler: QuickJS polls it while the guest runs. */
  shouldInterrupt(): boolean {
    if (performance.now() <= this.#deadline) return false;
    this.#interrupted = true;
    return true;
  }

  /** The guest said the outcome it answered in the call in progress no longer holds. */
  replyWentStale(): void {
    this.#replyStale = true;
  }

  /** The current call ran past its deadline. */
  get interrupted(): boolean {
    return this.#interrupted;
  }

  /** Arms the deadline for work done outside `call` (boot). */
  armDeadline(timeoutMs: number): void {
    this.#deadline = performance.now() + timeoutMs;
    this.#interrupted = false;
  }

  get disposed(): boolean {
    return this.#fault !== undefined;
  }

  async call(message: HostMessage, timeoutMs: number): Promise<GuestReply> {
    try {
      return this.#timed(message, timeoutMs, true);
    } finally {
      const after = this.#afterFirstInvoke;
      if (after && message.type === 'invoke') {
        this.#afterFirstInvoke = undefined;
        after();
      }
    }
  }

  peek(message: HostMessage): GuestReply {
    return this.#timed(message, PEEK_TIMEOUT_MS, false);
  }

  /**
   * The CPU time this sandbox's guest has used, in µs (process.cpuUsage() in the guest: in-thread.ts
   * USAGE_OP): its calls' share of the thread's CPU time, which the thread's other sandboxes do not
   * get (a call runs to completion on it), with the call in progress so far. Monotone.
   */
  cpuMicros(): number {
    return this.#cpuMicros + (this.#runStartMicros === undefined ? 0 : threadCpuMicros() - this.#runStartMicros);
  }

  #timed(message: HostMessage, timeoutMs: number, drainJobs: boolean): GuestReply {
    const start = threadCpuMicros();
    this.#runStartMicros = start;
    try {
      return this.#run(message, timeoutMs, drainJobs);
    } finally {
      this.#runStartMicros = undefined;
      this.#cpuMicros += Math.max(0, threadCpuMicros() - start);
    }
  }

  /** SnapStart: the instance's memory, after INIT (calls run to completion, so it is idle here). */
  async snapshot(): Promise<SandboxImage> {
    if (this.#fault) throw this.#fault;
    if (!this.#host.snapshot) {
      throw new SnapshotUnsupportedError('quickjs shared isolation keeps many sandboxes in one memory: only instance isolation can snapshot one');
    }
    this.#releaseInvokeType();
    return this.#host.snapshot();
  }

  memoryUsedBytes(): number {
    if (this.disposed) return 0;
    return this.#host.memoryUsedBytes();
  }

  dispose(): void {
    if (this.#fault) return;
    this.#fault = new SandboxFault('disposed', 'The sandbox was disposed');
    this.#deferredHandle?.dispose();
    this.#releaseInvokeType();
    this.#host.release(true);
  }

  /** CPU time of the calls that have ended (µs), and the thread's CPU time when the call in progress started. */
  #cpuMicros = 0;
  #runStartMicros: number | undefined;

  #run(message: HostMessage, timeoutMs: number, drainJobs: boolean): GuestReply {
    if (this.#fault) throw this.#fault;
    const { context, runtime, dispatch } = this.#host;
    this.armDeadline(timeoutMs);
    this.#host.resetGrowthRefused();
    this.#replyStale = false;
    let text: unknown;
    let answer: QuickJSHandle | undefined;
    try {
      // The invoke's trace header made here, JIT-compiled, not interpreted in the guest (protocol.ts).
      const [type, body] = encodeMessage(message, true);
      const invoke = type === 'invoke';
      const typeHandle = invoke ? (this.#invokeType ??= context.newString(type)) : context.newString(type);
      const bodyHandle = context.newString(body);
      // With the jobs drained here, the answer is deferred mode's reply function (called after them).
      const result = drainJobs
        ? context.callFunction(dispatch, context.undefined, typeHandle, bodyHandle, this.#deferred())
        : context.callFunction(dispatch, context.undefined, typeHandle, bodyHandle);
      if (!invoke) typeHandle.dispose();
      bodyHandle.dispose();
      if (result.error) {
        // dispatch catches everything: only an uncatchable interrupt or a failed allocation gets here.
        const thrown = safeDump(context, result.error);
        result.error.dispose();
        throw new GuestException(`The guest runtime threw: ${thrown}`);
      }
      answer = result.value;
      if (drainJobs) {
        // The microtask checkpoint. Promise jobs catch their own exceptions (they reject a promise),
        // so a failed job is an interrupt or an allocation failure too.
        const jobs = runtime.executePendingJobs(-1);
        if (jobs.error) {
          const thrown = safeDump(context, jobs.error);
          jobs.error.dispose();
          throw new GuestException(`A promise job failed: ${thrown}`);
        }
      }
      text = drainJobs ? deferredText(context, answer) : answerText(context, answer);
    } catch (error) {
      throw this.#classify(error);
    } finally {
      if (answer?.alive) answer.dispose();
    }
    // The deadline passed or the cap was hit, even if the guest went on: QuickJS's interrupt error
    // is uncatchable by `catch`, but an async function turns it into a rejection the guest sees; and
    // user code can catch QuickJS's out-of-memory error. As with V8, the environment ends.
    if (this.#interrupted) throw this.#classify(new GuestException('interrupted'));
    if (this.#host.growthRefused()) throw this.#classify(new GuestException('The memory cap was reached'));
    // Node's check after its microtask queue drains (processPromiseRejections): a rejection still
    // unhandled ends the environment, as the runtime client's 'unhandledRejection' listener does.
    const rejection = drainJobs ? this.#host.takeRejection() : undefined;
    if (rejection) throw this.#classify(new UnhandledRejection(rejection, this.#settledOutcome()));
    let reply: GuestReply;
    try {
      reply = decodeReply(text);
    } catch (error) {
      throw this.#classify(new MalformedReply(`The guest runtime sent a malformed reply: ${(error as Error).message}`));
    }
    // A stale outcome: answered as pending, so the status read after it decides (server.ts #call).
    if (reply.done && drainJobs && this.#replyStale) return { done: false, fatal: reply.fatal, nextTimerInMs: reply.nextTimerInMs, logCount: reply.logCount };
    return this.#translate(reply);
  }

  /** The guest's phase outcome, if it has one: a `status` read, which runs no user code. */
  #settledOutcome(): GuestReply | undefined {
    try {
      const { context, dispatch } = this.#host;
      const [type, body] = encodeMessage({ type: 'status' });
      const typeHandle = context.newString(type);
      const bodyHandle = context.newString(body);
      const result = context.callFunction(dispatch, context.undefined, typeHandle, bodyHandle);
      typeHandle.dispose();
      bodyHandle.dispose();
      if (result.error) {
        result.error.dispose();
        return undefined;
      }
      const text = context.getString(result.value);
      result.value.dispose();
      const reply = decodeReply(text);
      return reply.done ? reply : undefined;
    } catch {
      return undefined;
    }
  }

  /**
   * QuickJS's words for two resource failures, as Node's: an allocation refused by QuickJS's own
   * limit is out-of-memory; a stack overflow is Node's RangeError, and (issue #60: a runtime after a
   * stack overflow can abort on dispose) the instance is discarded after it.
   */
  #translate(reply: GuestReply): GuestReply {
    const error = reply.error;
    if (!error) return reply;
    if (matches(error, QUICKJS_OOM)) throw this.#classify(new GuestException('QuickJS refused an allocation: out of memory'));
    if (!matches(error, QUICKJS_STACK_OVERFLOW)) return reply;
    const header = `${NODE_STACK_OVERFLOW.errorType}: ${NODE_STACK_OVERFLOW.errorMessage}`;
    const frames = error.trace.filter((line) => line.startsWith('    at ')).slice(0, STACK_TRACE_LIMIT);
    return { ...reply, fatal: true, error: { ...NODE_STACK_OVERFLOW, trace: [header, ...frames] } };
  }

  /** Maps a failure to a fault kind; any fault ends the sandbox and drops its instance. */
  #classify(error: unknown): SandboxFault {
    if (this.#fault) return this.#fault;
    const message = error instanceof Error ? error.message : String(error);
    let fault: SandboxFault;
    if (this.#interrupted) fault = new SandboxFault('timeout', 'Script execution timed out.', { cause: error });
    else if (error instanceof UnhandledRejection) {
      fault = new SandboxFault('unhandled-rejection', error.reason.text, { cause: error, reason: error.reason, settled: error.settled });
    }
    else if (this.#host.growthRefused() || /out of memory/.test(message)) {
      fault = new SandboxFault('out-of-memory', message, { cause: error });
    } else if (error instanceof MalformedReply || error instanceof GuestException) {
      fault = new SandboxFault('crashed', message, { cause: error });
    } else {
      // A WebAssembly trap (RuntimeError: unreachable, memory access out of bounds), an Emscripten
      // abort, or the host's own stack overflowing inside the module: the instance is unusable.
      fault = new SandboxFault('crashed', `QuickJS crashed: ${message}`, { cause: error });
    }
    this.#fault = fault;
    this.#host.release(false);
    return fault;
  }
}

/** Frames kept when a stack overflow is reported (Node's Error.stackTraceLimit). */
const STACK_TRACE_LIMIT = 10;

class MalformedReply extends Error {}
class GuestException extends Error {}

/** A promise rejection nobody handled, with the phase's outcome if it had one already. */
class UnhandledRejection extends Error {
  readonly reason: RejectionReason;
  readonly settled: GuestReply | undefined;

  constructor(reason: RejectionReason, settled: GuestReply | undefined) {
    super(reason.text);
    this.reason = reason;
    this.settled = settled;
  }
}

function matches(error: { errorType: string; errorMessage: string }, expected: { errorType: string; errorMessage: string }): boolean {
  return error.errorType === expected.errorType && error.errorMessage === expected.errorMessage;
}

function safeDump(context: QuickJSContext, handle: QuickJSHandle): string {
  try {
    const value: unknown = context.dump(handle);
    if (value && typeof value === 'object' && 'message' in value) {
      const { name, message } = value as { name?: unknown; message?: unknown };
      return `${typeof name === 'string' ? name : 'Error'}: ${typeof message === 'string' ? message : ''}`;
    }
    return String(value);
  } catch {
    return '(unreadable)';
  }
}

/**
 * The reply text of a deferred-mode answer (guest/protocol.ts DEFERRED_REPLY), called once the
 * jobs have run: the guest's reply function. Called without asking its type first (one FFI call
 * less per invoke): anything but a function throws when called, and a value that is not a string is
 * not a reply (undefined).
 */
function deferredText(context: QuickJSContext, answer: QuickJSHandle): string | undefined {
  const result = context.callFunction(answer, context.undefined);
  if (result.error) {
    const thrown = safeDump(context, result.error);
    result.error.dispose();
    throw new GuestException(`The guest runtime's reply threw: ${thrown}`);
  }
  const text = context.typeof(result.value) === 'string' ? context.getString(result.value) : undefined;
  result.value.dispose();
  return text;
}

/**
 * The reply text of a dispatch answer: a string, or settled mode's promise once the jobs have run
 * (still pending, which the guest's bounded turns rule out, or rejected: not a reply).
 */
function answerText(context: QuickJSContext, answer: QuickJSHandle): string | undefined {
  if (context.typeof(answer) === 'string') return context.getString(answer);
  const state = context.getPromiseState(answer);
  if (state.type === 'rejected') state.error.dispose();
  if (state.type !== 'fulfilled') return undefined;
  if (state.notAPromise === true) return undefined; // the state's value is `answer` itself
  const text = context.typeof(state.value) === 'string' ? context.getString(state.value) : undefined;
  state.value.dispose();
  return text;
}

/**
 * This thread's CPU time in µs (Node 23.9+'s process.threadCpuUsage: a worker's own, not the
 * process's); the monotonic clock where it is missing.
 */
const threadCpuUsage = (process as { threadCpuUsage?: () => NodeJS.CpuUsage }).threadCpuUsage;
function threadCpuMicros(): number {
  if (!threadCpuUsage) return performance.now() * 1000;
  const { user, system } = threadCpuUsage();
  return user + system;
}
