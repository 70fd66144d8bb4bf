/**
 * Drives one phase (INIT or an invocation) of a sandbox to its outcome: the host side of the
 * guest's event loop. The guest owns its timers; the host owns the clock and the deadline.
 *
 *   call(first message) → the guest runs user code, then its microtasks drain
 *   peek(status)        → read the outcome those microtasks produced (no user code runs)
 *   no outcome, timers pending → sleep until the next one is due, then call(tick)
 *   no outcome, nothing pending → call(drain): Node's beforeExit (null, NodeJsExit, callback result)
 *
 * The deadline is enforced here for asynchronous waits, and by the engine (`timeoutMs`) for
 * synchronous runs; on either, the caller disposes the sandbox.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { SandboxFault, type Sandbox } from '../engines/engine.ts';
import type { GuestReply, HostMessage } from '../engines/guest/protocol.ts';

/**
 * `signal` aborts the phase from outside (the environment was disposed, e.g. by rt.close()'s
 * deadline): a wait for a guest timer ends at once instead of at the timer or the deadline.
 */
export async function runPhase(
  sandbox: Sandbox,
  first: HostMessage,
  deadlineAt: number,
  signal?: AbortSignal,
): Promise<GuestReply> {
  let reply = await sandbox.call(first, remaining(deadlineAt));
  for (;;) {
    if (reply.done) return reply;
    reply = sandbox.peek({ type: 'status' });
    if (reply.done) return reply;
    if (reply.nextTimerInMs < 0) {
      reply = await sandbox.call({ type: 'drain' }, remaining(deadlineAt));
      if (!reply.done && reply.nextTimerInMs < 0) {
        throw new SandboxFault('crashed', 'The guest runtime reported neither an outcome nor pending work after drain');
      }
      continue;
    }
    const wait = Math.min(reply.nextTimerInMs, remaining(deadlineAt));
    if (wait > 0) {
      try {
        await sleep(wait, undefined, { signal });
      } catch (error) {
        if (signal?.aborted) throw new SandboxFault('disposed', 'The environment was disposed while timers were pending');
        throw error;
      }
    }
    if (remaining(deadlineAt) <= 0) throw new SandboxFault('timeout', 'The deadline passed while timers were pending');
    reply = await sandbox.call({ type: 'tick' }, remaining(deadlineAt));
  }
}

function remaining(deadlineAt: number): number {
  return Math.max(0, deadlineAt - performance.now());
}
