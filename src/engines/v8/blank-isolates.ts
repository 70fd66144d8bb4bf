/**
 * Booted guest runtimes kept ready for v8 cold starts ("blanks"): an isolate, its context and the
 * guest runtime's top level already run — no user code, never used by any environment. A cold start
 * of a v8 function took ~2x a raw isolated-vm isolate + context + eval (issue 21), and what it paid
 * beyond the raw baseline was mostly the guest runtime (its code cache read, its top level); with a
 * blank ready it pays only the user's script, INIT and the first invoke. As quickjs keeps blank
 * instances and SnapStart keeps restores ready, but one blank per memory limit: made after a cold
 * start of that limit (demand, not configuration), disposed after {@link BLANK_IDLE_MS} unused.
 *
 * Contract: a blank is handed out at most once (`take` removes it); `refill` makes at most one per
 * limit and never throws (a blank that cannot be made is simply not there: the next cold start
 * boots from scratch, as before). Making a blank is synchronous work on the caller's thread (a new
 * isolate cannot be made elsewhere), so the engine refills only once the cold start that took one
 * has answered its first invoke (V8Sandbox.onFirstUse), never inside it.
 */

/** A blank unused this long is disposed (an idle process keeps no isolate it does not need). */
export const BLANK_IDLE_MS = 30_000;

export interface BlankSource<B> {
  /** A new blank for isolates of `memoryLimitMb` (synchronous); throws when it cannot be made. */
  make(memoryLimitMb: number): B;
  dispose(blank: B): void;
  /** False once the engine may not start isolates any more (a catastrophic error). */
  available(): boolean;
}

export class BlankIsolates<B> {
  readonly #source: BlankSource<B>;
  readonly #idleMs: number;
  readonly #ready = new Map<number, { readonly blank: B; readonly timer: NodeJS.Timeout }>();

  constructor(source: BlankSource<B>, idleMs = BLANK_IDLE_MS) {
    this.#source = source;
    this.#idleMs = idleMs;
  }

  /** The ready blank for `memoryLimitMb`, taken out of the pool; undefined when there is none. */
  take(memoryLimitMb: number): B | undefined {
    const entry = this.#ready.get(memoryLimitMb);
    if (entry === undefined) return undefined;
    this.#ready.delete(memoryLimitMb);
    clearTimeout(entry.timer);
    return entry.blank;
  }

  /** Whether a blank for `memoryLimitMb` is ready. */
  has(memoryLimitMb: number): boolean {
    return this.#ready.has(memoryLimitMb);
  }

  /** Makes a blank for `memoryLimitMb` unless one is ready or the engine is unavailable. */
  refill(memoryLimitMb: number): void {
    if (this.#ready.has(memoryLimitMb) || !this.#source.available()) return;
    let blank: B;
    try {
      blank = this.#source.make(memoryLimitMb);
    } catch {
      return; // the next cold start boots from scratch and reports what went wrong itself
    }
    const timer = setTimeout(() => {
      if (this.#ready.get(memoryLimitMb)?.blank !== blank) return;
      this.#ready.delete(memoryLimitMb);
      this.#source.dispose(blank);
    }, this.#idleMs).unref();
    this.#ready.set(memoryLimitMb, { blank, timer });
  }
}
