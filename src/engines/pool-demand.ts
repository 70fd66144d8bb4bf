/**
 * How many SnapStart restores to keep ready ahead of need: a pool depth that follows demand. Both
 * engines keep restores ready per image (quickjs: blank instances with their memory backed,
 * quickjs/snapshot.ts; v8: isolates deserialised from the snapshot, v8/snapshot.ts). A fixed depth
 * of 2 made every burst larger than 2 pay unpooled restores on the request path: a v8 heap
 * deserialised as slowly as INIT built it (issue 21). Lambda's restores do not slow with a burst.
 * Used by the quickjs pool only: v8's keeps a fixed depth (its refills deserialise whole heaps on
 * the host's thread; deepened, they ran into the next burst and slowed it, v8/snapshot.ts).
 *
 * The depth is the largest number of restores taken within any {@link BURST_WINDOW_MS} over the
 * last {@link DEMAND_MEMORY_MS}, never under the engine's base depth, never over
 * {@link MAX_POOL_DEPTH}, and never more than {@link POOL_BYTES_BUDGET} of ready restores
 * (`bytesEach`, what one ready restore holds). After {@link DEMAND_MEMORY_MS} without a burst the
 * depth falls back to the base and the extra restores are released.
 */

/** Restores taken within this long of each other count as one burst. */
export const BURST_WINDOW_MS = 1000;
/** How long a burst is remembered (and the deeper pool kept). */
export const DEMAND_MEMORY_MS = 60_000;
/** The deepest a pool gets per image (per worker thread for quickjs), whatever the demand. */
export const MAX_POOL_DEPTH = 16;
/** Bytes of ready restores a pool may hold per image (per worker thread for quickjs): 256 MiB. */
export const POOL_BYTES_BUDGET = 256 * 1024 * 1024;
/** Remembered takes (a ring): more than the deepest pool can use. */
const MAX_REMEMBERED = 256;

export class PoolDemand {
  readonly #base: number;
  readonly #now: () => number;
  /** Times of recent takes, ascending. */
  readonly #takes: number[] = [];

  /** `base`: the engine's fixed depth (the floor); `now`: the clock in ms (injectable for tests). */
  constructor(base: number, now: () => number = () => performance.now()) {
    this.#base = base;
    this.#now = now;
  }

  /** A restore was taken (pooled or not). */
  noteTake(): void {
    this.#takes.push(this.#now());
    if (this.#takes.length > MAX_REMEMBERED) this.#takes.shift();
  }

  /** The depth to keep now for restores of `bytesEach` bytes each (see the module comment). */
  depth(bytesEach: number): number {
    const now = this.#now();
    while (this.#takes.length > 0 && now - this.#takes[0]! > DEMAND_MEMORY_MS) this.#takes.shift();
    let burst = 0;
    for (let start = 0, end = 0; end < this.#takes.length; end++) {
      while (this.#takes[end]! - this.#takes[start]! > BURST_WINDOW_MS) start++;
      burst = Math.max(burst, end - start + 1);
    }
    const byBudget = bytesEach > 0 ? Math.floor(POOL_BYTES_BUDGET / bytesEach) : MAX_POOL_DEPTH;
    // The base depth holds whatever the budget says (it was the fixed depth before).
    return Math.max(this.#base, Math.min(burst, MAX_POOL_DEPTH, byBudget));
  }
}
