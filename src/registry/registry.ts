/**
 * The function registry: every deployed function by name, and the lock that serialises changes to
 * one function.
 *
 * Contract (what the invoke path and the facade rely on):
 * - `get(name)` is a synchronous Map lookup (the warm invoke path calls it on every invoke); it
 *   returns the current record or undefined, never a record being built.
 * - A record is replaced whole (`set`): a reader sees the old record or the new one, never a mix.
 *   Records and the Deployments in them are immutable.
 * - `serialise(name, work)` runs changes to one function one after another, in call order; a
 *   failed change does not stop the next one. Changes to different functions run concurrently.
 * - `settled()` resolves when no change is running (close() waits for it).
 *
 * Versions, aliases, layers and persistence are added in this folder, each in its own file, behind
 * this same lookup.
 */
import type { DeployedFunction } from './deployment.ts';

export class FunctionRegistry {
  readonly #functions = new Map<string, DeployedFunction>();
  readonly #changes = new Map<string, Promise<unknown>>();

  /** The function deployed under `name`, or undefined. */
  get(name: string): DeployedFunction | undefined {
    return this.#functions.get(name);
  }

  /** Installs `record` as the function's current record, replacing any previous one. */
  set(record: DeployedFunction): void {
    this.#functions.set(record.config.name, record);
  }

  /** Every current record, in deploy order. */
  values(): IterableIterator<DeployedFunction> {
    return this.#functions.values();
  }

  /** Forgets every function (close). Disposing what they hold is the caller's job. */
  clear(): void {
    this.#functions.clear();
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
