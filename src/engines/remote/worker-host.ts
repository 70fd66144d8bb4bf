/**
 * One engine server in a worker thread, seen from the thread that started it: requests out,
 * events in, the answer to the worker's pending host call, and a watchdog. Used by the host thread
 * (thread isolation of QuickJS) and by a child process's relay (process isolation).
 */
import { MessageChannel, Worker } from 'node:worker_threads';
import { quickjsWasmModule } from '../quickjs/wasm.ts';
import { guestRuntime } from '../guest-bundle.ts';
import { shareStandardLibrary } from '../shared-stdlib.ts';
import { instanceCounterBuffer } from '../quickjs/in-thread.ts';
import type { RuntimeImage } from '../quickjs/runtime-image.ts';
import type { BinaryAnswer } from '../binary-host-call.ts';
import { postHostAnswer } from './host-answer.ts';
import { refillOwner, SIGNAL_DESERIALISING, SIGNAL_SLOTS, STAGING_MAX_BYTES, STARTED_UNKNOWN, type HostCallId, type ServerData, type ServerEvent, type ServerRequest } from './protocol.ts';
import { assertBackgroundNice } from './thread-priority.ts';
import { decodeReply, encodeCall } from './text-calls.ts';
import { readThreadCpuMs, STUCK_GRACE_MS, StuckWatch, type ThreadCpuReader } from './stuck-watch.ts';

/** What the engine pool needs of a server, wherever it runs (worker-host.ts, process-host.ts). */
export interface EngineHost {
  send(request: ServerRequest): void;
  /** The answer to the guest's host call `call` (its `host` event's `sb` and `hc`), which the server is blocked on. */
  answer(call: HostCallId, text: string): void;
  /** The same with a payload as bytes, for a server that asked for them (a `binary` host call). */
  answerBytes?(call: HostCallId, answer: BinaryAnswer): void;
  /**
   * A `staged` host call's payload: a view of the server's staging area (ServerData.staging), valid
   * until the call is answered. Throws when the server has no such area or `length` is beyond it.
   */
  staged?(length: number): Uint8Array;
  /** Keeps the host's event loop alive while work is in flight; off when idle. */
  ref(busy: boolean): void;
  /** Ends the server at once; its exit is reported as usual. */
  kill(): void;
  /**
   * Settles once the server has really ended (a worker's thread has exited), which may be later
   * than its exit is reported (a watchdog reports a termination at once): child-servers.ts.
   */
  readonly gone?: Promise<void>;
  /**
   * Whether the synchronous call `id` may have started running guest code (ServerData.signal [2]):
   * false only when it certainly has not. Readable after the server ended.
   */
  mayHaveStarted?(id: number): boolean;
  /**
   * The host ends the server when a call is still running at its deadline (WorkerHost
   * `exactDeadlines`: wasm), so a sandbox disposed with such a call out may end it at once
   * (engine-pool.ts, the sandbox's dispose).
   */
  readonly exactDeadlines?: boolean;
  /**
   * Whether the server's thread is deserialising a V8 isolate from a SnapStart image now
   * (protocol.ts SIGNAL_DESERIALISING): a restore sent there waits for it. Absent: not known.
   */
  readonly deserialising?: boolean;
}

export interface HostHandlers {
  readonly onEvent: (event: ServerEvent) => void;
  /** The server is gone; `reason` reads as Lambda's runtime exit (`signal: killed`). Called once. */
  readonly onExit: (reason: string) => void;
}

export type HostFactory = (handlers: HostHandlers) => Promise<EngineHost>;

export { STUCK_BACKSTOP_MS, STUCK_GRACE_MS, STUCK_WORDS } from './stuck-watch.ts';
/** How often the watchdog looks, while calls are out (a /proc read only while one is running past its deadline). */
const WATCHDOG_INTERVAL_MS = 250;

export interface WorkerHostOptions {
  readonly quickjs: ServerData['quickjs'];
  /** Compile QuickJS's module here and hand it over (default true); a process-isolation child leaves it to its worker, which compiles it on first use. */
  readonly precompileQuickJS?: boolean;
  /** Hand the JS guest runtime over (default true); a server for wasm components only needs none. */
  readonly guestRuntime?: boolean;
  /**
   * Test-only: the watchdog's clocks (stuck-watch.ts): the thread CPU reader, epoch ms, the
   * backstop. Default: /proc, performance's clock, STUCK_BACKSTOP_MS.
   */
  readonly stuckClock?: { readonly cpuMs?: ThreadCpuReader; readonly now?: () => number; readonly backstopMs?: number };
  /**
   * Terminate the worker as soon as a synchronous call is still running at its deadline (a timer
   * per call), not {@link STUCK_GRACE_MS} after it: for guests nothing interrupts from inside
   * (WebAssembly components). Default false.
   */
  readonly exactDeadlines?: boolean;
  /** Host calls may carry payloads as bytes (ServerData.hostCallBytes). Default false. */
  readonly hostCallBytes?: boolean;
  /** Calls and plain replies cross the port as one string each (text-calls.ts, ServerData.textCalls). Default false. */
  readonly textCalls?: boolean;
  /**
   * Replies carry the guest's CPU time (ServerData.guestCpuTime): off for a pool that never weighs
   * calls, `after-busy` for one that weighs them on a warm path that must stay cheap. Default true.
   */
  readonly guestCpuTime?: boolean | 'after-busy';
  /**
   * A background server (engine-pool.ts `background`): the worker lowers its own thread's priority
   * to this nice value (1 to 19) before its first request (ServerData.nice). Default: unchanged.
   */
  readonly nice?: number;
  /** SnapStart pool refills shared by the pool's servers (ServerData.refills). */
  readonly refills?: ServerData['refills'];
}

/**
 * The guest runtime's image the first QuickJS server of this process made, with the guest script it
 * was made from: later servers are given it (its bytes are shared memory), so a server the pool
 * grows into neither parses and runs the guest script again before it is up (19-95 ms of a server's
 * start at load ~10) nor keeps a copy of its own (~640 KiB).
 */
let firstRuntimeImage: { readonly script: string; readonly image: RuntimeImage } | undefined;
/** Servers that reported an image they made (see {@link runtimeImagesMade}). */
let runtimeImagesReported = 0;

/** How many engine servers of this process made the guest runtime's image themselves (one, when they start one after another). */
export function runtimeImagesMade(): number {
  return runtimeImagesReported;
}

export class WorkerHost implements EngineHost {
  readonly exactDeadlines: boolean;
  readonly #worker: Worker;
  /** ServerData.refills, and the worker's thread id as it writes it there. */
  readonly #refills: SharedArrayBuffer | undefined;
  readonly #threadId: number;
  readonly #signal: Int32Array;
  readonly #answers: MessageChannel['port1'];
  readonly #staging: SharedArrayBuffer | undefined;
  readonly #handlers: HostHandlers;
  /** Deadlines (epoch ms) of calls sent and not answered, by call id: the watchdog's input. */
  readonly #deadlines = new Map<number, number>();
  /** With exactDeadlines: the timer at each unanswered call's deadline, by call id. */
  readonly #timers = new Map<number, NodeJS.Timeout>();
  /** Restores sent and not answered: their sandbox, by request id. */
  readonly #restores = new Map<number, number>();
  /**
   * Calls sent behind their sandbox's restore (protocol.ts `budgetMs`), by sandbox: their deadline
   * is known once the restore answers with when it began, and is watched only from then (the call
   * cannot run before its restore has answered).
   */
  readonly #behindRestore = new Map<number, { readonly id: number; readonly budgetMs: number }>();
  readonly #graceMs: number;
  readonly #stuck: StuckWatch;
  /** The worker's OS thread id, when it could say (Linux): the watchdog's grace is then its CPU time. */
  readonly tid: number | undefined;
  #watchdog: NodeJS.Timeout | undefined;
  #exited = false;
  /** Calls go as one string each (text-calls.ts). */
  readonly #textCalls: boolean;
  readonly gone: Promise<void>;

  private constructor(
    worker: Worker,
    signal: Int32Array,
    answers: MessageChannel['port1'],
    staging: SharedArrayBuffer | undefined,
    handlers: HostHandlers,
    exactDeadlines: boolean,
    tid: number | undefined,
    stuckClock: WorkerHostOptions['stuckClock'],
    textCalls: boolean,
    refills: SharedArrayBuffer | undefined,
  ) {
    this.#worker = worker;
    this.#textCalls = textCalls;
    this.#threadId = worker.threadId;
    this.#refills = refills;
    this.#staging = staging;
    this.exactDeadlines = exactDeadlines;
    this.#graceMs = exactDeadlines ? 0 : STUCK_GRACE_MS;
    // A thread id whose CPU time cannot be read (or this very thread's) leaves the wall-time rule.
    const cpuMs = stuckClock?.cpuMs ?? readThreadCpuMs;
    this.tid = tid !== undefined && tid !== process.pid && cpuMs(tid) !== undefined ? tid : undefined;
    this.#stuck = new StuckWatch({ graceMs: this.#graceMs, tid: this.tid, cpuMs, ...(stuckClock?.now ? { now: stuckClock.now } : {}), ...(stuckClock?.backstopMs === undefined ? {} : { backstopMs: stuckClock.backstopMs }) });
    this.#signal = signal;
    this.#answers = answers;
    this.#handlers = handlers;
    this.gone = new Promise((resolve) => worker.once('exit', () => resolve()));
    worker.on('message', (message: ServerEvent | string) => {
      const event = typeof message === 'string' ? decodeReply(message) : message;
      if (event.t === 'reply') {
        this.#deadlines.delete(event.id);
        clearTimeout(this.#timers.get(event.id));
        this.#timers.delete(event.id);
      } else if (event.t === 'ready') {
        const sb = this.#restores.get(event.id);
        this.#restores.delete(event.id);
        const behind = sb === undefined ? undefined : this.#behindRestore.get(sb);
        if (behind) {
          this.#behindRestore.delete(sb!);
          this.#watch(behind.id, (event.began ?? performance.timeOrigin + performance.now()) + behind.budgetMs);
        }
      }
      handlers.onEvent(event);
    });
    worker.on('error', (error: Error) => this.#exit(`the engine worker failed: ${error.message}`));
    worker.on('exit', (code) => this.#exit(code === 0 ? 'the engine worker ended' : `exit status ${code}`));
    worker.unref();
  }

  /** Starts a worker (the guest runtime and QuickJS's compiled module are handed over, not rebuilt). */
  static async start(options: WorkerHostOptions, handlers: HostHandlers): Promise<WorkerHost> {
    if (options.nice !== undefined) assertBackgroundNice(options.nice);
    const [guest, quickjsModule] = await Promise.all([
      options.guestRuntime === false ? undefined : guestRuntime(),
      options.precompileQuickJS === false ? undefined : quickjsWasmModule(),
    ]);
    const signal = new SharedArrayBuffer(SIGNAL_SLOTS * 4);
    const { port1, port2 } = new MessageChannel();
    const staging = options.hostCallBytes === true ? new SharedArrayBuffer(0, { maxByteLength: STAGING_MAX_BYTES }) : undefined;
    const data: ServerData = {
      lambdaletEngineServer: true,
      // The standard library as one shared copy (~3.7 MiB a server held as strings: issue 21).
      ...(guest ? { guest: { script: guest.script, quickjsScript: guest.quickjsScript, stdlib: shareStandardLibrary(guest.stdlib) ?? guest.stdlib } } : {}),
      ...(quickjsModule ? { quickjsModule } : {}),
      instanceCounter: instanceCounterBuffer(),
      signal,
      answers: port2,
      quickjs: options.quickjs,
      ...(guest && options.quickjs.isolation !== 'shared' && firstRuntimeImage?.script === guest.quickjsScript ? { runtimeImage: firstRuntimeImage.image } : {}),
      ...(options.hostCallBytes === true ? { hostCallBytes: true } : {}),
      ...(staging ? { staging } : {}),
      ...(options.textCalls === true ? { textCalls: true } : {}),
      ...(options.guestCpuTime === undefined || options.guestCpuTime === true ? {} : { guestCpuTime: options.guestCpuTime }),
      ...(options.refills ? { refills: options.refills } : {}),
      ...(options.nice === undefined ? {} : { nice: options.nice }),
    };
    const self = new URL(import.meta.url);
    const entry = new URL(`./server${self.pathname.endsWith('.ts') ? '.ts' : '.js'}`, self);
    // Workers inherit the host's flags, but one that only makes sense for its entry script
    // (--input-type) fails a worker: then the list is given, less the process-wide flags a worker
    // may not be given (--no-node-snapshot, which stays in force for the whole process).
    const inherited = process.execArgv;
    const execArgv = inherited.some((flag) => flag.startsWith('--input-type'))
      ? inherited.filter((flag) => !flag.startsWith('--input-type') && flag !== '--no-node-snapshot')
      : undefined;
    const worker = new Worker(entry, { workerData: data, transferList: [port2], ...(execArgv ? { execArgv } : {}) });
    // Started once the server says so: a boot sent earlier would wait behind its module loading anyway.
    let tid: number | undefined;
    const onMessage = (event: ServerEvent): void => {
      if (event.t !== 'up') return fail(`unexpected first event ${event.t}`);
      tid = event.tid;
      if (event.runtimeImage && guest) {
        runtimeImagesReported++;
        firstRuntimeImage ??= { script: guest.quickjsScript, image: event.runtimeImage };
      }
      done();
    };
    const onError = (error: Error): void => fail(error.message);
    const onExit = (code: number): void => fail(`the engine worker exited (${code}) while starting`);
    let done!: () => void;
    let fail!: (reason: string) => void;
    try {
      await new Promise<void>((resolve, reject) => {
        done = resolve;
        fail = (reason) => {
          void worker.terminate();
          reject(new Error(reason));
        };
        worker.on('message', onMessage).on('error', onError).on('exit', onExit);
      });
    } finally {
      worker.off('message', onMessage).off('error', onError).off('exit', onExit);
    }
    return new WorkerHost(worker, new Int32Array(signal), port1, staging, handlers, options.exactDeadlines === true, tid, options.stuckClock, options.textCalls === true, options.refills);
  }

  send(request: ServerRequest): void {
    if (this.#exited) return;
    if (request.t === 'restore') this.#restores.set(request.id, request.sb);
    if (request.t === 'call') {
      if (request.budgetMs !== undefined && [...this.#restores.values()].includes(request.sb)) {
        this.#behindRestore.set(request.sb, { id: request.id, budgetMs: request.budgetMs });
      } else this.#watch(request.id, request.deadline);
      if (this.#textCalls) {
        const text = encodeCall(request);
        if (text !== undefined) {
          this.#worker.postMessage(text);
          return;
        }
      }
    }
    this.#worker.postMessage(request);
  }

  /** Watches call `id` against `deadline` (epoch ms). */
  #watch(id: number, deadline: number): void {
    this.#deadlines.set(id, deadline);
    this.#watchdog ??= setInterval(() => this.#check(), WATCHDOG_INTERVAL_MS).unref();
    if (this.#graceMs === 0) {
      const delay = Math.max(0, deadline - (performance.timeOrigin + performance.now())) + 1;
      this.#timers.set(id, setTimeout(() => this.#check(), delay).unref());
    }
  }

  answer(call: HostCallId, text: string): void {
    this.answerBytes(call, text);
  }

  get deserialising(): boolean {
    return Atomics.load(this.#signal, SIGNAL_DESERIALISING) > 0;
  }

  mayHaveStarted(id: number): boolean {
    const started = Atomics.load(this.#signal, 2);
    return started === STARTED_UNKNOWN || id <= started;
  }

  answerBytes(call: HostCallId, answer: BinaryAnswer): void {
    // A payload is copied, not transferred: it may be the vfs's own buffer.
    if (this.#exited) return;
    postHostAnswer(this.#signal, this.#answers, call, answer);
  }

  staged(length: number): Uint8Array {
    const staging = this.#staging;
    if (!staging || !Number.isSafeInteger(length) || length < 0 || length > staging.byteLength) {
      throw new Error(`lambdalet bug: a staged payload of ${length} bytes is not in the server's staging area`);
    }
    return new Uint8Array(staging, 0, length);
  }

  ref(busy: boolean): void {
    if (busy) this.#worker.ref();
    else this.#worker.unref();
  }

  kill(): void {
    void this.#worker.terminate();
  }

  /**
   * A call still running synchronously past its deadline + grace is stuck (stuck-watch.ts: the
   * grace is the worker thread's CPU time on Linux, wall time elsewhere). While the watchdog holds
   * one (past its deadline, grace not yet burned), the pool hears `overdue` at each look.
   */
  #check(): void {
    if (this.#deadlines.size === 0) {
      clearInterval(this.#watchdog);
      this.#watchdog = undefined;
      this.#stuck.check(0, undefined);
      return;
    }
    const running = Atomics.load(this.#signal, 1);
    const verdict = this.#stuck.check(running, running === 0 ? undefined : this.#deadlines.get(running));
    if (verdict.kind === 'held') this.#handlers.onEvent({ t: 'overdue' });
    else if (verdict.kind === 'stuck') {
      void this.#worker.terminate();
      this.#exit(verdict.reason);
    }
  }

  #exit(reason: string): void {
    if (this.#exited) return;
    this.#exited = true;
    clearInterval(this.#watchdog);
    for (const timer of this.#timers.values()) clearTimeout(timer);
    this.#timers.clear();
    this.#answers.close();
    // A pool refill slot it held (ServerData.refills) is free again.
    if (this.#refills) {
      const slots = new Int32Array(this.#refills);
      for (let i = 0; i < slots.length; i++) Atomics.compareExchange(slots, i, refillOwner(this.#threadId), 0);
    }
    this.#handlers.onExit(reason);
  }
}
