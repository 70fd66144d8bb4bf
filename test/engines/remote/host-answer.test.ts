/**
 * The host-call answer handshake (src/engines/remote/host-answer.ts), issue #15: an engine server's
 * thread blocked in a guest's synchronous host call must get that call's answer and no other.
 * Before, it waited once and trusted the wake-up: a notify meant for the previous call (the host
 * notifies after flagging, so the worker may already be waiting for its next call) woke it with the
 * port empty ("the host did not answer"), the real answer stayed queued, and from then on every
 * call got the previous call's answer — another tenant's /tmp contents included
 * (/work/breaker/4-quickjs-host-answer-shift).
 *
 * Here this test's thread is the waiting server and a scripted worker thread is the host: it wakes
 * the waiter without answering (a late or repeated notify, a spurious wake-up), answers late, or
 * answers the wrong call. No timing is asserted: the host's wake-ups count only when
 * `Atomics.notify` reports it really woke the waiter, so each case is the same on a busy machine.
 */
import { MessageChannel, Worker } from 'node:worker_threads';
import { afterEach, describe, expect, it } from 'vitest';
import { HostCallMismatchError, nextHostCall, postHostAnswer, receiveHostAnswer } from '../../../src/engines/remote/host-answer.ts';

/** What the scripted host does, in order. */
type Step =
  /** Notify until a waiter is really woken (the waiter must be blocked), leaving the slot as it is. */
  | { readonly do: 'wake' }
  /** Set the slot to `value` and wake the waiter (e.g. an earlier call's number, re-flagged). */
  | { readonly do: 'flag-and-wake'; readonly value: number }
  /** Answer as the real host does: post, flag, notify. */
  | { readonly do: 'answer'; readonly sb: number; readonly hc: number; readonly text: string };

/** The scripted host: plain JavaScript in a worker (steps in workerData), the real handshake's atomics. */
const HOST = `
const { workerData } = require('node:worker_threads');
const { signal: buffer, port, steps } = workerData;
const signal = new Int32Array(buffer);
const wake = () => { while (Atomics.notify(signal, 0, 1) === 0) Atomics.wait(signal, 1, 0, 1); };
for (const step of steps) {
  if (step.do === 'wake') wake();
  else if (step.do === 'flag-and-wake') { Atomics.store(signal, 0, step.value); wake(); }
  else { port.postMessage({ sb: step.sb, hc: step.hc, answer: step.text }); Atomics.store(signal, 0, step.hc); Atomics.notify(signal, 0); }
}
port.close();
`;

const workers: Worker[] = [];
afterEach(async () => {
  await Promise.all(workers.splice(0).map((worker) => worker.terminate()));
});

/** A signal and answers port, and a scripted host thread on the other end. */
function scriptedHost(steps: readonly Step[], initialSlot = 0): { signal: Int32Array; answers: MessageChannel['port1'] } {
  const buffer = new SharedArrayBuffer(8);
  const signal = new Int32Array(buffer);
  signal[0] = initialSlot;
  const { port1, port2 } = new MessageChannel();
  workers.push(new Worker(HOST, { eval: true, workerData: { signal: buffer, port: port2, steps }, transferList: [port2] }));
  return { signal, answers: port1 };
}

describe('host-call answers: the waiting call gets its own answer or none', () => {
  it('wake-ups with no answer on the port (late, repeated, spurious) only make the waiter wait again', () => {
    // Call 8 of sandbox 3 is waiting; the slot still holds call 7's number.
    const { signal, answers } = scriptedHost(
      [
        { do: 'wake' }, // the notify that followed call 7's answer, landing in call 8's wait
        { do: 'wake' }, // twice
        { do: 'flag-and-wake', value: 7 }, // call 7 flagged again
        { do: 'answer', sb: 3, hc: 8, text: 'call 8' },
      ],
      7,
    );
    expect(receiveHostAnswer(signal, answers, { sb: 3, hc: 8 })).toBe('call 8');
  });

  it('consecutive calls each get their own answer although every notify arrives late', () => {
    // The host answers call 1 and then, late, wakes the waiter again (it is then in call 2's wait).
    const { signal, answers } = scriptedHost([
      { do: 'answer', sb: 5, hc: 1, text: 'call 1' },
      { do: 'wake' },
      { do: 'answer', sb: 9, hc: 2, text: 'call 2' },
      { do: 'wake' },
      { do: 'wake' },
      { do: 'answer', sb: 5, hc: 3, text: 'call 3' },
    ]);
    expect(receiveHostAnswer(signal, answers, { sb: 5, hc: 1 })).toBe('call 1');
    expect(receiveHostAnswer(signal, answers, { sb: 9, hc: 2 })).toBe('call 2');
    expect(receiveHostAnswer(signal, answers, { sb: 5, hc: 3 })).toBe('call 3');
  });

  it("an answer to another call (another number, another sandbox, out of order) is refused, never returned", () => {
    const cases: { readonly waiting: { sb: number; hc: number }; readonly sent: { sb: number; hc: number }; readonly names: RegExp }[] = [
      { waiting: { sb: 3, hc: 8 }, sent: { sb: 3, hc: 7 }, names: /host call 8 of sandbox 3 received the answer to host call 7 of sandbox 3/ },
      { waiting: { sb: 3, hc: 8 }, sent: { sb: 4, hc: 8 }, names: /received the answer to host call 8 of sandbox 4/ },
      { waiting: { sb: 3, hc: 8 }, sent: { sb: 3, hc: 9 }, names: /received the answer to host call 9 of sandbox 3/ },
    ];
    for (const { waiting, sent, names } of cases) {
      const { signal, answers } = scriptedHost([{ do: 'wake' }, { do: 'answer', ...sent, text: 'SECRET-OF-another-tenant' }]);
      let returned: unknown;
      let thrown: unknown;
      try {
        returned = receiveHostAnswer(signal, answers, waiting);
      } catch (error) {
        thrown = error;
      }
      expect(returned).toBeUndefined();
      expect(thrown).toBeInstanceOf(HostCallMismatchError);
      expect((thrown as HostCallMismatchError).code).toBe('LAMBDALET_HOST_CALL_MISMATCH');
      expect((thrown as Error).message).toMatch(names);
      expect((thrown as Error).message).not.toContain('SECRET');
    }
  });

  it('a message that is not an answer (the old protocol: bare text; a malformed answer) is refused', () => {
    for (const message of ['ofalse', { sb: 1, hc: 1 }, { sb: 1, hc: 1, answer: ['o', 'not bytes'] }, { sb: '1', hc: 1, answer: 'o' }]) {
      const signal = new Int32Array(new SharedArrayBuffer(8));
      const { port1, port2 } = new MessageChannel();
      port2.postMessage(message);
      Atomics.store(signal, 0, 1);
      expect(() => receiveHostAnswer(signal, port1, { sb: 1, hc: 1 })).toThrow(/received a message that is not a host-call answer/);
      port1.close();
    }
  });

  it('an answer already posted before the wait is taken without waiting (the real host side, postHostAnswer); text or [head, bytes]', () => {
    const signal = new Int32Array(new SharedArrayBuffer(8));
    const { port1, port2 } = new MessageChannel();
    postHostAnswer(signal, port2, { sb: 2, hc: 1 }, 'o42');
    expect(signal[0]).toBe(1);
    expect(receiveHostAnswer(signal, port1, { sb: 2, hc: 1 })).toBe('o42');
    const bytes = new Uint8Array([0, 1, 255]).buffer;
    postHostAnswer(signal, port2, { sb: 2, hc: 2 }, ['o{}', bytes]);
    const [head, copy] = receiveHostAnswer(signal, port1, { sb: 2, hc: 2 }) as [string, ArrayBuffer];
    expect(head).toBe('o{}');
    expect([...new Uint8Array(copy)]).toEqual([0, 1, 255]);
    port1.close();
  });

  it('call numbers run 1 … 2^31 - 1 and wrap to 1, never 0 (the slot before any answer)', () => {
    expect(nextHostCall(0)).toBe(1);
    expect(nextHostCall(1)).toBe(2);
    expect(nextHostCall(0x7ffffffe)).toBe(0x7fffffff);
    expect(nextHostCall(0x7fffffff)).toBe(1);
  });
});
