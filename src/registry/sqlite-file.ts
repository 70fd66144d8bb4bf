/**
 * Opening a SQLite file in a runtime's `dataDir`, shared by the registry (registry.sqlite) and the
 * durable event queue (events.sqlite): the folder is created when missing, and SQLite's failures
 * become DataDirError with the file's path in the message.
 */
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import type { DatabaseSync } from 'node:sqlite';
import { DataDirError } from '../errors.ts';

/**
 * Creates `dataDir` when missing and opens `<dataDir>/<fileName>` (created when missing).
 * @throws DataDirError `unusable` when the folder cannot be created or the file cannot be opened.
 */
export function openDataDirFile(dataDir: string, fileName: string): { readonly db: DatabaseSync; readonly path: string } {
  try {
    mkdirSync(dataDir, { recursive: true });
  } catch (error) {
    throw new DataDirError('unusable', `dataDir ${dataDir} cannot be created: ${(error as Error).message}`, { cause: error });
  }
  const path = join(dataDir, fileName);
  try {
    // node:sqlite is taken when a dataDir is opened, not imported: a static import fails to link on a
    // Node without it (20), before the entry's Node version check can say why (node-version-guard.ts).
    const sqlite = process.getBuiltinModule('node:sqlite');
    return { db: new sqlite.DatabaseSync(path), path };
  } catch (error) {
    throw new DataDirError('unusable', `${path} cannot be opened: ${(error as Error).message}`, { cause: error });
  }
}

/**
 * A SQLite error met while taking the file's lock or reading its schema: `in-use` when another
 * connection holds the lock (SQLITE_BUSY 5, SQLITE_LOCKED 6), otherwise `corrupt`.
 */
export function classifySqliteError(error: unknown, path: string): DataDirError {
  const code = (error as { errcode?: number }).errcode;
  const message = (error as Error).message;
  if (code === 5 || code === 6) {
    return new DataDirError('in-use', `${path} is in use by another lambdalet runtime (one runtime per dataDir; close the other first)`, { cause: error });
  }
  return new DataDirError('corrupt', `${path} is not a readable SQLite database (${message}); it was left unchanged`, { cause: error });
}
