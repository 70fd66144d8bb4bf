/**
 * Whether this process may still start v8 isolates of its own (issue #15). isolated-vm reports a
 * catastrophic error (V8's own heap exhausted before isolated-vm's soft limit acted, a script that
 * failed to terminate) by parking the isolate's thread for ever: the process then holds a thread and
 * a heap it can never get back, and isolated-vm's own advice is to stop using the process. Its
 * threads are the process's, so one catastrophe anywhere in it — an isolate of the host's in-process
 * engine (v8-engine.ts) or of a SnapStart restore server in a worker thread (restore-servers.ts) —
 * degrades every runtime of the process alike:
 *
 * - no isolate is started in this process any more (no boot, no blank, no restore in the restore
 *   servers);
 * - in-process v8 functions go on in child processes, as under `isolation: 'process'`
 *   (v8-engine.ts `fallback`: boots and SnapStart restores go to process isolation's pool);
 * - the in-process sandboxes still alive are retired: each one's invocation in flight finishes, its
 *   environment ends when next idle and the function's next invocation cold-starts in a child;
 * - one warning, `LAMBDALET_V8_DEGRADED`, says so, and `rt.metrics().isolation` reports it.
 *
 * Set only on the host (an engine server's own catastrophe is its pool's business: the server is
 * replaced, engine-pool.ts), and never cleared: the parked thread stays until the process ends.
 */

/** Why in-process v8 degraded (the first catastrophe), once it has. */
let degradedBy: string | undefined;
/** Heard once, at the degradation (restore-servers.ts retires its sandboxes). */
const listeners: Array<(reason: string) => void> = [];

/** The catastrophe that degraded in-process v8 to process isolation, if one did. */
export function inProcessV8DegradedBy(): string | undefined {
  return degradedBy;
}

/**
 * Degrades in-process v8 to process isolation (see the module comment). The first call warns and
 * tells the listeners; later ones do nothing. Returns whether this call was the first.
 */
export function degradeInProcessV8(reason: string): boolean {
  if (degradedBy !== undefined) return false;
  degradedBy = reason;
  process.emitWarning(
    `isolated-vm catastrophic error: ${reason}. lambdalet's in-process v8 degraded to process isolation: ` +
      'v8 functions now run in child processes (their next invocations cold-start there); restart the process to run them in-process again.',
    { code: 'LAMBDALET_V8_DEGRADED' },
  );
  for (const listener of listeners.splice(0)) {
    try {
      listener(reason);
    } catch {
      // A listener's failure must not stop the others.
    }
  }
  return true;
}

/** `listener` hears the degradation once (at once, if it has happened). */
export function onInProcessV8Degraded(listener: (reason: string) => void): void {
  if (degradedBy !== undefined) listener(degradedBy);
  else listeners.push(listener);
}
