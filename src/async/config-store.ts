/**
 * Where the asynchronous layer keeps its own settings (event invoke configs, recursion configs,
 * queues, event source mappings, streams, schedules; callbacks' names are not kept): key → JSON
 * value by kind. `SettingsCache` holds them in memory for the owners to read and writes each
 * change through to the registry's store (registry/store.ts `putAsyncSetting`: node:sqlite with
 * `dataDir`, Redis in a cluster), so a restarted runtime and every member of a cluster see the
 * same settings. Without a store that keeps them, they live in this runtime's memory only.
 */
import type { AsyncSettingKind, RegistryStore, StoredAsyncSetting } from '../registry/store.ts';

export interface ConfigStore {
  put(kind: AsyncSettingKind, key: string, value: unknown): void;
  delete(kind: AsyncSettingKind, key: string): void;
  /** Every [key, value] of a kind, in the order each key was first written. */
  all(kind: AsyncSettingKind): [string, unknown][];
}

/**
 * The settings in memory, written through to the registry's store when it keeps them. `load` and
 * `apply` fill it from the store (at restore; another runtime's change) without writing back.
 */
export class SettingsCache implements ConfigStore {
  readonly #kinds = new Map<AsyncSettingKind, Map<string, unknown>>();
  readonly #store: Pick<RegistryStore, 'putAsyncSetting'> | undefined;

  /** `store`: the registry's store; without `putAsyncSetting`, nothing is written anywhere. */
  constructor(store?: Pick<RegistryStore, 'putAsyncSetting'>) {
    this.#store = store?.putAsyncSetting === undefined ? undefined : store;
  }

  /** Whether changes reach a store (durable, or shared with a cluster). */
  get kept(): boolean {
    return this.#store !== undefined;
  }

  put(kind: AsyncSettingKind, key: string, value: unknown): void {
    const json = JSON.stringify(value);
    // The store first: a write it refuses leaves the cache as it was.
    this.#store?.putAsyncSetting!(kind, key, json);
    this.#of(kind).set(key, JSON.parse(json) as unknown);
  }

  delete(kind: AsyncSettingKind, key: string): void {
    this.#store?.putAsyncSetting!(kind, key, undefined);
    this.#of(kind).delete(key);
  }

  all(kind: AsyncSettingKind): [string, unknown][] {
    return [...this.#of(kind).entries()];
  }

  /** Replaces everything with what a store returned (`load()`'s asyncSettings, in their order). */
  load(settings: readonly StoredAsyncSetting[]): void {
    this.#kinds.clear();
    for (const setting of settings) this.apply(setting);
  }

  /** A change another runtime made (or one read back): set, or removed when `json` is undefined. */
  apply(change: StoredAsyncSetting): void {
    if (change.json === undefined) this.#of(change.kind).delete(change.key);
    else this.#of(change.kind).set(change.key, JSON.parse(change.json) as unknown);
  }

  #of(kind: AsyncSettingKind): Map<string, unknown> {
    let map = this.#kinds.get(kind);
    if (map === undefined) this.#kinds.set(kind, (map = new Map<string, unknown>()));
    return map;
  }
}
