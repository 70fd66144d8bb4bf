/** One V8 isolate + context running the guest runtime and one user bundle. */
import type ivm from 'isolated-vm';
import { SandboxFault, type Sandbox } from '../engine.ts';
import { decodeReply, encodeMessage, type GuestReply, type HostMessage } from '../guest/protocol.ts';

/** The guest's dispatch: strings in, a string out (see the wire format in guest/protocol.ts). */
export type GuestDispatch = (type: string, body: string) => string;

export class V8Sandbox implements Sandbox {
  readonly #isolate: ivm.Isolate;
  readonly #dispatch: ivm.Reference<GuestDispatch>;
  /** Why the sandbox died, once it has: later calls fault with the same kind. */
  #fault: SandboxFault | undefined;

  constructor(isolate: ivm.Isolate, dispatch: ivm.Reference<GuestDispatch>) {
    this.#isolate = isolate;
    this.#dispatch = dispatch;
  }

  get disposed(): boolean {
    return this.#fault !== undefined || this.#isolate.isDisposed;
  }

  async call(message: HostMessage, timeoutMs: number): Promise<GuestReply> {
    this.#assertAlive();
    let text: unknown;
    try {
      text = await this.#dispatch.apply(undefined, encodeMessage(message), { timeout: toTimeout(timeoutMs) });
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

  memoryUsedBytes(): number {
    if (this.disposed) return 0;
    const stats = this.#isolate.getHeapStatisticsSync();
    return stats.total_heap_size + stats.externally_allocated_size;
  }

  dispose(): void {
    this.#fault ??= new SandboxFault('disposed', 'The sandbox was disposed');
    if (!this.#isolate.isDisposed) this.#isolate.dispose();
  }

  /** A reply that does not decode means the guest runtime is broken: the sandbox is finished. */
  #decode(text: unknown): GuestReply {
    try {
      return decodeReply(text);
    } catch (error) {
      throw this.#classify(new Error(`The guest runtime sent a malformed reply: ${(error as Error).message}`));
    }
  }

  #assertAlive(): void {
    if (this.#fault) throw this.#fault;
    if (this.#isolate.isDisposed) throw (this.#fault = new SandboxFault('disposed', 'The isolate is disposed'));
  }

  /** Maps isolated-vm's errors to a fault kind; any fault ends the sandbox. */
  #classify(error: unknown): SandboxFault {
    if (this.#fault) return this.#fault;
    const message = error instanceof Error ? error.message : String(error);
    let fault: SandboxFault;
    if (/memory limit/i.test(message)) fault = new SandboxFault('out-of-memory', message, { cause: error });
    else if (/timed out/i.test(message)) fault = new SandboxFault('timeout', message, { cause: error });
    else if (this.#isolate.isDisposed) fault = new SandboxFault('disposed', message, { cause: error });
    else fault = new SandboxFault('crashed', message, { cause: error });
    this.#fault = fault;
    if (!this.#isolate.isDisposed) this.#isolate.dispose();
    return fault;
  }
}

/** isolated-vm wants a positive integer number of milliseconds. */
function toTimeout(ms: number): number {
  return Math.max(1, Math.ceil(ms));
}
