/**
 * A stream's history: every record put, per stream in sequence order, kept for the stream's
 * retention period (Kinesis: 24 hours by default, up to 8760). A mapping created with
 * StartingPosition TRIM_HORIZON or AT_TIMESTAMP reads its backlog from here; records put later
 * reach every mapping at put time (stream-feed.ts). The log also owns the stream's sequence
 * counter, so sequence numbers only grow, across restarts with `dataDir`.
 *
 * Contract (both implementations):
 * - `append` takes the stream's next index `n` (0, 1, ...), builds the record and the queue events
 *   that fan it out with `build(n)`, and keeps the record and enqueues the events in one step: with
 *   node:sqlite one transaction in the events file, so a put is either in the history and every
 *   mapping's queue, or in neither.
 * - `read(stream, from)` returns the records whose arrival is at or after `from`, oldest first.
 * - `trim(stream, before)` forgets records that arrived before `before`; `drop` forgets a stream
 *   (its counter too); `seed` raises a stream's counter to at least `next` (sequence numbers an
 *   older layout kept in the stream's settings).
 */
import type { DatabaseSync } from 'node:sqlite';
import type { EventQueueBackend, NewEvent } from './queue.ts';
import type { SqliteEventQueue } from './sqlite-queue.ts';
import type { StoredRecord } from './streams.ts';

export interface Appended {
  readonly record: StoredRecord;
  readonly events: readonly NewEvent[];
}

export interface StreamLog {
  append(stream: string, build: (n: number) => Appended): Promise<StoredRecord>;
  read(stream: string, from: number): StoredRecord[];
  trim(stream: string, before: number): void;
  drop(stream: string): void;
  seed(stream: string, next: number): void;
}

/**
 * In memory, beside any backend: the events are enqueued in the same synchronous turn as the append.
 * With a backend several runtimes share, each runtime's counters start at its clock in
 * microseconds (`startAt`), so the runtimes' sequence numbers rarely meet and roughly follow time.
 */
export class MemoryStreamLog implements StreamLog {
  readonly #records = new Map<string, StoredRecord[]>();
  readonly #next = new Map<string, number>();
  readonly #backend: EventQueueBackend;
  readonly #startAt: () => number;

  constructor(backend: EventQueueBackend, startAt: () => number = () => 0) {
    this.#backend = backend;
    this.#startAt = startAt;
  }

  async append(stream: string, build: (n: number) => Appended): Promise<StoredRecord> {
    const n = this.#next.get(stream) ?? this.#startAt();
    const { record, events } = build(n);
    // The counter moves in this synchronous turn, so concurrent appends never share an index.
    const queued = events.length > 0 ? this.#backend.enqueue(events) : Promise.resolve();
    this.#next.set(stream, n + 1);
    let list = this.#records.get(stream);
    if (list === undefined) this.#records.set(stream, (list = []));
    list.push(record);
    await queued;
    return record;
  }

  read(stream: string, from: number): StoredRecord[] {
    return (this.#records.get(stream) ?? []).filter((r) => r.arrival >= from);
  }

  trim(stream: string, before: number): void {
    const list = this.#records.get(stream);
    if (list === undefined) return;
    let drop = 0;
    while (drop < list.length && list[drop]!.arrival < before) drop += 1;
    if (drop > 0) list.splice(0, drop);
  }

  drop(stream: string): void {
    this.#records.delete(stream);
    this.#next.delete(stream);
  }

  seed(stream: string, next: number): void {
    if ((this.#next.get(stream) ?? 0) < next) this.#next.set(stream, next);
  }
}

const TABLES = `
CREATE TABLE IF NOT EXISTS stream_records (stream TEXT NOT NULL, n INTEGER NOT NULL, arrival INTEGER NOT NULL, record TEXT NOT NULL, PRIMARY KEY (stream, n));
CREATE INDEX IF NOT EXISTS stream_records_arrival ON stream_records (stream, arrival);
CREATE TABLE IF NOT EXISTS stream_counters (stream TEXT PRIMARY KEY, next INTEGER NOT NULL);
`;

/** In the events file (`<dataDir>/events.sqlite`): the record and its fan-out in one transaction. */
export class SqliteStreamLog implements StreamLog {
  readonly #queue: SqliteEventQueue;

  constructor(queue: SqliteEventQueue) {
    this.#queue = queue;
    queue.transact((db) => {
      db.exec(TABLES);
      return { value: undefined, events: [] };
    });
  }

  async append(stream: string, build: (n: number) => Appended): Promise<StoredRecord> {
    return this.#queue.transact((db) => {
      const n = next(db, stream);
      const { record, events } = build(n);
      db.prepare('INSERT INTO stream_records (stream, n, arrival, record) VALUES (?, ?, ?, ?)').run(stream, n, record.arrival, JSON.stringify(record));
      db.prepare('INSERT INTO stream_counters (stream, next) VALUES (?, ?) ON CONFLICT (stream) DO UPDATE SET next = excluded.next').run(stream, n + 1);
      return { value: record, events };
    });
  }

  read(stream: string, from: number): StoredRecord[] {
    return this.#queue.transact((db) => {
      const rows = db.prepare('SELECT record FROM stream_records WHERE stream = ? AND arrival >= ? ORDER BY n').all(stream, from) as { record: string }[];
      return { value: rows.map((r) => JSON.parse(r.record) as StoredRecord), events: [] };
    });
  }

  trim(stream: string, before: number): void {
    this.#queue.transact((db) => {
      db.prepare('DELETE FROM stream_records WHERE stream = ? AND arrival < ?').run(stream, before);
      return { value: undefined, events: [] };
    });
  }

  drop(stream: string): void {
    this.#queue.transact((db) => {
      db.prepare('DELETE FROM stream_records WHERE stream = ?').run(stream);
      db.prepare('DELETE FROM stream_counters WHERE stream = ?').run(stream);
      return { value: undefined, events: [] };
    });
  }

  seed(stream: string, value: number): void {
    this.#queue.transact((db) => {
      if (next(db, stream) < value) db.prepare('INSERT OR REPLACE INTO stream_counters (stream, next) VALUES (?, ?)').run(stream, value);
      return { value: undefined, events: [] };
    });
  }
}

function next(db: DatabaseSync, stream: string): number {
  const row = db.prepare('SELECT next FROM stream_counters WHERE stream = ?').get(stream) as { next: number } | undefined;
  return row === undefined ? 0 : Number(row.next);
}
