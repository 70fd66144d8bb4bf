/**
 * The handshake by which a guest's synchronous host call gets its answer across threads: the
 * engine server's thread (server.ts) blocks until the thread that owns the environment's
 * HostBridge has answered (worker-host.ts, for the host thread or a process-isolation child).
 *
 * The host posts the answer on a dedicated port, then stores the call's number in a shared slot
 * and notifies. The waiting thread never trusts a wake-up: `Atomics.wait` also returns for a
 * notify meant for an earlier call (the host's notify comes after its store, so the waiter may have
 * read the answer and moved on to its next call before it lands) or for a spurious wake. It reads
 * the port, and waits again while the port is empty. Every answer names its call (`sb`, `hc`): an
 * answer that is not the waiting call's is never handed back — it means the two threads disagree
 * about which call is answered, so every later answer could be another call's (issue #15: another
 * tenant's /tmp contents reached a guest that way), and the server must end.
 */
import { receiveMessageOnPort, type MessagePort } from 'node:worker_threads';
import type { BinaryAnswer } from '../binary-host-call.ts';
import type { HostAnswer, HostCallId } from './protocol.ts';

/** Signal slot of the last answered call's `hc` (ServerData.signal[0]). */
export const ANSWERED_SLOT = 0;

/** An answer arrived that is not the waiting call's: the server can no longer be trusted. */
export class HostCallMismatchError extends Error {
  readonly code = 'LAMBDALET_HOST_CALL_MISMATCH';

  constructor(waiting: HostCallId, received: unknown) {
    const what = isAnswer(received) ? `the answer to host call ${received.hc} of sandbox ${received.sb}` : 'a message that is not a host-call answer';
    super(`lambdalet: host call ${waiting.hc} of sandbox ${waiting.sb} received ${what}; the engine server is ended`);
    this.name = 'HostCallMismatchError';
  }
}

/** The host's side: answers `call` (the message first, then the flag, then the wake-up). A payload is copied, not transferred. */
export function postHostAnswer(signal: Int32Array, answers: MessagePort, call: HostCallId, answer: BinaryAnswer): void {
  answers.postMessage({ sb: call.sb, hc: call.hc, answer } satisfies HostAnswer);
  Atomics.store(signal, ANSWERED_SLOT, call.hc);
  Atomics.notify(signal, ANSWERED_SLOT);
}

/**
 * The waiting side: blocks the calling thread until an answer is on `answers`, and returns it (text,
 * or `[head, bytes]` for a binary call) if it is `call`'s. A wake-up with nothing on the port (late, repeated or spurious) only waits
 * again. Never times out: the host's watchdog ends a thread blocked past its call's deadline.
 *
 * @throws HostCallMismatchError when the answer received is another call's (or not an answer)
 */
export function receiveHostAnswer(signal: Int32Array, answers: MessagePort, call: HostCallId): BinaryAnswer {
  for (;;) {
    // Read the slot before the port: an answer posted after the read changes the slot before its
    // notify, so the wait below returns at once instead of missing it.
    const seen = Atomics.load(signal, ANSWERED_SLOT);
    const received = receiveMessageOnPort(answers);
    if (received) {
      const message: unknown = received.message;
      if (isAnswer(message) && message.sb === call.sb && message.hc === call.hc) return message.answer;
      throw new HostCallMismatchError(call, message);
    }
    Atomics.wait(signal, ANSWERED_SLOT, seen);
  }
}

/** The number after `hc` in a server's host-call numbering: 1 … 2^31 - 1, then 1 again (never 0, the slot's initial value). */
export function nextHostCall(hc: number): number {
  return hc >= 0x7fffffff ? 1 : hc + 1;
}

function isAnswer(value: unknown): value is HostAnswer {
  if (typeof value !== 'object' || value === null) return false;
  const { sb, hc, answer } = value as Partial<HostAnswer>;
  const shaped = typeof answer === 'string' || (Array.isArray(answer) && answer.length === 2 && typeof answer[0] === 'string' && answer[1] instanceof ArrayBuffer);
  return typeof sb === 'number' && typeof hc === 'number' && shaped;
}
