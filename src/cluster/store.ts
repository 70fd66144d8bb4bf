/**
 * The cluster's registry store: the registry's durable store (registry/store.ts's RegistryStore)
 * kept in Redis, shared by every member of a cluster.
 *
 * Layout under the prefix `lambdalet:{<cluster>}:` — `functions` (sorted set: names in creation
 * order), `fn:<name>` (hash: `lastVersion`, `v:<version>` → version JSON, `a:<alias>` → alias
 * JSON, `p:<qualifier>` → provisioned concurrency), `layers` (hash `<layer>\n<version>` → layer JSON), `blob:<sha256>` (code bytes, stored
 * once) and `refs:<sha256>` (who uses a blob). Changes are Lua scripts (scripts.ts).
 *
 * Contract:
 * - Writes are called synchronously by the registry, inside the change they record; they are
 *   queued and sent in call order, one after another. `flush()` resolves when every write queued
 *   so far is stored, and rejects with the first write that failed (a bug, not an outage: while
 *   Redis is away, writes wait in ioredis' offline queue and are sent when it is back).
 * - A conditional write (`WriteCondition`, Lambda's RevisionId) is checked inside its script; a
 *   refused one writes nothing and is reported by `confirm(name)` as StoreConflictError, once.
 * - The async layer's settings (`putAsyncSetting`) and the HTTP layer's (`putHttpSetting`: function
 *   URL configs, HTTP APIs) are one hash and one order (scripts.ts PUT_SETTING), told apart by
 *   kind; each change is announced with its value, and the member hands other members' changes to
 *   the listener of `watchAsyncSettings` or `watchHttpSettings` by kind (`settingChanged`). After a
 *   reconnection `resyncSettings()` compares Redis with what this store last knew and reports the
 *   differences, since Pub/Sub drops what is sent while a subscriber is away.
 * - A blob is uploaded only when Redis does not hold it yet (EXISTS first, then SET NX).
 * - Reads (`load`, `loadFunction`, `loadLayers`) return what Redis holds now; blobs read once are
 *   kept in a small in-memory cache (content-addressed, so never stale).
 */
import type { Redis } from 'ioredis';
import type { CodeSource } from '../code/types.ts';
import type { CodePackage } from '../registry/package.ts';
import type { ProvisionedConfig } from '../registry/records.ts';
import type {
  AsyncSettingKind,
  HttpSettingKind,
  RegistryStore,
  StoredAsyncSetting,
  StoredHttpChange,
  StoredHttpSetting,
  StoredAlias,
  StoredFunction,
  StoredLayerVersion,
  StoredRegistry,
  StoredVersion,
  StoredVersionInput,
  WriteCondition,
} from '../registry/store.ts';
import { HTTP_SETTING_KINDS, StoreConflictError } from '../registry/store.ts';
import { DELETE_ALIAS, DELETE_FUNCTION, DELETE_LAYER, DELETE_VERSION, PUT_ALIAS, PUT_LAYER, PUT_PROVISIONED, PUT_SETTING, PUT_VERSION } from './scripts.ts';

/** A setting of either layer (the async layer's or the HTTP layer's): kept in one hash. */
type SettingKind = AsyncSettingKind | HttpSettingKind;
interface StoredSetting {
  readonly kind: SettingKind;
  readonly key: string;
  readonly json: string | undefined;
}

interface VersionJson {
  config: Record<string, unknown>;
  codeKind: CodePackage['kind'];
  sha256: string;
  codeRef?: string;
  revisionId: string;
  lastModified: string;
}

interface AliasJson {
  functionVersion: string;
  description: string;
  additionalVersion?: string;
  additionalWeight: number;
  revisionId: string;
  seq: number;
}

const BLOB_CACHE_ENTRIES = 32;
/** A blob deleted between its upload and the script that refers to it is uploaded again, this many times. */
const NOBLOB_RETRIES = 3;

export class ClusterStore implements RegistryStore {
  readonly #redis: Redis;
  readonly #prefix: string;
  readonly #member: string;
  #queue: Promise<void> = Promise.resolve();
  #failure: Error | undefined;
  /** Conditional writes refused since the last `confirm(name)`, by function. */
  readonly #conflicts = new Map<string, StoreConflictError>();
  readonly #blobs = new Map<string, Uint8Array>();
  /** The settings as this member last knew them (`<kind>\n<key>` → JSON), to resync after an outage. */
  readonly #settings = new Map<string, StoredSetting>();
  #settingsListener: ((change: StoredAsyncSetting) => void) | undefined;
  #httpListener: ((change: StoredHttpChange) => void) | undefined;
  /** Counts setting changes (local writes and announcements); `#touched` holds each field's last. */
  #settingEpoch = 0;
  readonly #touched = new Map<string, number>();

  constructor(redis: Redis, prefix: string, member: string) {
    this.#redis = redis;
    this.#prefix = prefix;
    this.#member = member;
  }

  async load(): Promise<StoredRegistry> {
    const names = await this.#redis.zrange(`${this.#prefix}functions`, '0', '-1');
    const functions: StoredFunction[] = [];
    for (const name of names) {
      const stored = await this.loadFunction(name);
      if (stored) functions.push(stored);
    }
    const settings = await this.loadSettings();
    this.#settings.clear();
    for (const setting of settings) this.#settings.set(settingField(setting.kind, setting.key), setting);
    return {
      functions,
      layers: await this.loadLayers(),
      asyncSettings: settings.filter((s): s is StoredAsyncSetting => !isHttpKind(s.kind)),
      httpSettings: settings.filter((s): s is StoredHttpSetting => isHttpKind(s.kind)),
    };
  }

  /** The settings of both layers stored now, in first-write order. */
  async loadSettings(): Promise<(StoredAsyncSetting | StoredHttpSetting)[]> {
    const fields = await this.#redis.zrange(`${this.#prefix}settings-order`, '0', '-1');
    if (fields.length === 0) return [];
    const values = await this.#redis.hmget(`${this.#prefix}settings`, ...fields);
    const out: (StoredAsyncSetting | StoredHttpSetting)[] = [];
    fields.forEach((field, i) => {
      const json = values[i];
      if (json === null || json === undefined) return; // removed between the two reads
      const at = field.indexOf('\n');
      out.push({ kind: field.slice(0, at), key: field.slice(at + 1), json } as StoredAsyncSetting | StoredHttpSetting);
    });
    return out;
  }

  putAsyncSetting(kind: AsyncSettingKind, key: string, json: string | undefined): void {
    this.#putSetting(kind, key, json);
  }

  /** A function URL config or an HTTP API: the same hash as the async settings, under its own kinds. */
  putHttpSetting(kind: HttpSettingKind, key: string, json: string | undefined): void {
    this.#putSetting(kind, key, json);
  }

  #putSetting(kind: SettingKind, key: string, json: string | undefined): void {
    const field = settingField(kind, key);
    if (json === undefined) this.#settings.delete(field);
    else this.#settings.set(field, { kind, key, json });
    this.#touched.set(field, ++this.#settingEpoch);
    this.#enqueue(() => this.#script(PUT_SETTING, kind, key, json ?? '', this.#member));
  }

  watchAsyncSettings(listener: (change: StoredAsyncSetting) => void): void {
    this.#settingsListener = listener;
  }

  watchHttpSettings(listener: (change: StoredHttpChange) => void): void {
    this.#httpListener = listener;
  }

  /**
   * Another member changed a setting (its announcement; `json` '' or undefined: removed): handed
   * to the async or the HTTP layer's listener by kind.
   */
  settingChanged(kind: SettingKind, key: string, json: string | undefined): void {
    const value = json === '' ? undefined : json;
    const field = settingField(kind, key);
    this.#touched.set(field, ++this.#settingEpoch);
    if (value === undefined) this.#settings.delete(field);
    else this.#settings.set(field, { kind, key, json: value });
    if (isHttpKind(kind)) this.#httpListener?.({ kind, key, json: value });
    else this.#settingsListener?.({ kind, key, json: value });
  }

  /**
   * Reads every setting again and reports each one that differs from what this store knew (set,
   * changed or removed) to the listener: after a reconnection, announcements may have been lost.
   * A setting written here or announced after the read began is newer than the read: left alone.
   */
  async resyncSettings(): Promise<void> {
    const began = this.#settingEpoch;
    await this.flush().catch(() => {}); // this member's own writes first
    const stored = await this.loadSettings();
    const stale = (field: string): boolean => (this.#touched.get(field) ?? 0) <= began;
    const seen = new Set<string>();
    for (const setting of stored) {
      const field = settingField(setting.kind, setting.key);
      seen.add(field);
      if (stale(field) && this.#settings.get(field)?.json !== setting.json) this.settingChanged(setting.kind, setting.key, setting.json);
    }
    for (const [field, setting] of [...this.#settings]) if (!seen.has(field) && stale(field)) this.settingChanged(setting.kind, setting.key, undefined);
  }

  /** Names of every stored function, in creation order. */
  functionNames(): Promise<string[]> {
    return this.#redis.zrange(`${this.#prefix}functions`, '0', '-1');
  }

  /** One function as stored now, or undefined when it is not (deleted, or never made). */
  async loadFunction(name: string): Promise<StoredFunction | undefined> {
    for (let attempt = 0; ; attempt++) {
      const hash = await this.#redis.hgetall(`${this.#prefix}fn:${name}`);
      const versions: [string, VersionJson][] = [];
      const aliases: [string, AliasJson][] = [];
      const provisioned: Record<string, ProvisionedConfig> = {};
      for (const [field, value] of Object.entries(hash)) {
        if (field.startsWith('v:')) versions.push([field.slice(2), JSON.parse(value) as VersionJson]);
        else if (field.startsWith('a:')) aliases.push([field.slice(2), JSON.parse(value) as AliasJson]);
        else if (field.startsWith('p:')) provisioned[field.slice(2)] = provisionedConfigOf(value);
      }
      if (!versions.some(([version]) => version === '$LATEST')) return undefined;
      versions.sort(([a], [b]) => order(a) - order(b));
      const code: StoredVersion[] = [];
      let missing = false;
      for (const [version, json] of versions) {
        const source = await this.#codeOf(json);
        if (source === undefined) {
          missing = true;
          break;
        }
        code.push({ version, config: json.config, code: source, revisionId: json.revisionId, lastModified: json.lastModified });
      }
      // A blob is only missing when a change replaced or deleted its version after our read: read again.
      if (missing && attempt < NOBLOB_RETRIES) continue;
      if (missing) throw new Error(`cluster store: function ${name} refers to a code blob that is not in Redis`);
      aliases.sort(([, a], [, b]) => a.seq - b.seq);
      return {
        name,
        lastVersion: Number(hash.lastVersion ?? 0),
        versions: code,
        aliases: aliases.map(([alias, a]): StoredAlias => ({
          alias,
          functionVersion: a.functionVersion,
          description: a.description,
          additionalVersion: a.additionalVersion,
          additionalWeight: a.additionalWeight,
          revisionId: a.revisionId,
        })),
        provisioned,
      };
    }
  }

  async loadLayers(): Promise<StoredLayerVersion[]> {
    const hash = await this.#redis.hgetall(`${this.#prefix}layers`);
    const out: StoredLayerVersion[] = [];
    for (const [field, value] of Object.entries(hash)) {
      const at = field.lastIndexOf('\n');
      const json = JSON.parse(value) as { sha256: string; info: Record<string, unknown>; deleted?: boolean };
      const bytes = await this.#blob(json.sha256);
      if (bytes === undefined) continue; // a layer's zip stays while its row does (DELETE_LAYER keeps both)
      out.push({ layerName: field.slice(0, at), version: Number(field.slice(at + 1)), bytes, info: json.deleted === true ? { ...json.info, deleted: true } : json.info });
    }
    return out.sort((a, b) => (a.layerName === b.layerName ? a.version - b.version : a.layerName < b.layerName ? -1 : 1));
  }

  putVersion(name: string, lastVersion: number, version: StoredVersionInput, condition?: WriteCondition): void {
    const pkg = version.package;
    const json: VersionJson = {
      config: JSON.parse(version.configJson) as Record<string, unknown>,
      codeKind: pkg.kind,
      sha256: pkg.sha256,
      ...(pkg.kind === 'entry' && 'entry' in pkg.source ? { codeRef: pkg.source.entry } : {}),
      revisionId: version.revisionId,
      lastModified: version.lastModified,
    };
    const cond = conditionJson(condition);
    this.#enqueue(async () => {
      const answer = await this.#withBlob(pkg, () => [PUT_VERSION, name, version.version, JSON.stringify(json), pkg.sha256, String(lastVersion), this.#member, cond]);
      if (answer === 'CONFLICT') this.#conflicts.set(name, new StoreConflictError(name, `version ${version.version}`));
    });
  }

  deleteVersion(name: string, version: string): void {
    this.#enqueue(() => this.#script(DELETE_VERSION, name, version, this.#member));
  }

  deleteFunction(name: string): void {
    this.#enqueue(() => this.#script(DELETE_FUNCTION, name, this.#member));
  }

  putAlias(name: string, alias: StoredAlias, condition?: WriteCondition): void {
    const json = {
      functionVersion: alias.functionVersion,
      description: alias.description,
      ...(alias.additionalVersion === undefined ? {} : { additionalVersion: alias.additionalVersion }),
      additionalWeight: alias.additionalWeight,
      revisionId: alias.revisionId,
    };
    const cond = conditionJson(condition);
    this.#enqueue(async () => {
      const answer = await this.#script(PUT_ALIAS, name, alias.alias, JSON.stringify(json), this.#member, cond);
      if (answer === 'CONFLICT') this.#conflicts.set(name, new StoreConflictError(name, `alias ${alias.alias}`));
    });
  }

  deleteAlias(name: string, alias: string): void {
    this.#enqueue(() => this.#script(DELETE_ALIAS, name, alias, this.#member));
  }

  putProvisionedConfig(name: string, qualifier: string, config: ProvisionedConfig | undefined): void {
    this.#enqueue(() => this.#script(PUT_PROVISIONED, name, qualifier, config === undefined ? '' : JSON.stringify(config), this.#member));
  }

  putLayerVersion(layerName: string, version: number, pkg: CodePackage, info: Record<string, unknown>): void {
    const json = JSON.stringify({ sha256: pkg.sha256, info });
    this.#enqueue(() => this.#withBlob(pkg, () => [PUT_LAYER, layerName, String(version), pkg.sha256, json, this.#member]));
  }

  deleteLayerVersion(layerName: string, version: number): void {
    this.#enqueue(() => this.#script(DELETE_LAYER, layerName, String(version), this.#member));
  }

  /** Resolves when every write queued so far is in Redis. @throws the first write's failure. */
  async flush(): Promise<void> {
    await this.#queue;
    if (this.#failure) throw this.#failure;
  }

  /**
   * Resolves when every write queued so far is in Redis. @throws StoreConflictError when a
   * conditional write for `name` among them was refused (reported once), else as flush().
   */
  async confirm(name: string): Promise<void> {
    await this.#queue;
    const conflict = this.#conflicts.get(name);
    if (conflict) {
      this.#conflicts.delete(name);
      throw conflict;
    }
    if (this.#failure) throw this.#failure;
  }

  /** Waits for the queued writes; the connection itself is the member's to close. */
  async close(): Promise<void> {
    await this.#queue;
  }

  #enqueue(write: () => Promise<unknown>): void {
    this.#queue = this.#queue.then(write).then(
      () => {},
      (error: unknown) => {
        this.#failure ??= error instanceof Error ? error : new Error(String(error));
      },
    );
  }

  #script(script: string, ...args: string[]): Promise<unknown> {
    return this.#redis.eval(script, 0, this.#prefix, ...args);
  }

  /** Uploads the blob if Redis lacks it, then runs the script (its answer); again if the blob vanished in between. */
  async #withBlob(pkg: CodePackage, call: () => string[]): Promise<unknown> {
    const key = `${this.#prefix}blob:${pkg.sha256}`;
    for (let attempt = 0; attempt <= NOBLOB_RETRIES; attempt++) {
      if ((await this.#redis.exists(key)) === 0) await this.#redis.set(key, Buffer.from(pkg.bytes), 'NX');
      const [script, ...args] = call();
      const answer = await this.#script(script!, ...args);
      if (answer !== 'NOBLOB') return answer;
    }
    throw new Error(`cluster store: the code blob ${pkg.sha256} was deleted ${NOBLOB_RETRIES + 1} times while being stored`);
  }

  async #codeOf(json: VersionJson): Promise<CodeSource | undefined> {
    if (json.codeKind === 'entry') return { entry: json.codeRef ?? '' };
    const bytes = await this.#blob(json.sha256);
    if (bytes === undefined) return undefined;
    return json.codeKind === 'component' ? { component: bytes } : { zip: bytes };
  }

  async #blob(sha256: string): Promise<Uint8Array | undefined> {
    const cached = this.#blobs.get(sha256);
    if (cached) return cached;
    const bytes = await this.#redis.getBuffer(`${this.#prefix}blob:${sha256}`);
    if (bytes === null) return undefined;
    const copy = new Uint8Array(bytes);
    this.#blobs.set(sha256, copy);
    if (this.#blobs.size > BLOB_CACHE_ENTRIES) this.#blobs.delete(this.#blobs.keys().next().value!);
    return copy;
  }
}

function isHttpKind(kind: SettingKind): kind is HttpSettingKind {
  return (HTTP_SETTING_KINDS as readonly string[]).includes(kind);
}

function settingField(kind: string, key: string): string {
  return `${kind}\n${key}`;
}

/** The scripts' condition argument: '' for none; `replaces` '' for "must not exist" (cjson has no nil). */
function conditionJson(condition: WriteCondition | undefined): string {
  if (condition === undefined) return '';
  return JSON.stringify({ replaces: condition.replaces ?? '', ...(condition.latest === undefined ? {} : { latest: condition.latest }) });
}

function order(version: string): number {
  return version === '$LATEST' ? 0 : Number(version);
}

/** A `p:<qualifier>` field: `{ n, lastModified }` as JSON (a bare count, as first written, has no date). */
function provisionedConfigOf(value: string): ProvisionedConfig {
  const parsed = JSON.parse(value) as ProvisionedConfig | number;
  return typeof parsed === 'number' ? { n: parsed, lastModified: '' } : parsed;
}
