/**
 * setTimeout / setInterval / setImmediate inside the sandbox. The guest owns the queue; the host
 * owns the clock: it asks how long until the next timer (`nextDueIn`) and calls back (`runDue`)
 * when that time has come. Unref'd timers do not keep the event loop alive, as in Node.
 *
 * One `runDue` is one turn of Node's event loop as a handler meets it: a handler runs in the poll
 * phase (the runtime client's I/O callback), so the check phase comes next — the immediates queued
 * before the turn run first, whatever the clock says — then the timers that are due. Node's docs
 * (The Node.js Event Loop, "setImmediate() vs setTimeout()"): "if both are called within an I/O
 * cycle, the immediate callback is always executed first". Immediates queued during a turn run at
 * the next one (Node: at the next check phase, which also precedes the next timers phase).
 */

type Callback = (...args: unknown[]) => void;

interface Timer {
  readonly id: number;
  callback: Callback;
  args: unknown[];
  dueAt: number;
  /** Repeat interval for setInterval, otherwise undefined. */
  interval: number | undefined;
  /** setImmediate: runs at the next turn's check phase, before any timer (dueAt unused). */
  readonly immediate: boolean;
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
    return this.#add(callback, delay, args, repeat, false);
  }

  /** setImmediate: at the next turn, before every timer (see the module's comment). */
  addImmediate(callback: unknown, args: unknown[]): TimeoutHandle {
    return this.#add(callback, 0, args, false, true);
  }

  #add(callback: unknown, delay: unknown, args: unknown[], repeat: boolean, immediate: boolean): TimeoutHandle {
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
      immediate,
      ref: true,
    };
    this.#timers.set(timer.id, timer);
    return this.#handle(timer, ms);
  }

  clear(handle: unknown): void {
    const id =
      typeof handle === 'number' ? handle : typeof handle === 'object' && handle ? this.#handles.get(handle) : undefined;
    if (id !== undefined) this.#timers.delete(id);
  }

  /**
   * Milliseconds until the next timer is due (0 if overdue), or -1 if no ref'd timer keeps the loop
   * alive (`includeUnref`: if there is no timer at all). Unref'd timers count for the time: Node
   * runs them when something else keeps the loop alive, so AbortSignal.timeout(5) (unref'd) aborts
   * a ref'd 60 s timer after 5 ms, not after 60 s.
   */
  nextDueIn(includeUnref = false): number {
    if (this.#timers.size === 0) return -1; // every reply asks: no iterator when there is nothing to see
    let earliest = Infinity;
    let alive = includeUnref;
    for (const timer of this.#timers.values()) {
      if (timer.ref) alive = true;
      const due = timer.immediate ? -Infinity : timer.dueAt;
      if (due < earliest) earliest = due;
    }
    if (!alive) return -1;
    return Math.max(0, earliest - this.#now());
  }

  /**
   * One turn: the immediates queued before it, in the order they were queued, then every timer that
   * is due, in due order; `afterEach` after each callback (process.nextTick's queue, as Node drains
   * it after each). A throwing callback stops the turn and rethrows.
   */
  runDue(afterEach?: () => void): void {
    const immediates = [...this.#timers.values()].filter((t) => t.immediate); // a Map keeps insertion (id) order
    for (const immediate of immediates) {
      if (!this.#timers.delete(immediate.id)) continue; // cleared by an earlier callback
      immediate.callback(...immediate.args);
      afterEach?.();
    }
    const now = this.#now();
    const due = [...this.#timers.values()]
      .filter((t) => !t.immediate && t.dueAt <= now)
      .sort((a, b) => a.dueAt - b.dueAt || a.id - b.id);
    for (const timer of due) {
      if (!this.#timers.has(timer.id)) continue; // cleared by an earlier callback
      if (timer.interval === undefined) this.#timers.delete(timer.id);
      else timer.dueAt = now + timer.interval;
      timer.callback(...timer.args);
      afterEach?.();
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
