/**
 * The node:sqlite RegistryStore (store.ts): functions, versions, aliases, layers and code in one
 * file, `<dataDir>/registry.sqlite`, when `createRuntime({ dataDir })` is given.
 *
 * Beyond the RegistryStore contract:
 * - One runtime per folder. The file is opened in SQLite's EXCLUSIVE locking mode and the lock is
 *   taken at open and held until `close()`; a second runtime (in this process or another) is
 *   refused with DataDirError `in-use`. The OS drops the lock when a process dies, so a crash
 *   leaves no stale lock behind.
 * - Nothing is written to a file that is not ours: a file SQLite cannot read is DataDirError
 *   `corrupt`, a SQLite database with tables but no lambdalet meta table `foreign`, one of
 *   another schema version `version`; in each case the file is left as it was.
 * - Code is kept as content-addressed blobs (sha256 → bytes), shared by every version and layer
 *   that uses the same package, and removed when nothing refers to it any more.
 * - Every write is one synchronous statement or transaction: what a control-plane call returned
 *   is on disk when it returns.
 */
import type { DatabaseSync } from 'node:sqlite';
import type { CodeSource } from '../code/types.ts';
import { DataDirError } from '../errors.ts';
import type { CodePackage } from './package.ts';
import type { ProvisionedConfig } from './records.ts';
import { classifySqliteError, openDataDirFile } from './sqlite-file.ts';
import {
  ASYNC_SETTING_KINDS,
  HTTP_SETTING_KINDS,
  StoreConflictError,
  type AsyncSettingKind,
  type HttpSettingKind,
  type RegistryStore,
  type StoredAlias,
  type StoredAsyncSetting,
  type StoredFunction,
  type StoredHttpSetting,
  type StoredRegistry,
  type StoredVersionInput,
  type WriteCondition,
} from './store.ts';

const FORMAT = 'lambdalet-registry';
const SCHEMA_VERSION = '1';
export const REGISTRY_FILE = 'registry.sqlite';

const SCHEMA = `
CREATE TABLE lambdalet_meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE blobs (sha256 TEXT PRIMARY KEY, bytes BLOB NOT NULL);
CREATE TABLE functions (name TEXT PRIMARY KEY, seq INTEGER NOT NULL, last_version INTEGER NOT NULL);
CREATE TABLE versions (
  name TEXT NOT NULL, version TEXT NOT NULL, config TEXT NOT NULL,
  code_kind TEXT NOT NULL, code_sha256 TEXT NOT NULL, code_ref TEXT,
  revision_id TEXT NOT NULL, last_modified TEXT NOT NULL,
  PRIMARY KEY (name, version));
CREATE TABLE aliases (
  name TEXT NOT NULL, alias TEXT NOT NULL, seq INTEGER NOT NULL, function_version TEXT NOT NULL,
  description TEXT NOT NULL, additional_version TEXT, additional_weight REAL NOT NULL, revision_id TEXT NOT NULL,
  PRIMARY KEY (name, alias));
CREATE TABLE layers (
  layer_name TEXT NOT NULL, version INTEGER NOT NULL, code_sha256 TEXT NOT NULL, info TEXT NOT NULL,
  PRIMARY KEY (layer_name, version));
`;

/** Tables added after schema 1 shipped: created when missing, so older registries open unchanged. */
const ADDITIONS = `
CREATE TABLE IF NOT EXISTS provisioned (name TEXT NOT NULL, qualifier TEXT NOT NULL, n INTEGER NOT NULL, last_modified TEXT NOT NULL, PRIMARY KEY (name, qualifier));
CREATE TABLE IF NOT EXISTS async_settings (kind TEXT NOT NULL, key TEXT NOT NULL, seq INTEGER NOT NULL, value TEXT NOT NULL, PRIMARY KEY (kind, key));
`;

interface VersionRow {
  name: string;
  version: string;
  config: string;
  code_kind: string;
  code_sha256: string;
  code_ref: string | null;
  revision_id: string;
  last_modified: string;
}

export class SqliteRegistryStore implements RegistryStore {
  readonly #db: DatabaseSync;
  readonly path: string;
  #seq = 0;

  private constructor(db: DatabaseSync, path: string) {
    this.#db = db;
    this.path = path;
    const row = db.prepare('SELECT COALESCE(MAX(seq), 0) AS seq FROM functions').get() as { seq: number };
    this.#seq = Number(row.seq);
  }

  /** Opens (or creates) the registry in `dataDir`. @throws DataDirError (in-use, corrupt, foreign, version, unusable). */
  static open(dataDir: string): SqliteRegistryStore {
    const { db, path } = openDataDirFile(dataDir, REGISTRY_FILE);
    try {
      db.exec('PRAGMA locking_mode = EXCLUSIVE');
      try {
        // Takes the write lock now; in EXCLUSIVE mode SQLite keeps it after COMMIT, until close.
        db.exec('BEGIN EXCLUSIVE');
      } catch (error) {
        throw classifySqliteError(error, path);
      }
      let tables: string[];
      try {
        tables = (db.prepare("SELECT name FROM sqlite_master WHERE type = 'table'").all() as { name: string }[]).map((t) => t.name);
      } catch (error) {
        throw classifySqliteError(error, path);
      }
      if (tables.length === 0) {
        db.exec(SCHEMA);
        db.prepare('INSERT INTO lambdalet_meta (key, value) VALUES (?, ?), (?, ?)').run('format', FORMAT, 'schema', SCHEMA_VERSION);
      } else {
        checkOurs(db, tables, path);
      }
      db.exec(ADDITIONS);
      db.exec('COMMIT');
      return new SqliteRegistryStore(db, path);
    } catch (error) {
      if (db.isTransaction) db.exec('ROLLBACK');
      db.close();
      throw error;
    }
  }

  /** Everything stored, to rebuild the registry: functions in creation order. */
  load(): StoredRegistry {
    const db = this.#db;
    const names = db.prepare('SELECT name FROM functions ORDER BY seq').all() as { name: string }[];
    const out = names.map((fn) => this.loadFunction(fn.name)).filter((fn) => fn !== undefined);
    const layers = (db.prepare('SELECT layer_name, version, code_sha256, info FROM layers ORDER BY layer_name, version').all() as {
      layer_name: string;
      version: number;
      code_sha256: string;
      info: string;
    }[]).map((row) => ({ layerName: row.layer_name, version: Number(row.version), bytes: this.#blob(row.code_sha256), info: JSON.parse(row.info) as Record<string, unknown> }));
    // One table holds both layers' settings; each gets only its own kinds (a kind neither knows,
    // from a later lambdalet, is left alone).
    const rows = db.prepare('SELECT kind, key, value FROM async_settings ORDER BY seq').all() as { kind: string; key: string; value: string }[];
    const asyncSettings = rows
      .filter((row) => (ASYNC_SETTING_KINDS as readonly string[]).includes(row.kind))
      .map((row): StoredAsyncSetting => ({ kind: row.kind as AsyncSettingKind, key: row.key, json: row.value }));
    const httpSettings = rows
      .filter((row) => (HTTP_SETTING_KINDS as readonly string[]).includes(row.kind))
      .map((row): StoredHttpSetting => ({ kind: row.kind as HttpSettingKind, key: row.key, json: row.value }));
    return { functions: out, layers, asyncSettings, httpSettings };
  }

  /** One function as stored, or undefined. */
  loadFunction(name: string): StoredFunction | undefined {
    const db = this.#db;
    const fn = db.prepare('SELECT name, last_version FROM functions WHERE name = ?').get(name) as { name: string; last_version: number } | undefined;
    if (fn === undefined) return undefined;
    const rows = (db.prepare('SELECT * FROM versions WHERE name = ?').all(fn.name) as unknown as VersionRow[]).sort((a, b) => order(a.version) - order(b.version));
    const aliases = db.prepare('SELECT * FROM aliases WHERE name = ? ORDER BY seq').all(fn.name) as unknown as {
      alias: string;
      function_version: string;
      description: string;
      additional_version: string | null;
      additional_weight: number;
      revision_id: string;
    }[];
    const provisioned = db.prepare('SELECT qualifier, n, last_modified FROM provisioned WHERE name = ? ORDER BY qualifier').all(fn.name) as {
      qualifier: string;
      n: number;
      last_modified: string;
    }[];
    return {
      name: fn.name,
      lastVersion: Number(fn.last_version),
      versions: rows.map((row) => ({
        version: row.version,
        config: JSON.parse(row.config) as Record<string, unknown>,
        code: this.#codeOf(row),
        revisionId: row.revision_id,
        lastModified: row.last_modified,
      })),
      aliases: aliases.map((a) => ({
        alias: a.alias,
        functionVersion: a.function_version,
        description: a.description,
        additionalVersion: a.additional_version ?? undefined,
        additionalWeight: Number(a.additional_weight),
        revisionId: a.revision_id,
      })),
      provisioned: Object.fromEntries(provisioned.map((r) => [r.qualifier, { n: Number(r.n), lastModified: r.last_modified }])),
    };
  }

  /** Records a version (`$LATEST` replaced in place), creating the function row if needed. */
  putVersion(name: string, lastVersion: number, version: StoredVersionInput, condition?: WriteCondition): void {
    this.#transaction(() => {
      if (condition !== undefined) this.#check(name, version.version, condition);
      this.#putBlob(version.package);
      this.#db
        .prepare('INSERT INTO functions (name, seq, last_version) VALUES (?, ?, ?) ON CONFLICT (name) DO UPDATE SET last_version = excluded.last_version')
        .run(name, ++this.#seq, lastVersion);
      this.#db
        .prepare('INSERT OR REPLACE INTO versions (name, version, config, code_kind, code_sha256, code_ref, revision_id, last_modified) VALUES (?, ?, ?, ?, ?, ?, ?, ?)')
        .run(
          name,
          version.version,
          version.configJson,
          version.package.kind,
          version.package.sha256,
          version.package.kind === 'entry' && 'entry' in version.package.source ? version.package.source.entry : null,
          version.revisionId,
          version.lastModified,
        );
      this.#collect();
    });
  }

  deleteVersion(name: string, version: string): void {
    this.#transaction(() => {
      this.#db.prepare('DELETE FROM versions WHERE name = ? AND version = ?').run(name, version);
      this.#db.prepare('DELETE FROM provisioned WHERE name = ? AND qualifier = ?').run(name, version);
      this.#collect();
    });
  }

  deleteFunction(name: string): void {
    this.#transaction(() => {
      for (const table of ['functions', 'versions', 'aliases', 'provisioned']) this.#db.prepare(`DELETE FROM ${table} WHERE name = ?`).run(name);
      this.#collect();
    });
  }

  putAlias(name: string, alias: StoredAlias, condition?: WriteCondition): void {
    this.#transaction(() => {
      if (condition !== undefined) {
        const row = this.#db.prepare('SELECT revision_id FROM aliases WHERE name = ? AND alias = ?').get(name, alias.alias) as { revision_id: string } | undefined;
        if ((row?.revision_id ?? null) !== condition.replaces) throw new StoreConflictError(name, `alias ${alias.alias}`);
      }
      this.#db
      .prepare(
        `INSERT INTO aliases (name, alias, seq, function_version, description, additional_version, additional_weight, revision_id)
         VALUES (?, ?, (SELECT COALESCE(MAX(seq), 0) + 1 FROM aliases), ?, ?, ?, ?, ?)
         ON CONFLICT (name, alias) DO UPDATE SET function_version = excluded.function_version, description = excluded.description,
           additional_version = excluded.additional_version, additional_weight = excluded.additional_weight, revision_id = excluded.revision_id`,
      )
      .run(name, alias.alias, alias.functionVersion, alias.description, alias.additionalVersion ?? null, alias.additionalWeight, alias.revisionId);
    });
  }

  deleteAlias(name: string, alias: string): void {
    this.#transaction(() => {
      this.#db.prepare('DELETE FROM aliases WHERE name = ? AND alias = ?').run(name, alias);
      this.#db.prepare('DELETE FROM provisioned WHERE name = ? AND qualifier = ?').run(name, alias);
    });
  }

  putProvisionedConfig(name: string, qualifier: string, config: ProvisionedConfig | undefined): void {
    if (config === undefined) this.#db.prepare('DELETE FROM provisioned WHERE name = ? AND qualifier = ?').run(name, qualifier);
    else this.#db.prepare('INSERT OR REPLACE INTO provisioned (name, qualifier, n, last_modified) VALUES (?, ?, ?, ?)').run(name, qualifier, config.n, config.lastModified);
  }

  putLayerVersion(layerName: string, version: number, pkg: CodePackage, info: Record<string, unknown>): void {
    this.#transaction(() => {
      this.#putBlob(pkg);
      this.#db.prepare('INSERT INTO layers (layer_name, version, code_sha256, info) VALUES (?, ?, ?, ?)').run(layerName, version, pkg.sha256, JSON.stringify(info));
    });
  }

  deleteLayerVersion(layerName: string, version: number): void {
    this.#transaction(() => {
      const row = this.#db.prepare('SELECT info FROM layers WHERE layer_name = ? AND version = ?').get(layerName, version) as { info: string } | undefined;
      if (row === undefined) return;
      const info = { ...(JSON.parse(row.info) as Record<string, unknown>), deleted: true };
      this.#db.prepare('UPDATE layers SET info = ? WHERE layer_name = ? AND version = ?').run(JSON.stringify(info), layerName, version);
    });
  }

  /** An HTTP setting: the same table as the async settings, under its own kinds. */
  putHttpSetting(kind: HttpSettingKind, key: string, json: string | undefined): void {
    this.#putSetting(kind, key, json);
  }

  /** An async setting, upserted in place (its first-write order kept) or deleted. */
  putAsyncSetting(kind: AsyncSettingKind, key: string, json: string | undefined): void {
    this.#putSetting(kind, key, json);
  }

  #putSetting(kind: string, key: string, json: string | undefined): void {
    if (json === undefined) {
      this.#db.prepare('DELETE FROM async_settings WHERE kind = ? AND key = ?').run(kind, key);
      return;
    }
    this.#db
      .prepare(
        `INSERT INTO async_settings (kind, key, seq, value) VALUES (?, ?, (SELECT COALESCE(MAX(seq), 0) + 1 FROM async_settings), ?)
         ON CONFLICT (kind, key) DO UPDATE SET value = excluded.value`,
      )
      .run(kind, key, json);
  }

  /** Releases the lock; another runtime may open the folder afterwards. Idempotent. */
  close(): void {
    if (this.#db.isOpen) this.#db.close();
  }

  /** A conditional putVersion's check, inside its transaction. @throws StoreConflictError */
  #check(name: string, version: string, condition: WriteCondition): void {
    const revision = (v: string): string | null =>
      (this.#db.prepare('SELECT revision_id FROM versions WHERE name = ? AND version = ?').get(name, v) as { revision_id: string } | undefined)?.revision_id ?? null;
    if (revision(version) !== condition.replaces) throw new StoreConflictError(name, `version ${version}`);
    if (condition.latest !== undefined && revision('$LATEST') !== condition.latest) throw new StoreConflictError(name, '$LATEST');
    if (version !== '$LATEST') {
      // A published number is never reused, even after its version was deleted.
      const last = this.#db.prepare('SELECT last_version FROM functions WHERE name = ?').get(name) as { last_version: number } | undefined;
      if (Number(last?.last_version ?? 0) >= Number(version)) throw new StoreConflictError(name, `version ${version}`);
    }
  }

  #codeOf(row: VersionRow): CodeSource {
    if (row.code_kind === 'entry') return { entry: row.code_ref ?? '' };
    const bytes = this.#blob(row.code_sha256);
    return row.code_kind === 'component' ? { component: bytes } : { zip: bytes };
  }

  #blob(sha256: string): Uint8Array {
    const row = this.#db.prepare('SELECT bytes FROM blobs WHERE sha256 = ?').get(sha256) as { bytes: Uint8Array } | undefined;
    if (!row) throw new DataDirError('corrupt', `${this.path}: the code blob ${sha256} is missing`);
    return row.bytes;
  }

  #putBlob(pkg: CodePackage): void {
    this.#db.prepare('INSERT OR IGNORE INTO blobs (sha256, bytes) VALUES (?, ?)').run(pkg.sha256, pkg.bytes);
  }

  /** Removes blobs no version or layer refers to. */
  #collect(): void {
    this.#db.exec('DELETE FROM blobs WHERE sha256 NOT IN (SELECT code_sha256 FROM versions UNION SELECT code_sha256 FROM layers)');
  }

  #transaction(work: () => void): void {
    this.#db.exec('BEGIN');
    try {
      work();
      this.#db.exec('COMMIT');
    } catch (error) {
      this.#db.exec('ROLLBACK');
      throw error;
    }
  }
}

function order(version: string): number {
  return version === '$LATEST' ? 0 : Number(version);
}

function checkOurs(db: DatabaseSync, tables: string[], path: string): void {
  if (!tables.includes('lambdalet_meta')) {
    throw new DataDirError('foreign', `${path} is a SQLite database but not a lambdalet registry (no lambdalet_meta table); it was left unchanged`);
  }
  const meta = new Map((db.prepare('SELECT key, value FROM lambdalet_meta').all() as { key: string; value: string }[]).map((r) => [r.key, r.value]));
  if (meta.get('format') !== FORMAT) {
    throw new DataDirError('foreign', `${path} is not a lambdalet registry (format ${JSON.stringify(meta.get('format'))}); it was left unchanged`);
  }
  if (meta.get('schema') !== SCHEMA_VERSION) {
    throw new DataDirError('version', `${path} has registry schema ${JSON.stringify(meta.get('schema'))}; this lambdalet reads schema ${SCHEMA_VERSION}; it was left unchanged`);
  }
}

