/**
 * A child process of process isolation: it runs one engine server in a worker thread
 * (worker-host.ts) and relays between it and the parent (process-host.ts) over IPC. The guest's
 * host calls reach the parent the same way; the worker stays blocked until the answer comes back.
 * Started with --no-node-snapshot (isolated-vm); ends when the parent goes away.
 */
import { useGuestRuntime, type GuestRuntime } from '../guest-bundle.ts';
import type { ServerEvent, ServerRequest } from './protocol.ts';
import { WorkerHost, type EngineHost, type WorkerHostOptions } from './worker-host.ts';

/** Parent → child: the first message, then requests for the server and host-call answers. */
export type ParentMessage =
  | { readonly t: 'init'; readonly guest: GuestRuntime; readonly options: WorkerHostOptions }
  | { readonly t: 'answer'; readonly text: string }
  | ServerRequest;

const send = (event: ServerEvent): void => {
  if (process.connected) process.send!(event);
};

// The parent is gone. SIGKILL, not exit(): after isolated-vm's catastrophic error a parked isolate
// thread keeps a normal exit from finishing.
process.on('disconnect', () => process.kill(process.pid, 'SIGKILL'));

let host: EngineHost | undefined;
const queued: ServerRequest[] = [];

process.on('message', (message: ParentMessage) => {
  if (message.t === 'answer') host?.answer(message.text);
  else if (message.t === 'init') void start(message.guest, message.options);
  else if (host) host.send(message);
  else queued.push(message);
});

async function start(guest: GuestRuntime, options: WorkerHostOptions): Promise<void> {
  useGuestRuntime(guest);
  try {
    host = await WorkerHost.start(options, {
      onEvent: send,
      // The server is gone (stuck, crashed): so is this process, and the parent replaces it.
      onExit: (reason) => {
        send({ t: 'unhealthy', reason });
        setTimeout(() => process.kill(process.pid, 'SIGKILL'), 100);
      },
    });
  } catch (error) {
    send({ t: 'unhealthy', reason: `the engine worker could not start: ${(error as Error).message}` });
    setTimeout(() => process.exit(70), 100);
    return;
  }
  for (const request of queued.splice(0)) host.send(request);
  send({ t: 'up' });
}
