/**
 * What one environment's fetches hold in the host's memory (issue #15): the guest's `fetch` runs on
 * the host (host-bridge.ts), so every response body is host memory until the guest takes it. The
 * ledger bounds, per environment:
 * - requests in flight: at most {@link FETCHES_IN_FLIGHT_MAX} (a new one past it is refused at start);
 * - bytes held: bodies being received plus finished bodies the guest has not taken yet, at most the
 *   function's memory (`memoryMb` MiB) together — one body alone was already capped so, but not
 *   their sum: 16 unread 120 MiB bodies under memoryMb 128 held 1–2 GB of host memory.
 *
 * A finished body the guest has not taken stays held (and counted) across invocations while the
 * environment lives: on Lambda, a request started in one phase (a prefetch at INIT) resumes and is
 * read in a later one ("Background processes or callbacks … that did not complete when the function
 * ended resume if Lambda reuses the execution environment", Lambda's execution environment docs).
 * Everything is released when the environment ends, or when the guest aborts the request.
 */

/**
 * Requests one environment may have in flight at once. Lambda's own ceiling is the process's 1,024
 * file descriptors (lambda-compat.md, [QUOTA]: a Node function past it gets EMFILE); lambdalet
 * refuses at a quarter of it, because here every socket is the host's own descriptor.
 */
export const FETCHES_IN_FLIGHT_MAX = 256;

/** A fetch refused or failed by the ledger's bounds: the guest sees `TypeError: fetch failed` (start) or this RangeError (body). */
export class FetchBoundError extends RangeError {}

export class FetchLedger {
  /** Bytes all bodies may hold together (the function's memory). */
  readonly #maxHeldBytes: number;
  #heldBytes = 0;
  #inFlight = 0;
  /** The environment ended: requests still winding down (aborted) change nothing any more. */
  #closed = false;

  constructor(maxHeldBytes: number) {
    this.#maxHeldBytes = maxHeldBytes;
  }

  /** Bytes held now: bodies being received plus finished bodies not yet taken. */
  get heldBytes(): number {
    return this.#heldBytes;
  }

  get inFlight(): number {
    return this.#inFlight;
  }

  /** A request starts; throws {@link FetchBoundError} when {@link FETCHES_IN_FLIGHT_MAX} are already in flight. */
  start(): void {
    if (this.#closed) throw new FetchBoundError('lambdalet: the execution environment has ended');
    if (this.#inFlight >= FETCHES_IN_FLIGHT_MAX) {
      throw new FetchBoundError(`lambdalet: at most ${FETCHES_IN_FLIGHT_MAX} fetch requests in flight per execution environment`);
    }
    this.#inFlight++;
  }

  /** A request stopped receiving (finished, failed or aborted); its bytes stay held until {@link release}. */
  settle(): void {
    if (!this.#closed) this.#inFlight--;
  }

  /**
   * `bytes` more of a body arrived. Throws {@link FetchBoundError} when all bodies together would pass
   * the function's memory (nothing is counted then: the caller drops the body and releases what it held).
   */
  receive(bytes: number): void {
    if (this.#closed) throw new FetchBoundError('lambdalet: the execution environment has ended');
    if (this.#heldBytes + bytes > this.#maxHeldBytes) {
      throw new FetchBoundError(
        `response bodies held by this function's fetches would exceed the function's memory (${this.#maxHeldBytes} bytes): ` +
          `${this.#heldBytes} bytes are held by responses not yet read`,
      );
    }
    this.#heldBytes += bytes;
  }

  /** A body's bytes are no longer held (taken by the guest, dropped, or the environment ended). */
  release(bytes: number): void {
    if (!this.#closed) this.#heldBytes -= bytes;
  }

  /** The environment ended: nothing is held or in flight, and nothing starts any more. */
  close(): void {
    this.#closed = true;
    this.#heldBytes = 0;
    this.#inFlight = 0;
  }
}
