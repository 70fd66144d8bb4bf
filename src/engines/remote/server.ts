/**
 * The engine server: the entry point of a worker thread that hosts many sandboxes (of either
 * engine) for the host thread's remote-engine.ts. Guest code runs here, never on the host's thread.
 *
 * The guest's synchronous host calls (file system, fetch, randomness) go to the host thread, which
 * owns each environment's HostBridge: the worker posts the call, then blocks in `Atomics.wait` until
 * the host has put the answer on a dedicated port and flagged it; it reads the answer with
 * `receiveMessageOnPort` (host-answer.ts: every answer names its call, and one that is not the
 * waiting call's ends the server). Standard-library chunks never cross: the engine answers them here.
 * Measured (docs/architecture.md): one such round trip costs tens of microseconds; moving the
 * file system beside the sandbox would save that but split each environment across two threads.
 *
 * For the host's watchdog, the id of the call running synchronously (QuickJS) is kept in shared
 * memory: a call that runs past its deadline without answering gets the worker terminated.
 */
import { isMainThread, parentPort, threadId, workerData } from 'node:worker_threads';
import type { EngineName } from '../../config/index.ts';
import type { FunctionBundle } from '../../code/types.ts';
import type { BinaryAnswer } from '../binary-host-call.ts';
import { SandboxFault, SnapshotUnsupportedError, type Blueprint, type Engine, type Sandbox, type SandboxImage, type SandboxOptions } from '../engine.ts';
import { useGuestRuntime } from '../guest-bundle.ts';
import { isSharedStandardLibrary, standardLibraryView } from '../shared-stdlib.ts';
import { encodeReply, type GuestReply } from '../guest/protocol.ts';
import { InThreadQuickJS, useInstanceCounter } from '../quickjs/in-thread.ts';
import type { QuickJSImageParts } from '../quickjs/snapshot.ts';
import type { RuntimeImage } from '../quickjs/runtime-image.ts';
import type { V8Engine, V8EngineOptions } from '../v8/v8-engine.ts';
import { useCompiledModule } from '../quickjs/wasm.ts';
import { InThreadWasm } from '../wasm/in-thread.ts';
import { HostCallMismatchError, nextHostCall, receiveHostAnswer } from './host-answer.ts';
import { isHeavyHostCall } from './heavy-calls.ts';
import { HEAVY_CALL_CPU_MS } from './engine-pool.ts';
import { refillOwner, SIGNAL_DESERIALISING, STAGING_MAX_BYTES, STARTED_UNKNOWN, type ErrorCopy, type FaultShape, type ServerData, type ServerEvent, type ServerRequest } from './protocol.ts';
import { BACKGROUND_THREAD_NAME, lowerThisThreadPriority } from './thread-priority.ts';
import { thisThreadId } from './stuck-watch.ts';
import { decodeCall, encodeReply as encodeReplyEvent } from './text-calls.ts';

/** Signal slot of the call running synchronously (see ServerData.signal; slot 0 is host-answer.ts's). */
const RUNNING = 1;
/** Signal slot of the highest synchronous call id started (ServerData.signal). */
const STARTED = 2;

class EngineServer {
  readonly #data: ServerData;
  readonly #signal: Int32Array;
  readonly #post: (event: ServerEvent, transfer?: ArrayBuffer[]) => void;
  readonly #postText: (text: string) => void;
  readonly #engines = new Map<EngineName, Promise<Engine>>();
  readonly #blueprints = new Map<number, Promise<Blueprint>>();
  readonly #sandboxes = new Map<number, { readonly sandbox: Sandbox; readonly engine: EngineName }>();
  /** Each defined blueprint's engine: v8 sandboxes get asynchronous heavy host calls ({@link #heavyCall}). */
  readonly #engineOf = new Map<number, EngineName>();
  /** v8 sandboxes' heavy host calls out at the host, by call number. */
  readonly #heavyCalls = new Map<number, { readonly sb: number; readonly resolve: (answer: BinaryAnswer) => void }>();
  /**
   * Boots and restores in progress, by sandbox: a call sent right behind its sandbox's start
   * (Blueprint.restore's `resume`) waits for it, and finds the sandbox, or none if it failed.
   */
  readonly #starting = new Map<number, Promise<unknown>>();
  /** When each restore began here (epoch ms, its image at hand), until its sandbox's first call: that call's `budgetMs` counts from it. */
  readonly #restoreBegan = new Map<number, number>();
  /** Images by id; an adopted v8 image is verified asynchronously (a restore waits for it). */
  readonly #images = new Map<number, SandboxImage | Promise<SandboxImage | undefined>>();
  #quickjs: InThreadQuickJS | undefined;
  #wasm: InThreadWasm | undefined;
  #v8Engine: Promise<V8Engine> | undefined;
  /** Calls in flight (request id → sandbox): a catastrophe reports the ones it failed (#onCatastrophe). */
  readonly #callsInFlight = new Map<number, number>();
  /** The `hc` of this server's latest host call (0: none yet). */
  #lastHostCall = 0;
  /** Time this thread spent blocked on host answers so far, in ms (a call's `busyMs` leaves it out). */
  #hostWaitMs = 0;
  /** guestCpuTime 'after-busy': sandboxes whose last call was busy for the heavy bar (their next call's CPU is read). */
  readonly #busySandboxes = new Set<number>();

  constructor(data: ServerData, post: (event: ServerEvent | string, transfer?: ArrayBuffer[]) => void) {
    this.#data = data;
    this.#signal = new Int32Array(data.signal);
    this.#post = post;
    this.#postText = post;
  }

  /** A request as the port delivers it: an object, or a call as one string (text-calls.ts). */
  receive(request: ServerRequest | string): void {
    this.handle(typeof request === 'string' ? decodeCall(request) : request);
  }

  /** Requests are handled in arrival order; a QuickJS call runs to its end before the next starts. */
  handle(request: ServerRequest): void {
    switch (request.t) {
      case 'define':
        this.#define(request);
        return;
      case 'forget':
        this.#blueprints.delete(request.bp);
        this.#engineOf.delete(request.bp);
        return;
      case 'heavyAnswer': {
        // Only the call still waiting under this number, for this sandbox: never a stale answer.
        const waiting = this.#heavyCalls.get(request.hc);
        if (waiting?.sb !== request.sb) return;
        this.#heavyCalls.delete(request.hc);
        waiting.resolve(request.answer);
        return;
      }
      case 'boot':
      case 'restore': {
        const started = this.#start(request);
        const settled = started.then(
          () => this.#starting.delete(request.sb),
          () => this.#starting.delete(request.sb),
        );
        this.#starting.set(request.sb, settled);
        this.#answerReady(request.id, started, request.t === 'restore' ? () => this.#restoreBegan.get(request.sb) : undefined);
        return;
      }
      case 'call':
        void this.#call(request);
        return;
      case 'snapshot':
        this.#answerReady(request.id, this.#snapshot(request.sb, request.img));
        return;
      case 'dispose': {
        const entry = this.#sandboxes.get(request.sb);
        this.#sandboxes.delete(request.sb);
        this.#busySandboxes.delete(request.sb);
        this.#restoreBegan.delete(request.sb);
        entry?.sandbox.dispose();
        for (const [hc, call] of this.#heavyCalls) if (call.sb === request.sb) this.#heavyCalls.delete(hc);
        return;
      }
      case 'adopt':
        if (request.engine === 'quickjs') this.#images.set(request.img, this.#quickjsEngine().importImage(request.parts as QuickJSImageParts));
        else {
          const adopted = this.#v8().then((v8) => v8.importImage(request.parts as Parameters<V8Engine['importImage']>[0]));
          // An image that does not verify here is simply not restorable here (the restore says so).
          this.#images.set(request.img, adopted.catch(() => undefined));
          if (request.id !== undefined) this.#answerReady(request.id, adopted.then(() => undefined));
        }
        return;
      case 'drop': {
        const image = this.#images.get(request.img);
        this.#images.delete(request.img);
        void Promise.resolve(image).then((i) => i?.dispose());
        return;
      }
    }
  }

  /**
   * Readies the QuickJS engine (module, guest runtime image); settles once done, failed or not,
   * with the runtime image when this server made it (for the host to hand to later servers).
   */
  async warmQuickJS(): Promise<RuntimeImage | undefined> {
    const engine = this.#quickjsEngine();
    try {
      await engine.warm();
      return await engine.madeRuntimeImage();
    } catch {
      return undefined;
    }
  }

  #quickjsEngine(): InThreadQuickJS {
    this.#quickjs ??= new InThreadQuickJS({ ...this.#data.quickjs, ...(this.#data.runtimeImage ? { madeRuntimeImage: this.#data.runtimeImage } : {}) });
    return this.#quickjs;
  }

  #engine(name: EngineName): Promise<Engine> {
    let engine = this.#engines.get(name);
    if (!engine) {
      engine = name === 'quickjs' ? Promise.resolve(this.#quickjsEngine()) : this.#v8();
      this.#engines.set(name, engine);
    }
    return engine;
  }

  /** isolated-vm is loaded only by a server that hosts v8 sandboxes or images (process isolation). */
  #v8(): Promise<V8Engine> {
    this.#v8Engine ??= import('../v8/v8-engine.ts').then(
      ({ V8Engine }) =>
        new V8Engine({
          insideEngineServer: true,
          onCatastrophe: (catastrophe) => this.#onCatastrophe(catastrophe),
          ...(this.#data.refills ? { refillGate: refillGate(this.#data.refills) } : {}),
          // The host reads it to send restores to a server whose thread is free (protocol.ts).
          ...(this.#signal.length > SIGNAL_DESERIALISING ? { onDeserialising: (delta: 1 | -1) => void Atomics.add(this.#signal, SIGNAL_DESERIALISING, delta) } : {}),
        }),
    );
    return this.#v8Engine;
  }

  /**
   * isolated-vm's catastrophic error here: the v8 engine admits nothing more, so this server tells
   * the host at once that it is unhealthy (the host drains and replaces it: engine-pool.ts) —
   * whether or not a call was in flight. With the event go the calls the catastrophe failed and
   * their fault, so the host answers them from it: their own replies follow in separate messages,
   * and a host busy past its grace period (it forks the replacement meanwhile: 300 ms at load ~17)
   * ended them as Runtime.ExitError before reading them, the bombed invocation included.
   */
  #onCatastrophe({ reason, sandbox, fault }: Parameters<NonNullable<V8EngineOptions['onCatastrophe']>>[0]): void {
    let sb: number | undefined;
    for (const [id, entry] of this.#sandboxes) if (entry.sandbox === sandbox) sb = id;
    const failed = sb === undefined || !fault ? [] : [...this.#callsInFlight].filter(([, of]) => of === sb).map(([id]) => ({ id, fault: faultShape(fault) }));
    this.#post({ t: 'unhealthy', reason, ...(failed.length > 0 ? { failed } : {}) });
  }

  #define(request: Extract<ServerRequest, { t: 'define' }>): void {
    // The engines read only the script, its name and hash; stack remapping stays with the host.
    const bundle = { script: request.script, filename: request.filename, hash: request.hash, handler: '', handlerPath: [], remapStack: (l: readonly string[]) => [...l] };
    const { wasm } = request;
    const blueprint =
      request.engine === 'wasm'
        ? wasm
          ? (this.#wasm ??= new InThreadWasm()).prepare(wasm)
          : Promise.reject(new Error('lambdalet bug: a wasm definition without its component'))
        : this.#engine(request.engine).then((engine) => engine.prepare(bundle as FunctionBundle));
    blueprint.catch(() => {}); // reported by the boot that needs it
    this.#blueprints.set(request.bp, blueprint);
    this.#engineOf.set(request.bp, request.engine);
  }

  #options(sb: number, memoryMb: number, engine: EngineName | undefined): SandboxOptions {
    return {
      memoryMb,
      onLog: (level, message) => this.#post({ t: 'log', sb, level, message }),
      hostCall: (op, args) => this.#hostCall(sb, op, args),
      ...(this.#data.hostCallBytes === true ? { hostCallBytes: (op: string, args: string, bytes: Uint8Array | undefined) => this.#hostCallBytes(sb, op, args, bytes) } : {}),
      // A v8 guest waits for a heavy call on its isolate's own thread, so this thread need not
      // block in the handshake for it (a QuickJS guest runs on this thread: it cannot).
      ...(engine === 'v8' ? { hostCallAsyncBytes: (op: string, args: string, bytes: Uint8Array | undefined, signal?: AbortSignal) => this.#heavyCall(sb, op, args, bytes, signal) } : {}),
    };
  }

  /**
   * A v8 sandbox's heavy host call, sent to the host as a `heavy` event; the promise resolves with
   * the `heavyAnswer` naming this call. Meanwhile this thread serves its other sandboxes (before,
   * two pbkdf2 loops in one child blocked it in the handshake and froze a neighbour for seconds).
   * Undefined for a call that is not heavy: answered synchronously by {@link #hostCallBytes}.
   * When `signal` aborts (the sandbox disposed or its call's deadline) the call is forgotten and
   * the host told: a late answer finds nothing waiting and is dropped.
   */
  #heavyCall(sb: number, op: string, args: string, bytes: Uint8Array | undefined, signal: AbortSignal | undefined): Promise<BinaryAnswer> | undefined {
    if (!isHeavyHostCall(op, args, bytes)) return undefined;
    const hc = (this.#lastHostCall = nextHostCall(this.#lastHostCall));
    return new Promise<BinaryAnswer>((resolve) => {
      const abandon = (): void => {
        if (!this.#heavyCalls.delete(hc)) return;
        this.#post({ t: 'heavyAbort', sb, hc });
        resolve(`e${JSON.stringify({ name: 'Error', message: `lambdalet: ${op} did not finish before the invocation's deadline` })}`);
      };
      this.#heavyCalls.set(hc, {
        sb,
        resolve: (answer) => {
          signal?.removeEventListener('abort', abandon);
          resolve(answer);
        },
      });
      const payload = bytes === undefined ? undefined : bytes.slice().buffer;
      this.#post({ t: 'heavy', sb, hc, op, args, ...(payload ? { bytes: payload } : {}) }, payload ? [payload] : undefined);
      if (signal?.aborted) abandon();
      else signal?.addEventListener('abort', abandon, { once: true });
    });
  }

  /**
   * {@link #hostCall} with payloads as bytes: the request's payload is copied once (it may be a view
   * of a WebAssembly memory) — for `fs` (file contents) into the staging area the host reads in
   * place, else into a new ArrayBuffer that is transferred; the answer's payload arrives as an
   * ArrayBuffer.
   */
  #hostCallBytes(sb: number, op: string, args: string, bytes: Uint8Array | undefined): BinaryAnswer {
    const staged = op === 'fs' && bytes !== undefined ? this.#stage(bytes) : undefined;
    if (staged !== undefined) return this.#await(sb, (hc) => this.#post({ t: 'host', sb, hc, op, args, binary: true, staged }));
    const payload = bytes === undefined ? undefined : bytes.slice().buffer;
    return this.#await(sb, (hc) => this.#post({ t: 'host', sb, hc, op, args, binary: true, ...(payload ? { bytes: payload } : {}) }, payload ? [payload] : undefined));
  }

  /**
   * Copies `bytes` to the start of the staging area (grown to fit, up to STAGING_MAX_BYTES) and
   * returns their length; undefined when there is no area or they do not fit. The host reads them
   * while this thread waits for its answer, and only then: one host call at a time per server.
   */
  #stage(bytes: Uint8Array): number | undefined {
    const staging = this.#data.staging;
    if (!staging || bytes.length > STAGING_MAX_BYTES || !staging.growable) return undefined;
    if (staging.byteLength < bytes.length) staging.grow(bytes.length);
    new Uint8Array(staging, 0, bytes.length).set(bytes);
    return bytes.length;
  }

  /** Blocks this thread until the host answers (see the module comment). */
  #hostCall(sb: number, op: string, args: string): string {
    const answer = this.#await(sb, (hc) => this.#post({ t: 'host', sb, hc, op, args }));
    // The host answers a text call with text; bytes here would be a host bug, not the guest's data.
    return typeof answer === 'string' ? answer : `e${JSON.stringify({ name: 'Error', message: `lambdalet: the host answered ${op} in bytes` })}`;
  }

  /**
   * Sends host call `hc` (numbered here) and blocks this thread until the host's answer to it is on
   * the answers port (host-answer.ts). An answer that is not this call's ends the server: it is
   * never handed to a guest.
   */
  #await(sb: number, send: (hc: number) => void): BinaryAnswer {
    const hc = (this.#lastHostCall = nextHostCall(this.#lastHostCall));
    send(hc);
    const waitStarted = performance.now();
    try {
      return receiveHostAnswer(this.#signal, this.#data.answers, { sb, hc });
    } catch (error) {
      if (!(error instanceof HostCallMismatchError)) throw error;
      // Not through the guest (which could catch it): the host logs the reason and replaces the
      // server; ending this thread here fails the calls of every sandbox it hosts.
      this.#post({ t: 'unhealthy', reason: error.message, code: error.code });
      process.exit(70);
    } finally {
      this.#hostWaitMs += performance.now() - waitStarted;
    }
  }

  async #start(request: Extract<ServerRequest, { t: 'boot' | 'restore' }>): Promise<undefined> {
    const blueprint = await this.#blueprints.get(request.bp);
    if (!blueprint) throw new Error(`lambdalet bug: blueprint ${request.bp} was not defined in this worker`);
    const options = this.#options(request.sb, request.memoryMb, this.#engineOf.get(request.bp));
    let sandbox: Sandbox;
    if (request.t === 'boot') sandbox = await blueprint.boot(options);
    else {
      const image = await this.#images.get(request.img);
      if (!image) throw new Error('the image is not available in this worker (it was disposed, or lost with its process)');
      if (!blueprint.restore) throw new Error(`the ${blueprint.engine} engine cannot restore snapshots`);
      this.#restoreBegan.set(request.sb, performance.timeOrigin + performance.now());
      sandbox = await blueprint.restore(image, options);
    }
    this.#sandboxes.set(request.sb, { sandbox, engine: blueprint.engine });
    return undefined;
  }

  async #snapshot(sb: number, img: number): Promise<Extract<ServerEvent, { t: 'ready' }>['image']> {
    const entry = this.#sandboxes.get(sb);
    if (!entry) throw new SandboxFault('disposed', 'The sandbox was disposed');
    // (the wasm engine's components: SnapStart falls back to pre-initialised environments)
    if (!entry.sandbox.snapshot) throw new SnapshotUnsupportedError(`the ${entry.engine} engine cannot snapshot sandboxes`);
    const image = await entry.sandbox.snapshot();
    this.#images.set(img, image);
    // Other servers adopt it: a QuickJS image's bytes are in shared memory (no copy between
    // workers); a V8 image's snapshot bytes are copied and verified again where adopted.
    const parts = entry.engine === 'quickjs' ? this.#quickjsEngine().exportImage(image) : (await this.#v8()).exportImage(image);
    return { kind: image.kind, memoryMb: image.memoryMb, sizeBytes: image.sizeBytes, ...(parts ? { parts } : {}) };
  }

  #answerReady(id: number, work: Promise<Extract<ServerEvent, { t: 'ready' }>['image']>, began?: () => number | undefined): void {
    work.then(
      (image) => {
        const at = began?.();
        this.#post({ t: 'ready', id, ...(image ? { image } : {}), ...(at === undefined ? {} : { began: at }) });
      },
      (error: unknown) => this.#post({ t: 'ready', id, error: copyError(error) }),
    );
  }

  async #call(request: Extract<ServerRequest, { t: 'call' }>): Promise<void> {
    const starting = this.#starting.get(request.sb);
    if (starting) await starting;
    const entry = this.#sandboxes.get(request.sb);
    if (!entry) {
      this.#post({ t: 'reply', id: request.id, fault: { kind: 'disposed', message: 'The sandbox was disposed' }, memoryBytes: 0 });
      return;
    }
    const { sandbox, engine } = entry;
    // A call sent behind its restore: its time counts from the restore's start here (protocol.ts).
    const began = this.#restoreBegan.get(request.sb);
    this.#restoreBegan.delete(request.sb);
    const deadline = request.budgetMs !== undefined && began !== undefined ? began + request.budgetMs : request.deadline;
    const timeoutMs = Math.max(0, deadline - (performance.timeOrigin + performance.now()));
    // QuickJS and a component instance run the whole call synchronously: the watchdog may see it running.
    const synchronous = engine !== 'v8';
    if (synchronous) {
      Atomics.store(this.#signal, RUNNING, request.id);
      // Only this thread writes it: before any guest code of the call runs.
      if (request.id > Atomics.load(this.#signal, STARTED)) Atomics.store(this.#signal, STARTED, Math.min(request.id, STARTED_UNKNOWN));
    }
    // The guest's CPU time: a v8 isolate's own (it runs on isolated-vm's threads), else this thread's
    // (two getrusage calls, a few µs of every warm call: only for a pool that weighs calls, and with
    // 'after-busy' only after a busy call of the sandbox, so trivial calls never pay them).
    const mode = this.#data.guestCpuTime ?? true;
    const cpuTime = sandbox.cpuTimeMs
      ? () => sandbox.cpuTimeMs!()
      : mode === false || (mode === 'after-busy' && !this.#busySandboxes.has(request.sb))
        ? undefined
        : threadCpuMs;
    const cpuBefore = cpuTime?.() ?? 0;
    const startedAt = performance.now();
    const hostWaitBefore = this.#hostWaitMs;
    let reply: GuestReply;
    this.#callsInFlight.set(request.id, request.sb);
    try {
      reply = await sandbox.call(request.message, timeoutMs);
    } catch (error) {
      this.#post({ t: 'reply', id: request.id, fault: this.#fault(request.sb, error), memoryBytes: 0 });
      return;
    } finally {
      this.#callsInFlight.delete(request.id);
      if (synchronous) Atomics.store(this.#signal, RUNNING, 0);
    }
    let status: string | { fault: FaultShape } | undefined;
    if (!reply.done) {
      try {
        status = encodeReply(sandbox.peek({ type: 'status' }));
      } catch (error) {
        status = { fault: this.#fault(request.sb, error) };
      }
    }
    const cpuMs = cpuTime ? cpuTime() - cpuBefore : undefined;
    // A loaded machine gives a spinning guest little CPU per call (a 50 ms spin got ~3 ms at load
    // 25): the time it was runnable tells it apart from one waiting for the host (engine-pool.ts
    // HEAVY_CALL_MIN_CPU_FRACTION).
    const busyMs = synchronous && mode !== false ? performance.now() - startedAt - (this.#hostWaitMs - hostWaitBefore) : undefined;
    if (busyMs !== undefined && mode === 'after-busy') {
      if (busyMs >= HEAVY_CALL_CPU_MS) this.#busySandboxes.add(request.sb);
      else this.#busySandboxes.delete(request.sb);
    }
    const event: Extract<ServerEvent, { t: 'reply' }> = {
      t: 'reply',
      id: request.id,
      reply: encodeReply(reply),
      ...(status ? { status } : {}),
      memoryBytes: sandbox.memoryUsedBytes(),
      ...(cpuMs === undefined ? {} : { cpuMs }),
      ...(busyMs === undefined ? {} : { busyMs }),
    };
    // One string across the port when the host reads them (text-calls.ts).
    const text = this.#data.textCalls === true ? encodeReplyEvent(event) : undefined;
    if (text === undefined) this.#post(event);
    else this.#postText(text);
  }

  /**
   * A fault ends the sandbox. (A v8 engine that stopped admitting work has made this server
   * unhealthy already, before this reply: #onCatastrophe. The host must know the server is going
   * before the reply lets its caller invoke again, or a neighbour's idle environment here could be
   * handed out.)
   */
  #fault(sb: number, error: unknown): FaultShape {
    this.#sandboxes.delete(sb);
    return faultShape(error);
  }
}

function faultShape(error: unknown): FaultShape {
  if (error instanceof SandboxFault) {
    return { kind: error.kind, message: error.message, ...(error.reason ? { reason: error.reason } : {}), ...(error.settled ? { settled: error.settled } : {}) };
  }
  return { kind: 'crashed', message: error instanceof Error ? error.message : String(error) };
}

/** This thread's CPU time in ms (process.threadCpuUsage, Node >= 23.9). */
function threadCpuMs(): number {
  const usage = process.threadCpuUsage();
  return (usage.user + usage.system) / 1000;
}

/** ServerData.refills as a gate: `enter` takes a free slot (writes this thread's id there), `leave` frees it. */
export function refillGate(refills: SharedArrayBuffer): { enter(): boolean; leave(): void } {
  const slots = new Int32Array(refills);
  const owner = refillOwner(threadId);
  let held = -1;
  return {
    enter: () => {
      if (held >= 0) return true;
      for (let i = 0; i < slots.length; i++) {
        if (Atomics.compareExchange(slots, i, 0, owner) === 0) {
          held = i;
          return true;
        }
      }
      return false;
    },
    leave: () => {
      if (held >= 0) Atomics.compareExchange(slots, held, owner, 0);
      held = -1;
    },
  };
}

function copyError(error: unknown): ErrorCopy {
  if (error instanceof Error) return { name: error.name, message: error.message };
  return { name: 'Error', message: String(error) };
}

if (!isMainThread && parentPort && (workerData as { lambdaletEngineServer?: boolean } | null)?.lambdaletEngineServer) {
  const data = workerData as ServerData;
  // Before any guest code runs here. Where the OS has no per-thread priority, the server runs at
  // normal priority (thread-priority.ts).
  if (data.nice !== undefined) lowerThisThreadPriority(data.nice, BACKGROUND_THREAD_NAME);
  if (data.guest) {
    const { script, quickjsScript, stdlib } = data.guest;
    useGuestRuntime({ script, quickjsScript, stdlib: isSharedStandardLibrary(stdlib) ? standardLibraryView(stdlib) : stdlib });
  }
  useInstanceCounter(data.instanceCounter);
  if (data.quickjsModule) useCompiledModule(data.quickjsModule);
  const port = parentPort;
  const server = new EngineServer(data, (event, transfer) => port.postMessage(event, transfer));
  port.on('message', (request: ServerRequest | string) => server.receive(request));
  // A QuickJS server readies its engine (the guest runtime's image) before it says it is up, so
  // the pool places no cold start on it before then and the first deploy waits for it: no cold
  // start's Init Duration pays for it (a new user's first `lambdalet invoke --engine quickjs` did:
  // 230-280 ms at load ~12). A failure is the engine's to report (it falls back to parsing). An
  // image it made goes with `up` (its bytes are in shared memory): later servers are given it.
  // The thread's OS id goes with it: the watchdog counts its grace in this thread's CPU time (stuck-watch.ts).
  const tid = thisThreadId();
  const up = (runtimeImage?: RuntimeImage): void =>
    port.postMessage({ t: 'up', ...(runtimeImage ? { runtimeImage } : {}), ...(tid === undefined ? {} : { tid }) } satisfies ServerEvent);
  if (data.guest && data.quickjsModule) void server.warmQuickJS().then(up);
  else up();
}
