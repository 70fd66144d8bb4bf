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
 * A server that ends ends the child (`onExit`), as before: the parent's pool then ends the child's
 * sandboxes and replaces it.
 */
import type { EngineName } from '../../config/index.ts';
import type { HostCallId, ServerEvent, ServerRequest } from './protocol.ts';
import type { EngineHost, HostHandlers } from './worker-host.ts';

type Define = Extract<ServerRequest, { t: 'define' }>;
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
}

export interface ChildServersOptions {
  /** Starts one engine server (a worker thread in this process). */
  readonly start: (handlers: HostHandlers) => Promise<EngineHost>;
  /** Most servers the child runs (at least 1). */
  readonly maxServers: number;
  /** The servers' events for the parent (`up` excepted: the child says it once). */
  readonly onEvent: (event: ServerEvent) => void;
  /** A server ended: so does the child. Called once. */
  readonly onExit: (reason: string) => void;
}

export class ChildServers {
  readonly #options: ChildServersOptions;
  readonly #slots: Slot[] = [];
  readonly #defines = new Map<number, Define>();
  readonly #adopted = new Map<number, Adopt>();
  /** Each sandbox's server and engine. */
  readonly #sandboxes = new Map<number, { readonly slot: Slot; readonly engine: EngineName }>();
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
        this.#sandboxes.set(request.sb, { slot, engine });
        if (engine === 'quickjs') slot.quickjs.add(request.sb);
        this.#send(slot, request, request.id);
        return;
      }
      case 'call':
        this.#send(this.#slotOf(request.sb), request, request.id);
        return;
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
        onExit: (reason) => this.#end(reason),
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
      (error: unknown) => this.#end(`an engine worker could not start: ${(error as Error).message}`),
    );
    return slot;
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
      case 'reply':
        slot.pending.delete(event.id);
        break;
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
