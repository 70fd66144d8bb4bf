/** One V8 isolate + context running the guest runtime and one user bundle. */
import type ivm from 'isolated-vm';
import { SandboxFault, SnapshotUnsupportedError, type RejectionReason, type Sandbox, type SandboxImage } from '../engine.ts';
import { decodeReply, encodeMessage, type GuestReply, type HostMessage, type InitMessage } from '../guest/protocol.ts';

/** SnapStart for a booted sandbox: the host calls its guest made, and the engine's snapshot taker. */
export interface V8Snapshotter {
  /** Host operations (other than `stdlib`) the guest called since boot. */
  readonly hostOps: ReadonlySet<string>;
  readonly take: (init: InitMessage) => Promise<SandboxImage>;
}

/** The guest's dispatch: strings in, a string out (see the wire format in guest/protocol.ts). */
export type GuestDispatch = (type: string, body: string) => string;

export class V8Sandbox implements Sandbox {
  readonly #isolate: ivm.Isolate;
  readonly #dispatch: ivm.Reference<GuestDispatch>;
  /** Why the sandbox died, once it has: later calls fault with the same kind. */
  #fault: SandboxFault | undefined;
  /**
   * The calls in flight, failed by {@link failCatastrophically}: isolated-vm parks the isolate's
   * thread forever after a catastrophic error, so a call in flight would never settle without this.
   * One guard per call, dropped when the call settles. (It used to be one never-settling promise
   * raced by every call: each race left a reaction on it — two closures, two promises and the reply
   * string per invocation, ~340 B retained for the sandbox's whole life.)
   */
  readonly #inFlight = new Set<(fault: SandboxFault) => void>();
  #catastrophic = false;

  readonly #snapshotter: V8Snapshotter | undefined;
  /** The INIT message this sandbox ran (a V8 snapshot replays it). */
  #init: InitMessage | undefined;

  constructor(isolate: ivm.Isolate, dispatch: ivm.Reference<GuestDispatch>, snapshotter?: V8Snapshotter) {
    this.#isolate = isolate;
    this.#dispatch = dispatch;
    this.#snapshotter = snapshotter;
  }

  /** isolated-vm reported a catastrophic error for this isolate (V8 OOM, failed termination). */
  failCatastrophically(message: string): void {
    this.#catastrophic = true;
    const kind = /memory/i.test(message) ? 'out-of-memory' : 'crashed';
    const fault = new SandboxFault(kind, `isolated-vm catastrophic error: ${message}`);
    this.#fault ??= fault;
    for (const fail of this.#inFlight) fail(this.#fault);
    this.#inFlight.clear();
  }

  get disposed(): boolean {
    return this.#fault !== undefined || this.#isolate.isDisposed;
  }

  async call(message: HostMessage, timeoutMs: number): Promise<GuestReply> {
    this.#assertAlive();
    if (message.type === 'init') this.#init = message;
    let text: unknown;
    try {
      text = await this.#guarded(this.#dispatch.apply(undefined, encodeMessage(message), { timeout: toTimeout(timeoutMs) }));
    } catch (error) {
      throw this.#classify(error);
    }
    return this.#decode(text);
  }

  peek(message: HostMessage): GuestReply {
    this.#assertAlive();
    let text: unknown;
    try {
      // A read of guest state: bounded tightly, because it runs on the host's thread.
      text = this.#dispatch.applySync(undefined, encodeMessage(message), { timeout: 1000 });
    } catch (error) {
      throw this.#classify(error);
    }
    return this.#decode(text);
  }

  /**
   * SnapStart: a V8 startup snapshot of this sandbox's guest after INIT (taken by replaying INIT in
   * a snapshot process: a V8 heap cannot be captured from a live isolate). Unsupported when INIT
   * used the host (file system, fetch, entropy), which a snapshot cannot hold.
   */
  async snapshot(): Promise<SandboxImage> {
    this.#assertAlive();
    if (!this.#snapshotter || !this.#init) throw new SnapshotUnsupportedError('this V8 sandbox did not run INIT itself (a restored one)');
    const ops = [...this.#snapshotter.hostOps];
    if (ops.length > 0) {
      throw new SnapshotUnsupportedError(`INIT used the host (${ops.sort().join(', ')}), which a V8 snapshot cannot hold`);
    }
    return this.#snapshotter.take(this.#init);
  }

  memoryUsedBytes(): number {
    if (this.disposed) return 0;
    const stats = this.#isolate.getHeapStatisticsSync();
    return stats.total_heap_size + stats.externally_allocated_size;
  }

  dispose(): void {
    this.#fault ??= new SandboxFault('disposed', 'The sandbox was disposed');
    // After a catastrophic error the isolate's thread is parked; disposing could block the host.
    if (!this.#catastrophic && !this.#isolate.isDisposed) this.#isolate.dispose();
  }

  /** `work`, or the catastrophic fault if one comes first; nothing of the call outlives it. */
  #guarded<T>(work: Promise<T>): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      const fail = (fault: SandboxFault): void => reject(fault);
      this.#inFlight.add(fail);
      work.then(
        (value) => {
          this.#inFlight.delete(fail);
          resolve(value);
        },
        (error: unknown) => {
          this.#inFlight.delete(fail);
          // isolated-vm's own reason, passed on unchanged for #classify to read.
          // eslint-disable-next-line @typescript-eslint/prefer-promise-reject-errors
          reject(error);
        },
      );
    });
  }

  /** A reply that does not decode means the guest runtime is broken: the sandbox is finished. */
  #decode(text: unknown): GuestReply {
    try {
      return decodeReply(text);
    } catch (error) {
      throw this.#classify(new MalformedReply(`The guest runtime sent a malformed reply: ${(error as Error).message}`));
    }
  }

  #assertAlive(): void {
    if (this.#fault) throw this.#fault;
    if (this.#isolate.isDisposed) throw (this.#fault = new SandboxFault('disposed', 'The isolate is disposed'));
  }

  /** The guest's phase outcome, if it has one (read without running user code); undefined otherwise. */
  #settledOutcome(): GuestReply | undefined {
    try {
      const reply = decodeReply(this.#dispatch.applySync(undefined, encodeMessage({ type: 'status' }), { timeout: 1000 }));
      return reply.done ? reply : undefined;
    } catch {
      return undefined;
    }
  }

  /** Maps isolated-vm's errors to a fault kind; any fault ends the sandbox. */
  #classify(error: unknown): SandboxFault {
    if (this.#fault) return this.#fault;
    const message = error instanceof Error ? error.message : String(error);
    let fault: SandboxFault;
    if (message === MEMORY_LIMIT_MESSAGE) fault = new SandboxFault('out-of-memory', message, { cause: error });
    else if (message === TIMEOUT_MESSAGE) fault = new SandboxFault('timeout', message, { cause: error });
    else if (this.#isolate.isDisposed) fault = new SandboxFault('disposed', message, { cause: error });
    else if (error instanceof MalformedReply) fault = new SandboxFault('crashed', message, { cause: error });
    else {
      // The guest's dispatch never throws (it catches everything), so what isolated-vm throws here
      // is the reason of a promise rejection nobody handled, copied out at the end of the task.
      fault = new SandboxFault('unhandled-rejection', message, { cause: error, reason: rejectionReason(error), settled: this.#settledOutcome() });
    }
    this.#fault = fault;
    if (!this.#catastrophic && !this.#isolate.isDisposed) this.#isolate.dispose();
    return fault;
  }
}

/** isolated-vm's own messages (src/isolate/environment.cc, run_with_timeout.h). */
const MEMORY_LIMIT_MESSAGE = 'Isolate was disposed during execution due to memory limit';
const TIMEOUT_MESSAGE = 'Script execution timed out.';

class MalformedReply extends Error {}

function rejectionReason(error: unknown): RejectionReason {
  if (error instanceof Error) {
    const stack = typeof error.stack === 'string' ? error.stack.split('\n') : [];
    // isolated-vm appends the host's own frames after a boundary line: they are not the guest's.
    const boundary = stack.findIndex((line) => line.includes('<isolated-vm boundary>'));
    return { text: `${error.name}: ${error.message}`, stack: boundary < 0 ? stack : stack.slice(0, boundary) };
  }
  return { text: String(error), stack: [] };
}

/** isolated-vm wants a positive integer number of milliseconds. */
function toTimeout(ms: number): number {
  return Math.max(1, Math.ceil(ms));
}
