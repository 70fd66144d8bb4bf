/**
 * EventTarget / Event (event-target-shim: a spec-following implementation, used by
 * abort-controller and node-fetch) and AbortController / AbortSignal on top of it, with the
 * modern statics (abort, timeout, any) and throwIfAborted.
 */
// event-target-shim's types are not reachable through its `exports` map: declared in vendor.d.ts.
import { Event as EventImpl, EventTarget as EventTargetImpl } from 'event-target-shim';
import { nodeError } from '../bridge.ts';
import { DOMExceptionLike } from './encoding.ts';

export const Event = EventImpl;
export const EventTarget = EventTargetImpl;

/**
 * CustomEvent (a global since Node 19, https://nodejs.org/docs/latest-v24.x/api/globals.html#customevent):
 * an Event with the `detail` its init gave (null without one).
 */
export class CustomEvent<T = unknown> extends EventImpl {
  readonly #detail: T | null;
  constructor(...args: [type?: string, init?: { bubbles?: boolean; cancelable?: boolean; composed?: boolean; detail?: T }]) {
    if (args.length === 0) throw nodeError(TypeError, 'ERR_MISSING_ARGS', 'The "type" argument must be specified');
    super(String(args[0]), args[1]);
    this.#detail = args[1]?.detail ?? null;
  }
  get detail(): T | null {
    return this.#detail;
  }
  get [Symbol.toStringTag](): string {
    return 'CustomEvent';
  }
}

const kAbort = Symbol('abort');

export class AbortSignal extends EventTargetImpl {
  #aborted = false;
  #reason: unknown = undefined;
  onabort: ((event: EventImpl) => void) | null = null;

  constructor(key?: symbol) {
    super();
    if (key !== kAbort) throw new TypeError('Illegal constructor');
  }
  get aborted(): boolean {
    return this.#aborted;
  }
  get reason(): unknown {
    return this.#reason;
  }
  throwIfAborted(): void {
    if (this.#aborted) throw this.#reason;
  }
  [kAbort](reason: unknown): void {
    if (this.#aborted) return;
    this.#aborted = true;
    this.#reason = reason === undefined ? new DOMExceptionLike('This operation was aborted', 'AbortError') : reason;
    const event = new EventImpl('abort');
    this.onabort?.(event);
    this.dispatchEvent(event);
  }
  static abort(reason?: unknown): AbortSignal {
    const signal = new AbortSignal(kAbort);
    signal[kAbort](reason);
    return signal;
  }
  static timeout(ms: number): AbortSignal {
    const signal = new AbortSignal(kAbort);
    const handle = setTimeout(() => signal[kAbort](new DOMExceptionLike('The operation was aborted due to timeout', 'TimeoutError')), ms) as unknown as {
      unref?: () => void;
    };
    handle.unref?.(); // as in Node, a timeout signal does not keep the event loop alive
    return signal;
  }
  static any(signals: Iterable<AbortSignal>): AbortSignal {
    const signal = new AbortSignal(kAbort);
    for (const s of signals) {
      if (s.aborted) {
        signal[kAbort](s.reason);
        break;
      }
      s.addEventListener('abort', () => signal[kAbort](s.reason), { once: true });
    }
    return signal;
  }
  get [Symbol.toStringTag](): string {
    return 'AbortSignal';
  }
}

export class AbortController {
  readonly #signal = new AbortSignal(kAbort);
  get signal(): AbortSignal {
    return this.#signal;
  }
  abort(reason?: unknown): void {
    this.#signal[kAbort](reason);
  }
  get [Symbol.toStringTag](): string {
    return 'AbortController';
  }
}
