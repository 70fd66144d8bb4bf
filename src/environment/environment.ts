/**
 * An execution environment: one sandbox + its log stream + lifecycle state. It serves one
 * invocation at a time; the INIT phase runs once, on the first (cold) invocation; fatal outcomes
 * (timeout, out of memory, crash, uncaught exception, failed INIT) leave it dead, and the pool
 * discards it — the next invocation cold-starts a new one, as on Lambda.
 */
import { randomHex } from '../random-hex.ts';
import type { FunctionBundle } from '../code/types.ts';
import type { FunctionConfig } from '../config/index.ts';
import { INIT_TIMEOUT_MS, RESPONSE_PAYLOAD_MAX_BYTES, RESTORE_TIMEOUT_MS } from '../config/index.ts';
import { SandboxFault, SnapshotUnsupportedError, type Blueprint, type Sandbox, type SandboxImage, type SentAhead } from '../engines/engine.ts';
import type { EnvironmentContextFields, ErrorShape, GuestReply, HostMessage } from '../engines/guest/protocol.ts';
import { RESPONSE_TOO_LARGE } from '../engines/guest/protocol.ts';
import { timeoutMessage } from '../observability/log-lines.ts';
import { performance, wallNow } from '../host-clock.ts';
import { answerByDeadline, PhaseWaker, runPhase } from './event-loop.ts';
import { credentialVariables } from '../config/index.ts';
import { lambdaEnvironmentVariables, logStreamName, type FunctionIdentity, type InitializationType } from './lambda-env.ts';
import { LogCollector } from './log-collector.ts';
import { HostBridge } from './host-bridge.ts';
import type { ResponseSink } from './response-sink.ts';
import { LazyVfs, type TmpImage, type TmpUsage } from '../vfs/index.ts';
import type { LogSink } from '../observability/log-sink.ts';

const MIB = 1024 * 1024;

export type EnvironmentState = 'booted' | 'ready' | 'busy' | 'dead';

/** What the user's code did in one phase, as Lambda reports it. */
export type PhaseResult =
  | { readonly ok: true; readonly payload: string }
  | {
      readonly ok: false;
      readonly error: ErrorShape;
      /**
       * The host made this error (timeout, out of memory, crash, oversized response), not the guest.
       * Only these get Lambda's platform treatment (no trace, `Status: timeout`): a handler that
       * throws an error named `Sandbox.Timedout` must not be able to forge a timeout.
       */
      readonly platform?: boolean;
      /**
       * The environment died (its engine server was terminated for a neighbour's call) before this
       * phase's first call began running any of its user code (SandboxFault `not-started`): the
       * caller may run the phase's invocation again on a fresh environment (invoke/run.ts). `error`
       * is the Runtime.ExitError it is otherwise.
       */
      readonly notStarted?: true;
    };

export interface InvocationRequest {
  readonly requestId: string;
  /** The event as JSON text. */
  readonly event: string;
  readonly clientContext?: unknown;
  readonly identity?: unknown;
  /** `context.invokedFunctionArn` when the caller named a qualifier (version or alias); unqualified otherwise. */
  readonly invokedFunctionArn?: string | undefined;
  /** Tenant isolation: the invoke's tenant (`context.tenantId`). */
  readonly tenantId?: string | undefined;
  /**
   * InvokeWithResponseStream: where a streamified handler's bytes go as it writes them. Without it,
   * a streaming handler's body is returned whole as the payload (Invoke).
   */
  readonly responseSink?: ResponseSink | undefined;
}

export interface EnvironmentDeps {
  readonly config: FunctionConfig;
  readonly bundle: FunctionBundle;
  readonly blueprint: Blueprint;
  readonly identity: FunctionIdentity;
  readonly sink: LogSink;
  /** How the environment was started (AWS_LAMBDA_INITIALIZATION_TYPE). Default `on-demand`. */
  readonly initializationType?: InitializationType;
  /** /opt's files: the function's layers merged in order (later layers win). Default: an empty /opt. */
  readonly opt?: Readonly<Record<string, Uint8Array>> | undefined;
  /** INIT's and the restore phase's limits (the runtime options). Default: Lambda's 10 s each. */
  readonly phaseLimits?: PhaseLimits | undefined;
  /**
   * Variables the host adds while something is true of it (AWS_ENDPOINT_URL_LAMBDA while a server
   * runs: http/). Read at INIT; the function's own variables override them.
   */
  readonly hostEnv?: HostEnvironment | undefined;
}

/** A runtime's host variables: one mutable holder shared by all its deployments. */
export interface HostEnvironment {
  readonly vars: Record<string, string>;
  /**
   * The runtime's number, unique in the process: the owners of the process-wide shares (heavy
   * calls' turns, heavy-work.ts; fetches in flight, fetch-ledger.ts) are this runtime's functions,
   * so a function of another runtime with the same name is another owner. Unset: owners are named
   * by function alone.
   */
  readonly runtimeId?: number;
}

/** How long INIT and SnapStart's restore phase may run, in ms (`createRuntime({ initTimeoutMs, restoreTimeoutMs })`). */
export interface PhaseLimits {
  readonly initMs: number;
  readonly restoreMs: number;
}

/** SnapStart: what a restored environment starts from — the sandbox's image and /tmp's files. */
export interface EnvironmentSnapshot {
  readonly image: SandboxImage;
  readonly tmp: TmpImage | undefined;
}

export class ExecutionEnvironment {
  readonly logStreamName: string;
  /** This environment's log stream: guest console lines and the platform lines, in order. */
  readonly logs: LogCollector;
  readonly #deps: EnvironmentDeps;
  readonly #sandbox: Sandbox;
  /** /tmp, /var/task and /opt as this environment's guest sees them. */
  readonly #vfs: LazyVfs;
  readonly #bridge: HostBridge;
  /** Ends the drive loop's wait early when the guest's sockets have news (event-loop.ts). */
  readonly #waker = new PhaseWaker();
  #state: EnvironmentState = 'booted';
  #maxMemoryUsedMb = 0;
  /** Lambda's timeout message for this function's timeout, made on the first invoke (the warm path formats nothing it may not need). */
  #timeoutText: string | undefined;
  /** Aborted by dispose(): ends a phase that is waiting on guest timers. */
  readonly #disposed = new AbortController();
  /** SnapStart: the `restore` message given to Blueprint.restore with the restore, and when; {@link resume} runs it. */
  #resumeAhead: { readonly message: HostMessage; sentAt: number } | undefined;

  private constructor(deps: EnvironmentDeps, sandbox: Sandbox, logs: LogCollector, vfs: LazyVfs, bridge: HostBridge) {
    this.#deps = deps;
    this.#sandbox = sandbox;
    this.#vfs = vfs;
    this.#bridge = bridge;
    bridge.onSocketNews = this.#waker.wake;
    this.logs = logs;
    this.logStreamName = logs.logStreamName;
  }

  /** Boots a sandbox for the function: guest runtime and user bundle loaded, INIT not yet run. */
  static boot(deps: EnvironmentDeps): Promise<ExecutionEnvironment> {
    return ExecutionEnvironment.#create(deps, undefined, (options) => deps.blueprint.boot(options), false);
  }

  /**
   * SnapStart: a sandbox restored from `snapshot` (INIT already done in the template) and /tmp as
   * the template left it. The guest still needs {@link resume} before it can be invoked: its
   * `restore` message is made here and given to the engine with the restore (Blueprint.restore's
   * `resume`: an engine in another thread runs it right after the restore, with no round trip
   * between them); resume() then takes its outcome.
   */
  static restore(deps: EnvironmentDeps, snapshot: EnvironmentSnapshot): Promise<ExecutionEnvironment> {
    const { blueprint } = deps;
    if (!blueprint.restore) throw new Error(`lambdalet bug: the ${blueprint.engine} engine cannot restore snapshots`);
    return ExecutionEnvironment.#create(deps, snapshot.tmp, (options, resume) => blueprint.restore!(snapshot.image, options, resume), true);
  }

  static async #create(
    deps: EnvironmentDeps,
    tmp: TmpImage | undefined,
    start: (options: Parameters<Blueprint['boot']>[0], resume: SentAhead | undefined) => Promise<Sandbox>,
    restoring: boolean,
  ): Promise<ExecutionEnvironment> {
    const { config } = deps;
    const logs = new LogCollector(deps.sink, config.name, logStreamName(new Date(), deps.identity.version), deps.bundle, config.loggingConfig);
    const resumeAhead = restoring ? { message: restoreMessage(deps, logs.logStreamName), sentAt: performance.now() } : undefined;
    // The guest counts its lines from its `restore` message on, which may run as soon as it is sent.
    if (resumeAhead) logs.restartCount();
    const vfs = new LazyVfs(deps.opt ? { ...config, opt: deps.opt } : config);
    const bridge = new HostBridge({ vfs, egress: config.egress, maxResponseBytes: config.memoryMb * MIB, heavyWorkOwner: heavyWorkOwner(deps.hostEnv?.runtimeId, config.name, undefined) });
    let sandbox: Sandbox;
    try {
      if (tmp) vfs.restoreTmp(tmp);
      sandbox = await start(
        {
          memoryMb: config.memoryMb,
          onLog: (level, message) => logs.guestLine(level, message),
          hostCall: bridge.call,
          hostCallBytes: bridge.callBytes,
          hostCallAsync: bridge.callAsync,
          hostCallAsyncBytes: bridge.callAsyncBytes,
        },
        resumeAhead && {
          message: resumeAhead.message,
          timeoutMs: restoreLimitMs(deps),
          // The restore work began later than asked (a child or server started first): the limit counts from then.
          began: (epochMs) => {
            resumeAhead.sentAt = Math.max(resumeAhead.sentAt, epochMs - performance.timeOrigin);
          },
        },
      );
    } catch (error) {
      bridge.dispose();
      vfs.dispose();
      throw error;
    }
    const env = new ExecutionEnvironment(deps, sandbox, logs, vfs, bridge);
    env.#resumeAhead = resumeAhead;
    return env;
  }

  /**
   * Bytes this environment holds in the host's memory beside its sandbox: a memory-backed /tmp's
   * contents, request bodies of fetches in flight and response bodies not yet taken, and what its
   * sockets hold (bounded per socket: socket-service.ts). The dispatcher counts them against its budget.
   */
  hostBytes(): number {
    return this.#vfs.hostBytes() + this.#bridge.fetchHeldBytes + this.#bridge.socketHeldBytes;
  }

  /**
   * Asked before a memory-backed /tmp, the fetches' bodies or the sockets' buffers grow, with what
   * {@link hostBytes} would then be; false refuses the write with ENOSPC, the fetch as out of memory
   * (host-bridge.ts), and pauses a socket's reading or refuses its write (socket-service.ts). Set by the dispatcher when it attaches the environment.
   */
  setHostRoom(room: ((bytes: number) => boolean) | undefined): void {
    const bridge = this.#bridge;
    // Each part asks with what it would hold: the total with its own current share replaced.
    const ask = (share: () => number) => (room === undefined ? undefined : (bytes: number) => room(this.hostBytes() - share() + bytes));
    this.#vfs.hostRoom = ask(() => this.#vfs.hostBytes());
    bridge.fetchRoom = ask(() => bridge.fetchHeldBytes);
    bridge.socketRoom = ask(() => bridge.socketHeldBytes);
  }

  /** /tmp's usage now (bytes of file content, files + directories, the quota). */
  tmpUsage(): TmpUsage {
    return this.#vfs.usage();
  }

  get state(): EnvironmentState {
    // A sandbox can end while idle (process isolation: its engine process died): so does the environment.
    if (this.#state !== 'dead' && this.#sandbox.disposed) return 'dead';
    // The engine retired the sandbox (engine.ts `retired`): it serves no further invocation.
    if (this.#state === 'ready' && this.#sandbox.retired === true) return 'dead';
    return this.#state;
  }

  get maxMemoryUsedMb(): number {
    return this.#maxMemoryUsedMb;
  }

  /**
   * The INIT phase: the user module's top level, within Lambda's 10 s INIT limit or the runtime's
   * `initTimeoutMs` (SnapStart's template INIT at deploy passes a longer one).
   */
  async init(limitMs = this.#deps.phaseLimits?.initMs ?? INIT_TIMEOUT_MS): Promise<PhaseResult> {
    this.#enter('booted');
    const { config, bundle, identity } = this.#deps;
    this.logs.initStart(this.#deps.initializationType ?? 'on-demand', config.name, identity.version);
    // The execution role's credentials, fetched per environment (config/credentials.ts).
    const credentials = await credentialVariables(config.credentials);
    return this.#phase(
      {
        type: 'init',
        env: {
          ...this.#deps.hostEnv?.vars,
          ...config.env,
          ...lambdaEnvironmentVariables(config, identity, this.logStreamName, this.#deps.initializationType),
          ...credentials,
        },
        handler: bundle.handler,
        handlerPath: bundle.handlerPath,
        runtime: config.runtime,
        context: this.#contextFields(),
        ...(bundle.moduleScope ? { moduleScope: bundle.moduleScope } : {}),
      },
      limitMs,
      `INIT phase timed out after ${(limitMs / 1000).toFixed(2)} seconds`,
    );
  }

  /** SnapStart, in the template after INIT: the function's before-snapshot hooks. */
  beforeSnapshot(limitMs: number): Promise<PhaseResult> {
    this.#enter('ready');
    const hooks = this.#phase({ type: 'snapshot' }, limitMs, `Before-snapshot hooks timed out after ${(limitMs / 1000).toFixed(2)} seconds`);
    // Lambda keeps no connection across a snapshot: the guest's sockets are closed now, and each
    // reports ECONNRESET saying so at the guest's next poll (after restore, on either SnapStart path).
    return hooks.finally(() => this.#bridge.closeSocketsForSnapshot());
  }

  /**
   * SnapStart, in the template after {@link beforeSnapshot}: the sandbox's image and /tmp's files.
   * Throws SnapshotUnsupportedError when the engine cannot capture this sandbox.
   */
  async snapshot(): Promise<EnvironmentSnapshot> {
    if (this.#state !== 'ready') throw new Error(`Environment is ${this.#state}, expected ready`);
    if (!this.#sandbox.snapshot) throw new SnapshotUnsupportedError(`the ${this.#deps.blueprint.engine} engine cannot snapshot sandboxes`);
    const image = await this.#sandbox.snapshot();
    return { image, tmp: this.#vfs.snapshotTmp() };
  }

  /**
   * SnapStart, in a restored environment (state `booted`) or a pre-initialised one (`ready`): fresh
   * entropy and this environment's identity for the guest, then the function's after-restore hooks
   * (Lambda's restore phase, 10 s, or the runtime's `restoreTimeoutMs`). In a restored environment
   * the message went with the restore ({@link restore}), and the phase's limit counts from then.
   */
  resume(): Promise<PhaseResult> {
    if (this.#state !== 'booted' && this.#state !== 'ready') throw new Error(`Environment is ${this.#state}, expected booted or ready`);
    this.#state = 'busy';
    const ahead = this.#resumeAhead;
    this.#resumeAhead = undefined;
    if (!ahead) this.logs.restartCount();
    const limitMs = restoreLimitMs(this.#deps);
    return this.#phase(
      ahead?.message ?? restoreMessage(this.#deps, this.logStreamName),
      ahead ? limitMs - (performance.now() - ahead.sentAt) : limitMs,
      `RESTORE phase timed out after ${(limitMs / 1000).toFixed(2)} seconds`,
    );
  }

  /** One invocation; the environment must be ready (INIT done) and idle. */
  async invoke(request: InvocationRequest): Promise<PhaseResult> {
    this.#enter('ready');
    const { config } = this.#deps;
    const sink = request.responseSink;
    this.#bridge.responseSink = sink;
    // An environment serves one tenant (the dispatcher's), known here; INIT's calls count as the function's.
    if (request.tenantId !== undefined) this.#bridge.heavyWorkOwner = heavyWorkOwner(this.#deps.hostEnv?.runtimeId, config.name, request.tenantId);
    let result: PhaseResult;
    try {
      result = await this.#run(
        {
          type: 'invoke',
          requestId: request.requestId,
          deadlineMs: wallNow() + config.timeoutMs,
          extras:
            request.clientContext === undefined && request.identity === undefined && request.invokedFunctionArn === undefined && request.tenantId === undefined && sink === undefined
              ? ''
              : JSON.stringify({
                  clientContext: request.clientContext,
                  identity: request.identity,
                  invokedFunctionArn: request.invokedFunctionArn,
                  tenantId: request.tenantId,
                  // The room the guest may fill before its first wait (guest/streaming.ts).
                  responseStream: sink?.room(),
                }),
          event: request.event,
        },
        config.timeoutMs,
        (this.#timeoutText ??= timeoutMessage(config.timeoutMs)),
        request.requestId,
      );
    } finally {
      this.#bridge.responseSink = undefined;
    }
    // Idle again before the size check: an oversized outcome is the response's failure, not the
    // environment's (Lambda's runtime API refuses the body and the runtime goes on serving). Checked
    // after, it stayed `busy`: the dispatcher discarded it on release, the next invocation a cold start.
    if (this.#state === 'busy') this.#state = 'ready';
    // A result or a function error over the limit fails as Lambda fails it; the guest runtime has
    // already put its marker in place of an outcome over the limit's length (encodeReply).
    if (result.ok ? exceedsResponseLimit(result.payload) : result.platform !== true && errorExceedsResponseLimit(result.error)) {
      return { ok: false, platform: true, error: { ...RESPONSE_TOO_LARGE, trace: [] } };
    }
    return result;
  }

  /** A phase outside an invocation (INIT, the SnapStart hooks): ready again after it unless it was fatal. */
  async #phase(message: HostMessage, limitMs: number, timeoutText: string): Promise<PhaseResult> {
    const result = await this.#run(message, limitMs, timeoutText, undefined);
    if (this.#state === 'busy') this.#state = 'ready';
    return result;
  }

  /** The context fields fixed for this environment (its own log stream). */
  #contextFields(): EnvironmentContextFields {
    return contextFields(this.#deps, this.logStreamName);
  }

  dispose(): void {
    this.#disposed.abort();
    this.#state = 'dead';
    this.#sandbox.dispose();
    this.#bridge.dispose();
    // /tmp disappears with the environment, as on Lambda.
    this.#vfs.dispose();
  }

  #enter(expected: EnvironmentState): void {
    if (this.#state !== expected) throw new Error(`Environment is ${this.#state}, expected ${expected}`);
    this.#state = 'busy';
  }

  async #run(
    message: Parameters<Sandbox['call']>[0],
    limitMs: number,
    timeoutText: string,
    requestId: string | undefined,
  ): Promise<PhaseResult> {
    let reply: GuestReply;
    try {
      const deadlineAt = performance.now() + limitMs;
      reply = await answerByDeadline(runPhase(this.#sandbox, message, deadlineAt, this.#disposed.signal, this.#waker), deadlineAt);
    } catch (error) {
      if (!(error instanceof SandboxFault)) throw error;
      this.dispose();
      // Only an invocation's response can have been posted already; INIT's rejection fails INIT.
      const settled = error.kind === 'unhandled-rejection' && requestId !== undefined ? error.settled : undefined;
      await this.logs.settle(settled?.logCount);
      const shape = this.#faultError(error, timeoutText, requestId);
      // The outcome was decided before the rejection went unhandled: it stands, the environment goes.
      if (settled?.ok) return { ok: true, payload: settled.payload ?? 'null' };
      if (settled?.error) return { ok: false, error: this.#remap(settled.error) };
      if (error.kind === 'not-started') return { ok: false, platform: true, error: shape, notStarted: true };
      // An unhandled rejection is the runtime client's error (it has a trace); the rest are the platform's.
      return { ok: false, platform: error.kind !== 'unhandled-rejection', error: shape };
    } finally {
      this.#recordMemory();
    }
    const lines = this.logs.settle(reply.logCount);
    if (lines !== undefined) await lines;
    if (reply.fatal) this.dispose();
    if (reply.ok) return { ok: true, payload: reply.payload ?? 'null' };
    return { ok: false, error: this.#remap(reply.error!) };
  }

  #faultError(fault: SandboxFault, timeoutText: string, requestId: string | undefined): ErrorShape {
    const prefix = requestId ? `RequestId: ${requestId} Error: ` : '';
    switch (fault.kind) {
      case 'timeout':
        this.logs.platformLine(`${new Date().toISOString()} ${requestId ?? 'undefined'} ${timeoutText}`);
        return { errorType: 'Sandbox.Timedout', errorMessage: prefix + timeoutText, trace: [] };
      case 'out-of-memory':
        return {
          errorType: 'Runtime.OutOfMemory',
          errorMessage: `${prefix}Runtime exited with error: out of memory (memoryMb ${this.#deps.config.memoryMb} exceeded)`,
          trace: [],
        };
      case 'unhandled-rejection': {
        // Node's runtime client posts Runtime.UnhandledPromiseRejection and exits (code 128).
        const reason = fault.reason ?? { text: fault.message, stack: [] };
        const shape = this.#remap({
          errorType: 'Runtime.UnhandledPromiseRejection',
          errorMessage: reason.text,
          trace: [`Runtime.UnhandledPromiseRejection: ${reason.text}`, ...reason.stack.slice(1)],
        });
        // `structuredConsole.logError('Unhandled Promise Rejection', new UnhandledPromiseRejection(reason, promise))`:
        // toFormatted writes the error's own `reason` and `promise` properties between its message and stack.
        const cause = reason.stack.length > 0 ? reasonFields(reason, this.logs.remapStack(reason.stack)) : reason.text;
        this.logs.guestLine('ERROR', `Unhandled Promise Rejection \t${JSON.stringify({
          errorType: shape.errorType, errorMessage: shape.errorMessage, reason: cause, promise: {}, stack: shape.trace,
        })}`);
        return shape;
      }
      default:
        return { errorType: 'Runtime.ExitError', errorMessage: `${prefix}Runtime exited with error: ${fault.message}`, trace: [] };
    }
  }

  #remap(error: ErrorShape): ErrorShape {
    if (error.trace.length === 0) return error;
    return { ...error, trace: this.logs.remapStack(error.trace) };
  }

  #recordMemory(): void {
    const used = Math.ceil(this.#sandbox.memoryUsedBytes() / MIB);
    if (used > this.#maxMemoryUsedMb) this.#maxMemoryUsedMb = used;
  }
}

function contextFields({ config, identity }: EnvironmentDeps, logStreamName: string): EnvironmentContextFields {
  return {
    functionName: config.name,
    functionVersion: identity.version,
    invokedFunctionArn: identity.functionArn,
    memoryLimitInMB: String(config.memoryMb),
    logGroupName: `/aws/lambda/${config.name}`,
    logStreamName,
  };
}

/** SnapStart's `restore` message: fresh entropy for the guest's randomness and this environment's identity. */
function restoreMessage(deps: EnvironmentDeps, logStreamName: string): HostMessage {
  return { type: 'restore', seed: randomHex(32), context: contextFields(deps, logStreamName) };
}

function restoreLimitMs(deps: EnvironmentDeps): number {
  return deps.phaseLimits?.restoreMs ?? RESTORE_TIMEOUT_MS;
}

/**
 * A function error whose payload (result.ts: `{errorType, errorMessage, trace}` as JSON) is over
 * the limit, or the guest runtime's marker for one it did not send.
 */
function errorExceedsResponseLimit(error: ErrorShape): boolean {
  if (error.errorType === RESPONSE_TOO_LARGE.errorType && error.trace.length === 0) return true;
  let chars = error.errorType.length + error.errorMessage.length;
  for (const line of error.trace) chars += line.length;
  if (chars > RESPONSE_PAYLOAD_MAX_BYTES) return true;
  return exceedsResponseLimit(JSON.stringify({ errorType: error.errorType, errorMessage: error.errorMessage, trace: error.trace }));
}

/** 6 MiB + 100 B, counted in UTF-8 bytes; cheap bounds first, exact count only near the limit. */
function exceedsResponseLimit(payload: string): boolean {
  if (payload.length * 3 <= RESPONSE_PAYLOAD_MAX_BYTES) return false;
  if (payload.length > RESPONSE_PAYLOAD_MAX_BYTES) return true;
  return Buffer.byteLength(payload, 'utf8') > RESPONSE_PAYLOAD_MAX_BYTES;
}


/** A rejected Error as toFormatted writes it: errorType, errorMessage, stack lines. */
function reasonFields(reason: { readonly text: string }, stack: readonly string[]): Record<string, unknown> {
  const at = reason.text.indexOf(': ');
  return at < 0
    ? { errorType: reason.text, errorMessage: '', stack }
    : { errorType: reason.text.slice(0, at), errorMessage: reason.text.slice(at + 2), stack };
}

/**
 * The owner of an environment's heavy host calls (heavy-work.ts) and fetches (fetch-ledger.ts): the
 * function, or the function and tenant, of its runtime. JSON keeps every part apart (a tenant id may
 * hold any character). The runtime is part of it because both shares are the process's: two runtimes
 * each with a function `api` were one owner, and one runtime's `api` at its fetch share had the
 * other's refused (issue #15).
 */
function heavyWorkOwner(runtimeId: number | undefined, functionName: string, tenantId: string | undefined): string {
  if (runtimeId === undefined) return tenantId === undefined ? functionName : JSON.stringify([functionName, tenantId]);
  return JSON.stringify([runtimeId, functionName, tenantId ?? null]);
}
