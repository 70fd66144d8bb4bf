/**
 * The engine servers of one process-isolation child (process-child.ts), and which of them each
 * request goes to. A QuickJS server runs its sandboxes' calls one at a time, synchronously, so a
 * child with one server made a sandbox placed beside a CPU-bound neighbour wait for that
 * neighbour's whole call before each of its own (issue #15's fairness bench, quickjs-process, two
 * children, four spinners of 50 ms: the neighbour's median invoke 117-127 ms). So a child grows
 * its servers as the in-process QuickJS pool does (engine-pool.ts `#pick`): a QuickJS sandbox
 * starts on a server hosting no QuickJS sandbox, else on a new one while the child has fewer than
 * `maxServers`, else on the least busy; threads beyond the cores are time-sliced by the OS. A v8
 * sandbox's calls never hold its server's thread (isolated-vm runs them on its own threads), so v8
 * sandboxes never make a child grow.
 *
 * What every server must know is sent to each, new ones included: function code (`define`,
 * `forget`) and adopted images (`adopt`, `drop`); a snapshot made in one server and shareable
 * (its `parts`) is adopted by the child's other servers too, as the host's pool does across
 * children; one that is not (no `parts`) is restored only where it was made. A server blocked in a
 * host call waits for the parent's answer, which names its call (sandbox and host-call number): it
 * goes to the server that made that call, whatever order the parent answers in; an answer to no
 * call waiting here is dropped.
 *
 * A server that ends — terminated by its watchdog (a QuickJS call stuck past its deadline: an
 * uninterruptible built-in, or a starved thread on a loaded machine), crashed, or unable to start —
 * ends only its own sandboxes: the child sends a `lost` event naming them and its requests that
 * will never be answered (the parent's pool fails those calls and starts those sandboxes again
 * elsewhere: engine-pool.ts), and goes on with its other servers, starting a new one when none is
 * left. A fresh sandbox none of whose guest code ran (booted, no call answered, none of its calls
 * started: the server's signal, protocol.ts ServerData.signal [2]) is not lost but moved: booted
 * again on another server with its calls behind it, at most {@link MOVES_MAX} times — a cold
 * start whose INIT call waited behind the terminated call is answered as if nothing happened. The
 * calls of the other sandboxes that it certainly never began are named `unstarted` (their
 * invocations run again on fresh environments: invoke/run.ts), and nothing the ended server says
 * afterwards reaches the parent. Before, it ended the whole child (SIGKILL), and with it every neighbour's environment and
 * cold start in the child's other servers: a spin in an uninterruptible built-in at load ~29 cost
 * concurrent cold starts all three of their attempts ("signal: killed", issue #15), and a
 * neighbour's call in flight answered Runtime.ExitError. A server whose thread is still running
 * {@link LOST_SERVER_GONE_MS} after it was reported ended (a termination that does not take) ends
 * the child as before (`onExit`); so does the first server failing to start (`start`).
 */
import type { EngineName } from '../../config/index.ts';
import type { HostCallId, ServerEvent, ServerRequest } from './protocol.ts';
import type { EngineHost, HostHandlers } from './worker-host.ts';

/**
 * How long a server reported ended may take to really end (its thread to exit) before the child
 * ends itself instead: a worker terminated in a wasm or JS loop exits within milliseconds of CPU;
 * one still running this long later is stuck where termination cannot reach it, and only the
 * process's end stops it from burning a core.
 */
export const LOST_SERVER_GONE_MS = 30_000;

/**
 * Times a fresh sandbox is moved off servers that end under it (see {@link ChildServers} `#lose`);
 * the next end reports it lost, and the parent's pool bounds its retries (engine-pool.ts `#start`).
 */
export const MOVES_MAX = 2;

type Define = Extract<ServerRequest, { t: 'define' }>;
type Boot = Extract<ServerRequest, { t: 'boot' }>;
type Call = Extract<ServerRequest, { t: 'call' }>;

/** A sandbox of the child: where it lives, and what #lose needs to move it. */
interface Placed {
  slot: Slot;
  readonly engine: EngineName;
  /** The boot that made it (absent for a restore: not moved). */
  readonly boot?: Boot;
  /** Its calls not answered yet, in send order. */
  readonly calls: Map<number, Call>;
  /** One of its calls was answered: its guest code has run. */
  answered: boolean;
  /** Times it was moved off a server that ended. */
  moves: number;
}
type Adopt = Extract<ServerRequest, { t: 'adopt' }>;

interface Slot {
  readonly host: Promise<EngineHost>;
  started?: EngineHost;
  /** Requests sent before the server was up, sent in order once it is. */
  readonly queued: ServerRequest[];
  /** Its QuickJS sandboxes (the ones whose calls hold its thread). */
  readonly quickjs: Set<number>;
  /** Ids of its requests still unanswered. */
  readonly pending: Set<number>;
  /** Reported lost (#lose): nothing it says any more reaches the parent. */
  lost?: boolean;
}

export interface ChildServersOptions {
  /** Starts one engine server (a worker thread in this process). */
  readonly start: (handlers: HostHandlers) => Promise<EngineHost>;
  /** Most servers the child runs (at least 1). */
  readonly maxServers: number;
  /** The servers' events for the parent (`up` excepted: the child says it once), and `lost`. */
  readonly onEvent: (event: ServerEvent) => void;
  /** The child must end (see the module comment). Called once. */
  readonly onExit: (reason: string) => void;
  /** Test seam: how long a lost server may take to end (default {@link LOST_SERVER_GONE_MS}). */
  readonly goneMs?: number;
}

export class ChildServers {
  readonly #options: ChildServersOptions;
  readonly #slots: Slot[] = [];
  readonly #defines = new Map<number, Define>();
  readonly #adopted = new Map<number, Adopt>();
  /** Each sandbox's server and engine. */
  readonly #sandboxes = new Map<number, Placed>();
  /** The sandbox of each call not answered yet. */
  readonly #callOf = new Map<number, number>();
  /** Images made here and restorable only by their maker (no `parts`). */
  readonly #pinned = new Map<number, Slot>();
  /** Snapshots in flight: request id → where and for which image. */
  readonly #snapshots = new Map<number, { readonly slot: Slot; readonly img: number; readonly engine: EngineName }>();
  /** Servers blocked in a host call, by the call (`sb:hc`; hc is per server, sb per host thread). */
  readonly #awaitingAnswer = new Map<string, Slot>();
  #ended = false;

  constructor(options: ChildServersOptions) {
    if (!(Number.isInteger(options.maxServers) && options.maxServers >= 1)) {
      throw new RangeError(`maxServers must be a positive integer, got ${String(options.maxServers)}`);
    }
    this.#options = options;
  }

  /** Servers started or starting (for tests and reports). */
  get servers(): number {
    return this.#slots.length;
  }

  /** Starts the first server; resolves once it is up, rejects if it cannot start. */
  async start(): Promise<void> {
    await this.#spawn().host;
  }

  handle(request: ServerRequest): void {
    switch (request.t) {
      case 'define':
        this.#defines.set(request.bp, request);
        this.#broadcast(request);
        return;
      case 'forget':
        this.#defines.delete(request.bp);
        this.#broadcast(request);
        return;
      case 'adopt': {
        const unanswered: Adopt = { t: 'adopt', img: request.img, engine: request.engine, parts: request.parts };
        this.#adopted.set(request.img, unanswered);
        // One server answers for the child (an adoption is refused or not by what the image is).
        const [first, ...others] = this.#slots;
        if (first) this.#send(first, request);
        for (const slot of others) this.#send(slot, unanswered);
        return;
      }
      case 'drop':
        this.#adopted.delete(request.img);
        this.#pinned.delete(request.img);
        this.#broadcast(request);
        return;
      case 'boot':
      case 'restore': {
        const engine = this.#defines.get(request.bp)?.engine ?? 'quickjs';
        const owner = request.t === 'restore' && !this.#adopted.has(request.img) ? this.#pinned.get(request.img) : undefined;
        const slot = owner ?? this.#pick(engine);
        this.#sandboxes.set(request.sb, { slot, engine, ...(request.t === 'boot' ? { boot: request } : {}), calls: new Map(), answered: false, moves: 0 });
        if (engine === 'quickjs') slot.quickjs.add(request.sb);
        this.#send(slot, request, request.id);
        return;
      }
      case 'call': {
        const entry = this.#sandboxes.get(request.sb);
        if (entry) {
          entry.calls.set(request.id, request);
          this.#callOf.set(request.id, request.sb);
        }
        this.#send(this.#slotOf(request.sb), request, request.id);
        return;
      }
      case 'heavyAnswer':
        // To the server of the sandbox that made the call (one disposed meanwhile drops it).
        this.#send(this.#slotOf(request.sb), request);
        return;
      case 'snapshot': {
        const entry = this.#sandboxes.get(request.sb);
        const slot = entry?.slot ?? this.#slots[0]!;
        this.#snapshots.set(request.id, { slot, img: request.img, engine: entry?.engine ?? 'quickjs' });
        this.#send(slot, request, request.id);
        return;
      }
      case 'dispose': {
        const entry = this.#sandboxes.get(request.sb);
        this.#sandboxes.delete(request.sb);
        entry?.slot.quickjs.delete(request.sb);
        for (const id of entry?.calls.keys() ?? []) this.#callOf.delete(id);
        this.#send(entry?.slot ?? this.#slots[0]!, request);
        return;
      }
    }
  }

  /** The parent's answer to the host call `call`, for the server that made it. */
  answer(call: HostCallId, text: string): void {
    const key = `${call.sb}:${call.hc}`;
    const slot = this.#awaitingAnswer.get(key);
    this.#awaitingAnswer.delete(key);
    slot?.started?.answer(call, text);
  }

  /** Ends every server (the child is going). */
  kill(): void {
    for (const slot of this.#slots) slot.started?.kill();
  }

  /** A sandbox the child does not know (disposed, or never booted here): any server answers that. */
  #slotOf(sb: number): Slot {
    return this.#sandboxes.get(sb)?.slot ?? this.#slots[0]!;
  }

  /**
   * For a QuickJS sandbox: a server without QuickJS sandboxes, else a new one below `maxServers`,
   * else the one with the fewest requests in flight (then the fewest QuickJS sandboxes). For a v8
   * sandbox: the least busy server, never a new one.
   */
  #pick(engine: EngineName): Slot {
    if (engine === 'quickjs') {
      const free = this.#slots.find((slot) => slot.quickjs.size === 0);
      if (free) return free;
      if (this.#slots.length < this.#options.maxServers) return this.#spawn();
    }
    let best = this.#slots[0]!;
    for (const slot of this.#slots) {
      if (slot.pending.size < best.pending.size || (slot.pending.size === best.pending.size && slot.quickjs.size < best.quickjs.size)) best = slot;
    }
    return best;
  }

  #spawn(): Slot {
    const slot: Slot = {
      host: this.#options.start({
        onEvent: (event) => this.#onEvent(slot, event),
        onExit: (reason) => this.#lose(slot, reason),
      }),
      queued: [],
      quickjs: new Set(),
      pending: new Set(),
    };
    this.#slots.push(slot);
    // What every server knows, in the order the others learnt it.
    for (const define of this.#defines.values()) slot.queued.push(define);
    for (const adopt of this.#adopted.values()) slot.queued.push(adopt);
    slot.host.then(
      (host) => {
        slot.started = host;
        for (const request of slot.queued.splice(0)) host.send(request);
      },
      (error: unknown) => {
        const reason = `an engine worker could not start: ${(error as Error).message}`;
        // The first server (start() rejects: the child reports it and exits), or the only one left.
        if (this.#slots.length === 1 && this.#slots[0] === slot) this.#end(reason);
        else this.#lose(slot, reason);
      },
    );
    return slot;
  }

  /**
   * `slot`'s server ended: its sandboxes and unanswered requests are reported lost to the parent,
   * and the child goes on without it (a new server when it was the last). Once per server.
   */
  #lose(slot: Slot, reason: string): void {
    const at = this.#slots.indexOf(slot);
    if (this.#ended || at < 0) return;
    this.#slots.splice(at, 1);
    slot.lost = true;
    const sandboxes: number[] = [];
    const unstarted: number[] = [];
    const moved: Array<readonly [number, Placed]> = [];
    const movedIds = new Set<number>();
    for (const [sb, entry] of this.#sandboxes) {
      if (entry.slot !== slot) continue;
      this.#sandboxes.delete(sb);
      if (this.#movable(slot, entry)) {
        moved.push([sb, entry]);
        movedIds.add(entry.boot!.id);
        for (const id of entry.calls.keys()) movedIds.add(id);
      } else {
        sandboxes.push(sb);
        for (const id of entry.calls.keys()) {
          this.#callOf.delete(id);
          if (!this.#mayHaveStarted(slot, entry, id)) unstarted.push(id);
        }
      }
    }
    const ids = [...slot.pending].filter((id) => !movedIds.has(id));
    slot.pending.clear();
    slot.queued.length = 0;
    slot.quickjs.clear();
    for (const [key, owner] of this.#awaitingAnswer) if (owner === slot) this.#awaitingAnswer.delete(key);
    for (const [img, owner] of this.#pinned) if (owner === slot) this.#pinned.delete(img);
    for (const [id, snapshot] of this.#snapshots) if (snapshot.slot === slot) this.#snapshots.delete(id);
    slot.started?.kill();
    const gone = slot.started?.gone;
    if (gone) {
      const timer = setTimeout(() => this.#end(`${reason}, and its thread was still running ${this.#options.goneMs ?? LOST_SERVER_GONE_MS} ms later`), this.#options.goneMs ?? LOST_SERVER_GONE_MS);
      timer.unref?.();
      void gone.then(() => clearTimeout(timer));
    }
    // A server to go on with (and for a moved v8 sandbox, which never makes the child grow).
    if (this.#slots.length === 0) this.#spawn();
    // Fresh sandboxes none of whose guest code ran start again on another server, their calls
    // behind them: the parent sees only their answers (a second `ready` for a boot it has had
    // answered is one it no longer waits for). Typically a cold start whose INIT call was queued
    // behind a neighbour's call that got its server terminated.
    for (const [sb, entry] of moved) {
      const target = this.#pick(entry.engine);
      entry.slot = target;
      entry.moves++;
      this.#sandboxes.set(sb, entry);
      if (entry.engine === 'quickjs') target.quickjs.add(sb);
      this.#send(target, entry.boot!, entry.boot!.id);
      for (const call of entry.calls.values()) this.#send(target, call, call.id);
    }
    this.#options.onEvent({ t: 'lost', reason, sandboxes, ids, ...(unstarted.length > 0 ? { unstarted } : {}) });
  }

  /**
   * Whether a sandbox of the ended `slot` can start again elsewhere unnoticed: made by a boot
   * (which runs no guest code: INIT is a call), none of its calls answered, none of those still out
   * possibly started (none sent, or a server that never came up ran none; else its signal says, for the
   * synchronous calls of QuickJS and components: v8's run on isolated-vm's threads, not moved), and
   * moved fewer than {@link MOVES_MAX} times.
   */
  #movable(slot: Slot, entry: Placed): boolean {
    if (!entry.boot || entry.answered || entry.moves >= MOVES_MAX) return false;
    for (const id of entry.calls.keys()) if (this.#mayHaveStarted(slot, entry, id)) return false;
    return true;
  }

  /**
   * Whether call `id` of `entry` may have begun running guest code on the ended `slot`: not when
   * its server never came up, nor when the server's signal says it never reached that id (the
   * synchronous calls of QuickJS and components; v8's run on isolated-vm's threads, unrecorded).
   */
  #mayHaveStarted(slot: Slot, entry: Placed, id: number): boolean {
    const host = slot.started;
    if (!host) return false;
    if (entry.engine === 'v8' || !host.mayHaveStarted) return true;
    return host.mayHaveStarted(id);
  }

  #send(slot: Slot, request: ServerRequest, id?: number): void {
    if (id !== undefined) slot.pending.add(id);
    if (slot.started) slot.started.send(request);
    else slot.queued.push(request);
  }

  #broadcast(request: ServerRequest): void {
    for (const slot of this.#slots) this.#send(slot, request);
  }

  #onEvent(slot: Slot, event: ServerEvent): void {
    // A server reported lost may still be running until its termination takes (a call it started
    // after the report): nothing it says reaches the parent, whose answers and host calls for its
    // sandboxes would otherwise belong to sandboxes moved elsewhere or calls reported unstarted.
    if (slot.lost === true) return;
    switch (event.t) {
      case 'up':
        return;
      case 'host':
        this.#awaitingAnswer.set(`${event.sb}:${event.hc}`, slot);
        break;
      case 'ready': {
        slot.pending.delete(event.id);
        const snapshot = this.#snapshots.get(event.id);
        this.#snapshots.delete(event.id);
        if (snapshot && event.image) {
          if (event.image.parts === undefined) this.#pinned.set(snapshot.img, slot);
          else {
            const adopt: Adopt = { t: 'adopt', img: snapshot.img, engine: snapshot.engine, parts: event.image.parts };
            this.#adopted.set(snapshot.img, adopt);
            for (const other of this.#slots) if (other !== slot) this.#send(other, adopt);
          }
        }
        break;
      }
      case 'reply': {
        slot.pending.delete(event.id);
        const sb = this.#callOf.get(event.id);
        this.#callOf.delete(event.id);
        const entry = sb === undefined ? undefined : this.#sandboxes.get(sb);
        if (entry) {
          entry.calls.delete(event.id);
          entry.answered = true;
        }
        break;
      }
      default:
        break;
    }
    this.#options.onEvent(event);
  }

  #end(reason: string): void {
    if (this.#ended) return;
    this.#ended = true;
    this.#options.onExit(reason);
  }
}
