/**
 * A sandbox living in an engine server (another thread or process), seen from the host thread.
 * Calls are requests; `peek` reads the guest status the server sent with the last call's reply
 * (the environment only peeks right after a call whose phase is not done), and `memoryUsedBytes`
 * the memory it sent: neither blocks the host.
 */
import { SandboxFault, type Sandbox, type SandboxImage, type SandboxOptions } from '../engine.ts';
import { decodeReply, type GuestReply, type HostMessage } from '../guest/protocol.ts';
import type { FaultShape, ServerEvent } from './protocol.ts';

/** What a remote sandbox asks of its pool (engine-pool.ts). */
export interface SandboxLink {
  /** `budgetMs`: the call goes behind the sandbox's restore, its time counted from the restore's start (protocol.ts). */
  call(message: HostMessage, deadline: number, budgetMs?: number): Promise<Extract<ServerEvent, { t: 'reply' }>>;
  snapshot(): Promise<SandboxImage>;
  dispose(): void;
}

export function toFault(shape: FaultShape): SandboxFault {
  return new SandboxFault(shape.kind, shape.message, { ...(shape.reason ? { reason: shape.reason } : {}), ...(shape.settled ? { settled: shape.settled } : {}) });
}

export class RemoteSandbox implements Sandbox {
  readonly options: SandboxOptions;
  readonly #link: SandboxLink;
  #status: GuestReply | SandboxFault | undefined;
  #memoryBytes = 0;
  #fault: SandboxFault | undefined;
  /** A first call sent with the sandbox's start request (sendAhead), until `call` takes its answer. */
  #ahead: { readonly message: HostMessage; readonly answer: Promise<Extract<ServerEvent, { t: 'reply' }>> } | undefined;

  constructor(options: SandboxOptions, link: SandboxLink) {
    this.options = options;
    this.#link = link;
  }

  #retired = false;

  get disposed(): boolean {
    return this.#fault !== undefined;
  }

  /** See Sandbox.retired: set by the pool (retire()). */
  get retired(): boolean {
    return this.#retired;
  }

  retire(): void {
    this.#retired = true;
  }

  /**
   * Sends `message` now, right behind the request that starts this sandbox (the server runs it once
   * the sandbox is made: server.ts): Blueprint.restore's `resume`. The first {@link call} with this
   * same message object takes its answer instead of sending it again.
   */
  sendAhead(message: HostMessage, timeoutMs: number): void {
    const answer = this.#link.call(message, performance.timeOrigin + performance.now() + timeoutMs, timeoutMs);
    // Nobody may ever take it (the start failed: the sandbox is gone with it).
    answer.catch(() => {});
    this.#ahead = { message, answer };
  }

  async call(message: HostMessage, timeoutMs: number): Promise<GuestReply> {
    if (this.#fault) throw this.#fault;
    this.#status = undefined;
    const ahead = this.#ahead;
    this.#ahead = undefined;
    const answer = await (ahead?.message === message ? ahead.answer : this.#link.call(message, performance.timeOrigin + performance.now() + timeoutMs));
    if (answer.fault) {
      // The call's own answer wins over what ended the server just after it (both may arrive
      // before this continuation runs).
      const fault = toFault(answer.fault);
      this.fail(fault);
      throw fault;
    }
    const fault = this.#fault as SandboxFault | undefined; // disposed while the call was out
    if (fault) throw fault;
    this.#memoryBytes = answer.memoryBytes;
    const status = answer.status;
    this.#status = status === undefined ? undefined : typeof status === 'string' ? this.#decode(status) : toFault(status.fault);
    const reply = this.#decode(answer.reply);
    if (reply instanceof SandboxFault) throw this.fail(reply);
    return reply;
  }

  /** A reply or status as its server sent it (the guest's reply format, protocol.ts); a fault if it does not decode. */
  #decode(text: string | undefined): GuestReply | SandboxFault {
    try {
      return decodeReply(text);
    } catch (error) {
      return new SandboxFault('crashed', `The engine server sent a malformed reply: ${(error as Error).message}`);
    }
  }

  peek(message: HostMessage): GuestReply {
    if (this.#fault) throw this.#fault;
    const status = this.#status;
    this.#status = undefined;
    if (message.type !== 'status' || status === undefined) {
      // A host-thread read that would have to wait for the server: not part of the environment's loop.
      throw this.fail(new SandboxFault('crashed', `lambdalet bug: a remote sandbox answers only the status that follows a call (${message.type})`));
    }
    if (status instanceof SandboxFault) throw this.fail(status);
    return status;
  }

  memoryUsedBytes(): number {
    return this.disposed ? 0 : this.#memoryBytes;
  }

  snapshot(): Promise<SandboxImage> {
    if (this.#fault) return Promise.reject(this.#fault);
    return this.#link.snapshot();
  }

  dispose(): void {
    if (this.#fault) return;
    this.#fault = new SandboxFault('disposed', 'The sandbox was disposed');
    this.#link.dispose();
  }

  /** The sandbox ended (a fault here or in its server, or its server died): later calls fault the same way. */
  fail(fault: SandboxFault): SandboxFault {
    if (this.#fault) return this.#fault;
    this.#fault = fault;
    this.#link.dispose();
    return fault;
  }
}
