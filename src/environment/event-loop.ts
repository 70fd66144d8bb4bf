/**
 * Drives one phase (INIT or an invocation) of a sandbox to its outcome: the host side of the
 * guest's event loop. The guest owns its timers; the host owns the clock and the deadline.
 *
 *   call(first message) → the guest runs user code, then its microtasks drain
 *   peek(status)        → read the outcome those microtasks produced (no user code runs)
 *   no outcome, timers pending → sleep until the next one is due, then call(tick)
 *   no outcome, nothing pending → call(drain): Node's beforeExit (null, NodeJsExit, callback result)
 *
 * The deadline is enforced here for asynchronous waits, and by the engine (`timeoutMs`) for
 * synchronous runs; on either, the caller disposes the sandbox. {@link answerByDeadline} answers
 * the environment's phase at the deadline whatever the engine does (see there).
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { SandboxFault, type Sandbox } from '../engines/engine.ts';
import { clearTimeout, performance, setTimeout } from '../host-clock.ts';
import type { GuestReply, HostMessage } from '../engines/guest/protocol.ts';

/**
 * `signal` aborts the phase from outside (the environment was disposed, e.g. by rt.close()'s
 * deadline): a wait for a guest timer ends at once instead of at the timer or the deadline.
 */
export function runPhase(
  sandbox: Sandbox,
  first: HostMessage,
  deadlineAt: number,
  signal?: AbortSignal,
  waker?: PhaseWaker,
): Promise<GuestReply> {
  waker?.clear();
  // The first call's promise itself when it ends the phase (a warm invoke of a handler that
  // settles in its call: no async frame of its own); the loop below only when it does not.
  return sandbox.call(first, remaining(deadlineAt)).then((reply) => (reply.done ? reply : drivePhase(sandbox, reply, deadlineAt, signal, waker)));
}

/**
 * Ends the drive loop's wait for the guest's next tick early when host work the guest polls for
 * has news (socket-service.ts: bytes arrived, a connection made or closed): without it a reply
 * waits out the guest's poll delay (1 ms at best, a Node timer's ~1.1 ms, up to 8), which was
 * most of a Redis GET's round trip in the guest. An early tick is harmless: it runs only the
 * timers that are due, and polls.
 */
export class PhaseWaker {
  #wake: (() => void) | undefined;
  #pending = false;

  /** News arrived: end the current wait, or the next one at once. */
  readonly wake = (): void => {
    const wake = this.#wake;
    if (wake) {
      this.#wake = undefined;
      wake();
    } else {
      this.#pending = true;
    }
  };

  /** A call into the guest is starting: it polls, so earlier news is seen. */
  clear(): void {
    this.#pending = false;
  }

  /** Calls `fn` at the next news (at once when some came since {@link clear}); the returned function cancels. */
  onWake(fn: () => void): () => void {
    if (this.#pending) {
      this.#pending = false;
      fn();
      return () => {};
    }
    this.#wake = fn;
    return () => {
      if (this.#wake === fn) this.#wake = undefined;
    };
  }
}

/** Waits `ms`, or less when `waker` fires; rejects with `signal`'s abort. */
function waitForTick(ms: number, signal: AbortSignal | undefined, waker: PhaseWaker | undefined): Promise<void> {
  if (!waker) return sleep(ms, undefined, { signal });
  return new Promise<void>((resolve, reject) => {
    if (signal?.aborted) {
      reject(signal.reason as Error);
      return;
    }
    let cancel = (): void => {};
    let settled = false;
    const done = (): void => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      cancel();
      signal?.removeEventListener('abort', onAbort);
      resolve();
    };
    const onAbort = (): void => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      cancel();
      reject(signal!.reason as Error);
    };
    const timer = setTimeout(done, ms);
    signal?.addEventListener('abort', onAbort, { once: true });
    // Last: news already pending calls `done` at once.
    cancel = waker.onWake(done);
  });
}

/**
 * The phase's calls after its first. One of them that never started (SandboxFault `not-started`)
 * still belongs to a phase whose user code has run: a crash, never a reason to run it again.
 */
async function drivePhase(sandbox: Sandbox, firstReply: GuestReply, deadlineAt: number, signal: AbortSignal | undefined, waker: PhaseWaker | undefined): Promise<GuestReply> {
  try {
    return await driveFrom(sandbox, firstReply, deadlineAt, signal, waker);
  } catch (error) {
    if (error instanceof SandboxFault && error.kind === 'not-started') throw new SandboxFault('crashed', error.message);
    throw error;
  }
}

async function driveFrom(sandbox: Sandbox, firstReply: GuestReply, deadlineAt: number, signal: AbortSignal | undefined, waker: PhaseWaker | undefined): Promise<GuestReply> {
  let reply = firstReply;
  for (;;) {
    if (reply.done) return reply;
    reply = sandbox.peek({ type: 'status' });
    if (reply.done) return reply;
    if (reply.nextTimerInMs < 0) {
      reply = await sandbox.call({ type: 'drain' }, remaining(deadlineAt));
      if (!reply.done && reply.nextTimerInMs < 0) {
        throw new SandboxFault('crashed', 'The guest runtime reported neither an outcome nor pending work after drain');
      }
      continue;
    }
    const wait = Math.min(reply.nextTimerInMs, remaining(deadlineAt));
    if (wait > 0) {
      try {
        await waitForTick(wait, signal, waker);
      } catch (error) {
        if (signal?.aborted) throw new SandboxFault('disposed', 'The environment was disposed while timers were pending');
        throw error;
      }
    }
    if (remaining(deadlineAt) <= 0) throw new SandboxFault('timeout', 'The deadline passed while timers were pending');
    waker?.clear();
    reply = await sandbox.call({ type: 'tick' }, remaining(deadlineAt));
  }
}

/**
 * `work`, or a `timeout` SandboxFault once `deadlineAt` (performance.now() ms) has passed on the
 * host's clock, whichever comes first. V8's termination and QuickJS's interrupt are only checked
 * between operations, so a guest inside one long built-in (`Array.prototype.join` of 1e8 elements,
 * `'x'.repeat(2 ** 27)`) runs on until it returns, and the engines' own last-resort bounds
 * (v8-sandbox.ts V8_CALL_GRACE_MS, worker-host.ts STUCK_GRACE_MS) act about a second later. Lambda
 * answers `Sandbox.Timedout` at the deadline (lambda-compat.md A3 "Timeout"); with this so does the
 * environment, which then disposes the sandbox while its thread may still be running (it never
 * serves again). `work`'s later outcome is absorbed, never an unhandled rejection.
 */
export function answerByDeadline<T>(work: Promise<T>, deadlineAt: number): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    const watch: Watched = {
      at: deadlineAt,
      fire: () => reject(new SandboxFault('timeout', 'The deadline passed while the guest was still running')),
      prev: undefined,
      next: undefined,
      watched: false,
    };
    deadlines.add(watch);
    work.then(
      (value) => {
        deadlines.delete(watch);
        resolve(value);
      },
      (error: unknown) => {
        deadlines.delete(watch);
        // eslint-disable-next-line @typescript-eslint/prefer-promise-reject-errors
        reject(error);
      },
    );
  });
}

function remaining(deadlineAt: number): number {
  return Math.max(0, deadlineAt - performance.now());
}

/** A phase in flight: its deadline (performance.now() ms), how to fail it, and its place in the watch's list. */
interface Watched {
  readonly at: number;
  readonly fire: () => void;
  prev: Watched | undefined;
  next: Watched | undefined;
  watched: boolean;
}

/**
 * Every phase in flight, watched by one unreferenced timer armed for the earliest deadline among
 * them. Not a timer per phase: a Node timer made and cleared on every warm invoke costs more than
 * the rest of the invoke's host work (see v8-sandbox.ts on its bounds' sweep). Phases of one
 * function start with deadlines later than the one armed, so the warm path only links and unlinks
 * a list entry (a list, not a Set: a Set emptied and refilled on every invoke reallocates its table
 * each time); the timer fires about once per timeout while invocations run, re-arming for the
 * earliest deadline still watched. (The phase's own call keeps the process alive meanwhile.)
 */
class DeadlineWatch {
  #head: Watched | undefined;
  #tail: Watched | undefined;
  #timer: NodeJS.Timeout | undefined;
  #timerAt = Number.POSITIVE_INFINITY;

  add(watched: Watched): void {
    // Appended: the sweep fails due phases in the order they were added.
    watched.watched = true;
    watched.prev = this.#tail;
    if (this.#tail) this.#tail.next = watched;
    else this.#head = watched;
    this.#tail = watched;
    if (watched.at < this.#timerAt) this.#arm(watched.at);
  }

  /** The timer stays armed: it fires at most once more, finds nothing due and re-arms only for what is left. Idempotent. */
  delete(watched: Watched): void {
    if (!watched.watched) return;
    watched.watched = false;
    if (watched.prev) watched.prev.next = watched.next;
    else this.#head = watched.next;
    if (watched.next) watched.next.prev = watched.prev;
    else this.#tail = watched.prev;
    watched.prev = undefined;
    watched.next = undefined;
  }

  #arm(at: number): void {
    clearTimeout(this.#timer);
    this.#timerAt = at;
    // +1: Node's timer clock has whole milliseconds and may fire just before `at` on performance's.
    this.#timer = setTimeout(() => this.#sweep(), Math.max(0, at - performance.now()) + 1).unref();
  }

  #sweep(): void {
    this.#timer = undefined;
    this.#timerAt = Number.POSITIVE_INFINITY;
    const now = performance.now();
    const due: Watched[] = [];
    let next = Number.POSITIVE_INFINITY;
    for (let watched = this.#head; watched !== undefined; watched = watched.next) {
      if (watched.at <= now) due.push(watched);
      else if (watched.at < next) next = watched.at;
    }
    for (const watched of due) {
      this.delete(watched);
      watched.fire();
    }
    if (next !== Number.POSITIVE_INFINITY) this.#arm(next);
  }
}

const deadlines = new DeadlineWatch();
