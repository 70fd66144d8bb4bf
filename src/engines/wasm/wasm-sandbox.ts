/**
 * A sandbox running one component instance in its own worker thread. The guest protocol's
 * messages are answered here, on the host side (a component has no guest runtime of its own):
 * `init` instantiates (INIT), `invoke` calls handler.handle, and every reply is final — a component
 * call is synchronous, so there are no timers to tick and `status`/`drain` repeat the last reply.
 * SnapStart's `snapshot`/`restore` messages run no hooks (components have none) and succeed.
 */
import { SandboxFault, type Sandbox, type SandboxOptions } from '../engine.ts';
import type { EnvironmentContextFields, GuestReply, HostMessage } from '../guest/protocol.ts';
import type { GuestWorker, RequestHooks } from './worker-host.ts';
import type { WorkerOutcome } from './worker/messages.ts';

export class WasmSandbox implements Sandbox {
  readonly #worker: GuestWorker;
  readonly #hooks: RequestHooks;
  #context: EnvironmentContextFields | undefined;
  #logCount = 0;
  #memoryBytes = 0;
  #last: GuestReply;
  #disposed = false;

  constructor(worker: GuestWorker, options: SandboxOptions) {
    this.#worker = worker;
    const hostCall = options.hostCall ?? (() => 'e{"name":"Error","message":"not available"}');
    this.#hooks = {
      onLog: (level, message) => {
        this.#logCount++;
        options.onLog(level, message);
      },
      hostCall,
    };
    this.#last = this.#reply({ done: true, ok: true, payload: 'null' });
  }

  get disposed(): boolean {
    return this.#disposed;
  }

  async call(message: HostMessage, timeoutMs: number): Promise<GuestReply> {
    if (this.#disposed) throw new SandboxFault('disposed', 'The sandbox was disposed');
    switch (message.type) {
      case 'init':
        this.#context = message.context;
        return this.#run({ t: 'init', env: message.env }, timeoutMs);
      case 'invoke': {
        const context = this.#context;
        if (!context) throw new SandboxFault('crashed', 'invoke before init');
        // A qualified invoke (name:version, name:alias) names its ARN in the per-invocation extras,
        // as the JS guests read it; the fixed context holds the unqualified one.
        const extras = message.extras === '' ? undefined : (JSON.parse(message.extras) as { invokedFunctionArn?: string });
        return this.#run(
          {
            t: 'invoke',
            event: message.event,
            context: {
              requestId: message.requestId,
              functionName: context.functionName,
              functionVersion: context.functionVersion,
              invokedFunctionArn: extras?.invokedFunctionArn ?? context.invokedFunctionArn,
              memoryLimitMb: Number(context.memoryLimitInMB),
              deadlineMs: message.deadlineMs,
            },
          },
          timeoutMs,
        );
      }
      case 'restore':
        this.#context = message.context;
        this.#logCount = 0;
        return (this.#last = this.#reply({ done: true, ok: true, payload: 'null' }));
      case 'verify':
        return (this.#last = this.#reply({ done: true, ok: true, payload: 'true' }));
      case 'snapshot':
        return (this.#last = this.#reply({ done: true, ok: true, payload: 'null' }));
      default:
        return this.#last;
    }
  }

  peek(_message: HostMessage): GuestReply {
    if (this.#disposed) throw new SandboxFault('disposed', 'The sandbox was disposed');
    return this.#last;
  }

  async #run(request: Parameters<GuestWorker['request']>[0], timeoutMs: number): Promise<GuestReply> {
    let outcome: WorkerOutcome;
    try {
      const finished = await this.#worker.request(request, timeoutMs, this.#hooks);
      outcome = finished.outcome;
      this.#memoryBytes = finished.memoryBytes;
    } catch (error) {
      this.dispose();
      throw error;
    }
    switch (outcome.t) {
      case 'ok':
        return (this.#last = this.#reply({ done: true, ok: true, payload: outcome.payload }));
      case 'error':
        return (this.#last = this.#reply({
          done: true,
          ok: false,
          error: { errorType: outcome.errorType, errorMessage: outcome.errorMessage, trace: [] },
        }));
      case 'fault':
        this.dispose();
        throw new SandboxFault(outcome.kind, outcome.message);
    }
  }

  #reply(reply: Omit<GuestReply, 'nextTimerInMs' | 'logCount'>): GuestReply {
    return { ...reply, nextTimerInMs: -1, logCount: this.#logCount };
  }

  memoryUsedBytes(): number {
    return this.#memoryBytes;
  }

  dispose(): void {
    if (this.#disposed) return;
    this.#disposed = true;
    this.#worker.terminate();
  }
}
