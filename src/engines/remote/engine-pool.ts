/**
 * A pool of engine servers (worker threads, or child processes each relaying to one) and the
 * sandboxes living in them, seen from the host thread.
 *
 * - The first deploy starts all `size` servers (waiting for one); a dead one is replaced at once. A
 *   boot goes to an idle started server; else, below `maxSize`, to a new server; else to the started
 *   one with the least work in flight (then the fewest sandboxes). Below `maxSize` one server
 *   without sandboxes is kept started ahead of demand (the spare), so a cold start that grows the
 *   pool waits for a server to start only in a burst that outruns the spare (a QuickJS server is up
 *   once its engine is ready). A spare adopts no shared image, and so keeps no blanks, until its
 *   first sandbox is placed on it. A sandbox stays in its server for life; calls to sandboxes of one
 *   QuickJS server run one at a time.
 * - Function code is sent to a server once (`define`) before its first boot there.
 * - A server that dies (crash, kill, catastrophic error, stuck past a deadline) ends only its own
 *   sandboxes: calls in flight fail (`timeout` if their deadline had passed, else `crashed`, with
 *   the exit's reason; `not-started` for a QuickJS or component call the server certainly never
 *   began — queued behind the stuck one — whose invocation then runs again elsewhere: invoke/run.ts),
 *   and the next boot starts a new server. So does one engine server (worker)
 *   inside a child that goes on (its `lost` event, child-servers.ts): only that worker's sandboxes.
 * - Every request is bounded on the host's clock, whatever the server does (see
 *   {@link DEFAULT_POOL_LIMITS}): a call is due an answer {@link PoolLimits.callGraceMs} past its
 *   deadline, a boot/restore/snapshot within {@link PoolLimits.workMs}. A server none of whose
 *   requests has an answer by then, and that has answered nothing for callGraceMs (none can still
 *   be legitimately running) is killed (SIGKILL
 *   for a child, terminate for a worker) and given up at once, without waiting for its exit: its
 *   calls fail as a `timeout` (Sandbox.Timedout), its other sandboxes as `crashed`
 *   (Runtime.ExitError), and a replacement starts. The servers' own bounds
 *   (QuickJS's interrupt, V8's host-clock bound per call, the worker watchdog) all run on the
 *   server's event loop, so none of them can act when the server itself is deadlocked, stopped or
 *   starved (issue #15: a v8-process child that never answered hung CI for 400 s).
 * - CPU-heavy functions (optional, `background`): {@link HEAVY_CALLS_IN_A_ROW} invocation calls of a
 *   sandbox in a row whose guest used at least `heavyCallCpuMs` of CPU mark its function heavy;
 *   that sandbox is retired (its environment ends when next idle: engine.ts `retired`) and the
 *   function's sandboxes start from then on in background servers (process isolation: children at
 *   a lower OS priority; in-process QuickJS: worker threads at a lower priority), up to `maxSize`
 *   of them (a QuickJS server runs one call at a time: one heavy tenant's calls must not queue
 *   another's, as in `#pick`).
 *   Four spinning tenants at normal priority raised a neighbour's p99 10-150x on 2 cores; in a
 *   separate process at nice 19, 0.3-2x in most runs (docs/benchmarks.md, issue #15 fairness).
 * - Servers are unreferenced while idle: they never keep the host process alive. Pools are shared
 *   per configuration by the whole process and live as long as it does (size × a worker's or a
 *   child's footprint).
 */
import type { FunctionBundle } from '../../code/types.ts';
import type { EngineName } from '../../config/index.ts';
import { EngineUnavailableError } from '../../errors.ts';
import { binaryAnswer, textAnswer, textRequest, type BinaryAnswer } from '../binary-host-call.ts';
import { SandboxFault, SnapshotUnsupportedError, type SandboxImage, type SandboxOptions, type SentAhead } from '../engine.ts';
import type { HostMessage } from '../guest/protocol.ts';
import type { WasmDefinition } from '../wasm/in-thread.ts';
import type { ErrorCopy, ImageInfo, ServerEvent, ServerRequest } from './protocol.ts';
import { RemoteSandbox } from './remote-sandbox.ts';
import type { EngineHost, HostFactory } from './worker-host.ts';

type Answer = Extract<ServerEvent, { t: 'reply' | 'ready' }>;

interface Pending {
  readonly resolve: (event: Answer) => void;
  readonly reject: (error: Error) => void;
  /**
   * Epoch ms after which the server is given up if this is still unanswered (see PoolLimits). A
   * boot/restore/snapshot sent to a server still starting counts from its start (#spawn).
   */
  giveUpAt: number;
  /** Calls only: epoch ms (a call sent behind a restore: moved to count from the restore's start, #restoreBegan). */
  deadline?: number;
  /** Calls only: the sandbox called. */
  readonly sb?: number;
  /** Calls of an invocation (not INIT's, a restore's or a snapshot's): their CPU time is weighed (#weigh). */
  readonly weigh?: boolean;
  /**
   * Calls the server runs on its own thread (QuickJS, components; not v8's): it records the highest
   * id it started (EngineHost.mayHaveStarted), so one lost with the server is known not to have started.
   */
  readonly synchronous?: boolean;
}

/** Guest messages of an invocation: a function's INIT may be heavy once without making it CPU-heavy. */
const INVOCATION_MESSAGES: ReadonlySet<HostMessage['type']> = new Set(['invoke', 'tick', 'drain']);

interface Server {
  readonly host: Promise<EngineHost>;
  started?: EngineHost;
  readonly sandboxes: Map<number, RemoteSandbox>;
  readonly pending: Map<number, Pending>;
  readonly defined: Set<number>;
  /** Images made here that only this server can restore. */
  readonly pinned: Set<number>;
  /**
   * Whether the shared images are sent to it (a QuickJS server then keeps blanks ready for each):
   * false for a spare until its first sandbox is placed on it (see #keepSpare).
   */
  holdsImages: boolean;
  dead: boolean;
  /** When (epoch ms) this server last answered a request: a server answering is not stuck. */
  lastAnswerAt?: number;
  /** Reported unhealthy: takes no new sandboxes and is killed shortly (see {@link UNHEALTHY_GRACE_MS}). */
  draining: boolean;
  /** Started by the background factory: hosts only CPU-heavy functions' sandboxes. */
  readonly background: boolean;
  /** Each sandbox's blueprint (the function version it runs). */
  readonly blueprintOf: Map<number, number>;
  /** Each sandbox's run of invocation calls in a row at or over the heavy bar (#weigh). */
  readonly heavyRun: Map<number, number>;
  /** v8 sandboxes' heavy host calls being worked on (`heavy` events), by `sb:hc`: aborted when the server gives up on one or goes. */
  readonly heavyCalls: Map<string, AbortController>;
  /** The request id of the call sent behind each sandbox's restore, until the restore answers (#restoreBegan). */
  readonly aheadCalls: Map<number, number>;
}

/**
 * Invocation calls in a row at or over the heavy bar that make a function heavy. Not one: v8's
 * figure is isolated-vm's `cpuTime`, which counts the time the isolate was held on a steady clock,
 * preemption included (a 50 ms spin read 55-97 ms; a trivial neighbour's call read 24 ms once at
 * load ~35), so one slow call of a light function must not move it.
 */
export const HEAVY_CALLS_IN_A_ROW = 3;

/**
 * CPU-heavy functions' sandboxes ({@link HEAVY_CALLS_IN_A_ROW} calls of at least
 * {@link HEAVY_CALL_CPU_MS} of guest CPU) move to background servers at this nice value: a child
 * process started at it (process isolation), or a worker thread that lowers its own thread to it
 * (in-process QuickJS, thread-priority.ts). Under contention the OS runs the host's and the other
 * tenants' threads first; an idle machine still gives them every core.
 */
export const BACKGROUND_NICE = 10;
/**
 * Guest CPU time in one call that makes a function CPU-heavy, in ms. CPU time, not wall time: a
 * light call preempted under load never reaches it, while a spinning one gets less CPU than its
 * wall time under load (a 100 ms spin was given 8 ms at load 30 here), so the bar is low; the mark
 * stays. (v8's figure counts preemption: hence calls in a row.)
 */
export const HEAVY_CALL_CPU_MS = 10;
/**
 * A call on a server's own thread (QuickJS) also counts as heavy when its busy time (the reply's
 * `busyMs`: wall time less waits for the host, so preemption included, as v8's figure is) reaches
 * the bar and its CPU time reaches this fraction of it: under load a spinning guest gets only its
 * share of a core (a 50 ms QuickJS spin: ~3 ms of CPU at load 25, never the bar), while a light
 * call that was merely preempted uses a trivial handler's tens of microseconds.
 */
export const HEAVY_CALL_MIN_CPU_FRACTION = 0.1;

/** Where CPU-heavy functions' sandboxes go (see the module comment). */
export interface BackgroundServers {
  /** Starts a background server (process isolation: a child at a lower OS priority). */
  readonly factory: HostFactory;
  /** A call whose guest CPU time reaches this (ms) makes its function heavy. */
  readonly heavyCallCpuMs: number;
}

/**
 * How long an unhealthy server (isolated-vm's catastrophic error) is left to deliver the answers
 * already on their way (the failing call's out-of-memory reply) before it is killed.
 */
export const UNHEALTHY_GRACE_MS = 250;

/** The host's own bounds on a server's answers (see the module comment). */
export interface PoolLimits {
  /**
   * How long past a call's deadline its answer may take. Covers what a healthy server may
   * legitimately add — V8's own host-clock bound (v8-sandbox.ts, 1 s), the status read after a
   * call that ends near its deadline (up to 2 s), the worker watchdog's grace — and IPC on a loaded
   * machine. A server whose watchdog holds a call past its deadline (a starved worker thread: its
   * grace is CPU time, stuck-watch.ts) says `overdue` at each look and counts as answering.
   */
  readonly callGraceMs: number;
  /** How long a boot, restore or snapshot may take (a v8 snapshot replays INIT, 10 s, in a child of its own). */
  readonly workMs: number;
}

export const DEFAULT_POOL_LIMITS: PoolLimits = { callGraceMs: 5000, workMs: 60_000 };

/** How often the pool looks for requests past their bound (only while some are in flight). */
const GIVE_UP_CHECK_MS = 250;

/** Servers a sandbox start tries when the ones it was sent to die under it (see `#start`). */
const START_ATTEMPTS = 3;

export interface BlueprintDef {
  readonly bp: number;
  readonly engine: EngineName;
  readonly bundle: FunctionBundle;
  readonly wasm?: WasmDefinition;
}

export class RemoteImage implements SandboxImage {
  readonly engine: EngineName;
  readonly kind: SandboxImage['kind'];
  readonly memoryMb: number;
  readonly sizeBytes: number;
  readonly img: number;
  readonly parts: unknown;
  /** The server that made it; absent for an image made outside the servers (EnginePool.share). */
  readonly owner: Server | undefined;
  #dispose: () => void;
  #disposed = false;
  /** Heard once when the image is disposed (see {@link onDispose}). */
  #onDispose: Array<() => void> | undefined;

  constructor(engine: EngineName, img: number, info: ImageInfo, owner: Server | undefined, dispose: () => void) {
    this.engine = engine;
    this.img = img;
    this.kind = info.kind;
    this.memoryMb = info.memoryMb;
    this.sizeBytes = info.sizeBytes;
    this.parts = info.parts;
    this.owner = owner;
    this.#dispose = dispose;
  }

  get disposed(): boolean {
    return this.#disposed;
  }

  dispose(): void {
    if (this.#disposed) return;
    this.#disposed = true;
    this.#dispose();
    for (const fn of this.#onDispose?.splice(0) ?? []) fn();
  }

  /**
   * `fn` runs when this image is disposed (at once if it already is): a copy of it adopted by
   * another pool goes with it (v8-engine.ts, in-process v8 degraded to process isolation).
   */
  onDispose(fn: () => void): void {
    if (this.#disposed) fn();
    else (this.#onDispose ??= []).push(fn);
  }
}

export class EnginePool {
  /** Servers kept up (a dead one is replaced). */
  readonly size: number;
  /** Servers the pool may grow to (see `#pick`); never shrinks back. */
  readonly maxSize: number;
  readonly #factory: HostFactory;
  readonly #servers: Server[] = [];
  readonly #blueprints = new Map<number, BlueprintDef>();
  /** Images other servers can adopt (shared memory): sent to every server, new ones included. */
  readonly #shared = new Map<number, RemoteImage>();
  readonly #limits: PoolLimits;
  #nextId = 1;
  /** Set by the first warm(): from then on the pool keeps `size` servers. */
  #warmed = false;
  readonly #onUnhealthy: ((reason: string) => void) | undefined;
  /** Looks for requests past their bound while any is in flight (#giveUpStuck). */
  #giveUpTimer: NodeJS.Timeout | undefined;
  readonly #background: BackgroundServers | undefined;
  /** Blueprints whose calls were CPU-heavy: their sandboxes start in background servers. */
  readonly #heavy = new Set<number>();
  /** Images made by this pool (#image, share): {@link owns}. */
  readonly #images = new WeakSet<RemoteImage>();

  /**
   * @param options.onUnhealthy hears every server reported unhealthy (isolated-vm's catastrophic error), before it is replaced
   * @param options.maxSize servers the pool may grow to (default `size`, no growth): a sandbox start
   *   that finds no server without sandboxes starts a new server while there are fewer than this
   * @param options.limits the host's bounds on a server's answers (default {@link DEFAULT_POOL_LIMITS};
   *   tests shorten them); each must be a positive finite number of ms, else RangeError naming it
   * @param options.background where CPU-heavy functions' sandboxes go (default: nowhere else); its
   *   heavyCallCpuMs must be a positive finite number, else RangeError
   */
  constructor(
    size: number,
    factory: HostFactory,
    options: {
      readonly onUnhealthy?: (reason: string) => void;
      readonly limits?: Partial<PoolLimits>;
      readonly maxSize?: number;
      readonly background?: BackgroundServers;
    } = {},
  ) {
    this.size = size;
    this.maxSize = Math.max(size, options.maxSize ?? size);
    this.#factory = factory;
    this.#onUnhealthy = options.onUnhealthy;
    const heavy = options.background?.heavyCallCpuMs;
    if (heavy !== undefined && !(Number.isFinite(heavy) && heavy > 0)) {
      throw new RangeError(`EnginePool background heavyCallCpuMs must be a positive number of milliseconds, got ${String(heavy)}`);
    }
    this.#background = options.background;
    this.#limits = { ...DEFAULT_POOL_LIMITS, ...options.limits };
    for (const [name, value] of Object.entries(this.#limits)) {
      if (!(typeof value === 'number' && Number.isFinite(value) && value > 0)) {
        throw new RangeError(`EnginePool limit ${name} must be a positive number of milliseconds, got ${String(value)}`);
      }
    }
  }

  /** Live servers (for tests and reports). */
  get servers(): number {
    return this.#servers.length;
  }

  /**
   * At least one server started (deploy calls it, so the first cold start does not pay a server's
   * start-up). Rejects when a server cannot start at all.
   */
  async warm(): Promise<void> {
    this.#warmed = true;
    this.#fill();
    try {
      await Promise.any(this.#servers.map((server) => server.host));
    } catch (error) {
      const first = (error as AggregateError).errors?.[0] as Error | undefined;
      throw new EngineUnavailableError(`The engine's servers could not start: ${first?.message ?? String(error)}`, { cause: error });
    }
  }

  #fill(): void {
    while (this.#servers.filter((s) => !s.draining && !s.background).length < this.size) this.#spawn();
  }

  /** Whether `image` was made by this pool (restorable by it). */
  owns(image: SandboxImage): boolean {
    return image instanceof RemoteImage && this.#images.has(image);
  }

  /**
   * Stops serving from this pool without failing anything: every sandbox it hosts is retired
   * (engine.ts `retired`: each one's call in flight finishes, its environment ends when next idle),
   * and its servers drop every shared image, so they keep no sandboxes made ahead of need for them
   * (the images themselves stay usable elsewhere: their owners still dispose them). The host's v8
   * restore servers, once in-process v8 has degraded to process isolation (v8/in-process-health.ts).
   */
  retireAll(): void {
    for (const server of this.#servers) for (const sandbox of server.sandboxes.values()) sandbox.retire();
    for (const img of this.#shared.keys()) for (const server of this.#servers) this.#send(server, { t: 'drop', img });
    this.#shared.clear();
  }

  /** Whether sandboxes of this blueprint start in background servers. */
  isHeavy(bp: number): boolean {
    return this.#background !== undefined && this.#heavy.has(bp);
  }

  /** `wasm`: what the servers need of a component (engine `wasm` only). */
  define(engine: EngineName, bundle: FunctionBundle, wasm?: WasmDefinition): BlueprintDef {
    const def = { bp: this.#nextId++, engine, bundle, ...(wasm ? { wasm } : {}) };
    this.#blueprints.set(def.bp, def);
    // Servers already running prepare it now, off the first cold start's path.
    for (const server of this.#servers) this.#ensureDefined(server, def);
    return def;
  }

  forget(bp: number): void {
    this.#blueprints.delete(bp);
    this.#heavy.delete(bp);
    for (const server of this.#servers) if (server.defined.delete(bp)) this.#send(server, { t: 'forget', bp });
  }

  /**
   * An image made outside the servers whose parts every server can adopt (a v8 snapshot's bytes,
   * v8/restore-servers.ts): sent to each server, new ones included, and restorable on any.
   * Resolves once the servers up now have adopted it (a first cold start then does not wait for
   * that); rejects with a server's refusal (its error, e.g. SnapshotUnsupportedError), or when no
   * server could adopt it, and disposes the image then.
   */
  async share(engine: EngineName, info: ImageInfo & { readonly parts: NonNullable<unknown> }): Promise<RemoteImage> {
    await this.warm();
    const img = this.#nextId++;
    const image = new RemoteImage(engine, img, info, undefined, () => {
      this.#shared.delete(img);
      for (const server of this.#servers) this.#send(server, { t: 'drop', img });
    });
    this.#images.add(image);
    // Servers spawned from now on adopt it from #shared (without an answer).
    this.#shared.set(img, image);
    const adoptions = await Promise.allSettled(
      this.#servers
        .filter((server) => !server.draining && server.holdsImages)
        .map((server) => this.#request(server, { t: 'adopt', id: this.#nextId++, img, engine, parts: info.parts })),
    );
    const refusal = adoptions.find((a) => a.status === 'fulfilled' && a.value.t === 'ready' && a.value.error);
    const adopted = adoptions.some((a) => a.status === 'fulfilled' && !(a.value.t === 'ready' && a.value.error));
    if (refusal || !adopted) {
      image.dispose();
      if (refusal?.status === 'fulfilled' && refusal.value.t === 'ready' && refusal.value.error) throw rebuild(refusal.value.error);
      const failed = adoptions.find((a) => a.status === 'rejected');
      throw new EngineUnavailableError(`no engine server could adopt the image: ${String((failed?.reason as Error | undefined)?.message)}`);
    }
    return image;
  }

  boot(def: BlueprintDef, options: SandboxOptions): Promise<RemoteSandbox> {
    const pick = (): Server => this.#pick(def.bp);
    return this.#start(pick(), def, options, (id, sb) => ({ t: 'boot', id, sb, bp: def.bp, memoryMb: options.memoryMb }), pick);
  }

  /** `resume` (Blueprint.restore): sent right behind the restore request, on the same server. */
  restore(def: BlueprintDef, image: SandboxImage, options: SandboxOptions, resume?: SentAhead): Promise<RemoteSandbox> {
    if (!(image instanceof RemoteImage) || image.engine !== def.engine) {
      return Promise.reject(new Error(`${def.engine} cannot restore a ${image.engine} ${image.kind} image`));
    }
    if (image.disposed) return Promise.reject(new Error(`${def.engine}: the image was disposed`));
    let server: Server;
    if (image.parts !== undefined) server = this.#pickForRestore(def.bp);
    else if (image.owner && !image.owner.dead) server = image.owner;
    else return Promise.reject(new Error(`${def.engine}: the image was lost with the process that held it`));
    const repick = image.parts !== undefined ? (): Server => this.#pickForRestore(def.bp) : undefined;
    return this.#start(server, def, options, (id, sb) => ({ t: 'restore', id, sb, bp: def.bp, img: image.img, memoryMb: options.memoryMb }), repick, resume);
  }

  /**
   * Starts a sandbox on `server`. When that server dies or is condemned while the sandbox is
   * starting (a neighbour's catastrophic error, a worker stuck past a neighbour's deadline), or the
   * engine server inside a child that it was placed on ends (a `lost` event: #lose), the
   * sandbox never ran user code, so it starts again on a server from `repick` (at most
   * {@link START_ATTEMPTS} servers in all): a cold start does not fail for a neighbour's fault.
   */
  async #start(
    server: Server,
    def: BlueprintDef,
    options: SandboxOptions,
    request: (id: number, sb: number) => Extract<ServerRequest, { t: 'boot' | 'restore' }>,
    repick?: () => Server,
    first?: SentAhead,
  ): Promise<RemoteSandbox> {
    for (let attempt = 1; ; attempt++) {
      const sb = this.#nextId++;
      const sandbox = this.#sandbox(server, sb, def.engine, options);
      this.#holdImages(server);
      server.sandboxes.set(sb, sandbox);
      server.blueprintOf.set(sb, def.bp);
      this.#ensureDefined(server, def);
      try {
        const started = this.#request(server, request(this.#nextId++, sb));
        if (first) sandbox.sendAhead(first.message, first.timeoutMs);
        const answer = await started;
        if (answer.t === 'ready' && answer.error) throw rebuild(answer.error);
        if (first && answer.t === 'ready' && answer.began !== undefined) this.#restoreBegan(server, sb, answer.began, first);
        return sandbox;
      } catch (error) {
        server.sandboxes.delete(sb);
        server.blueprintOf.delete(sb);
        server.heavyRun.delete(sb);
        server.aheadCalls.delete(sb);
        sandbox.fail(new SandboxFault('disposed', 'The sandbox did not start'));
        if (!repick || !(server.dead || server.draining || error instanceof ServerLostError) || attempt >= START_ATTEMPTS) throw error;
        server = repick();
      }
    }
  }

  /**
   * The restore on `server` began at `began` (epoch ms): the call sent behind it (`first`) has its
   * deadline counted from then, on the server and here (its bound for #giveUpStuck), and the
   * caller is told. Starting the server (a child process) and adopting the image come before it.
   */
  #restoreBegan(server: Server, sb: number, began: number, first: SentAhead): void {
    const id = server.aheadCalls.get(sb);
    server.aheadCalls.delete(sb);
    const pending = id === undefined ? undefined : server.pending.get(id);
    if (pending?.deadline !== undefined) {
      pending.deadline = Math.max(pending.deadline, began + first.timeoutMs);
      pending.giveUpAt = pending.deadline + this.#limits.callGraceMs;
    }
    first.began?.(began);
  }

  #sandbox(server: Server, sb: number, engine: EngineName, options: SandboxOptions): RemoteSandbox {
    return new RemoteSandbox(options, {
      call: (message: HostMessage, deadline: number, budgetMs?: number) => {
        const id = this.#nextId++;
        if (budgetMs !== undefined) server.aheadCalls.set(sb, id);
        const call = { t: 'call', id, sb, message, deadline, ...(budgetMs === undefined ? {} : { budgetMs }) } as const;
        return this.#request(server, call, deadline, sb, INVOCATION_MESSAGES.has(message.type), engine !== 'v8') as Promise<
          Extract<Answer, { t: 'reply' }>
        >;
      },
      snapshot: async () => {
        const img = this.#nextId++;
        const answer = await this.#request(server, { t: 'snapshot', id: this.#nextId++, sb, img });
        if (answer.t !== 'ready' || !answer.image) throw rebuild(answer.t === 'ready' && answer.error ? answer.error : { name: 'Error', message: 'no image' });
        return this.#image(server, engine, img, answer.image);
      },
      dispose: () => {
        if (server.started?.exactDeadlines === true && this.#runsPastDeadline(server, sb)) {
          // Its host (EngineHost.exactDeadlines) ends the server a moment from now anyway. Ended
          // here, the neighbours' sandboxes fail before this environment's Sandbox.Timedout reaches
          // its caller, so their next invocations cold-start elsewhere instead of landing in the
          // server as it is terminated (an environment answers at the deadline itself:
          // environment/event-loop.ts answerByDeadline).
          this.#onExit(server, 'the engine worker was still running a call at its deadline and was terminated');
          return;
        }
        if (!server.sandboxes.delete(sb)) return;
        server.blueprintOf.delete(sb);
        server.heavyRun.delete(sb);
        this.#send(server, { t: 'dispose', sb });
      },
    });
  }

  /**
   * Whether sandbox `sb` of `server` has a call out whose deadline has passed, or comes within
   * {@link DEADLINE_SLACK_MS}: the environment's own deadline (answerByDeadline) was fixed a few async
   * hops before the call's, so it fires first by that much.
   */
  #runsPastDeadline(server: Server, sb: number): boolean {
    const now = epochNow();
    for (const pending of server.pending.values()) {
      if (pending.sb === sb && pending.deadline !== undefined && now + DEADLINE_SLACK_MS >= pending.deadline) return true;
    }
    return false;
  }

  #image(owner: Server, engine: EngineName, img: number, info: ImageInfo): RemoteImage {
    const image = new RemoteImage(engine, img, info, owner, () => {
      this.#shared.delete(img);
      owner.pinned.delete(img);
      for (const server of this.#servers) this.#send(server, { t: 'drop', img });
    });
    this.#images.add(image);
    if (info.parts === undefined) owner.pinned.add(img);
    else {
      this.#shared.set(img, image);
      for (const server of this.#servers) if (server !== owner && server.holdsImages) this.#send(server, { t: 'adopt', img, engine, parts: info.parts });
    }
    return image;
  }

  /**
   * An idle started server (the spare, when it is the only one); else one still starting with
   * nothing placed on it (not for a v8 sandbox at `maxSize` while a server is up); else, below `maxSize`, a new one (the start waits for it); else the least
   * busy started one; one still starting only when none is up. Taking the last server without
   * sandboxes starts a spare (#keepSpare).
   *
   * Why grow rather than share: a QuickJS server runs its sandboxes' calls one at a time, so a
   * sandbox placed beside a CPU-bound neighbour waits for that neighbour's whole call before each
   * of its own (fairness bench, quickjs, 2 workers, 4 spinners of 50 ms: the neighbour's median
   * invoke 128-160 ms; 0.3-1.6 ms with 6 workers). Threads beyond the cores are time-sliced by the
   * OS instead, as isolated-vm does for v8 isolates (it starts a thread when all of its are busy).
   */
  /**
   * Where a restore of an image every server holds goes: {@link #pick}'s server, unless its thread
   * is deserialising a V8 isolate now (EngineHost.deserialising: a pool refill, ~100 ms for a 37 MB
   * heap and 300+ ms at load ~15, which a restore sent there waits behind) and another started
   * server that holds the images is not. Without this, restores one after another all went to the
   * first empty server, whose refill after each one held the next (a 200k-entry table's cold start:
   * 2-4 ms pooled, 100-235 ms behind a refill, at load ~16), while the other server's pool sat unused
   * (issue 21).
   */
  #pickForRestore(bp: number): Server {
    const chosen = this.#pick(bp);
    if (chosen.background || chosen.started?.deserialising !== true) return chosen;
    const free = this.#servers.find(
      (s) => s !== chosen && s.started !== undefined && !s.dead && !s.draining && !s.background && s.holdsImages && s.started.deserialising === false,
    );
    return free ?? chosen;
  }

  #pick(bp?: number): Server {
    this.#fill();
    if (bp !== undefined && this.isHeavy(bp)) return this.#pickBackground();
    const healthy = this.#servers.filter((s) => !s.draining && !s.background);
    const started = healthy.filter((s) => s.started);
    const candidates = started.length > 0 ? started : healthy;
    // One still starting with nothing placed on it is as good as a new one. Except, at maxSize,
    // for a v8 sandbox while a server is up: its calls never hold their server's thread (isolated-vm
    // runs them), so sharing one costs it nothing, while a server still starting there is a
    // replacement (a child that died) whose start the cold start would pay as Init Duration — the
    // bombed function's next answer took 2.6 s beside a live second child (bench area recovery).
    const shareRatherThanWait = started.length > 0 && healthy.length >= this.maxSize && bp !== undefined && this.#blueprints.get(bp)?.engine === 'v8';
    const idle = candidates.find(isEmpty) ?? (shareRatherThanWait ? undefined : healthy.find((s) => !s.started && isEmpty(s)));
    const chosen = idle ?? (healthy.length < this.maxSize ? this.#spawn() : undefined);
    if (chosen) {
      this.#keepSpare(chosen);
      return chosen;
    }
    let best = candidates[0]!;
    for (const s of candidates) {
      if (s.pending.size < best.pending.size || (s.pending.size === best.pending.size && s.sandboxes.size < best.sandboxes.size)) best = s;
    }
    return best;
  }

  /**
   * Below `maxSize`, starts a server in the background when `taken` was the last one without
   * sandboxes, so the next cold start that grows the pool finds it up: a server starts in 0.1-2 s
   * (a worker thread, its modules and, for QuickJS, the guest runtime's image; more under load),
   * which a cold start placed on a server still starting pays in full as Init Duration. Its cost is
   * one idle server at most (a worker thread; no blanks: it holds no image until it hosts a sandbox).
   * When `taken` is still starting, the spare starts once it is up: two starts side by side would
   * share the cores, and the cold start waiting for `taken` would wait longer (back-to-back cold
   * starts of new functions at load ~5: 240-307 ms against 105-215 ms starting one at a time).
   */
  #keepSpare(taken: Server): void {
    if (!taken.started) {
      void taken.host.then(
        () => this.#keepSpare(taken),
        () => {},
      );
      return;
    }
    if (taken.dead) return;
    const healthy = this.#servers.filter((s) => !s.draining && !s.background);
    if (healthy.length >= this.maxSize) return;
    if (healthy.some((s) => s !== taken && isEmpty(s))) return;
    this.#spawn(false, true);
  }

  /** Sends `server` the shared images, once: at its start, or a spare's at its first sandbox. */
  #holdImages(server: Server): void {
    if (server.holdsImages) return;
    server.holdsImages = true;
    for (const image of this.#shared.values()) this.#send(server, { t: 'adopt', img: image.img, engine: image.engine, parts: image.parts });
  }

  /** For a CPU-heavy function: an idle background server, else a new one (up to `maxSize`), else the least busy. */
  #pickBackground(): Server {
    const healthy = this.#servers.filter((s) => !s.draining && s.background);
    const idle = healthy.find((s) => s.sandboxes.size === 0 && s.pending.size === 0);
    if (idle) return idle;
    if (healthy.length < this.maxSize) return this.#spawn(true);
    let best = healthy[0]!;
    for (const s of healthy) {
      if (s.pending.size < best.pending.size || (s.pending.size === best.pending.size && s.sandboxes.size < best.sandboxes.size)) best = s;
    }
    return best;
  }

  /** `spare`: started ahead of demand, it adopts no image until its first sandbox (#holdImages). */
  #spawn(background = false, spare = false): Server {
    const factory = background ? this.#background!.factory : this.#factory;
    const server: Server = {
      host: factory({ onEvent: (event) => this.#onEvent(server, event), onExit: (reason) => this.#onExit(server, reason) }),
      sandboxes: new Map(),
      pending: new Map(),
      defined: new Set(),
      pinned: new Set(),
      holdsImages: false,
      dead: false,
      draining: false,
      background,
      blueprintOf: new Map(),
      heavyRun: new Map(),
      heavyCalls: new Map(),
      aheadCalls: new Map(),
    };
    server.host.then(
      (host) => {
        server.started = host;
        if (server.dead) host.kill();
        else host.ref(server.pending.size > 0);
        // Work queued while it started was sent only now: its bound starts now too.
        const workUntil = epochNow() + this.#limits.workMs;
        for (const pending of server.pending.values()) if (pending.deadline === undefined) pending.giveUpAt = workUntil;
      },
      (error: unknown) => this.#onExit(server, `the engine server could not start: ${(error as Error).message}`),
    );
    this.#servers.push(server);
    if (!spare) this.#holdImages(server);
    return server;
  }

  #ensureDefined(server: Server, def: BlueprintDef): void {
    if (server.defined.has(def.bp)) return;
    server.defined.add(def.bp);
    const { script, filename, hash } = def.bundle;
    this.#send(server, { t: 'define', bp: def.bp, engine: def.engine, script, filename, hash, ...(def.wasm ? { wasm: def.wasm } : {}) });
  }

  #send(server: Server, request: ServerRequest): void {
    if (server.dead) return;
    if (server.started) server.started.send(request);
    else void server.host.then((host) => host.send(request), () => {});
  }

  #request(
    server: Server,
    request: Extract<ServerRequest, { id: number }> | Extract<ServerRequest, { t: 'adopt' }>,
    deadline?: number,
    sb?: number,
    weigh = false,
    synchronous = false,
  ): Promise<Answer> {
    if (server.dead) return Promise.reject(new EngineUnavailableError('the engine server is gone'));
    const giveUpAt = deadline === undefined ? epochNow() + this.#limits.workMs : deadline + this.#limits.callGraceMs;
    return new Promise<Answer>((resolve, reject) => {
      server.pending.set(request.id!, {
        resolve,
        reject,
        giveUpAt,
        weigh,
        synchronous,
        ...(deadline === undefined ? {} : { deadline }),
        ...(sb === undefined ? {} : { sb }),
      });
      if (server.pending.size === 1) server.started?.ref(true);
      this.#giveUpTimer ??= setInterval(() => this.#giveUpStuck(), GIVE_UP_CHECK_MS).unref();
      this.#send(server, request);
    });
  }

  /**
   * Gives up every server all of whose requests are past their bound: killed, and ended here at
   * once (its exit may never be reported: a worker deadlocked in native code does not finish
   * terminating). While any request of a server is still within its bound, the server may be busy
   * with it legitimately — a QuickJS server runs one call at a time, synchronously, so calls queued
   * behind a long one pass their deadlines unanswered (they time out on arrival) — and it is left
   * alone: a stuck call then waits at most as long as the server's longest legitimate work.
   */
  #giveUpStuck(): void {
    const now = epochNow();
    let inFlight = false;
    for (const server of [...this.#servers]) {
      if (server.pending.size === 0) continue;
      if (!server.started) {
        // Still starting (bounded by its own start-up limit): its requests wait unsent.
        inFlight = true;
        continue;
      }
      let oldest: Pending | undefined;
      let latest = Number.NEGATIVE_INFINITY;
      for (const pending of server.pending.values()) {
        latest = Math.max(latest, pending.giveUpAt);
        if (!oldest || pending.giveUpAt < oldest.giveUpAt) oldest = pending;
      }
      // The first request sent (the Map keeps send order) is the one the server works on, or worked
      // on before the rest: past its bound, requests sent after it cannot vouch for the server. Since
      // an environment answers Sandbox.Timedout at the deadline and is replaced at once
      // (environment/event-loop.ts answerByDeadline), the replacement's boot reached a stopped child
      // right behind the stuck call, and its 60 s bound (workMs) kept the child for a minute.
      const first = server.pending.values().next().value!;
      // A server that answered within the grace is working through its queue: a call queued behind
      // a long one passes its bound while it waits, and is answered right after it (seen once at
      // load ~40: the long call's answer came, then this check ran before the queued call's answer).
      if ((now <= latest && now <= first.giveUpAt) || (server.lastAnswerAt !== undefined && now - server.lastAnswerAt <= this.#limits.callGraceMs)) {
        inFlight = true;
        continue;
      }
      const what =
        oldest!.deadline === undefined
          ? `did not finish starting a sandbox within ${this.#limits.workMs} ms`
          : `did not answer within ${this.#limits.callGraceMs} ms of an invocation's deadline`;
      server.started.kill();
      this.#onExit(server, `the engine server ${what} and was killed`);
    }
    if (!inFlight) {
      clearInterval(this.#giveUpTimer);
      this.#giveUpTimer = undefined;
    }
  }

  #onEvent(server: Server, event: ServerEvent): void {
    switch (event.t) {
      case 'log': {
        const sandbox = server.sandboxes.get(event.sb);
        try {
          sandbox?.options.onLog(event.level, event.message);
        } catch {
          // Fire-and-forget, as in-process.
        }
        return;
      }
      case 'host': {
        const sandbox = server.sandboxes.get(event.sb);
        if (sandbox?.options.hostCallAsync && this.#answerLater(server, sandbox.options.hostCallAsync, event)) return;
        let answer: BinaryAnswer;
        try {
          answer = sandbox ? hostAnswer(sandbox.options, event, server.started) : unavailable(event.op);
        } catch (error) {
          answer = `e${JSON.stringify({ name: 'Error', message: (error as Error).message })}`;
        }
        answerHostCall(server, event, answer);
        return;
      }
      case 'heavy':
        this.#startHeavy(server, event);
        return;
      case 'heavyAbort':
        server.heavyCalls.get(`${event.sb}:${event.hc}`)?.abort();
        server.heavyCalls.delete(`${event.sb}:${event.hc}`);
        return;
      case 'unhealthy': {
        // isolated-vm's catastrophic error: a replacement starts now; this server's sandboxes end
        // with it once the answers already under way (the failing call's) have had time to arrive.
        if (server.draining) return;
        server.draining = true;
        if (event.code) process.emitWarning(event.reason, { code: event.code });
        // The calls the failure ended, answered now (after `draining`, so their callers' next
        // invocations go elsewhere); their own replies, if they come, find nothing waiting.
        for (const { id, fault } of event.failed ?? []) {
          const pending = server.pending.get(id);
          if (!pending) continue;
          server.pending.delete(id);
          pending.resolve({ t: 'reply', id, fault, memoryBytes: 0 });
        }
        this.#onUnhealthy?.(event.reason);
        this.#fill();
        // Its idle sandboxes end now, not after the grace period: an environment whose sandbox is
        // gone reports itself dead, so the pool never hands a neighbour's idle environment in this
        // server to a new invocation (which would fail as Runtime.ExitError instead of cold-starting).
        const busy = new Set([...server.pending.values()].map((pending) => pending.sb));
        for (const [sb, sandbox] of [...server.sandboxes]) {
          if (!busy.has(sb)) sandbox.fail(new SandboxFault('crashed', `the engine server was replaced: ${event.reason}`));
        }
        const end = (): void => {
          server.started?.kill();
          this.#onExit(server, `the engine server was replaced: ${event.reason}`);
        };
        if (server.pending.size === 0) end();
        // setImmediate: answers that arrived while this thread was busy (it forks the replacement
        // meanwhile) are read before the server is ended: a timer runs before the loop polls.
        else setTimeout(() => setImmediate(end), UNHEALTHY_GRACE_MS);
        return;
      }
      case 'lost':
        this.#lose(server, event);
        return;
      case 'up':
        return;
      case 'overdue':
        // Its watchdog holds a call past its deadline whose thread has not burned the grace of CPU
        // (starved, not stuck: stuck-watch.ts) and ends the worker itself if it does, or at the
        // backstop: the server counts as answering, so its bound below does not end it first.
        server.lastAnswerAt = epochNow();
        return;
      default: {
        const pending = server.pending.get(event.id);
        if (!pending) return;
        server.lastAnswerAt = epochNow();
        server.pending.delete(event.id);
        if (server.pending.size === 0) server.started?.ref(false);
        if (event.t === 'reply' && pending.weigh && pending.sb !== undefined) this.#weigh(server, pending.sb, event.cpuMs, event.busyMs);
        pending.resolve(event);
      }
    }
  }

  /**
   * An invocation call's guest CPU time (and busy time, {@link HEAVY_CALL_MIN_CPU_FRACTION}):
   * {@link HEAVY_CALLS_IN_A_ROW} calls of a sandbox in a row at `heavyCallCpuMs` or more make its
   * function heavy from now on, and retire that sandbox if it is outside the background servers (it
   * ends when next idle).
   */
  #weigh(server: Server, sb: number, cpuMs: number | undefined, busyMs: number | undefined): void {
    if (!this.#background || (cpuMs === undefined && busyMs === undefined)) return;
    const bar = this.#background.heavyCallCpuMs;
    // A busy call whose CPU was not read (a server reading it only after a busy call: ServerData
    // guestCpuTime 'after-busy') counts; the run's later calls have theirs read.
    const heavy =
      (cpuMs !== undefined && cpuMs >= bar) ||
      (busyMs !== undefined && busyMs >= bar && (cpuMs === undefined || cpuMs >= bar * HEAVY_CALL_MIN_CPU_FRACTION));
    if (!heavy) {
      server.heavyRun.delete(sb);
      return;
    }
    const run = (server.heavyRun.get(sb) ?? 0) + 1;
    server.heavyRun.set(sb, run);
    const bp = server.blueprintOf.get(sb);
    if (run < HEAVY_CALLS_IN_A_ROW || bp === undefined) return;
    this.#heavy.add(bp);
    if (!server.background) server.sandboxes.get(sb)?.retire();
  }

  /**
   * A v8 sandbox's heavy host call (`heavy` event, server.ts #heavyCall): its environment's
   * asynchronous handler does the work (libuv's pool, environment/heavy-work.ts) and the answer is
   * sent back as a `heavyAnswer` naming the call; the server thread was not blocked meanwhile. A
   * call the environment does not take as heavy is answered synchronously, as a `host` event would
   * be. The server's `heavyAbort` (sandbox disposed, deadline) aborts the work if it has not started.
   */
  #startHeavy(server: Server, event: Extract<ServerEvent, { t: 'heavy' }>): void {
    const { sb, hc } = event;
    const send = (answer: BinaryAnswer): void => server.started?.send({ t: 'heavyAnswer', sb, hc, answer });
    const sandbox = server.sandboxes.get(sb);
    const bytes = event.bytes ? new Uint8Array(event.bytes) : undefined;
    const controller = new AbortController();
    let later: Promise<BinaryAnswer> | undefined;
    try {
      const options = sandbox?.options;
      const start = options?.hostCallAsyncBytes ?? (options?.hostCallAsync && ((op: string, args: string, b: Uint8Array | undefined, signal?: AbortSignal) => options.hostCallAsync!(op, args, b, signal)?.then(binaryAnswer)));
      later = start ? start(event.op, event.args, bytes, controller.signal) : undefined;
      if (!later) {
        send(sandbox ? hostAnswer(sandbox.options, { t: 'host', sb, hc, op: event.op, args: event.args, binary: true, ...(event.bytes ? { bytes: event.bytes } : {}) }, server.started) : unavailable(event.op));
        return;
      }
    } catch (error) {
      send(`e${JSON.stringify({ name: 'Error', message: (error as Error).message })}`);
      return;
    }
    server.heavyCalls.set(`${sb}:${hc}`, controller);
    void later.then((answer) => {
      // Aborted (the server gave up on it) or the server gone: nobody waits for this answer.
      if (server.heavyCalls.get(`${sb}:${hc}`) !== controller) return;
      server.heavyCalls.delete(`${sb}:${hc}`);
      server.started?.send({ t: 'heavyAnswer', sb, hc, answer });
    });
  }

  /**
   * A host call whose work is too heavy for the host's thread (SandboxOptions.hostCallAsync) is
   * answered when that work is done, off this thread; at the deadline of the sandbox's call in
   * flight, if it is not done, with an error (the guest's call throws; the invocation is past its
   * deadline and the runtime's own timer ends it), and work still waiting to start never starts.
   * False when the call is not one of those (answered at once by the caller).
   */
  #answerLater(server: Server, hostCallAsync: NonNullable<SandboxOptions['hostCallAsync']>, event: Extract<ServerEvent, { t: 'host' }>): boolean {
    const controller = new AbortController();
    const later = hostCallAsync(event.op, event.args, event.binary === true && event.bytes ? new Uint8Array(event.bytes) : undefined, controller.signal);
    if (!later) return false;
    let answered = false;
    const answer = (text: string): void => {
      if (answered) return;
      answered = true;
      clearTimeout(timer);
      answerHostCall(server, event, event.binary === true ? binaryAnswer(text) : text);
    };
    let deadline: number | undefined;
    for (const pending of server.pending.values()) if (pending.sb === event.sb && pending.deadline !== undefined) deadline = pending.deadline;
    const timer =
      deadline === undefined
        ? undefined
        : setTimeout(() => {
            controller.abort();
            answer(`e${JSON.stringify({ name: 'Error', message: `lambdalet: ${event.op} did not finish before the invocation's deadline` })}`);
          }, Math.max(0, deadline - epochNow()));
    void later.then(answer);
    return true;
  }

  /**
   * One engine server inside a child ended and the child goes on (child-servers.ts `lost`): only
   * the sandboxes that lived there end, as they would with their own server — calls in flight
   * fail (`timeout` past their deadline, else `crashed` with the reason), starts are rejected with
   * a {@link ServerLostError} (started again elsewhere: #start) — and the child, which has just
   * spoken, counts as answering (#giveUpStuck).
   */
  #lose(server: Server, event: Extract<ServerEvent, { t: 'lost' }>): void {
    const now = epochNow();
    server.lastAnswerAt = now;
    for (const sb of event.sandboxes) {
      const sandbox = server.sandboxes.get(sb);
      server.sandboxes.delete(sb);
      server.blueprintOf.delete(sb);
      server.heavyRun.delete(sb);
      server.aheadCalls.delete(sb);
      for (const [key, controller] of server.heavyCalls) {
        if (!key.startsWith(`${sb}:`)) continue;
        controller.abort();
        server.heavyCalls.delete(key);
      }
      sandbox?.fail(new SandboxFault('crashed', event.reason));
    }
    const unstarted = new Set(event.unstarted);
    for (const id of event.ids) {
      const pending = server.pending.get(id);
      if (!pending) continue;
      server.pending.delete(id);
      if (pending.deadline === undefined) pending.reject(new ServerLostError(`The sandbox could not start: ${event.reason}`));
      else pending.resolve(lostCall(id, pending.deadline, now, event.reason, unstarted.has(id)));
    }
    if (server.pending.size === 0) server.started?.ref(false);
  }

  #onExit(server: Server, reason: string): void {
    if (server.dead) return;
    server.dead = true;
    for (const controller of server.heavyCalls.values()) controller.abort();
    server.heavyCalls.clear();
    this.#servers.splice(this.#servers.indexOf(server), 1);
    const now = epochNow();
    // Read once the server is done for here: a call it starts from now on (its termination has not
    // taken yet) reaches nothing — its sandbox is gone below, its host calls are refused (#onEvent).
    const host = server.started;
    for (const [id, pending] of server.pending) {
      if (pending.deadline === undefined) pending.reject(new Error(`The sandbox could not start: ${reason}`));
      else pending.resolve(lostCall(id, pending.deadline, now, reason, pending.synchronous === true && host?.mayHaveStarted?.(id) === false));
    }
    server.pending.clear();
    for (const sandbox of server.sandboxes.values()) sandbox.fail(new SandboxFault('crashed', reason));
    server.sandboxes.clear();
    server.blueprintOf.clear();
    server.heavyRun.clear();
    server.started?.kill();
    // Replaced at once, so the next cold start finds a server up (unless the pool cannot start any).
    if (this.#warmed && server.started && !server.draining) this.#fill();
  }
}

/**
 * How far before a call's deadline a disposal with that call still out counts as at the deadline
 * (#runsPastDeadline): more than the hops between an environment fixing its deadline and the pool
 * sending the call. Ending the server that early costs the neighbours only when the call would have
 * finished in those last ms (its own environment is gone either way); else its host ends it then.
 */
const DEADLINE_SLACK_MS = 50;

/**
 * A start (boot, restore, snapshot) whose engine server ended inside a child that goes on
 * (child-servers.ts `lost`): no user code of that sandbox ran, so #start tries it again.
 */
class ServerLostError extends Error {}

/**
 * The answer of a call whose server is gone: `timeout` past its deadline, else `not-started` when
 * the server certainly never began it (`unstarted`), else `crashed`; both with `reason`.
 */
function lostCall(id: number, deadline: number, now: number, reason: string, unstarted = false): Answer {
  const kind = now > deadline ? 'timeout' : unstarted ? 'not-started' : 'crashed';
  return { t: 'reply', id, fault: { kind, message: kind === 'timeout' ? 'Script execution timed out.' : reason }, memoryBytes: 0 };
}

/** The host's clock in epoch ms, as call deadlines are given (performance's, monotonic). */
function epochNow(): number {
  return performance.timeOrigin + performance.now();
}

/**
 * Answers a host call the server is blocked on: always, and for this call alone (host-answer.ts:
 * the answer names it). A server that asked for bytes takes them; text otherwise.
 */
function answerHostCall(server: Server, event: Extract<ServerEvent, { t: 'host' }>, answer: BinaryAnswer): void {
  const host = server.started;
  if (typeof answer === 'string') host?.answer(event, answer);
  else if (host?.answerBytes) host.answerBytes(event, answer);
  else host?.answer(event, textAnswer(answer));
}

function unavailable(op: string): string {
  return `e${JSON.stringify({ name: 'Error', message: `${op} is not available in this sandbox` })}`;
}

/**
 * A guest's host call answered by its environment: as bytes when the server asked for them
 * (ServerEvent `host`), read in place from the server's staging area when it put them there.
 */
function hostAnswer(options: SandboxOptions, event: Extract<ServerEvent, { t: 'host' }>, host: EngineHost | undefined): BinaryAnswer {
  if (event.binary !== true) return options.hostCall ? options.hostCall(event.op, event.args) : unavailable(event.op);
  let bytes: Uint8Array | undefined;
  if (event.staged !== undefined) {
    if (!host?.staged) throw new Error('lambdalet bug: a staged payload from a server without a staging area');
    bytes = host.staged(event.staged);
  } else if (event.bytes) bytes = new Uint8Array(event.bytes);
  if (options.hostCallBytes) return options.hostCallBytes(event.op, event.args, bytes);
  return binaryAnswer(options.hostCall ? options.hostCall(event.op, textRequest(event.args, bytes)) : unavailable(event.op));
}

/** A boot, restore or snapshot error from the server, with its class where the caller tells them apart. */
function rebuild(error: ErrorCopy): Error {
  if (error.name === 'SnapshotUnsupportedError') return new SnapshotUnsupportedError(error.message);
  if (error.name === 'EngineUnavailableError') return new EngineUnavailableError(error.message);
  if (error.name === 'SandboxFault') return new SandboxFault('disposed', error.message);
  const copy = new Error(error.message);
  copy.name = error.name;
  return copy;
}

/** Nothing placed on it and nothing waiting on it. */
function isEmpty(server: Server): boolean {
  return server.sandboxes.size === 0 && server.pending.size === 0;
}
