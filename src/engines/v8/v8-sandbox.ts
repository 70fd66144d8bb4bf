/**
 * One V8 isolate + context running the guest runtime and one user bundle.
 *
 * The host's thread never waits on the isolate: every call is isolated-vm's asynchronous `apply`.
 * A synchronous call (`applySync`, `getHeapStatisticsSync`) must first take the isolate's lock,
 * and its `timeout` bounds only its own run, not that wait: while the isolate's thread runs
 * anything else — a guest's FinalizationRegistry callback or Atomics.waitAsync continuation, which
 * V8 posts as tasks that isolated-vm runs with no time limit — the host's thread would block in a
 * futex for as long (for ever, for a callback that spins). So when a call's phase is not done, the
 * `status` the event loop reads next is read at once by a second asynchronous call (isolated-vm runs
 * an isolate's tasks in order: it follows the first, whose microtasks have run), and the heap
 * figures by a third, queued with each call; `peek` and `memoryUsedBytes` return what they answered.
 *
 * Calls use the guest's settled mode (guest/protocol.ts GuestDispatchFunction): the guest answers a
 * promise that settles once the phase has an outcome, checked at each turn of the call's microtasks,
 * which isolated-vm runs before it hands the call's answer back (`result: { promise: true }`: a
 * promise settled by then comes back with the call). So an async handler that settles in its call's
 * microtasks — the common warm invoke — costs one call instead of two; one still pending after the
 * guest's turns gets the status read above. The guest marks such an outcome stale when the
 * environment breaks later in the same call (REPLY_STALE, on the log channel, which the host
 * receives first): then the status read decides, as before.
 *
 * Every call is also bounded on the host's clock ({@link V8_CALL_GRACE_MS} past its own timeout):
 * isolated-vm's timeout starts only when the call starts running, so a call queued behind a
 * spinning task would otherwise wait for ever. Past that bound the sandbox is ended (disposing an
 * isolate terminates whatever runs in it) with a `timeout` fault. The bounds are checked by one
 * sweep every {@link BOUND_SWEEP_MS} for all sandboxes, not by a timer per call: a Node timer made
 * and cleared on every warm invoke cost more than the rest of the sandbox's JavaScript.
 */
import type ivm from 'isolated-vm';
import { SandboxFault, SnapshotUnsupportedError, type RejectionReason, type Sandbox, type SandboxImage } from '../engine.ts';
import { HEAVY_CALLS_IN_A_ROW } from '../remote/engine-pool.ts';
import { decodeReply, encodeMessage, REPLY_STALE, WASM_COMPILED_OP, type GuestDispatchFunction, type GuestReply, type HostMessage, type InitMessage } from '../guest/protocol.ts';
import { setImmediate } from '../../host-clock.ts';
import type { DeferredHostCalls } from './deferred-host-calls.ts';
import { inProcessV8DegradedBy } from './in-process-health.ts';
import { installExitGuard } from './exit-guard.ts';

/**
 * In-process CPU-heavy detection (v8-engine.ts `background`): hears when this sandbox's invocation
 * calls have been CPU-heavy {@link HEAVY_CALLS_IN_A_ROW} times in a row (each at least `barMs` of
 * the isolate's `cpuTime`), as engine-pool.ts weighs a server's calls; the sandbox is then retired.
 */
export interface HeavyWatch {
  readonly barMs: number;
  readonly onHeavy: () => void;
}

/** Guest messages of an invocation: a function's INIT may be heavy once without making it CPU-heavy. */
const INVOCATION_MESSAGES: ReadonlySet<HostMessage['type']> = new Set(['invoke', 'tick', 'drain']);

/** SnapStart for a booted sandbox: the host calls its guest made, and the engine's snapshot taker. */
export interface V8Snapshotter {
  /** Host operations (other than `stdlib`) the guest called since boot. */
  readonly hostOps: ReadonlySet<string>;
  /** `initMs`: how long INIT and the before-snapshot hooks took here, from the `init` call to the snapshot. */
  readonly take: (init: InitMessage, initMs: number) => Promise<SandboxImage>;
}

/** The guest's dispatch: strings in, a string (or, settled mode, its promise) out (guest/protocol.ts). */
export type GuestDispatch = GuestDispatchFunction;

/**
 * The guest's log function for an isolate's `install`/`rebind`: console lines go to `onLog`; the
 * guest runtime's REPLY_STALE mark goes to `onStale` (the sandbox's {@link V8Sandbox.replyWentStale}).
 * isolated-vm runs a Callback's calls on the host in the order the isolate made them, and before
 * the answer of the call that made them, so the mark is seen before the reply it voids.
 */
export function guestLogCallback(onLog: (level: string, message: string) => void, onStale: () => void): (level: string, message: string) => void {
  return (level, message) => {
    if (level === REPLY_STALE) onStale();
    else onLog(level, message);
  };
}

/**
 * How long past a call's own timeout (plus the status read's) the host waits for the call's
 * answer before it gives the sandbox up: covers isolated-vm's thread hand-offs on a loaded machine;
 * only a sandbox whose isolate is held by something else (see the module comment) ever reaches it.
 */
export const V8_CALL_GRACE_MS = 1000;
/** The status read after a call runs no user code; this bounds a guest runtime gone wrong. */
const STATUS_TIMEOUT_MS = 1000;
const STATUS_MESSAGE = encodeMessage({ type: 'status' });
/** A call's reply may be a promise of it, taken once it settles (settled mode, guest/protocol.ts). */
const SETTLED_RESULT = { promise: true } as const;
/**
 * How often the bound of the calls in flight is checked: a call is given up between its bound and
 * this much later. Only a sandbox whose isolate is held by something else ever reaches a bound.
 */
export const BOUND_SWEEP_MS = 100;
/** At most one heap read per sandbox per this many ms (see #readHeap). */
export const HEAP_READ_INTERVAL_MS = 10;

/**
 * The idle watch: how often the host looks at isolates with no call of ours in flight, and how many
 * looks in a row may find one held (its wall time in isolated-vm's lock >= 90 % of the time since
 * the last look) before it is ended. Lambda freezes an environment between invocations; an isolate
 * here is not frozen, and V8 runs a guest's FinalizationRegistry callbacks on it whenever a
 * collection finds their objects: one that spins after the response would burn an engine thread
 * for ever (isolated-vm starts a new thread when all of its pool's are busy, so it starves the
 * host's CPU rather than blocking neighbours). Wall time, not CPU time: on a loaded machine a
 * spinning thread holds the lock the whole time yet gets little CPU. A collection alone holds it
 * for milliseconds, far under 90 % of a second, twice in a row.
 */
export const IDLE_WATCH_INTERVAL_MS = 1000;
export const IDLE_HELD_LOOKS = 2;
const HELD_FRACTION = 0.9;

export class V8Sandbox implements Sandbox {
  readonly #isolate: ivm.Isolate;
  readonly #dispatch: ivm.Reference<GuestDispatch>;
  /** Why the sandbox died, once it has: later calls fault with the same kind. */
  #fault: SandboxFault | undefined;
  /**
   * The calls in flight, failed by {@link failCatastrophically}: isolated-vm parks the isolate's
   * thread forever after a catastrophic error, so a call in flight would never settle without this.
   * One guard per call (with its bound, see {@link sweepBounds}), dropped when the call settles; an
   * array, as a sandbox has one or two calls in flight at most. (It used to be one never-settling promise
   * raced by every call: each race left a reaction on it — two closures, two promises and the reply
   * string per invocation, ~340 B retained for the sandbox's whole life.)
   */
  readonly #inFlight: PendingCall[] = [];
  #catastrophic = false;

  readonly #snapshotter: V8Snapshotter | undefined;
  /** The INIT message this sandbox ran (a V8 snapshot replays it), and when (performance.now()). */
  #init: InitMessage | undefined;
  #initAt = 0;
  /** What the status read after the last call answered (its text, or why it failed); taken by `peek`. */
  #status: PromiseSettledResult<unknown> | undefined;
  /** The guest marked the outcome reply of the call in flight stale (guestLogCallback). */
  #replyStale = false;
  /** Heap + external bytes, as read after the last call whose read has come back (#readHeap). */
  #memoryBytes = 0;
  /** When the last heap read was queued (performance.now()). */
  #heapReadAt = Number.NEGATIVE_INFINITY;
  /** Calls sent so far (the idle watch counts a window idle only if none was sent in it). */
  #calls = 0;
  /** The idle watch's last look: the host's clock, the isolate's wall time (ns), the call count. */
  #look: { readonly at: number; readonly wallNs: bigint; readonly calls: number } | undefined;
  #heldLooks = 0;
  readonly #heavyWatch: HeavyWatch | undefined;
  /** Invocation calls in a row at or over the heavy bar (#weigh). */
  #heavyRun = 0;
  #retired = false;

  /** See {@link onFirstUse}. */
  #afterFirstUse: (() => void) | undefined;
  /**
   * The guest's deferred heavy host call, if any (deferred-host-calls.ts). Abandoned when the
   * sandbox ends: a call can end with the guest still blocked in one only by failing (terminated at
   * its timeout, the isolate disposed...), and every failure ends the sandbox; a call that succeeds
   * has taken its answer.
   */
  readonly #deferred: Pick<DeferredHostCalls, 'abandon'> | undefined;

  /**
   * `watchIdle`: false leaves the sandbox out of the idle watch's timer (its tests drive
   * `lookWhileIdle`). `deferred`: the guest's deferred host calls, if its host function defers any.
   * `heavyWatch`: weighs its invocation calls' CPU time (see {@link HeavyWatch}).
   */
  constructor(
    isolate: ivm.Isolate,
    dispatch: ivm.Reference<GuestDispatch>,
    snapshotter?: V8Snapshotter,
    watchIdle = true,
    deferred?: Pick<DeferredHostCalls, 'abandon'>,
    heavyWatch?: HeavyWatch,
  ) {
    this.#isolate = isolate;
    this.#dispatch = dispatch;
    this.#snapshotter = snapshotter;
    this.#deferred = deferred;
    this.#heavyWatch = heavyWatch;
    if (watchIdle) watch(this);
    bounded.add(this);
    held.add(isolate);
    installExitGuard(exitHooks);
  }

  /**
   * See Sandbox.retired: set once this sandbox's calls made its function CPU-heavy (HeavyWatch), and
   * for every sandbox of the host process once in-process v8 has degraded to process isolation
   * (in-process-health.ts: the function's next invocation cold-starts in a child).
   */
  get retired(): boolean {
    return this.#retired || inProcessV8DegradedBy() !== undefined;
  }

  /**
   * One look of the idle watch (see {@link IDLE_WATCH_INTERVAL_MS}); ends the sandbox with a
   * `crashed` fault when its isolate has been held, with no call of ours in flight, for
   * {@link IDLE_HELD_LOOKS} looks in a row. Returns false once the sandbox is gone.
   */
  lookWhileIdle(): boolean {
    if (this.disposed) return false;
    let wallNs: bigint;
    try {
      wallNs = this.#isolate.wallTime;
    } catch {
      return false; // disposed under us
    }
    const at = performance.now();
    const last = this.#look;
    const idle = last !== undefined && this.#inFlight.length === 0 && this.#calls === last.calls;
    const held = idle && Number(wallNs - last.wallNs) / 1e6 >= HELD_FRACTION * (at - last.at);
    this.#heldLooks = held ? this.#heldLooks + 1 : 0;
    this.#look = { at, wallNs, calls: this.#calls };
    if (this.#heldLooks < IDLE_HELD_LOOKS) return true;
    this.#fault ??= new SandboxFault(
      'crashed',
      'The sandbox kept running code between invocations (a FinalizationRegistry callback?) and was ended',
    );
    if (!this.#catastrophic) releaseIsolate(this.#isolate);
    this.#deferred?.abandon();
    this.#leaveSweepWhenGone();
    return false;
  }

  /**
   * isolated-vm reported a catastrophic error for this isolate (V8 OOM, failed termination): the
   * calls in flight fail (their rejections are seen in later microtasks). Returns the fault they
   * fail with, so an engine server can report them with its unhealthy event (server.ts).
   */
  failCatastrophically(message: string): SandboxFault {
    this.#catastrophic = true;
    parked.add(this.#isolate);
    held.delete(this.#isolate);
    parkedAny = true;
    const kind = /memory/i.test(message) ? 'out-of-memory' : 'crashed';
    const fault = new SandboxFault(kind, `isolated-vm catastrophic error: ${message}`);
    this.#fault ??= fault;
    this.#deferred?.abandon();
    for (const pending of [...this.#inFlight]) pending.fail(this.#fault);
    return this.#fault;
  }

  get disposed(): boolean {
    return this.#fault !== undefined || this.#isolate.isDisposed;
  }

  /**
   * `fn` runs once, in a later turn of the event loop (after the answer has reached its caller),
   * when the first call other than INIT has settled or the sandbox is disposed: the engine refills
   * its blank isolates then, not inside the cold start that took one (blank-isolates.ts).
   */
  onFirstUse(fn: () => void): void {
    this.#afterFirstUse = fn;
  }

  #firstUse(): void {
    const fn = this.#afterFirstUse;
    if (fn === undefined) return;
    this.#afterFirstUse = undefined;
    setImmediate(fn);
  }

  async call(message: HostMessage, timeoutMs: number): Promise<GuestReply> {
    this.#assertAlive();
    if (message.type === 'init') {
      this.#init = message;
      this.#initAt = performance.now();
    }
    this.#status = undefined;
    this.#replyStale = false;
    const timeout = toTimeout(timeoutMs);
    this.#calls++;
    const cpuBefore = this.#heavyWatch && INVOCATION_MESSAGES.has(message.type) ? this.cpuTimeMs() : undefined;
    const [type, body] = encodeMessage(message);
    const send = (): Promise<unknown> => {
      const reply = this.#dispatch.apply(undefined, [type, body, true], { timeout, result: SETTLED_RESULT });
      const now = performance.now();
      if (now - this.#heapReadAt >= HEAP_READ_INTERVAL_MS) {
        this.#heapReadAt = now;
        this.#readHeap();
      }
      return reply;
    };
    let text: unknown;
    try {
      text = await this.#bounded(send, timeout + V8_CALL_GRACE_MS);
    } catch (error) {
      // A promise rejection the guest left unhandled: the status tells whether the phase had settled before it.
      const status = this.#isRejection(error) ? await this.#readStatus() : undefined;
      if (message.type !== 'init') this.#firstUse();
      throw this.#classify(error, status);
    }
    if (cpuBefore !== undefined) this.#weigh(this.cpuTimeMs() - cpuBefore);
    const decoded = this.#decode(text);
    // The event loop reads the status next when the phase is not done: read it now, off the host's
    // thread. The guest answers once the phase has an outcome or after its microtask turns (settled
    // mode): an async handler that settles in the call's microtasks needs no second call.
    const firstUse = message.type !== 'init';
    if (decoded.done && !this.#replyStale) {
      if (firstUse) this.#firstUse();
      return decoded;
    }
    this.#status = await this.#readStatus();
    if (firstUse) this.#firstUse();
    // A stale outcome (the environment broke after it): the status, which follows it, decides.
    return decoded.done ? { done: false, fatal: decoded.fatal, nextTimerInMs: decoded.nextTimerInMs, logCount: decoded.logCount } : decoded;
  }

  /**
   * An invocation call's guest CPU time (the isolate's `cpuTime`, which counts preemption: hence
   * calls in a row, engine-pool.ts HEAVY_CALLS_IN_A_ROW). The run's end retires the sandbox and
   * tells the engine, once.
   */
  #weigh(cpuMs: number): void {
    const watch = this.#heavyWatch!;
    this.#heavyRun = cpuMs >= watch.barMs ? this.#heavyRun + 1 : 0;
    if (this.#heavyRun < HEAVY_CALLS_IN_A_ROW || this.#retired) return;
    this.#retired = true;
    watch.onHeavy();
  }

  /** The guest said the outcome reply of the call in flight no longer holds (guestLogCallback). */
  replyWentStale(): void {
    this.#replyStale = true;
  }

  /**
   * Queues a read of the heap figures right behind the call just sent (isolated-vm runs an
   * isolate's tasks in order) and keeps what it answers when it comes. Not awaited, and at most one
   * per {@link HEAP_READ_INTERVAL_MS}: each read's answer wakes the host's thread once more, which
   * cost ~20-30 µs per warm invoke when every call read and waited (same-run comparison, see
   * docs/benchmarks.md). So `memoryUsedBytes`, and Max Memory Used in REPORT, can trail the heap by
   * one call or that interval, whichever is longer.
   */
  #readHeap(): void {
    this.#isolate.getHeapStatistics().then(
      (stats) => {
        if (!this.disposed) this.#memoryBytes = stats.total_heap_size + stats.externally_allocated_size;
      },
      () => {},
    );
  }

  /** The guest's status, read by an asynchronous call (its microtasks have run: it follows the last call). */
  async #readStatus(): Promise<PromiseSettledResult<unknown>> {
    this.#calls++;
    const send = (): Promise<unknown> => this.#dispatch.apply(undefined, STATUS_MESSAGE, { timeout: STATUS_TIMEOUT_MS });
    try {
      return { status: 'fulfilled', value: await this.#bounded(send, STATUS_TIMEOUT_MS + V8_CALL_GRACE_MS) };
    } catch (error) {
      return { status: 'rejected', reason: error };
    }
  }

  /** The status read that followed the last call (the event loop peeks only right after a call). */
  peek(message: HostMessage): GuestReply {
    this.#assertAlive();
    const status = this.#status;
    this.#status = undefined;
    if (message.type !== 'status' || status === undefined) {
      // Anything else would have to wait on the isolate from the host's thread.
      throw this.#classify(new MalformedReply(`lambdalet bug: a v8 sandbox answers only the status that follows a call (${message.type})`));
    }
    if (status.status === 'rejected') throw this.#classify(status.reason);
    return this.#decode(status.value);
  }

  /**
   * SnapStart: a V8 startup snapshot of this sandbox's guest after INIT (taken by replaying INIT in
   * a snapshot process: a V8 heap cannot be captured from a live isolate). Unsupported when INIT
   * used the host (file system, fetch, entropy), which a snapshot cannot hold.
   */
  async snapshot(): Promise<SandboxImage> {
    this.#assertAlive();
    if (!this.#snapshotter || !this.#init) throw new SnapshotUnsupportedError('this V8 sandbox did not run INIT itself (a restored one)');
    // A compiled WebAssembly module cannot be serialized in a V8 startup snapshot: taken anyway, the
    // snapshot process's replay of INIT failed, and verification reported it as an unfinished INIT.
    if (this.#snapshotter.hostOps.has(WASM_COMPILED_OP)) {
      throw new SnapshotUnsupportedError('INIT compiled WebAssembly, which a V8 snapshot cannot hold: the function starts without a snapshot');
    }
    const ops = [...this.#snapshotter.hostOps];
    if (ops.length > 0) {
      throw new SnapshotUnsupportedError(`INIT used the host (${ops.sort().join(', ')}), which a V8 snapshot cannot hold`);
    }
    return this.#snapshotter.take(this.#init, performance.now() - this.#initAt);
  }

  /** As read after the last call whose read has come back (#readHeap; never a synchronous read). */
  cpuTimeMs(): number {
    try {
      return Number(this.#isolate.cpuTime) / 1e6;
    } catch {
      return 0; // disposed
    }
  }

  memoryUsedBytes(): number {
    return this.disposed ? 0 : this.#memoryBytes;
  }

  dispose(): void {
    this.#fault ??= new SandboxFault('disposed', 'The sandbox was disposed');
    this.#deferred?.abandon();
    // After a catastrophic error the isolate's thread is parked; disposing could block the host.
    if (!this.#catastrophic) releaseIsolate(this.#isolate);
    this.#leaveSweepWhenGone();
    this.#firstUse();
  }

  /**
   * `send()`'s answer, or the catastrophic fault if one comes first, or a `timeout` fault once
   * `limitMs` have passed on the host's clock (found by the sweep: {@link sweepBounds}); nothing of
   * the call outlives it. `send` runs in a microtask of its own: isolated-vm's `apply` captures the
   * host's stack (10 frames, StackTrace::CurrentStackTrace in three_phase_task.h) for its errors,
   * and the invoke path's frames — optimised, inlined async functions — cost several µs of the
   * host's thread per call to walk; from a microtask the stack is one frame deep. (lambdalet reads
   * only the guest's part of such a stack: rejectionReason.)
   */
  #bounded<T>(send: () => Promise<T>, limitMs: number): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      const pending: PendingCall = {
        bound: performance.now() + limitMs,
        limitMs,
        fail: (fault) => {
          this.#forget(pending);
          reject(fault);
        },
      };
      this.#inFlight.push(pending);
      if (++callsInFlight === 1) armSweep();
      queueMicrotask(() => {
        if (!this.#inFlight.includes(pending)) return; // failed before it was sent (a catastrophe)
        let work: Promise<T>;
        try {
          work = send();
        } catch (error) {
          this.#forget(pending);
          // eslint-disable-next-line @typescript-eslint/prefer-promise-reject-errors
          reject(error);
          return;
        }
        work.then(
          (value) => {
            this.#forget(pending);
            resolve(value);
          },
          (error: unknown) => {
            this.#forget(pending);
            // isolated-vm's own reason, passed on unchanged for #classify to read.
            // eslint-disable-next-line @typescript-eslint/prefer-promise-reject-errors
            reject(error);
          },
        );
      });
    });
  }

  /** Drops a call's guard (once: a call failed by its bound or a catastrophe may still answer later). */
  #forget(pending: PendingCall): void {
    const at = this.#inFlight.indexOf(pending);
    if (at < 0) return;
    this.#inFlight.splice(at, 1);
    callsInFlight--;
    this.#leaveSweepWhenGone();
  }

  /** A sandbox that is gone, with no call in flight, leaves the bounds' sweep (nothing of it stays referenced). */
  #leaveSweepWhenGone(): void {
    if (this.#inFlight.length === 0 && this.disposed) bounded.delete(this);
  }

  /**
   * The sweep's look at this sandbox: fails the calls whose bound has passed with a `timeout`
   * fault (#classify then ends the isolate). Returns false once the sandbox is gone with nothing in flight.
   */
  sweepBounds(now: number): boolean {
    for (const pending of this.#inFlight) {
      if (now >= pending.bound) {
        pending.fail(new SandboxFault('timeout', `${TIMEOUT_MESSAGE} The isolate did not answer within ${pending.limitMs} ms: something else held it`));
        return this.sweepBounds(now);
      }
    }
    return this.#inFlight.length > 0 || !this.disposed;
  }

  /** A reply that does not decode means the guest runtime is broken: the sandbox is finished. */
  #decode(text: unknown): GuestReply {
    try {
      return decodeReply(text);
    } catch (error) {
      throw this.#classify(new MalformedReply(`The guest runtime sent a malformed reply: ${(error as Error).message}`));
    }
  }

  #assertAlive(): void {
    if (this.#fault) throw this.#fault;
    if (this.#isolate.isDisposed) throw (this.#fault = new SandboxFault('disposed', 'The isolate is disposed'));
  }

  /** The guest's phase outcome, if the status read after a failed call found one; undefined otherwise. */
  #settledOutcome(status: PromiseSettledResult<unknown> | undefined): GuestReply | undefined {
    if (status?.status !== 'fulfilled') return undefined;
    try {
      const reply = decodeReply(status.value);
      return reply.done ? reply : undefined;
    } catch {
      return undefined;
    }
  }

  /** Whether isolated-vm's `error` is a guest's unhandled promise rejection (see #classify). */
  #isRejection(error: unknown): boolean {
    if (this.#fault || error instanceof SandboxFault || error instanceof MalformedReply || this.#isolate.isDisposed) return false;
    const message = error instanceof Error ? error.message : String(error);
    return message !== MEMORY_LIMIT_MESSAGE && message !== TIMEOUT_MESSAGE;
  }

  /** Maps isolated-vm's errors to a fault kind; any fault ends the sandbox. */
  #classify(error: unknown, status?: PromiseSettledResult<unknown>): SandboxFault {
    if (this.#fault) return this.#fault;
    if (error instanceof SandboxFault) {
      // Ours: the host-clock bound of a call (#bounded). The isolate is ended, whatever holds it.
      this.#fault = error;
      if (!this.#catastrophic) releaseIsolate(this.#isolate);
      this.#deferred?.abandon();
      this.#leaveSweepWhenGone();
      return error;
    }
    const message = error instanceof Error ? error.message : String(error);
    let fault: SandboxFault;
    if (message === MEMORY_LIMIT_MESSAGE) fault = new SandboxFault('out-of-memory', message, { cause: error });
    else if (message === TIMEOUT_MESSAGE) fault = new SandboxFault('timeout', message, { cause: error });
    else if (this.#isolate.isDisposed) fault = new SandboxFault('disposed', message, { cause: error });
    else if (error instanceof MalformedReply) fault = new SandboxFault('crashed', message, { cause: error });
    else {
      // The guest's dispatch never throws (it catches everything), so what isolated-vm throws here
      // is the reason of a promise rejection nobody handled, copied out at the end of the task.
      fault = new SandboxFault('unhandled-rejection', message, { cause: error, reason: rejectionReason(error), settled: this.#settledOutcome(status) });
    }
    this.#fault = fault;
    if (!this.#catastrophic) releaseIsolate(this.#isolate);
    this.#deferred?.abandon();
    this.#leaveSweepWhenGone();
    return fault;
  }
}

/** isolated-vm's own messages (src/isolate/environment.cc, run_with_timeout.h). */
const MEMORY_LIMIT_MESSAGE = 'Isolate was disposed during execution due to memory limit';
const TIMEOUT_MESSAGE = 'Script execution timed out.';

class MalformedReply extends Error {}

function rejectionReason(error: unknown): RejectionReason {
  if (error instanceof Error) {
    const stack = typeof error.stack === 'string' ? error.stack.split('\n') : [];
    // isolated-vm appends the host's own frames after a boundary line: they are not the guest's.
    const boundary = stack.findIndex((line) => line.includes('<isolated-vm boundary>'));
    return { text: `${error.name}: ${error.message}`, stack: boundary < 0 ? stack : stack.slice(0, boundary) };
  }
  return { text: String(error), stack: [] };
}

/** A call in flight: when the host stops waiting for it (performance.now()), and how to fail it. */
interface PendingCall {
  readonly bound: number;
  readonly limitMs: number;
  readonly fail: (fault: SandboxFault) => void;
}

/**
 * Every sandbox not yet gone, for the bounds' sweep; and the calls in flight across them. The sweep
 * runs while calls are in flight (it stops at the first look that finds none, and the next call
 * starts it again). Unreferenced: a call in flight keeps the process alive by itself (isolated-vm
 * holds the event loop while a task of the host's is pending).
 */
const bounded = new Set<V8Sandbox>();
let callsInFlight = 0;
let sweepTimer: NodeJS.Timeout | undefined;

function armSweep(): void {
  sweepTimer ??= setInterval(() => {
    if (callsInFlight === 0) {
      clearInterval(sweepTimer);
      sweepTimer = undefined;
      return;
    }
    const now = performance.now();
    for (const each of bounded) if (!each.sweepBounds(now)) bounded.delete(each);
  }, BOUND_SWEEP_MS).unref();
}

/** Live sandboxes the idle watch looks at; one timer for all, running only while there are some. */
const watched = new Set<V8Sandbox>();
let watchTimer: NodeJS.Timeout | undefined;

function watch(sandbox: V8Sandbox): void {
  watched.add(sandbox);
  watchTimer ??= setInterval(() => {
    for (const each of watched) if (!each.lookWhileIdle()) watched.delete(each);
    if (watched.size === 0) {
      clearInterval(watchTimer);
      watchTimer = undefined;
    }
  }, IDLE_WATCH_INTERVAL_MS).unref();
}

/** Isolates waiting for {@link releaseIsolate}'s turn. */
const toRelease: ivm.Isolate[] = [];
/** Isolates of a catastrophic error (failCatastrophically): never disposed, their thread is parked holding them. */
const parked = new WeakSet<ivm.Isolate>();
/** Whether any isolate of this thread's sandboxes was parked by a catastrophe (exit-guard.ts). */
let parkedAny = false;
/** Every sandbox's isolate not yet disposed (nor parked): what the process's exit terminates (exit-guard.ts). */
const held = new Set<ivm.Isolate>();

/**
 * At the process's exit (exit-guard.ts, issue #15): every isolate still held, and every one waiting
 * for {@link releaseIsolate}'s turns (which never come after `process.exit`), is disposed at once, so
 * no guest still runs on isolated-vm's threads while Node tears the process down.
 */
const exitHooks = {
  disposeAll(): void {
    for (const isolate of new Set([...toRelease.splice(0), ...held])) {
      held.delete(isolate);
      if (isolate.isDisposed || parked.has(isolate)) continue;
      try {
        isolate.dispose();
      } catch {
        // Disposed meanwhile (isolated-vm's memory limit).
      }
    }
  },
  parked: (): boolean => parkedAny || inProcessV8DegradedBy() !== undefined,
};

/**
 * Disposes `isolate` a few turns of the host's event loop from now ({@link RELEASE_AFTER_TURNS}) —
 * after the answer of the invocation whose fault ended it (environment.ts) — with its
 * teardown on one of isolated-vm's threads whenever isolated-vm allows.
 *
 * Why: `dispose()` terminates the isolate and drops the host's hold on it; the thread that drops
 * the LAST hold runs the isolate's destructor: it takes the isolate's lock and frees its heap
 * (isolated-vm environment.cc `~IsolateEnvironment`, V8's `Isolate::Dispose`). A call in flight keeps
 * a hold on an isolated-vm thread, so a spinning guest's teardown happens there; but an idle isolate
 * (a timeout while the guest waits on a timer, an idle environment reaped or evicted) was torn down
 * on the host's thread, inside the answer's path: 51-82 ms for an INIT that kept 300,000 small
 * ArrayBuffers (load 8; docs/benchmarks.md, "Isolate disposal off the answer path"). Here a task is
 * queued on the isolate first (a context to be made: isolated-vm's scheduler, then the thread that
 * runs it, holds the isolate until it is done), so the host's `dispose()` right behind it is usually
 * not the last hold; when the task has already finished (measured: 1 run in 4-8), the teardown
 * still runs here, but after the answer. Nothing leaks: the sandbox is `disposed` (its environment
 * dead, its memory 0) from the moment it ends; the isolate follows those turns later, whatever
 * happens meanwhile. Never for an isolate of a catastrophic error (its thread is parked: see V8Sandbox).
 */
export function releaseIsolate(isolate: ivm.Isolate): void {
  if (isolate.isDisposed) {
    held.delete(isolate);
    return;
  }
  if (toRelease.push(isolate) === 1) afterTurns(RELEASE_AFTER_TURNS, releaseQueued);
}

/**
 * Event-loop turns (setImmediate) between a sandbox's end and its isolate's disposal: more than the
 * environment's answer path takes after a fault, which waits up to 4 turns for the guest's lines
 * still in flight (log-collector.ts `settle` without a count) and then answers in microtasks.
 * Turns, not a timer: each is microseconds on an idle loop, and a loaded machine stretches a timer's
 * share of the answer path but not the order of turns. The host's real setImmediate, as the log
 * settle's (host-clock.ts): a test's fake timers must not hold ended isolates.
 */
const RELEASE_AFTER_TURNS = 16;

function afterTurns(turns: number, fn: () => void): void {
  setImmediate(() => (turns <= 1 ? fn() : afterTurns(turns - 1, fn)));
}

function releaseQueued(): void {
  for (const isolate of toRelease.splice(0)) {
    // A catastrophe after the sandbox ended (V8 still thrashing in a terminated call) parks the thread holding it.
    if (isolate.isDisposed || parked.has(isolate)) continue;
    try {
      // Rejected ("Isolate is disposed") when the dispose below gets there first: either way a hold.
      isolate.createContext().then(
        (context) => context.release(),
        () => {},
      );
    } catch {
      // Not an isolate that can take tasks (disposed meanwhile): dispose() below decides.
    }
    try {
      isolate.dispose();
    } catch {
      // Disposed meanwhile (isolated-vm's memory limit): nothing left to free.
    }
    held.delete(isolate);
  }
}

/**
 * `work`, or a `timeout` SandboxFault naming `what` once `limitMs` have passed on the host's clock
 * (for the engine's own asynchronous calls outside a sandbox's: see the module comment).
 */
export function withDeadline<T>(work: Promise<T>, limitMs: number, what: string): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    const timer = setTimeout(() => reject(new SandboxFault('timeout', `${what} did not finish within ${limitMs} ms`)), limitMs);
    work.then(
      (value) => {
        clearTimeout(timer);
        resolve(value);
      },
      (error: unknown) => {
        clearTimeout(timer);
        // eslint-disable-next-line @typescript-eslint/prefer-promise-reject-errors
        reject(error);
      },
    );
  });
}

/** isolated-vm wants a positive integer number of milliseconds. */
function toTimeout(ms: number): number {
  return Math.max(1, Math.ceil(ms));
}
