/**
 * The function registry: every function by name (its `$LATEST`, published versions and aliases),
 * and the lock that serialises changes to one function.
 *
 * Contract (what the invoke path and the facade rely on):
 * - `get(name)` is a synchronous Map lookup (the warm invoke path calls it on every invoke); it
 *   returns the current entry or undefined, never an entry being built.
 * - Version records are immutable; `$LATEST` is replaced whole. A reader sees the old record or
 *   the new one, never a mix.
 * - `serialise(name, work)` runs changes to one function one after another, in call order; a
 *   failed change does not stop the next one. Changes to different functions run concurrently.
 *   `changing(name)` says whether one is running or queued (Lambda refuses a second update with
 *   ResourceConflictException while one is in progress).
 * - `settled()` resolves when no change is running (close() waits for it).
 */
import type { FunctionEntry } from './records.ts';

export class FunctionRegistry {
  readonly #functions = new Map<string, FunctionEntry>();
  readonly #changes = new Map<string, Promise<unknown>>();

  /** The function registered under `name`, or undefined. */
  get(name: string): FunctionEntry | undefined {
    return this.#functions.get(name);
  }

  /** Registers a new function. */
  add(entry: FunctionEntry): void {
    this.#functions.set(entry.name, entry);
  }

  /** Forgets a function. Disposing what it holds is the caller's job. */
  delete(name: string): void {
    this.#functions.delete(name);
  }

  /** Every function, in creation order. */
  values(): IterableIterator<FunctionEntry> {
    return this.#functions.values();
  }

  /** Forgets every function (close). Disposing what they hold is the caller's job. */
  clear(): void {
    this.#functions.clear();
  }

  /** Whether a change to `name` is running or queued. */
  changing(name: string): boolean {
    return this.#changes.has(name);
  }

  /** Runs `work` after every change to `name` already queued has settled. */
  async serialise<T>(name: string, work: () => Promise<T>): Promise<T> {
    const previous = this.#changes.get(name) ?? Promise.resolve();
    const change = previous.catch(() => {}).then(work);
    this.#changes.set(name, change);
    try {
      return await change;
    } finally {
      if (this.#changes.get(name) === change) this.#changes.delete(name);
    }
  }

  /** Resolves when every change running or queued now has settled (and any queued meanwhile). */
  async settled(): Promise<void> {
    while (this.#changes.size > 0) await Promise.allSettled([...this.#changes.values()]);
  }
}
