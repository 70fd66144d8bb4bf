/**
 * What one environment's fetches hold in the host's memory (issue #15): the guest's `fetch` runs on
 * the host (host-bridge.ts), so every request body handed to the host and every response body is host
 * memory until the request is done or the guest takes the body. The ledger bounds, per environment:
 * - requests in flight: at most {@link FETCHES_IN_FLIGHT_MAX} (a new one past it is refused at start);
 * - bytes held: request bodies of requests in flight (from `fetch.start` until the host's fetch has
 *   settled: a stalled upload holds its body, and the HTTP client holds it until the request ends),
 *   bodies being received, and finished bodies the guest has not taken yet — at most the function's
 *   memory (`memoryMb` MiB) together. Unbounded, 64 stalled 8 MiB uploads under memoryMb 128 held
 *   1.2–1.6 GB of the host (red team); 16 unread 120 MiB responses held 1–2 GB.
 * - and, live, the runtime's `memoryBudgetMb`: before the bytes held grow into another MiB the ledger
 *   asks {@link FetchLedger.room} (set by the dispatcher, which may evict idle environments to make
 *   room), as a memory-backed /tmp does (vfs.ts `hostRoom`).
 *
 * A finished body the guest has not taken stays held (and counted) across invocations while the
 * environment lives: on Lambda, a request started in one phase (a prefetch at INIT) resumes and is
 * read in a later one ("Background processes or callbacks … that did not complete when the function
 * ended resume if Lambda reuses the execution environment", Lambda's execution environment docs).
 * Everything is released when the environment ends, or when the guest aborts the request.
 */

import { readFileSync } from 'node:fs';

const MIB = 1024 * 1024;

/**
 * Requests one environment may have in flight at once. Lambda's own ceiling is the process's 1,024
 * file descriptors (lambda-compat.md, [QUOTA]: a Node function past it gets EMFILE); lambdalet
 * refuses at a quarter of it, because here every socket is the host's own descriptor.
 */
export const FETCHES_IN_FLIGHT_MAX = 256;

/** This process's limit on open files (Linux: /proc/self/limits, the soft limit Node raised at start), or undefined. */
export function openFilesLimit(limits = '/proc/self/limits'): number | undefined {
  try {
    const match = /^Max open files\s+(\d+)/m.exec(readFileSync(limits, 'utf8'));
    return match ? Number(match[1]) : undefined;
  } catch {
    return undefined;
  }
}

/**
 * Requests every environment of the process may have in flight together: half the process's
 * open-file limit (4,096 assumed where it cannot be read), at least one environment's worth. Each is
 * a socket of the host's own, and per environment alone they multiplied with concurrency: with the
 * limit at 4,096, one tenant's 16 invocations at 256 fetches each to a server that never answers
 * took every descriptor, and a neighbour's disk-backed /tmp write and the host's own HTTP requests
 * failed with EMFILE (issue #15). Past it a fetch is refused at start as one past
 * FETCHES_IN_FLIGHT_MAX is; the other half of the descriptors stays the host's.
 */
export const PROCESS_FETCHES_IN_FLIGHT_MAX = Math.max(FETCHES_IN_FLIGHT_MAX, Math.floor((openFilesLimit() ?? 4096) / 2));

/**
 * Requests one owner (a function, or a function and tenant for PER_TENANT: heavy-work.ts's owner) may
 * have in flight across all its environments: a quarter of {@link PROCESS_FETCHES_IN_FLIGHT_MAX}, but
 * at least one environment's worth ({@link FETCHES_IN_FLIGHT_MAX}) up to half the process's bound
 * (at the open-file limit of 4,096: 512; of 1,024: 256 of 512) — see {@link ownerFetchesMax}.
 * Without it one owner could hold the whole process bound (at a limit of 1,024 open files, 2
 * environments of 256 requests to a server that never answers) and every other owner's fetch was
 * refused (red team, issue #15: a neighbour's 50 fetches, 50 refused); now it takes four owners
 * at their share to fill the process bound.
 */
export const OWNER_FETCHES_IN_FLIGHT_SHARE = 4;

/** Requests one owner may have in flight when the process may have `processMax` (see {@link OWNER_FETCHES_IN_FLIGHT_SHARE}). */
export function ownerFetchesMax(processMax: number): number {
  return Math.max(1, Math.min(Math.floor(processMax / 2), Math.max(FETCHES_IN_FLIGHT_MAX, Math.floor(processMax / OWNER_FETCHES_IN_FLIGHT_SHARE))));
}

/** Requests in flight in every ledger of the process. */
let processInFlight = 0;
/** Requests in flight per owner, in every ledger of the process (owners with none are not kept). */
const ownerInFlight = new Map<string, number>();

function countOwner(owner: string, delta: number): void {
  const after = (ownerInFlight.get(owner) ?? 0) + delta;
  if (after > 0) ownerInFlight.set(owner, after);
  else ownerInFlight.delete(owner);
}

/** Requests in flight for one owner across the process (for tests). */
export function ownerFetchesInFlight(owner: string): number {
  return ownerInFlight.get(owner) ?? 0;
}

/** Owners with requests in flight in the whole process (for tests). */
export function ownersWithFetchesInFlight(): number {
  return ownerInFlight.size;
}

/** Requests in flight in the whole process (for tests). */
export function processFetchesInFlight(): number {
  return processInFlight;
}

/** A fetch refused or failed by the ledger's bounds: the guest sees `TypeError: fetch failed` (start) or this RangeError (body). */
export class FetchBoundError extends RangeError {}

/**
 * Bytes a fetch would hold do not fit (the function's memory, or the runtime's memory budget). At
 * `fetch.start` the host answers it as V8 does when the request body's copy cannot be allocated
 * (host-bridge.ts); while a response body arrives, as undici's `fetch failed`.
 */
export class FetchMemoryError extends FetchBoundError {}

export class FetchLedger {
  /** Bytes all bodies may hold together (the function's memory). */
  readonly #maxHeldBytes: number;
  #heldBytes = 0;
  #inFlight = 0;
  /** This ledger's requests in flight per owner (the owner an environment's requests count under can change once: a PER_TENANT environment learns its tenant at invoke). */
  readonly #owners = new Map<string, number>();
  /** The environment ended: requests still winding down (aborted) change nothing any more. */
  #closed = false;
  /**
   * Asked before the bytes held grow into a MiB they have not reached, with what they would then be;
   * false refuses the growth (the runtime's memory budget has no room). Unset: only the function's memory bounds them.
   */
  room: ((heldBytes: number) => boolean) | undefined;

  /** PROCESS_FETCHES_IN_FLIGHT_MAX, or a lower bound for tests. */
  readonly #processMax: number;
  /** What one owner may have in flight across the process ({@link ownerFetchesMax}). */
  readonly #ownerMax: number;

  constructor(maxHeldBytes: number, processMax = PROCESS_FETCHES_IN_FLIGHT_MAX) {
    this.#maxHeldBytes = maxHeldBytes;
    this.#processMax = processMax;
    this.#ownerMax = ownerFetchesMax(processMax);
  }

  /** Bytes held now: request bodies in flight, response bodies being received and finished bodies not yet taken. */
  get heldBytes(): number {
    return this.#heldBytes;
  }

  get inFlight(): number {
    return this.#inFlight;
  }

  /**
   * A request of `owner` starts, with a body of `requestBytes` that stays held until {@link settle}
   * (with the same owner) is followed by {@link release} of them. Throws {@link FetchBoundError} when
   * the environment has ended, {@link FETCHES_IN_FLIGHT_MAX} are already in flight in it, the owner
   * has its share of the process's bound in flight or the process its bound, {@link FetchMemoryError}
   * when the body does not fit (nothing is counted then).
   */
  start(requestBytes = 0, owner = ''): void {
    if (this.#closed) throw new FetchBoundError('lambdalet: the execution environment has ended');
    if (this.#inFlight >= FETCHES_IN_FLIGHT_MAX) {
      throw new FetchBoundError(`lambdalet: at most ${FETCHES_IN_FLIGHT_MAX} fetch requests in flight per execution environment`);
    }
    if (processInFlight >= this.#processMax) {
      throw new FetchBoundError(`lambdalet: this host has ${processInFlight} fetch requests in flight, its most (half its open-file limit); retry later`);
    }
    if (ownerFetchesInFlight(owner) >= this.#ownerMax) {
      throw new FetchBoundError(
        `lambdalet: this function (or tenant) has ${this.#ownerMax} fetch requests in flight across its execution environments, its share of this host's; retry later`,
      );
    }
    if (requestBytes > 0) this.#hold(requestBytes, `a request body of ${requestBytes} bytes`);
    this.#inFlight++;
    processInFlight++;
    this.#owners.set(owner, (this.#owners.get(owner) ?? 0) + 1);
    countOwner(owner, 1);
  }

  /** A request of `owner` (as it started) stopped receiving (finished, failed or aborted); its bytes stay held until {@link release}. */
  settle(owner = ''): void {
    if (this.#closed) return;
    this.#inFlight--;
    processInFlight--;
    const mine = (this.#owners.get(owner) ?? 0) - 1;
    if (mine > 0) this.#owners.set(owner, mine);
    else this.#owners.delete(owner);
    countOwner(owner, -1);
  }

  /**
   * `bytes` more of a body arrived. Throws {@link FetchMemoryError} when all bodies together would pass
   * the function's memory or the runtime's budget has no room (nothing is counted then: the caller
   * drops the body and releases what it held).
   */
  receive(bytes: number): void {
    if (this.#closed) throw new FetchBoundError('lambdalet: the execution environment has ended');
    this.#hold(bytes, `${bytes} more bytes of a response body`);
  }

  /** Bytes no longer held (a request done, a body taken by the guest or dropped, or the environment ended). */
  release(bytes: number): void {
    if (!this.#closed) this.#heldBytes -= bytes;
  }

  /** The environment ended: nothing is held or in flight, and nothing starts any more. */
  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#heldBytes = 0;
    processInFlight -= this.#inFlight;
    this.#inFlight = 0;
    for (const [owner, count] of this.#owners) countOwner(owner, -count);
    this.#owners.clear();
  }

  #hold(bytes: number, what: string): void {
    const after = this.#heldBytes + bytes;
    if (after > this.#maxHeldBytes) {
      throw new FetchMemoryError(
        `request and response bodies held by this function's fetches would exceed the function's memory (${this.#maxHeldBytes} bytes) with ${what}: ` +
          `${this.#heldBytes} bytes are held by requests in flight and responses not yet read`,
      );
    }
    if (this.room !== undefined && Math.ceil(after / MIB) > Math.ceil(this.#heldBytes / MIB) && !this.room(after)) {
      throw new FetchMemoryError(
        `the runtime's memory budget (memoryBudgetMb) has no room for ${what}: this function's fetches would hold ${after} bytes of host memory`,
      );
    }
    // The budget may have evicted this very environment to make room (an idle one receiving a body).
    if (this.#closed) throw new FetchBoundError('lambdalet: the execution environment has ended');
    this.#heldBytes = after;
  }
}
