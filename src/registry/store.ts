/**
 * The durable registry's seam: what the control plane writes through and what a runtime reads
 * back when it opens. One implementation here, `SqliteRegistryStore` (sqlite-store.ts, node:sqlite
 * under `createRuntime({ dataDir })`); a Redis-backed store (cluster, #20) implements the same
 * interface. Without a store the registry lives in memory.
 *
 * Contract (every implementation; test/registry/store.test.ts holds it for the SQLite store):
 * - `load()` returns everything written before, in creation order (functions by creation, versions
 *   `$LATEST` first then by number, aliases by creation, layers by name then version), code bytes
 *   identical to what was written. It may be asynchronous; it is called once, before the runtime
 *   is handed out.
 * - Writes are synchronous calls made in the order the control plane changes things, each after
 *   the in-memory change was checked and before the call returns to the user. A store whose medium
 *   is synchronous (SQLite) makes each durable before returning; one whose medium is not (Redis)
 *   may queue them in order and persist them in the background, and must then implement `flush()`
 *   (resolves when every queued write is durable; rejects with the first that failed). `close()`
 *   awaits `flush()` before `close()`.
 * - A write never partially applies: a version's row and its code blob land together.
 * - Code is content-addressed (sha256 → bytes): one copy per distinct package, shared by versions
 *   and layers, dropped when nothing refers to it.
 * - Configs are JSON text (`configJson`): a function value reaches a store only as the name it has
 *   in createRuntime's `hooks` (`{ "lambdalet:hook": name }`), revived by `reviveHooks` on restore.
 * - `close()` releases whatever the store holds (SQLite's lock); idempotent.
 * - The asynchronous layer's settings (`putAsyncSetting`: event invoke configs, recursion configs,
 *   queue definitions, event source mappings, streams, schedules) are opaque JSON text under
 *   `(kind, key)`; `load()` returns them in the order each key was first written. A store shared
 *   by several runtimes (a cluster's) also implements `watchAsyncSettings`, calling the listener
 *   for every change another runtime made, so each runtime's async layer sees the same settings.
 *   Both are optional while a store does not keep them: the async layer then keeps its settings in
 *   memory for that runtime only.
 * - Optimistic concurrency (Lambda's RevisionId): `putVersion` and `putAlias` may carry a
 *   {@link WriteCondition} — the revisionId of the record they replace (null: there must be none)
 *   and, for a published version, the `$LATEST` it was copied from. The check and the write are one
 *   atomic step (a SQLite transaction, a Redis Lua script); an unmet condition writes nothing and is
 *   a {@link StoreConflictError}: thrown by the write itself (SQLite), or by `confirm(name)` for a
 *   store that writes behind (Redis). The caller then reloads the function (`loadFunction`) and
 *   answers PreconditionFailedException or tries again on the fresh state (registry/commit.ts).
 */
import type { CodeSource } from '../code/types.ts';
import { InvalidParameterValueException } from '../errors.ts';
import type { CodePackage } from './package.ts';
import type { ProvisionedConfig } from './records.ts';

export interface RegistryStore {
  /** Everything stored, to rebuild the registry. */
  load(): StoredRegistry | Promise<StoredRegistry>;
  /**
   * Records a version (`$LATEST` replaced in place) with its code, creating the function if needed;
   * `lastVersion` is the function's highest published number. With `condition`, only if it holds
   * (else StoreConflictError, see the contract).
   */
  putVersion(name: string, lastVersion: number, version: StoredVersionInput, condition?: WriteCondition): void;
  /** Forgets one published version (its provisioned config with it). */
  deleteVersion(name: string, version: string): void;
  /** Forgets a function: its versions, aliases and provisioned configs. */
  deleteFunction(name: string): void;
  /** Creates or replaces an alias; with `condition`, only if it holds (`latest` is ignored). */
  putAlias(name: string, alias: StoredAlias, condition?: WriteCondition): void;
  deleteAlias(name: string, alias: string): void;
  /** Sets or removes (undefined) the provisioned concurrency configured on a version or alias. */
  putProvisionedConfig(name: string, qualifier: string, config: ProvisionedConfig | undefined): void;
  /** Records a layer version with its zip. */
  putLayerVersion(layerName: string, version: number, pkg: CodePackage, info: Record<string, unknown>): void;
  /**
   * Marks a layer version deleted (DeleteLayerVersion): it stays stored with its zip, for the
   * functions that use it (Lambda keeps a copy for them), and `load()` returns it with
   * `info.deleted: true`; its number is never handed out again. A version not stored: nothing.
   */
  deleteLayerVersion(layerName: string, version: number): void;
  /**
   * Sets (`json`: the value as JSON text) or removes (`json` undefined) one of the asynchronous
   * layer's settings. `kind` is one of {@link ASYNC_SETTING_KINDS}; `key` is unique within it (a
   * queue's name, a mapping's UUID, `function:qualifier` for an event invoke config).
   */
  putAsyncSetting?(kind: AsyncSettingKind, key: string, json: string | undefined): void;
  /**
   * Sets (`json`) or removes (undefined) one of the HTTP layer's settings: a function URL config
   * (`function-url`, key `function:qualifier`), an HTTP API (`http-api`, key its id), or what the
   * Lambda API keeps about a function (http/function-extras.ts: `function-role` and `function-tags`,
   * key the function's name; `function-policy`, key `name` or `name:qualifier`), so a restarted
   * runtime serves them. Optional: without it they live in this runtime's memory only.
   */
  putHttpSetting?(kind: HttpSettingKind, key: string, json: string | undefined): void;
  /**
   * For a store several runtimes share: `listener` is called with every change to an async setting
   * made by another runtime (`json` undefined: removed), after it is durable. Called once, before
   * `load()`; a change may be reported again or arrive after `load()` already returned it.
   */
  watchAsyncSettings?(listener: (change: StoredAsyncSetting) => void): void;
  /** As {@link watchAsyncSettings}, for the HTTP layer's settings (`putHttpSetting`). */
  watchHttpSettings?(listener: (change: StoredHttpChange) => void): void;
  /** Resolves when every write made so far is durable (stores that write behind). */
  flush?(): Promise<void>;
  /**
   * Stores that write behind: resolves when the writes made so far are durable, and rejects with
   * StoreConflictError when a conditional write for function `name` among them was refused (each
   * refusal is reported once).
   */
  confirm?(name: string): Promise<void>;
  /** One function as stored now (undefined: not stored), to reload it after a conflict. */
  loadFunction?(name: string): StoredFunction | undefined | Promise<StoredFunction | undefined>;
  /** Releases the store (locks, connections). Idempotent. */
  close(): void | Promise<void>;
}

/** What a conditional write expects to find (Lambda's optimistic concurrency on RevisionId). */
export interface WriteCondition {
  /** The revisionId of the record this write replaces; `null`: there must be no such record yet. */
  readonly replaces: string | null;
  /** putVersion of a published version: `$LATEST` must still have this revisionId (the one copied). */
  readonly latest?: string;
}

/**
 * A conditional write found the stored record changed (another cluster member, or a stale view):
 * nothing was written. Internal: the registry turns it into Lambda's PreconditionFailedException
 * or retries (registry/commit.ts); it never reaches a user.
 */
export class StoreConflictError extends Error {
  override readonly name = 'StoreConflictError';
  /** The function whose write was refused. */
  readonly functionName: string;
  constructor(functionName: string, what: string) {
    super(`${what} of function ${functionName} changed in the store since this runtime read it; nothing was written`);
    this.functionName = functionName;
  }
}

/** What `load()` returns. */
export interface StoredRegistry {
  readonly functions: readonly StoredFunction[];
  readonly layers: readonly StoredLayerVersion[];
  /** The asynchronous layer's settings, in the order each was first written (absent: none kept). */
  readonly asyncSettings?: readonly StoredAsyncSetting[];
  /** The HTTP layer's settings, in the order each was first written (absent: none kept). */
  readonly httpSettings?: readonly StoredHttpSetting[];
}

/** The kinds of settings the HTTP layer keeps (src/http: url-config.ts, http-api-config.ts). */
export const HTTP_SETTING_KINDS = ['function-url', 'http-api', 'function-role', 'function-tags', 'function-policy'] as const;
export type HttpSettingKind = (typeof HTTP_SETTING_KINDS)[number];

/** One setting of the HTTP layer: JSON text under (kind, key). */
export interface StoredHttpSetting {
  readonly kind: HttpSettingKind;
  readonly key: string;
  readonly json: string;
}

/** A change to one of the HTTP layer's settings made by another runtime: `json` undefined, removed. */
export interface StoredHttpChange {
  readonly kind: HttpSettingKind;
  readonly key: string;
  readonly json: string | undefined;
}

/** The kinds of settings the asynchronous layer keeps (src/async: who owns each is events.ts's table). */
export const ASYNC_SETTING_KINDS = ['event-invoke-config', 'recursion', 'queue', 'esm', 'stream', 'schedule'] as const;
export type AsyncSettingKind = (typeof ASYNC_SETTING_KINDS)[number];

/** One setting of the asynchronous layer: JSON text under (kind, key); `json` undefined only in a change (removed). */
export interface StoredAsyncSetting {
  readonly kind: AsyncSettingKind;
  readonly key: string;
  readonly json: string | undefined;
}

/** A stored version, as the runtime rebuilds it. */
export interface StoredVersion {
  readonly version: string;
  /** The config fields as deploy accepts them, without `code`. */
  readonly config: Record<string, unknown>;
  readonly code: CodeSource;
  readonly revisionId: string;
  readonly lastModified: string;
}

export interface StoredAlias {
  readonly alias: string;
  readonly functionVersion: string;
  readonly description: string;
  readonly additionalVersion: string | undefined;
  readonly additionalWeight: number;
  readonly revisionId: string;
}

export interface StoredFunction {
  readonly name: string;
  readonly lastVersion: number;
  /** `$LATEST` first, then published versions in number order. */
  readonly versions: readonly StoredVersion[];
  readonly aliases: readonly StoredAlias[];
  /** Provisioned concurrency configs by qualifier (version number or alias name). */
  readonly provisioned: Readonly<Record<string, ProvisionedConfig>>;
}

export interface StoredLayerVersion {
  readonly layerName: string;
  readonly version: number;
  readonly bytes: Uint8Array;
  readonly info: Record<string, unknown>;
}

/** What putVersion records. */
export interface StoredVersionInput {
  readonly version: string;
  /** `configJson(config)`: the config without `code`, function values left out. */
  readonly configJson: string;
  readonly package: CodePackage;
  readonly revisionId: string;
  readonly lastModified: string;
}

/** How a hook is written in a stored config: `{ "lambdalet:hook": "<name>" }` in place of the function. */
export const HOOK_KEY = 'lambdalet:hook';

/**
 * A function's configuration as JSON, without its code. Every field must survive JSON: a function
 * value (an `egress.fetch`, a credentials provider) is kept as the name it has in `hooks`
 * (createRuntime's), and refused when it has none rather than silently dropped.
 * @throws InvalidParameterValueException naming the field.
 */
export function configJson(config: object, hooks?: Readonly<Record<string, unknown>>): string {
  const { code: _code, ...rest } = config as Record<string, unknown>;
  const names = new Map<unknown, string>();
  for (const [name, fn] of Object.entries(hooks ?? {})) if (!names.has(fn)) names.set(fn, name);
  return JSON.stringify(storable(rest, '', names));
}

function storable(value: unknown, path: string, names: ReadonlyMap<unknown, string>): unknown {
  if (typeof value === 'function') {
    const name = names.get(value);
    if (name !== undefined) return { [HOOK_KEY]: name };
    throw new InvalidParameterValueException(
      path,
      `\`${path}\` is a function and cannot be kept in the runtime's dataDir: give it a name in createRuntime({ hooks: { name: fn } }) (the same name on every runtime that opens this dataDir), or run without dataDir`,
    );
  }
  if (typeof value === 'symbol' || typeof value === 'bigint') {
    throw new InvalidParameterValueException(path, `\`${path}\` is a ${typeof value} and cannot be kept in the runtime's dataDir; remove it or run without dataDir`);
  }
  if (typeof value !== 'object' || value === null) return value;
  if (Array.isArray(value)) return value.map((item, i) => storable(item, `${path}.${i}`, names));
  const out: Record<string, unknown> = {};
  for (const [key, child] of Object.entries(value)) out[key] = storable(child, path === '' ? key : `${path}.${key}`, names);
  return out;
}

/**
 * The inverse of configJson's hook names: every `{ "lambdalet:hook": name }` in a stored config
 * becomes `hooks[name]`.
 * @throws InvalidParameterValueException naming `hooks.<name>` when the runtime has no such hook
 *   (`where` says which function and version needed it).
 */
export function reviveHooks(value: unknown, hooks: Readonly<Record<string, unknown>> | undefined, where: string, path = ''): unknown {
  if (typeof value !== 'object' || value === null) return value;
  if (Array.isArray(value)) return value.map((item, i) => reviveHooks(item, hooks, where, `${path}.${i}`));
  const record = value as Record<string, unknown>;
  const keys = Object.keys(record);
  if (keys.length === 1 && keys[0] === HOOK_KEY && typeof record[HOOK_KEY] === 'string') {
    const name = record[HOOK_KEY];
    const fn = hooks?.[name];
    if (typeof fn !== 'function') {
      throw new InvalidParameterValueException(
        `hooks.${name}`,
        `Expected \`hooks.${name}\` to be a function: ${where} was deployed with it as \`${path}\` and is restored from the dataDir; pass createRuntime({ hooks: { ${JSON.stringify(name)}: fn } })`,
      );
    }
    return fn;
  }
  const out: Record<string, unknown> = {};
  for (const [key, child] of Object.entries(record)) out[key] = reviveHooks(child, hooks, where, path === '' ? key : `${path}.${key}`);
  return out;
}
