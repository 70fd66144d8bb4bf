/**
 * A sandbox holding one component instance, living in an engine server's worker thread beside
 * other environments' instances (remote/server.ts hosts it; the host thread sees a RemoteSandbox).
 * The guest protocol's messages are answered here (a component has no guest runtime of its own):
 * `init` instantiates (INIT), `invoke` calls handler.handle, and every reply is final — a component
 * call is synchronous, so there are no timers to tick and `status`/`drain` repeat the last reply.
 * SnapStart's `snapshot`/`restore` messages run no hooks (components have none) and succeed.
 *
 * A call cannot be interrupted from its own thread (JavaScript engines have no fuel or epochs for
 * WebAssembly): the host terminates the whole worker when a call is still running at its deadline
 * (remote/worker-host.ts, `exactDeadlines`). A call that returns after its deadline, before the host
 * acted, is a timeout too.
 */
import { SandboxFault, type Sandbox, type SandboxOptions } from '../engine.ts';
import type { EnvironmentContextFields, GuestReply, HostMessage } from '../guest/protocol.ts';
import { ComponentInstance, type Instantiate, type Outcome } from './component-instance.ts';
import type { BrowserShim } from './worker/wasi-imports.ts';
import { PhaseLogBudget } from './log-budget.ts';

/** One code version at one memory cap, as an engine server holds it. */
export interface WasmCode {
  readonly instantiate: Instantiate;
  readonly modules: Readonly<Record<string, WebAssembly.Module>>;
  /** Per core module, each defined memory's maximum in pages. */
  readonly memoryMaxPages: Readonly<Record<string, readonly number[]>>;
  readonly memoryCapBytes: number;
  readonly shim: BrowserShim;
}

const NO_HOST_CALLS = (): string => 'e{"name":"Error","message":"not available"}';

export class WasmSandbox implements Sandbox {
  readonly #code: WasmCode;
  readonly #options: SandboxOptions;
  #instance: ComponentInstance | undefined;
  #context: EnvironmentContextFields | undefined;
  #logCount = 0;
  readonly #logBudget = new PhaseLogBudget();
  #last: GuestReply;
  #disposed = false;

  constructor(code: WasmCode, options: SandboxOptions) {
    this.#code = code;
    this.#options = options;
    this.#last = this.#reply({ t: 'ok', payload: 'null' });
  }

  get disposed(): boolean {
    return this.#disposed;
  }

  async call(message: HostMessage, timeoutMs: number): Promise<GuestReply> {
    if (this.#disposed) throw new SandboxFault('disposed', 'The sandbox was disposed');
    if (message.type !== 'status' && message.type !== 'tick' && message.type !== 'drain') this.#logBudget.reset();
    switch (message.type) {
      case 'init': {
        this.#context = message.context;
        const started = performance.now();
        const { instance, outcome } = await ComponentInstance.create({
          ...this.#code,
          env: message.env,
          hostCall: this.#options.hostCall ?? NO_HOST_CALLS,
          log: (level, text) => this.#log(level, text),
        });
        this.#instance = instance;
        return this.#settle(outcome, started, timeoutMs);
      }
      case 'invoke': {
        const context = this.#context;
        const instance = this.#instance;
        if (!context || !instance) throw this.#fail(new SandboxFault('crashed', 'invoke before init'));
        // A qualified invoke (name:version, name:alias) names its ARN in the per-invocation extras,
        // as the JS guests read it; the fixed context holds the unqualified one.
        const extras = message.extras === '' ? undefined : (JSON.parse(message.extras) as { invokedFunctionArn?: string });
        const started = performance.now();
        const outcome = instance.handle(message.event, {
          requestId: message.requestId,
          functionName: context.functionName,
          functionVersion: context.functionVersion,
          invokedFunctionArn: extras?.invokedFunctionArn ?? context.invokedFunctionArn,
          memoryLimitMb: Number(context.memoryLimitInMB),
          deadlineMs: message.deadlineMs,
        });
        return this.#settle(outcome, started, timeoutMs);
      }
      case 'restore':
        this.#context = message.context;
        this.#logCount = 0;
        return (this.#last = this.#reply({ t: 'ok', payload: 'null' }));
      case 'verify':
        return (this.#last = this.#reply({ t: 'ok', payload: 'true' }));
      case 'snapshot':
        return (this.#last = this.#reply({ t: 'ok', payload: 'null' }));
      default:
        return this.#last;
    }
  }

  #log(level: string, text: string): void {
    const sent = this.#logBudget.admit(text);
    if (sent === undefined) return;
    this.#logCount++;
    this.#options.onLog(level, sent);
  }

  #settle(outcome: Outcome, started: number, timeoutMs: number): GuestReply {
    if (this.#disposed) throw new SandboxFault('disposed', 'The sandbox was disposed');
    if (performance.now() - started > timeoutMs) {
      throw this.#fail(new SandboxFault('timeout', `the component ran past its deadline (${Math.round(timeoutMs)} ms)`));
    }
    if (outcome.t === 'fault') throw this.#fail(new SandboxFault(outcome.kind, outcome.message));
    return (this.#last = this.#reply(outcome));
  }

  #reply(outcome: Exclude<Outcome, { t: 'fault' }>): GuestReply {
    const reply =
      outcome.t === 'ok'
        ? { done: true, ok: true, payload: outcome.payload }
        : { done: true, ok: false, error: { errorType: outcome.errorType, errorMessage: outcome.errorMessage, trace: [] } };
    return { ...reply, nextTimerInMs: -1, logCount: this.#logCount };
  }

  #fail(fault: SandboxFault): SandboxFault {
    this.dispose();
    return fault;
  }

  peek(_message: HostMessage): GuestReply {
    if (this.#disposed) throw new SandboxFault('disposed', 'The sandbox was disposed');
    return this.#last;
  }

  memoryUsedBytes(): number {
    return this.#instance?.memoryBytes() ?? 0;
  }

  /** Drops the instance (its memories are freed with it). */
  dispose(): void {
    this.#disposed = true;
    this.#instance = undefined;
  }
}
