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
 * threads (at least one); more heavy calls wait their turn, first come first served. A call whose
 * invocation has reached its deadline (its `signal` aborted) while it waits never starts: no host
 * CPU is spent for an invocation past its deadline, beyond the one call already running (each
 * call's own work is bounded: crypto-limits.ts, host-bridge.ts BROTLI_MAX_INPUT_BYTES).
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

/** A first-come-first-served gate of `limit` slots (one per process for the thread pool). */
export class WorkGate {
  readonly #limit: number;
  #running = 0;
  readonly #waiting: (() => void)[] = [];

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
    return this.#waiting.length;
  }

  /**
   * Runs `work` once a slot is free; rejects with HeavyWorkAbortedError, without running it, if
   * `signal` aborts first.
   */
  async run<T>(work: () => Promise<T>, signal?: AbortSignal): Promise<T> {
    if (signal?.aborted) throw new HeavyWorkAbortedError();
    if (this.#running < this.#limit) this.#running++;
    else {
      // Woken with the slot of the work that finished (handed over: the count stays).
      await new Promise<void>((resolve, reject) => {
        const turn = (): void => {
          signal?.removeEventListener('abort', abandon);
          resolve();
        };
        const abandon = (): void => {
          this.#waiting.splice(this.#waiting.indexOf(turn), 1);
          reject(new HeavyWorkAbortedError());
        };
        this.#waiting.push(turn);
        signal?.addEventListener('abort', abandon, { once: true });
      });
    }
    try {
      return await work();
    } finally {
      const next = this.#waiting.shift();
      if (next) next();
      else this.#running--;
    }
  }
}

const threadPoolGate = new WorkGate(HEAVY_WORK_MAX_IN_FLIGHT);

/** Runs heavy guest work in the process's share of libuv's pool (see the module comment). */
export function runHeavy<T>(work: () => Promise<T>, signal?: AbortSignal): Promise<T> {
  return threadPoolGate.run(work, signal);
}
