/**
 * A message sent to an engine child that has just died must not crash the host (issue #15: a
 * tenant's dead child is that tenant's failure). Seen in test/adversarial/loops.test.ts as an
 * unhandled EPIPE from ProcessHost.send: `connected` was still true because the host's event loop
 * had not yet seen the channel close. Node's docs (child_process, subprocess.send): "If no
 * callback function is provided and the message cannot be sent, an 'error' event will be emitted
 * by the ChildProcess object" — which, with no listener, is an uncaught exception.
 */
import { readFileSync } from 'node:fs';
import { afterEach, describe, expect, it } from 'vitest';
import { ProcessHost } from '../../../src/engines/remote/process-host.ts';
import type { HostHandlers } from '../../../src/engines/remote/worker-host.ts';

const uncaught: unknown[] = [];
const onUncaught = (error: unknown): void => void uncaught.push(error);

afterEach(() => {
  process.off('uncaughtException', onUncaught);
});

describe('ProcessHost.send to a child that has just died', () => {
  it('sends while the closed channel is not yet seen: no uncaught error, and the exit still reaches the pool', async () => {
    const exits: string[] = [];
    const handlers: HostHandlers = { onEvent: () => {}, onExit: (reason) => void exits.push(reason) };
    const host = await ProcessHost.start({ worker: { quickjs: {}, precompileQuickJS: false }, maxServers: 1 }, handlers);
    process.on('uncaughtException', onUncaught);
    process.kill(host.pid, 'SIGKILL');
    // Hold the host's thread (no event-loop turn, so `connected` stays true) until the child is
    // gone (no such pid, or a zombie), bounded, then 200 ms more for its end of the channel to be
    // closed (a zombie alone was not enough here: with that wait, the old send made 400 uncaught
    // EPIPEs in this case; without it, none). On a machine too busy for that, the case passes
    // without reproducing: it can miss a regression, never fail a correct tree.
    const wait = new Int32Array(new SharedArrayBuffer(4));
    for (let i = 0; i < 2_000 && alive(host.pid); i++) Atomics.wait(wait, 0, 0, 5);
    Atomics.wait(wait, 0, 0, 200);
    // Enough messages that some are written after the peer closed: EPIPE for those.
    for (let i = 0; i < 200; i++) {
      host.send({ t: 'forget', bp: i });
      host.answer({ sb: 1, hc: i + 1 }, 'x'.repeat(1024));
    }
    for (let i = 0; i < 2_000 && exits.length === 0; i++) await new Promise((resolve) => setTimeout(resolve, 5));
    // A few more turns for any late write callbacks.
    for (let i = 0; i < 20; i++) await new Promise((resolve) => setImmediate(resolve));
    expect(uncaught).toEqual([]);
    expect(exits).toEqual(['signal: killed']);
  });
});

/** Whether the process exists and is not a zombie (Linux: /proc/<pid>/stat state Z). */
function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
  } catch {
    return false;
  }
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3) !== 'Z';
  } catch {
    return false;
  }
}
