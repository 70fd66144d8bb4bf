/**
 * Where the asynchronous layer keeps its own settings (event invoke configs, recursion configs,
 * queues, event source mappings, schedules, callbacks' names are not kept): key → JSON value by
 * kind. In memory without `dataDir`; in the events file's `config` table with it
 * (sqlite-queue.ts's ConfigTable), written through synchronously like the registry.
 */
export interface ConfigStore {
  put(kind: string, key: string, value: unknown): void;
  delete(kind: string, key: string): void;
  /** Every [key, value] of a kind, in insertion order. */
  all(kind: string): [string, unknown][];
}

/** Nothing to keep: the values live in the owners' own maps. */
export const memoryConfigStore: ConfigStore = {
  put() {},
  delete() {},
  all: () => [],
};
