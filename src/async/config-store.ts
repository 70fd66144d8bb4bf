/**
 * Where the asynchronous layer keeps its own settings (event invoke configs, recursion configs,
 * queues, event source mappings, streams, schedules; callbacks' names are not kept): key → JSON
 * value by kind. `SettingsCache` holds them in memory for the owners to read and writes each
 * change through to the registry's store (registry/store.ts `putAsyncSetting`: node:sqlite with
 * `dataDir`, Redis in a cluster), so a restarted runtime and every member of a cluster see the
 * same settings. Without a store that keeps them, they live in this runtime's memory only.
 */
import { ASYNC_SETTING_KINDS, type AsyncSettingKind, type RegistryStore, type StoredAsyncSetting } from '../registry/store.ts';
import type { SqliteEventQueue } from './sqlite-queue.ts';

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
  /** Who reads each kind: told to read again when the kind changes under it (load, apply). */
  readonly #owners = new Map<AsyncSettingKind, { reload(): void }>();

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

  /** `owner.reload()` is called whenever `kinds` change under it (load, apply). */
  own(owner: { reload(): void }, ...kinds: AsyncSettingKind[]): void {
    for (const kind of kinds) this.#owners.set(kind, owner);
  }

  /** Replaces everything with what a store returned (`load()`'s asyncSettings, in their order); every owner reads again. */
  load(settings: readonly StoredAsyncSetting[]): void {
    this.#kinds.clear();
    for (const setting of settings) this.#set(setting);
    for (const owner of new Set(this.#owners.values())) owner.reload();
  }

  /** A change another runtime made: set, or removed when `json` is undefined; its owner reads again. Unknown kinds are ignored. */
  apply(change: StoredAsyncSetting): void {
    if (!(ASYNC_SETTING_KINDS as readonly string[]).includes(change.kind)) return;
    this.#set(change);
    this.#owners.get(change.kind)?.reload();
  }

  #set(change: StoredAsyncSetting): void {
    if (change.json === undefined) this.#of(change.kind).delete(change.key);
    else this.#of(change.kind).set(change.key, JSON.parse(change.json) as unknown);
  }

  #of(kind: AsyncSettingKind): Map<string, unknown> {
    let map = this.#kinds.get(kind);
    if (map === undefined) this.#kinds.set(kind, (map = new Map<string, unknown>()));
    return map;
  }
}

/**
 * `stored` plus the settings an older lambdalet kept in the events file's `config` table, which
 * are written to the registry's store (unless it already has that key) and then removed there.
 */
export function withLegacySettings(stored: readonly StoredAsyncSetting[] | undefined, events: SqliteEventQueue, store: Required<Pick<RegistryStore, 'putAsyncSetting'>>): StoredAsyncSetting[] {
  const settings = [...(stored ?? [])];
  const legacy = events.legacySettings().filter((s): s is StoredAsyncSetting & { json: string } => (ASYNC_SETTING_KINDS as readonly string[]).includes(s.kind));
  const known = new Set(settings.map((s) => `${s.kind}\n${s.key}`));
  for (const setting of legacy) {
    if (known.has(`${setting.kind}\n${setting.key}`)) continue;
    store.putAsyncSetting(setting.kind, setting.key, setting.json);
    settings.push(setting);
  }
  if (legacy.length > 0) events.dropLegacySettings();
  return settings;
}
