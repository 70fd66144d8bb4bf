/** A manual clock and fake environments, so every dispatcher rule is tested without time or V8. */
import type { Clock, TimerHandle } from '../../src/dispatch/index.ts';
import { Dispatcher, type DispatcherOptions, type FunctionPool, type Lease, type PoolConfig } from '../../src/dispatch/index.ts';

interface Timer {
  readonly at: number;
  readonly callback: () => void;
  readonly unref: boolean;
  cancelled: boolean;
}

/** Time moves only when the test says so; due timers fire in order during advance(). */
export class ManualClock implements Clock {
  #now = 1_000;
  readonly #timers: Timer[] = [];

  now(): number {
    return this.#now;
  }

  setTimeout(callback: () => void, ms: number, unref: boolean): TimerHandle {
    const timer: Timer = { at: this.#now + ms, callback, unref, cancelled: false };
    this.#timers.push(timer);
    return timer;
  }

  clearTimeout(handle: TimerHandle): void {
    (handle as Timer).cancelled = true;
  }

  /** Pending timers, for checks such as "the reaper does not keep the process alive". */
  pending(): { at: number; unref: boolean }[] {
    return this.#timers.filter((t) => !t.cancelled).map(({ at, unref }) => ({ at, unref }));
  }

  advance(ms: number): void {
    const end = this.#now + ms;
    for (;;) {
      const due = this.#timers.filter((t) => !t.cancelled && t.at <= end).sort((a, b) => a.at - b.at)[0];
      if (due === undefined) break;
      due.cancelled = true;
      this.#now = Math.max(this.#now, due.at);
      due.callback();
    }
    this.#now = end;
  }
}

let nextId = 0;

/** An environment that records how it is used; `fail()` makes it die like a fatal outcome. */
export class FakeEnv {
  readonly id = ++nextId;
  state = 'ready';
  disposed = false;
  fn: string;

  constructor(fn: string) {
    this.fn = fn;
  }

  fail(): void {
    this.state = 'dead';
  }

  /** Bytes it holds in host memory beside its sandbox (PooledEnvironment.hostBytes); 0 unless a test sets it. */
  held = 0;
  /** What the dispatcher gave it to ask before its /tmp grows. */
  room: ((bytes: number) => boolean) | undefined;

  hostBytes(): number {
    return this.held;
  }

  setHostRoom(room: ((bytes: number) => boolean) | undefined): void {
    this.room = room;
  }

  dispose(): void {
    this.disposed = true;
    this.state = 'dead';
  }
}

export type TestDispatcher = Dispatcher<FakeEnv, string>;
export type TestPool = FunctionPool<FakeEnv, string>;
export type TestLease = Lease<FakeEnv, string>;

export const DEFAULTS: DispatcherOptions = {
  concurrency: 10,
  memoryBudgetMb: 100_000,
  idleTtlMs: 60_000,
  scaleUpRate: 1000,
  scaleUpBurst: 1000,
  maxQueueLength: 10,
};

export function setup(options: Partial<DispatcherOptions> = {}): { d: TestDispatcher; clock: ManualClock; envs: FakeEnv[] } {
  const clock = new ManualClock();
  const d = new Dispatcher<FakeEnv, string>({ ...DEFAULTS, ...options, clock });
  return { d, clock, envs: [] };
}

export function pool(d: TestDispatcher, name: string, config: Partial<PoolConfig> = {}): TestPool {
  return d.configure(name, { memoryMb: 128, reservedConcurrency: undefined, provisionedConcurrency: 0, ...config }, name);
}

/** Acquires synchronously (fails the test if it would wait) and boots a fake env on a cold lease. */
export function take(d: TestDispatcher, p: TestPool, envs: FakeEnv[] = []): TestLease {
  const lease = d.acquire(p);
  if (lease instanceof Promise) throw new Error('expected a synchronous lease');
  if (lease.env === undefined) {
    const env = new FakeEnv(p.name);
    envs.push(env);
    d.attach(lease, env);
  }
  return lease;
}

/** The TooManyRequestsException reason an acquire fails with, or 'admitted'. */
export function reasonOf(d: TestDispatcher, p: TestPool): string {
  try {
    const lease = d.acquire(p);
    if (lease instanceof Promise) return 'waiting';
    return 'admitted';
  } catch (error) {
    return (error as { reason?: string }).reason ?? (error as Error).name;
  }
}

export const report = (durationMs: number, error = false) => ({ durationMs, billedDurationMs: Math.max(1, Math.ceil(durationMs)), error });
