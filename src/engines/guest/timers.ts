/**
 * setTimeout / setInterval / setImmediate inside the sandbox. The guest owns the queue; the host
 * owns the clock: it asks how long until the next timer (`nextDueIn`) and calls back (`runDue`)
 * when that time has come. Unref'd timers do not keep the event loop alive, as in Node.
 */

type Callback = (...args: unknown[]) => void;

interface Timer {
  readonly id: number;
  callback: Callback;
  args: unknown[];
  dueAt: number;
  /** Repeat interval for setInterval, otherwise undefined. */
  interval: number | undefined;
  ref: boolean;
}

/** What setTimeout returns: Node's Timeout surface that handlers actually use. */
export interface TimeoutHandle {
  ref(): TimeoutHandle;
  unref(): TimeoutHandle;
  hasRef(): boolean;
  refresh(): TimeoutHandle;
  [Symbol.toPrimitive](): number;
}

const MAX_DELAY = 2_147_483_647;

export class TimerQueue {
  readonly #timers = new Map<number, Timer>();
  readonly #handles = new WeakMap<object, number>();
  #nextId = 1;
  readonly #now: () => number;

  constructor(now: () => number) {
    this.#now = now;
  }

  add(callback: unknown, delay: unknown, args: unknown[], repeat: boolean): TimeoutHandle {
    if (typeof callback !== 'function') {
      const error = new TypeError(
        `The "callback" argument must be of type function. Received ${typeof callback}`,
      ) as TypeError & { code: string };
      error.code = 'ERR_INVALID_ARG_TYPE';
      throw error;
    }
    let ms = Number(delay);
    if (!(ms >= 1 && ms <= MAX_DELAY)) ms = 1; // Node's rule: out of range or NaN becomes 1
    const timer: Timer = {
      id: this.#nextId++,
      callback: callback as Callback,
      args,
      dueAt: this.#now() + ms,
      interval: repeat ? ms : undefined,
      ref: true,
    };
    this.#timers.set(timer.id, timer);
    return this.#handle(timer, ms);
  }

  /** setImmediate: due now, before any later timer. */
  addImmediate(callback: unknown, args: unknown[]): TimeoutHandle {
    const handle = this.add(callback, 1, args, false);
    const timer = this.#timers.get(handle[Symbol.toPrimitive]());
    if (timer) timer.dueAt = this.#now();
    return handle;
  }

  clear(handle: unknown): void {
    const id =
      typeof handle === 'number' ? handle : typeof handle === 'object' && handle ? this.#handles.get(handle) : undefined;
    if (id !== undefined) this.#timers.delete(id);
  }

  /** Milliseconds until the next ref'd timer is due (0 if overdue), or -1 if none keeps the loop alive. */
  nextDueIn(): number {
    if (this.#timers.size === 0) return -1; // every reply asks: no iterator when there is nothing to see
    let earliest = Infinity;
    for (const timer of this.#timers.values()) if (timer.ref && timer.dueAt < earliest) earliest = timer.dueAt;
    if (earliest === Infinity) return -1;
    return Math.max(0, earliest - this.#now());
  }

  /** Runs every timer that is due, in due order. A throwing callback stops the run and rethrows. */
  runDue(): void {
    const now = this.#now();
    const due = [...this.#timers.values()].filter((t) => t.dueAt <= now).sort((a, b) => a.dueAt - b.dueAt || a.id - b.id);
    for (const timer of due) {
      if (!this.#timers.has(timer.id)) continue; // cleared by an earlier callback
      if (timer.interval === undefined) this.#timers.delete(timer.id);
      else timer.dueAt = now + timer.interval;
      timer.callback(...timer.args);
    }
  }

  /** Forget every timer: the environment is being discarded or re-used after a fatal error. */
  clearAll(): void {
    this.#timers.clear();
  }

  #handle(timer: Timer, ms: number): TimeoutHandle {
    const timers = this.#timers;
    const now = this.#now;
    const handle: TimeoutHandle = {
      ref() {
        timer.ref = true;
        return handle;
      },
      unref() {
        timer.ref = false;
        return handle;
      },
      hasRef() {
        return timer.ref;
      },
      refresh() {
        if (timers.has(timer.id)) timer.dueAt = now() + ms;
        return handle;
      },
      [Symbol.toPrimitive]() {
        return timer.id;
      },
    };
    this.#handles.set(handle, timer.id);
    return handle;
  }
}
