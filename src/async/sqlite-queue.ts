/**
 * The durable event queue: the EventQueueBackend contract (queue.ts) in one node:sqlite file,
 * `<dataDir>/events.sqlite`, beside the registry's.
 *
 * - One owner: the file is opened in SQLite's EXCLUSIVE locking mode with the write lock taken at
 *   open (as registry/store.ts does), so a second runtime on the folder gets DataDirError `in-use`;
 *   the OS drops the lock when the owner dies. Because the owner is unique, opening releases every
 *   lease the previous owner held (it is dead): those events are due again at once.
 * - WAL journal, `synchronous = NORMAL`: a committed transaction survives the process being killed
 *   (kill -9); the last ones may be lost on power failure (SQLite's documented WAL trade-off).
 * - Every call is one transaction: a settle and its `then` events commit together or not at all.
 * - A file that is not ours (another program's tables, another schema) is refused, untouched.
 */
import { randomUUID } from 'node:crypto';
import type { DatabaseSync, StatementSync } from 'node:sqlite';
import { DataDirError, RuntimeClosedError } from '../errors.ts';
import type { DeadEvent, EventQueueBackend, LeasedEvent, NewEvent, QueueDue } from './queue.ts';
import { classifySqliteError, openDataDirFile } from '../registry/sqlite-file.ts';

export const EVENTS_FILE = 'events.sqlite';
const FORMAT = 'lambdalet-events';
const SCHEMA_VERSION = '1';

const SCHEMA = `
CREATE TABLE lambdalet_meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE events (
  seq INTEGER PRIMARY KEY AUTOINCREMENT, queue TEXT NOT NULL, id TEXT NOT NULL, body TEXT NOT NULL,
  enqueued_at INTEGER NOT NULL, available_at INTEGER NOT NULL, visible_at INTEGER NOT NULL,
  attempts INTEGER NOT NULL DEFAULT 0, token TEXT, UNIQUE (queue, id));
CREATE INDEX events_due ON events (queue, visible_at, seq);
CREATE TABLE dead (
  seq INTEGER PRIMARY KEY AUTOINCREMENT, queue TEXT NOT NULL, id TEXT NOT NULL, body TEXT NOT NULL,
  enqueued_at INTEGER NOT NULL, available_at INTEGER NOT NULL, attempts INTEGER NOT NULL, reason TEXT NOT NULL);
CREATE INDEX dead_queue ON dead (queue, seq);
-- Where lambdalet kept the async layer's settings before the registry's store did (emptied on open).
CREATE TABLE config (kind TEXT NOT NULL, key TEXT NOT NULL, value TEXT NOT NULL, PRIMARY KEY (kind, key));
`;

interface EventRow {
  seq: number;
  queue: string;
  id: string;
  body: string;
  enqueued_at: number;
  available_at: number;
  attempts: number;
}

export class SqliteEventQueue implements EventQueueBackend {
  readonly #db: DatabaseSync;
  readonly #insert: StatementSync;
  readonly #due: StatementSync;
  readonly #lease: StatementSync;
  readonly #delete: StatementSync;
  readonly #retry: StatementSync;
  readonly #bury: StatementSync;
  readonly #nextDue: StatementSync;
  /**
   * Every queue that may hold events: this backend is the file's only writer, so it knows them
   * all. listDue asks each for its earliest due time through the index (a GROUP BY over the whole
   * table cost a scan per pump pass).
   */
  readonly #queueNames = new Set<string>();
  #closed = false;

  /** @throws DataDirError (`in-use`, `corrupt`, `foreign`, `version`). */
  static open(dataDir: string): SqliteEventQueue {
    const { db, path } = openDataDirFile(dataDir, EVENTS_FILE);
    try {
      db.exec('PRAGMA locking_mode = EXCLUSIVE');
      try {
        // WAL first (it needs the lock), then the write lock, kept until close in EXCLUSIVE mode:
        // a second owner is refused at once, not at its first write.
        db.exec('PRAGMA journal_mode = WAL');
        db.exec('BEGIN EXCLUSIVE');
        db.exec('COMMIT');
      } catch (error) {
        throw classifySqliteError(error, path);
      }
      db.exec('PRAGMA synchronous = NORMAL');
      SqliteEventQueue.#checkSchema(db, path);
      return new SqliteEventQueue(db);
    } catch (error) {
      db.close();
      throw error;
    }
  }

  static #checkSchema(db: DatabaseSync, path: string): void {
    const tables = db.prepare("SELECT name FROM sqlite_master WHERE type = 'table'").all() as { name: string }[];
    if (tables.length === 0) {
      db.exec('BEGIN');
      db.exec(SCHEMA);
      db.prepare('INSERT INTO lambdalet_meta (key, value) VALUES (?, ?), (?, ?)').run('format', FORMAT, 'schema', SCHEMA_VERSION);
      db.exec('COMMIT');
      return;
    }
    if (!tables.some((t) => t.name === 'lambdalet_meta')) throw new DataDirError('foreign', `${path} is a SQLite database that lambdalet did not write`);
    const meta = new Map((db.prepare('SELECT key, value FROM lambdalet_meta').all() as { key: string; value: string }[]).map((r) => [r.key, r.value]));
    if (meta.get('format') !== FORMAT) throw new DataDirError('foreign', `${path} is not a lambdalet event queue`);
    if (meta.get('schema') !== SCHEMA_VERSION) {
      throw new DataDirError('version', `${path} has schema version ${meta.get('schema')}, this lambdalet reads ${SCHEMA_VERSION}`);
    }
    // Single owner: whoever leased events before is dead; they are due again now.
    db.exec('UPDATE events SET token = NULL, visible_at = available_at WHERE token IS NOT NULL');
  }

  private constructor(db: DatabaseSync) {
    this.#db = db;
    this.#insert = db.prepare(
      'INSERT OR IGNORE INTO events (queue, id, body, enqueued_at, available_at, visible_at) VALUES (?, ?, ?, ?, ?, ?)',
    );
    this.#due = db.prepare('SELECT seq, queue, id, body, enqueued_at, available_at, attempts FROM events WHERE queue = ? AND visible_at <= ? ORDER BY visible_at, seq LIMIT ?');
    this.#lease = db.prepare('UPDATE events SET attempts = attempts + 1, token = ?, visible_at = ? WHERE seq = ?');
    this.#delete = db.prepare('DELETE FROM events WHERE queue = ? AND id = ? AND token = ?');
    this.#retry = db.prepare('UPDATE events SET token = NULL, visible_at = ?, available_at = ?, attempts = ?, body = COALESCE(?, body) WHERE queue = ? AND id = ? AND token = ?');
    this.#nextDue = db.prepare('SELECT MIN(visible_at) AS next_at FROM events WHERE queue = ?');
    for (const row of db.prepare('SELECT DISTINCT queue FROM events').all() as { queue: string }[]) this.#queueNames.add(row.queue);
    this.#bury = db.prepare(
      'INSERT INTO dead (queue, id, body, enqueued_at, available_at, attempts, reason) SELECT queue, id, body, enqueued_at, available_at, attempts, ? FROM events WHERE queue = ? AND id = ? AND token = ?',
    );
  }

  /**
   * Takes the async layer's settings an older lambdalet kept in this file's `config` table (they
   * now live in the registry's store): returns them in their order and empties the table. The
   * caller writes them to the registry's store first (they are only lost if it dies in between,
   * and then they are still here for the next open). `[]` once moved.
   */
  legacySettings(): { kind: string; key: string; json: string }[] {
    this.#check();
    const rows = this.#db.prepare('SELECT kind, key, value FROM config ORDER BY rowid').all() as { kind: string; key: string; value: string }[];
    return rows.map((r) => ({ kind: r.kind, key: r.key, json: r.value }));
  }

  /** Empties the legacy `config` table once its settings are in the registry's store. */
  dropLegacySettings(): void {
    this.#check();
    this.#db.exec('DELETE FROM config');
  }

  async enqueue(events: readonly NewEvent[]): Promise<void> {
    this.#transaction(() => this.#enqueue(events));
  }

  async claim(queue: string, now: number, limit: number, leaseMs: number): Promise<LeasedEvent[]> {
    return this.#transaction(() => {
      const rows = this.#due.all(queue, now, limit) as unknown as EventRow[];
      return rows.map((row) => {
        const token = randomUUID();
        this.#lease.run(token, now + leaseMs, row.seq);
        return {
          queue: row.queue, id: row.id, body: row.body, enqueuedAt: row.enqueued_at, availableAt: row.available_at,
          attempts: row.attempts + 1, token, leaseUntil: now + leaseMs,
        };
      });
    });
  }

  async ack(lease: LeasedEvent, then?: readonly NewEvent[]): Promise<boolean> {
    return this.#settle(then, () => this.#delete.run(lease.queue, lease.id, lease.token).changes === 1);
  }

  async retry(lease: LeasedEvent, at: number, attempts: number, then?: readonly NewEvent[], body?: string): Promise<boolean> {
    return this.#settle(then, () => this.#retry.run(at, at, attempts, body ?? null, lease.queue, lease.id, lease.token).changes === 1);
  }

  async deadLetter(lease: LeasedEvent, reason: string, then?: readonly NewEvent[]): Promise<boolean> {
    return this.#settle(then, () => {
      if (this.#bury.run(reason, lease.queue, lease.id, lease.token).changes !== 1) return false;
      this.#delete.run(lease.queue, lease.id, lease.token);
      return true;
    });
  }

  async listDue(): Promise<QueueDue[]> {
    this.#check();
    const due: QueueDue[] = [];
    for (const queue of this.#queueNames) {
      const { next_at: nextAt } = this.#nextDue.get(queue) as { next_at: number | null };
      if (nextAt === null) this.#queueNames.delete(queue);
      else due.push({ queue, nextAt });
    }
    return due;
  }

  async listDead(queue: string, limit = 1000): Promise<DeadEvent[]> {
    this.#check();
    const rows = this.#db.prepare('SELECT * FROM dead WHERE queue = ? ORDER BY seq LIMIT ?').all(queue, limit) as unknown as (EventRow & { reason: string })[];
    return rows.map((r) => ({ queue: r.queue, id: r.id, body: r.body, enqueuedAt: r.enqueued_at, availableAt: r.available_at, attempts: r.attempts, reason: r.reason }));
  }

  async count(queue: string): Promise<number> {
    this.#check();
    return (this.#db.prepare('SELECT COUNT(*) AS n FROM events WHERE queue = ?').get(queue) as { n: number }).n;
  }

  /**
   * Runs `work` on this file's database and enqueues the events it returns, in one transaction
   * (the stream log's append and its fan-out, stream-log.ts). Synchronous.
   */
  transact<T>(work: (db: DatabaseSync) => { value: T; events: readonly NewEvent[] }): T {
    return this.#transaction(() => {
      const { value, events } = work(this.#db);
      this.#enqueue(events);
      return value;
    });
  }

  async purge(queue: string): Promise<number> {
    this.#check();
    return Number(this.#db.prepare('DELETE FROM events WHERE queue = ?').run(queue).changes);
  }

  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    this.#db.close();
  }

  #enqueue(events: readonly NewEvent[]): void {
    for (const e of events) {
      this.#insert.run(e.queue, e.id, e.body, e.enqueuedAt, e.availableAt, e.availableAt);
      this.#queueNames.add(e.queue);
    }
  }

  #settle(then: readonly NewEvent[] | undefined, change: () => boolean): boolean {
    return this.#transaction(() => {
      if (!change()) return false;
      if (then !== undefined) this.#enqueue(then);
      return true;
    });
  }

  #transaction<T>(body: () => T): T {
    this.#check();
    this.#db.exec('BEGIN');
    try {
      const result = body();
      this.#db.exec('COMMIT');
      return result;
    } catch (error) {
      this.#db.exec('ROLLBACK');
      throw error;
    }
  }

  #check(): void {
    if (this.#closed) throw new RuntimeClosedError('The event queue is closed');
  }
}
