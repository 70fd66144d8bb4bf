/**
 * A child process of process isolation: it runs engine servers in worker threads (worker-host.ts;
 * one at first, more as QuickJS sandboxes arrive: child-servers.ts) and relays between them and
 * the parent (process-host.ts) over IPC. The guest's host calls reach the parent the same way; a
 * worker stays blocked until its answer comes back. Started with --no-node-snapshot (isolated-vm);
 * ends when the parent goes away.
 */
import { setPriority } from 'node:os';
import { useGuestRuntime, type GuestRuntime } from '../guest-bundle.ts';
import type { ServerEvent, ServerRequest } from './protocol.ts';
import { ChildServers } from './child-servers.ts';
import { WorkerHost, type WorkerHostOptions } from './worker-host.ts';

/** How the parent configures a child. */
export interface ChildOptions {
  /** The first server's options (later ones get QuickJS's module compiled once by the child). */
  readonly worker: WorkerHostOptions;
  /** Most engine servers (worker threads) the child runs, at least 1 (child-servers.ts). */
  readonly maxServers: number;
  /**
   * A background child's OS priority (nice, 1 to 19): set on its main thread before any engine
   * thread starts, so every thread it starts inherits it (engine-pool.ts, CPU-heavy functions).
   */
  readonly nice?: number;
}

/** Parent → child: the first message, then requests for the server and host-call answers. */
export type ParentMessage =
  | { readonly t: 'init'; readonly guest: GuestRuntime; readonly options: ChildOptions }
  /** The answer to the host call `hc` of sandbox `sb` (its `host` event's). */
  | { readonly t: 'answer'; readonly sb: number; readonly hc: number; readonly text: string }
  | ServerRequest;

const send = (event: ServerEvent): void => {
  if (process.connected) process.send!(event);
};

// The parent is gone. SIGKILL, not exit(): after isolated-vm's catastrophic error a parked isolate
// thread keeps a normal exit from finishing.
process.on('disconnect', () => process.kill(process.pid, 'SIGKILL'));

let servers: ChildServers | undefined;
const queued: ServerRequest[] = [];

process.on('message', (message: ParentMessage) => {
  if (message.t === 'answer') servers?.answer(message, message.text);
  else if (message.t === 'init') void start(message.guest, message.options);
  else if (servers) servers.handle(message);
  else queued.push(message);
});

async function start(guest: GuestRuntime, options: ChildOptions): Promise<void> {
  useGuestRuntime(guest);
  // Raising one's own nice value needs no privilege (lowering it back would).
  if (options.nice !== undefined) setPriority(options.nice);
  let started = 0;
  const all = new ChildServers({
    maxServers: options.maxServers,
    // The first server may host only v8 sandboxes: it compiles QuickJS's module itself if it needs it.
    start: (handlers) => WorkerHost.start(started++ === 0 ? options.worker : { ...options.worker, precompileQuickJS: true }, handlers),
    onEvent: send,
    // The child must end (a lost server's thread that does not end, the only server unable to
    // start: child-servers.ts; one server's end alone is reported `lost` and the child goes on):
    // so does this process, and the parent replaces it.
    onExit: (reason) => {
      send({ t: 'unhealthy', reason });
      all.kill();
      setTimeout(() => process.kill(process.pid, 'SIGKILL'), 100);
    },
  });
  try {
    await all.start();
    servers = all;
  } catch (error) {
    send({ t: 'unhealthy', reason: `the engine worker could not start: ${(error as Error).message}` });
    setTimeout(() => process.exit(70), 100);
    return;
  }
  for (const request of queued.splice(0)) all.handle(request);
  send({ t: 'up' });
}
