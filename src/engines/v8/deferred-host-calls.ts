/**
 * Heavy host calls of an in-process v8 guest, answered off the host's thread (issue #15: a guest's
 * `zlib.brotliCompressSync` of 8 MiB at quality 11 held the host's event loop 110 s).
 *
 * A v8 guest's host calls are isolated-vm Callbacks, run on the host's thread while the isolate's
 * thread blocks for the answer. isolated-vm's one way to let such a call wait for asynchronous host
 * work, `Reference.applySyncPromise`, needs the guest to hold a Reference to a host function, whose
 * `get`/`apply` reach further host objects. So instead (guest/protocol.ts "Host calls", deferred
 * answers):
 *
 * 1. The guest's synchronous call reaches the host's Callback, which starts the work through the
 *    environment's SandboxOptions.hostCallAsyncBytes (libuv's thread pool: environment/heavy-work.ts;
 *    the answer's bytes never go through latin1 text) and answers at once with `'w' + number`: the
 *    host's thread is free again.
 * 2. The guest blocks its own thread (an isolated-vm thread, never the host's) in `Atomics.wait`
 *    on slot 0 of a SharedArrayBuffer shared with this sandbox alone.
 * 3. When the work is done the host keeps the answer, stores the number in the slot and notifies.
 * 4. The guest takes the answer with one more synchronous call (DEFERRED_ANSWER_OP).
 *
 * The slot is guest-writable memory: the host never reads it. What the host trusts is its own
 * record: one deferred call per sandbox at a time, known by a number the host chose; a take names
 * that number or gets an error, and before the answer is ready it gets the deferral again (the
 * guest waits once more). Nothing here is shared between sandboxes, so an answer cannot reach
 * another tenant. A guest can be left blocked in a deferred call only by a call that failed (timed
 * out, the isolate disposed...), which ends the sandbox: then the deferred call is abandoned (its
 * work, if it has not started, never starts: the signal aborts) and a late answer is dropped. V8 interrupts `Atomics.wait` for TerminateExecution, which isolated-vm's
 * timeout and `dispose` use, so a guest blocked here ends at its deadline like a spinning one
 * (test/engines/v8/deferred-host-calls.test.ts).
 */
import { binaryAnswer, type BinaryAnswer } from '../binary-host-call.ts';
import { DEFERRED_ANSWER_OP, DEFERRED_ANSWER_PREFIX } from '../guest/protocol.ts';
import type { SandboxOptions } from '../engine.ts';
import { nextHostCall } from '../remote/host-answer.ts';

/** Starts a heavy call's work: its answer later, or undefined for a call that is not heavy (SandboxOptions.hostCallAsyncBytes). */
export type StartHeavyCall = NonNullable<SandboxOptions['hostCallAsyncBytes']>;

/** The sandbox options' way to start heavy work, in bytes form: hostCallAsyncBytes, or hostCallAsync's text made into it. */
export function heavyCallStarter(options: Pick<SandboxOptions, 'hostCallAsync' | 'hostCallAsyncBytes'>): StartHeavyCall | undefined {
  if (options.hostCallAsyncBytes) return options.hostCallAsyncBytes;
  const text = options.hostCallAsync;
  return text ? (op, args, bytes, signal) => text(op, args, bytes, signal)?.then(binaryAnswer) : undefined;
}

/** Slot 0 of the answer slot: the number of the last deferred call whose answer is ready. */
const READY_SLOT = 0;

interface DeferredCall {
  readonly number: number;
  /** Aborted when the call is abandoned (its work then never starts if it has not). */
  readonly controller: AbortController;
  answer?: BinaryAnswer;
}

/** One sandbox's deferred host calls (at most one at a time: its guest is blocked in it). */
export class DeferredHostCalls {
  /** Shared with the sandbox's guest (install's / rebind's `answerSlot`): one Int32. */
  readonly buffer: SharedArrayBuffer;
  readonly #slot: Int32Array;
  readonly #start: StartHeavyCall;
  #last = 0;
  #pending: DeferredCall | undefined;
  /**
   * The signal handed to the next call: one controller serves every call until one is abandoned,
   * so an ordinary host call (most are: fs, randomness) allocates no AbortController for nothing.
   */
  #controller = new AbortController();

  /**
   * `start`: the environment's heavy calls ({@link heavyCallStarter}). `buffer`: the answer slot,
   * when the guest was bound to one ahead of need (a restored isolate: v8-engine.ts #bindAhead).
   */
  constructor(start: StartHeavyCall, buffer = new SharedArrayBuffer(4)) {
    this.#start = start;
    this.buffer = buffer;
    this.#slot = new Int32Array(buffer);
  }

  /**
   * The host's side of one guest host call, before the synchronous path: the deferral of a heavy
   * call (its work started), the answer to a take, or undefined for every other call (answered
   * synchronously by the caller).
   */
  answer(op: string, args: string, bytes: Uint8Array | undefined): BinaryAnswer | undefined {
    if (op === DEFERRED_ANSWER_OP) return this.#take(args);
    if (this.#pending) {
      // The guest is blocked in its deferred call; only a guest runtime that was tampered with
      // starts another. Refused, so the host holds at most one call's work per sandbox.
      return refusal(`lambdalet: host call ${this.#pending.number} has not been answered yet; ${op} was refused`);
    }
    const controller = this.#controller;
    const later = this.#start(op, args, bytes, controller.signal);
    if (!later) return undefined;
    this.#last = nextHostCall(this.#last);
    const call: DeferredCall = { number: this.#last, controller };
    this.#pending = call;
    void later.then((answer) => {
      if (this.#pending !== call) return; // abandoned: nobody waits for it
      call.answer = answer;
      Atomics.store(this.#slot, READY_SLOT, call.number);
      Atomics.notify(this.#slot, READY_SLOT);
    });
    return `${DEFERRED_ANSWER_PREFIX}${call.number}`;
  }

  /**
   * The sandbox ended (V8Sandbox: a failed call, a catastrophe, dispose): a deferred call still
   * pending has nobody waiting — its work is aborted if not started, its answer dropped.
   */
  abandon(): void {
    const call = this.#pending;
    if (!call) return;
    this.#pending = undefined;
    call.controller.abort();
    this.#controller = new AbortController();
  }

  /** DEFERRED_ANSWER_OP `[number]`: the answer, once, to the call the host deferred under that number. */
  #take(args: string): BinaryAnswer {
    const call = this.#pending;
    let number: unknown;
    try {
      number = (JSON.parse(args) as unknown[])[0];
    } catch {
      number = undefined;
    }
    if (!call || call.number !== number) {
      return refusal(`lambdalet: no deferred host call ${typeof number === 'number' ? number : JSON.stringify(String(args).slice(0, 40))} is waiting for its answer`);
    }
    // Woken before the answer was ready (not by the host): wait again.
    if (call.answer === undefined) return `${DEFERRED_ANSWER_PREFIX}${call.number}`;
    this.#pending = undefined;
    return call.answer;
  }
}

function refusal(message: string): string {
  return `e${JSON.stringify({ name: 'Error', message })}`;
}
