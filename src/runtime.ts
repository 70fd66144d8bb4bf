/**
 * The facade that wires the layers together: the registry (registry/: functions and their
 * deployments) and the invocation path (invoke/: resolution, admission, run, report) over the
 * dispatcher, engines and logs. `createRuntime()` works with no options (embedded defaults).
 * This file only checks the runtime is open, parses inputs and delegates.
 */
import {
  parseFunctionConfig,
  parseInvokeOptions,
  parseRuntimeOptions,
  type FunctionConfigInput,
  type InvokeOptionsInput,
  type RuntimeOptions,
  type RuntimeOptionsInput,
} from './config/index.ts';
import { EngineRegistry } from './engines/registry.ts';
import { Dispatcher, type RuntimeMetrics } from './dispatch/index.ts';
import type { ExecutionEnvironment } from './environment/environment.ts';
import { RuntimeClosedError } from './errors.ts';
import { serializeEvent } from './invoke/event.ts';
import { Invoker } from './invoke/invoker.ts';
import { resolveFunction } from './invoke/resolve.ts';
import type { InvokeResult } from './invoke/result.ts';
import { stdoutSink, type LogSink } from './observability/log-sink.ts';
import { deployFunction, type DeployContext, type FunctionInfo } from './registry/deploy.ts';
import type { Deployment } from './registry/deployment.ts';
import { FunctionRegistry } from './registry/registry.ts';

export type { FunctionInfo } from './registry/deploy.ts';
export type { InvokeResult } from './invoke/result.ts';

export class Runtime implements AsyncDisposable {
  readonly #options: RuntimeOptions;
  readonly #sink: LogSink;
  readonly #engines: EngineRegistry;
  readonly #registry = new FunctionRegistry();
  readonly #inFlight = new Set<Promise<unknown>>();
  readonly #dispatcher: Dispatcher<ExecutionEnvironment, Deployment>;
  readonly #invoker: Invoker;
  readonly #deployContext: DeployContext;
  #closing: Promise<void> | undefined;

  constructor(options: RuntimeOptions) {
    this.#options = options;
    this.#sink = options.logSink ?? stdoutSink;
    this.#dispatcher = new Dispatcher(options);
    this.#engines = new EngineRegistry({ quickjs: { isolation: options.quickjsIsolation } });
    this.#invoker = new Invoker(this.#dispatcher, this.#sink);
    this.#deployContext = {
      options,
      sink: this.#sink,
      engines: this.#engines,
      dispatcher: this.#dispatcher,
      registry: this.#registry,
      assertOpen: () => this.#assertOpen(),
      isClosing: () => this.#closing !== undefined,
    };
  }

  /**
   * Creates or replaces a function ($LATEST). Bundles its code and prepares its engine; problems in
   * the user's code (syntax error, missing module or handler) are not thrown: they are Lambda INIT
   * errors, returned by every invoke. Invalid configuration throws InvalidParameterValueException.
   */
  async deploy(input: FunctionConfigInput): Promise<FunctionInfo> {
    this.#assertOpen();
    const config = parseFunctionConfig(input);
    return this.#track(this.#registry.serialise(config.name, () => deployFunction(this.#deployContext, config)));
  }

  /**
   * Invokes a function synchronously (RequestResponse). Function errors come back in the result
   * (`functionError: 'Unhandled'`); service errors are thrown: ResourceNotFoundException,
   * RequestTooLargeException, InvalidRequestContentException, RuntimeClosedError.
   */
  invoke(name: string, event?: unknown, options?: InvokeOptionsInput): Promise<InvokeResult> {
    // Service errors reject the returned promise rather than throw synchronously, as deploy()'s
    // do: `rt.invoke(...).catch(...)` must see them. (Not `async`: the warm path saves a tick.)
    try {
      this.#assertOpen();
      const invokeOptions = parseInvokeOptions(options);
      const fn = resolveFunction(this.#registry, this.#options, name);
      // After a catastrophic engine error nothing more is admitted, warm environments included.
      this.#engines.get(fn.config.engine).assertAvailable();
      const eventJson = serializeEvent(event);
      return this.#track(this.#invoker.invoke(fn, eventJson, invokeOptions));
    } catch (error) {
      return Promise.reject(error instanceof Error ? error : new Error(String(error)));
    }
  }

  /**
   * The runtime's figures under Lambda's metric names: per function Invocations, Errors, Throttles,
   * Duration p50/p90/p99, ConcurrentExecutions, ProvisionedConcurrency…, ColdStarts, InitDuration
   * and GBSeconds; account-wide ConcurrentExecutions and UnreservedConcurrentExecutions. A snapshot:
   * later invokes do not change the object returned.
   */
  metrics(): RuntimeMetrics {
    return this.#dispatcher.metrics();
  }

  /**
   * Stops admitting work (invokes waiting for capacity fail with RuntimeClosedError), lets
   * in-flight invocations finish for up to `closeTimeoutMs`, then disposes every environment — a
   * busy one's invocation then fails. In-flight deploys finish first. Idempotent.
   */
  close(): Promise<void> {
    this.#closing ??= (async () => {
      const cutOff = await this.#dispatcher.close(this.#options.closeTimeoutMs);
      // Invocations that finished in time settle within a few ticks: wait for them, so close()
      // resolves after their results. Ones cut off may wait on a timer until their deadline.
      if (cutOff === 0) while (this.#inFlight.size > 0) await Promise.allSettled([...this.#inFlight]);
      else await this.#registry.settled();
      for (const fn of this.#registry.values()) fn.snapStart?.dispose();
      this.#registry.clear();
    })();
    return this.#closing;
  }

  [Symbol.asyncDispose](): Promise<void> {
    return this.close();
  }

  #assertOpen(): void {
    if (this.#closing) throw new RuntimeClosedError();
  }

  #track<T>(promise: Promise<T>): Promise<T> {
    this.#inFlight.add(promise);
    const untrack = (): void => void this.#inFlight.delete(promise);
    promise.then(untrack, untrack);
    return promise;
  }
}

/** Creates a runtime. With no options: region us-east-1, account 123456789012, logs to stdout. */
export async function createRuntime(options?: RuntimeOptionsInput): Promise<Runtime> {
  return Promise.resolve(new Runtime(parseRuntimeOptions(options)));
}
