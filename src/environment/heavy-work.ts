/**
 * Host-call work too heavy for the host's thread (issue #15, red team 1-host-thread-brotli):
 * Brotli at quality 11 on 8 MiB held the host's event loop 110 s, pbkdf2 at lambdalet's maximum
 * 4-12 s per call. Such calls are answered asynchronously when the engine can wait for an answer
 * without the host's thread (a guest in an engine server: its thread is blocked in the host-call
 * handshake, engines/remote/host-answer.ts; an in-process v8 guest: its isolate's thread is
 * blocked in Atomics.wait, engines/v8/deferred-host-calls.ts), and their work runs in libuv's thread pool through
 * Node's own asynchronous APIs (zlib.brotliCompress, crypto.pbkdf2, crypto.scrypt,
 * crypto.generateKeyPair): Node blocks only the calling thread, and so does lambdalet.
 *
 * libuv's pool is the process's (4 threads unless UV_THREADPOOL_SIZE says otherwise) and also
 * serves the host's own file system, DNS and zlib work, so guests get at most all but two of its
 * threads (at least one). More heavy calls wait their turn, and turns go round the owners with
 * waiting work (the function, or for a PER_TENANT function the function and tenant: owner names
 * are the environment's, environment.ts), not to the oldest call: a tenant at full concurrency
 * that queues hundreds of pbkdf2 calls delays another owner's call until one of its running calls
 * ends (more owners waiting: one turn each), where first come first served made it wait behind the whole queue
 * (issue #15 red team: a victim's occasional brotli calls timed out, quickjs 13/18 and v8 14/14
 * lost). Within one owner, calls keep their order. A call whose invocation has reached its
 * deadline (its `signal` aborted) while it waits never starts: no host CPU is spent for an
 * invocation past its deadline, beyond the one call already running (each call's own work is
 * bounded: crypto-limits.ts, host-bridge.ts BROTLI_MAX_INPUT_BYTES).
 */

/** Threads of libuv's pool heavy guest work may hold at once. */
export const HEAVY_WORK_MAX_IN_FLIGHT = Math.max(1, threadPoolSize() - 2);

function threadPoolSize(): number {
  const size = Number(process.env.UV_THREADPOOL_SIZE);
  return Number.isInteger(size) && size > 0 ? size : 4;
}

/** Thrown by {@link runHeavy} for a call whose invocation reached its deadline before it started. */
export class HeavyWorkAbortedError extends Error {
  constructor() {
    super("lambdalet: the host call did not start before the invocation's deadline");
    this.name = 'Error';
  }
}

/** An owner with calls running or waiting in a {@link WorkGate}. */
interface Owner {
  /** Its waiting calls, oldest first: each resolves the call's wait with a slot. */
  readonly waiting: (() => void)[];
  /** Its calls running or waiting (the record goes when none are left). */
  calls: number;
  /** When it last started a call (the gate's start count then; 0: not yet). */
  lastStart: number;
}

/**
 * A gate of `limit` slots (one per process for the thread pool) shared round robin between owners:
 * a freed slot goes to the waiting owner that started a call least recently (one that has not yet
 * started any first, then in arrival order), to its oldest waiting call. An owner keeps its place
 * while it has calls running, so a hog holding every slot with more queued yields the next free
 * slot to any other owner that is waiting.
 */
export class WorkGate {
  readonly #limit: number;
  #running = 0;
  #waiting = 0;
  #starts = 0;
  readonly #owners = new Map<string, Owner>();

  constructor(limit: number) {
    if (!(Number.isInteger(limit) && limit >= 1)) throw new RangeError(`limit must be a positive integer, got ${String(limit)}`);
    this.#limit = limit;
  }

  /** Work running now (for tests and reports). */
  get running(): number {
    return this.#running;
  }

  /** Work waiting for a slot now. */
  get waiting(): number {
    return this.#waiting;
  }

  /** Owners with work running or waiting now (the gate forgets the others). */
  get owners(): number {
    return this.#owners.size;
  }

  /**
   * Runs `work` for `owner` once a slot is free and it is the owner's turn; rejects with
   * HeavyWorkAbortedError, without running it, if `signal` aborts first.
   */
  async run<T>(ownerName: string, work: () => Promise<T>, signal?: AbortSignal): Promise<T> {
    if (signal?.aborted) throw new HeavyWorkAbortedError();
    let owner = this.#owners.get(ownerName);
    if (!owner) this.#owners.set(ownerName, (owner = { waiting: [], calls: 0, lastStart: 0 }));
    owner.calls++;
    if (this.#running < this.#limit) {
      this.#running++;
      owner.lastStart = ++this.#starts;
    } else {
      // Woken with the slot of the work that finished (handed over: the count stays).
      try {
        await new Promise<void>((resolve, reject) => {
          const turn = (): void => {
            signal?.removeEventListener('abort', abandon);
            resolve();
          };
          const abandon = (): void => {
            owner.waiting.splice(owner.waiting.indexOf(turn), 1);
            this.#waiting--;
            reject(new HeavyWorkAbortedError());
          };
          owner.waiting.push(turn);
          this.#waiting++;
          signal?.addEventListener('abort', abandon, { once: true });
        });
      } catch (error) {
        this.#release(ownerName, owner);
        throw error;
      }
    }
    try {
      return await work();
    } finally {
      this.#release(ownerName, owner);
      const next = this.#nextTurn();
      if (next) next();
      else this.#running--;
    }
  }

  #release(name: string, owner: Owner): void {
    if (--owner.calls === 0) this.#owners.delete(name);
  }

  /** The next owner's oldest waiting call, taken from its queue (see the class comment). */
  #nextTurn(): (() => void) | undefined {
    let next: Owner | undefined;
    for (const owner of this.#owners.values()) {
      if (owner.waiting.length > 0 && (next === undefined || owner.lastStart < next.lastStart)) next = owner;
    }
    if (!next) return undefined;
    this.#waiting--;
    next.lastStart = ++this.#starts;
    return next.waiting.shift();
  }
}

const threadPoolGate = new WorkGate(HEAVY_WORK_MAX_IN_FLIGHT);

/** Runs `owner`'s heavy guest work in the process's share of libuv's pool (see the module comment). */
export function runHeavy<T>(owner: string, work: () => Promise<T>, signal?: AbortSignal): Promise<T> {
  return threadPoolGate.run(owner, work, signal);
}
