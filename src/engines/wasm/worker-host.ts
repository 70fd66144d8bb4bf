/**
 * The host side of a guest worker (worker/guest-worker.ts): one worker thread per environment,
 * terminated at the deadline so a component in a tight loop never blocks the host's thread, and
 * a small pool of workers that already hold a code version's glue and compiled modules so a cold
 * start only instantiates.
 *
 * Host calls from the worker are synchronous for the guest: the worker posts `call` and sleeps in
 * Atomics.wait; this side answers on a dedicated port, then sets the flag and wakes it. The host's
 * thread never blocks: it answers from its event loop, as for any message.
 *
 * Self-contained on purpose (the quickjs engine has its own worker pool): both can be unified later.
 */
import { MessageChannel, Worker, type MessagePort } from 'node:worker_threads';
import { SandboxFault } from '../engine.ts';
import type { LoadRequest, WorkerMessage, WorkerOutcome, WorkerRequest } from './worker/messages.ts';

/**
 * The worker's own V8 heap: the glue and the strings crossing it (the component's linear memory is
 * capped separately, by its module's maximum). Not lower: a small old space makes every
 * memory.grow of the guest pay for a full GC (measured: 30 MB grown 1 MB at a time took 620 ms
 * with 64 MB, 60 ms with 512 MB).
 */
const WORKER_HEAP_MB = 256;
const self = new URL(import.meta.url);
const WORKER_URL = new URL(`./worker/guest-worker${self.pathname.endsWith('.ts') ? '.ts' : '.js'}`, self);

export interface Finished {
  readonly outcome: WorkerOutcome;
  /** Bytes of linear memory the instance holds after the request. */
  readonly memoryBytes: number;
}

/** What a request may need from its environment while it runs. */
export interface RequestHooks {
  readonly onLog: (level: string, message: string) => void;
  readonly hostCall: (op: string, args: string) => string;
}

/** What a worker loads: one code version at one memory cap. */
export type LoadSpec = Omit<LoadRequest, 't' | 'signal' | 'answers'>;

export class GuestWorker {
  readonly #worker: Worker;
  readonly #answers: MessagePort;
  readonly #signal: Int32Array;
  #pending: { resolve: (done: Finished) => void; reject: (error: Error) => void; hooks: RequestHooks | undefined } | undefined;
  #dead: SandboxFault | undefined;

  private constructor(worker: Worker, answers: MessagePort, signal: Int32Array) {
    this.#worker = worker;
    this.#answers = answers;
    this.#signal = signal;
    worker.on('message', (message: WorkerMessage) => this.#onMessage(message));
    worker.on('error', (error: Error & { code?: string }) =>
      // The worker's own heap (glue, strings crossing it) hit resourceLimits: Node ends the worker.
      this.#die(
        error.code === 'ERR_WORKER_OUT_OF_MEMORY'
          ? new SandboxFault('out-of-memory', `the worker ran out of memory: ${error.message}`)
          : new SandboxFault('crashed', `the worker failed: ${error.message}`),
      ),
    );
    worker.on('exit', (code) => this.#die(new SandboxFault('crashed', `the worker exited (code ${code})`)));
    worker.unref();
  }

  /** A new worker holding `spec`'s code, ready for `init`. */
  static async spawn(spec: LoadSpec): Promise<GuestWorker> {
    const worker = new Worker(WORKER_URL, {
      execArgv: [],
      // Not the host's environment variables (a worker gets a copy of them by default): the guest's
      // come from its imports, and nothing in the worker needs the host's.
      env: {},
      resourceLimits: { maxOldGenerationSizeMb: WORKER_HEAP_MB },
      stdout: false,
      stderr: false,
    });
    const { port1, port2 } = new MessageChannel();
    const shared = new SharedArrayBuffer(4);
    const host = new GuestWorker(worker, port1, new Int32Array(shared));
    const load: LoadRequest = { t: 'load', ...spec, signal: shared, answers: port2 };
    const done = await host.#send(load, [port2], Number.POSITIVE_INFINITY, undefined);
    if (done.outcome.t !== 'ok') {
      host.terminate();
      throw new SandboxFault('crashed', `the worker could not load the component: ${JSON.stringify(done.outcome)}`);
    }
    return host;
  }

  get dead(): boolean {
    return this.#dead !== undefined;
  }

  /**
   * Runs one request; past `timeoutMs` the worker is terminated and the promise rejects with
   * SandboxFault('timeout'). Any other death rejects with SandboxFault('crashed').
   */
  request(request: WorkerRequest, timeoutMs: number, hooks: RequestHooks): Promise<Finished> {
    return this.#send(request, [], timeoutMs, hooks);
  }

  #send(request: WorkerRequest, transfer: MessagePort[], timeoutMs: number, hooks: RequestHooks | undefined): Promise<Finished> {
    if (this.#dead) return Promise.reject(this.#dead);
    if (this.#pending) return Promise.reject(new Error('lambdalet bug: a guest worker runs one request at a time'));
    return new Promise<Finished>((resolve, reject) => {
      const timer =
        timeoutMs === Number.POSITIVE_INFINITY
          ? undefined
          : setTimeout(() => this.#die(new SandboxFault('timeout', `the component ran past its deadline (${Math.round(timeoutMs)} ms)`)), timeoutMs);
      const settle = <T>(fn: (value: T) => void) => (value: T) => {
        clearTimeout(timer);
        this.#pending = undefined;
        this.#worker.unref();
        fn(value);
      };
      this.#pending = { resolve: settle(resolve), reject: settle(reject), hooks };
      this.#worker.ref();
      this.#worker.postMessage(request, transfer);
    });
  }

  #onMessage(message: WorkerMessage): void {
    const pending = this.#pending;
    switch (message.t) {
      case 'log':
        pending?.hooks?.onLog(message.level, message.message);
        return;
      case 'call': {
        const answer = pending?.hooks ? pending.hooks.hostCall(message.op, message.args) : 'e{"name":"Error","message":"no host calls now"}';
        this.#answers.postMessage(answer);
        Atomics.store(this.#signal, 0, 1);
        Atomics.notify(this.#signal, 0);
        return;
      }
      case 'done':
        pending?.resolve({ outcome: message.outcome, memoryBytes: message.memoryBytes });
        return;
    }
  }

  #die(fault: SandboxFault): void {
    if (this.#dead) return;
    this.#dead = fault;
    void this.#worker.terminate();
    this.#answers.close();
    this.#pending?.reject(fault);
  }

  /** Ends the worker (idempotent); a request in flight rejects with SandboxFault('disposed'). */
  terminate(): void {
    this.#die(new SandboxFault('disposed', 'The sandbox was disposed'));
  }
}

/**
 * How long spare workers wait for a cold start before they are ended. The seam has no "this code
 * version is gone" signal (a redeploy just stops using the blueprint), so an idle pool ends its own
 * spares; the next cold start spawns a worker and the pool refills.
 */
export const SPARE_IDLE_MS = 60_000;

/**
 * Workers loaded with one code version, kept ready: `take()` hands one over and starts loading its
 * replacement in the background. `spares` 0 spawns on demand.
 */
export class WorkerPool {
  readonly #spec: LoadSpec;
  readonly #spares: number;
  readonly #idleMs: number;
  readonly #ready: Promise<GuestWorker>[] = [];
  #closed = false;
  #idleTimer: NodeJS.Timeout | undefined;

  constructor(spec: LoadSpec, spares: number, idleMs = SPARE_IDLE_MS) {
    this.#spec = spec;
    this.#spares = spares;
    this.#idleMs = idleMs;
    this.#refill();
  }

  #refill(): void {
    while (!this.#closed && this.#ready.length < this.#spares) {
      const spawning = GuestWorker.spawn(this.#spec);
      spawning.catch(() => {}); // surfaced by take()
      this.#ready.push(spawning);
    }
    clearTimeout(this.#idleTimer);
    if (this.#ready.length > 0) {
      this.#idleTimer = setTimeout(() => this.#endSpares(), this.#idleMs);
      this.#idleTimer.unref();
    }
  }

  #endSpares(): void {
    for (const spare of this.#ready.splice(0)) void spare.then((worker) => worker.terminate(), () => {});
  }

  /** Spare workers loaded or loading now. */
  get spareCount(): number {
    return this.#ready.length;
  }

  /** Resolves once the first spare is loaded (or failed: take() reports that). */
  async ready(): Promise<void> {
    await this.#ready[0]?.catch(() => {});
  }

  async take(): Promise<GuestWorker> {
    if (this.#closed) throw new Error('lambdalet bug: the worker pool is closed');
    const next = this.#ready.shift();
    this.#refill();
    const worker = next ? await next.catch(() => GuestWorker.spawn(this.#spec)) : await GuestWorker.spawn(this.#spec);
    return worker.dead ? GuestWorker.spawn(this.#spec) : worker;
  }

  /** Terminates the spares; take() then fails. */
  close(): void {
    this.#closed = true;
    clearTimeout(this.#idleTimer);
    this.#endSpares();
  }
}
