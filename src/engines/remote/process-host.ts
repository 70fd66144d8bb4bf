/**
 * Process isolation: engine servers in a child process (process-child.ts relays to its workers
 * there, up to {@link CHILD_SERVERS_MAX}: child-servers.ts), seen from the host. The child is started with --no-node-snapshot (isolated-vm needs it;
 * the host process then does not) and --no-wasm-code-gc (v8/flags.ts), and is killed with SIGKILL
 * when the pool gives it up. Its death reads as Lambda's runtime exit: `signal: killed`,
 * `exit status 70`.
 */
import { fork, type ChildProcess } from 'node:child_process';
import { createRequire } from 'node:module';
import type { EngineName } from '../../config/index.ts';
import { EngineUnavailableError } from '../../errors.ts';
import { guestRuntime } from '../guest-bundle.ts';
import { QUICKJS_THREAD_GROWTH, type QuickJSEngineOptions } from '../quickjs/quickjs-engine.ts';
import { ISOLATE_PROCESS_V8_FLAGS, NO_NODE_SNAPSHOT } from '../v8/flags.ts';
import { BACKGROUND_NICE, EnginePool, HEAVY_CALL_CPU_MS } from './engine-pool.ts';
import type { ChildOptions, ParentMessage } from './process-child.ts';
import type { HostCallId, ServerEvent, ServerRequest } from './protocol.ts';
import { assertBackgroundNice } from './thread-priority.ts';
import { RemoteEngine } from './remote-engine.ts';
import type { EngineHost, HostHandlers } from './worker-host.ts';

/** How a child that does not come up in time is treated: as failing to start. */
const START_TIMEOUT_MS = 30_000;

/**
 * Engine servers (worker threads) a child may run: it grows to this many while each of its servers
 * hosts a QuickJS sandbox, as the in-process QuickJS pool grows (child-servers.ts says why).
 */
export const CHILD_SERVERS_MAX = QUICKJS_THREAD_GROWTH;

// CPU-heavy functions' sandboxes move to background children started at BACKGROUND_NICE.
export { BACKGROUND_NICE, HEAVY_CALL_CPU_MS };

/**
 * Go's names for signals (syscall.Signal.String), which Lambda's runtime exit messages use:
 * `Runtime exited with error: signal: killed`.
 */
const SIGNAL_WORDS: Readonly<Record<string, string>> = {
  SIGKILL: 'killed',
  SIGABRT: 'aborted',
  SIGSEGV: 'segmentation fault',
  SIGTERM: 'terminated',
  SIGBUS: 'bus error',
  SIGILL: 'illegal instruction',
  SIGFPE: 'floating point exception',
  SIGTRAP: 'trace/breakpoint trap',
  SIGINT: 'interrupt',
};

export function exitReason(code: number | null, signal: NodeJS.Signals | null): string {
  if (signal) return `signal: ${SIGNAL_WORDS[signal] ?? signal}`;
  return `exit status ${code ?? 'unknown'}`;
}

/** Children alive now, across pools. */
const live = new Set<ProcessHost>();

/** Process ids of the engine processes alive now (for operators and tests). */
export function engineProcessIds(): number[] {
  return [...live].map((host) => host.pid);
}

/**
 * A message to a child that died after `connected` was read (the channel's close not seen yet) fails
 * asynchronously with EPIPE or ERR_IPC_CHANNEL_CLOSED. Without a callback Node emits that as the
 * ChildProcess's 'error' event, which with no listener is an uncaught exception: the host process
 * would die of one tenant's dead child. Nothing is lost by ignoring it: the child's 'exit' follows
 * and fails its calls (onExit), as for any child that dies.
 */
const ignoreSendError = (): void => {};

export class ProcessHost implements EngineHost {
  readonly #child: ChildProcess;
  /** The child's process id (tests kill it). */
  readonly pid: number;

  private constructor(child: ChildProcess, handlers: HostHandlers) {
    this.#child = child;
    this.pid = child.pid!;
    live.add(this);
    child.on('message', (event: ServerEvent) => handlers.onEvent(event));
    child.once('exit', (code, signal) => {
      live.delete(this);
      handlers.onExit(exitReason(code, signal));
    });
    this.ref(false);
  }

  static async start(options: ChildOptions, handlers: HostHandlers): Promise<ProcessHost> {
    const guest = await guestRuntime();
    const self = new URL(import.meta.url);
    const entry = new URL(`./process-child${self.pathname.endsWith('.ts') ? '.ts' : '.js'}`, self);
    const env = { ...process.env };
    delete env.NODE_OPTIONS; // the host's (a test runner's hooks) are not the child's business
    const child = fork(entry, [], {
      // --no-wasm-code-gc and --no-turboshaft-loop-unrolling from the start, as v8/flags.ts
      // explains (the children also run QuickJS).
      execArgv: [NO_NODE_SNAPSHOT, ...ISOLATE_PROCESS_V8_FLAGS],
      serialization: 'advanced',
      stdio: ['ignore', 'ignore', 'inherit', 'ipc'],
      env,
    });
    try {
      await new Promise<void>((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error(`the engine process did not start within ${START_TIMEOUT_MS} ms`)), START_TIMEOUT_MS);
        const settle = (error?: Error): void => {
          clearTimeout(timer);
          child.off('message', onMessage).off('exit', onExit).off('error', settle);
          if (error) reject(error);
          else resolve();
        };
        const onMessage = (event: ServerEvent): void =>
          settle(event.t === 'up' ? undefined : new Error(event.t === 'unhealthy' ? event.reason : `unexpected first event ${event.t}`));
        const onExit = (code: number | null, signal: NodeJS.Signals | null): void => settle(new Error(`the engine process exited (${exitReason(code, signal)}) while starting`));
        child.on('message', onMessage).on('exit', onExit).on('error', settle);
        child.send({ t: 'init', guest, options } satisfies ParentMessage);
      });
    } catch (error) {
      child.kill('SIGKILL');
      throw error;
    }
    return new ProcessHost(child, handlers);
  }

  send(request: ServerRequest): void {
    if (this.#child.connected) this.#child.send(request, ignoreSendError);
  }

  answer(call: HostCallId, text: string): void {
    if (this.#child.connected) this.#child.send({ t: 'answer', sb: call.sb, hc: call.hc, text } satisfies ParentMessage, ignoreSendError);
  }

  ref(busy: boolean): void {
    const channel = this.#child.channel as { ref(): void; unref(): void } | undefined;
    if (busy) {
      this.#child.ref();
      channel?.ref();
    } else {
      this.#child.unref();
      channel?.unref();
    }
  }

  kill(): void {
    if (this.#child.exitCode === null && this.#child.signalCode === null) this.#child.kill('SIGKILL');
  }
}

export interface ProcessEngineOptions {
  /** Child processes in the pool. */
  readonly processes?: number | undefined;
  readonly quickjs?: QuickJSEngineOptions | undefined;
  /** The background children's nice value (1 to 19); 0: CPU-heavy functions do not move. Default {@link BACKGROUND_NICE}. */
  readonly cpuHeavyNice?: number | undefined;
}

/** Process pools by configuration, shared by every runtime of the process that asks for the same. */
const pools = new Map<string, EnginePool>();

export function processPool(options: ProcessEngineOptions): EnginePool {
  const size = options.processes ?? 2;
  const quickjs = {
    ...(options.quickjs?.isolation ? { isolation: options.quickjs.isolation } : {}),
    ...(options.quickjs?.blanksPerMemorySize === undefined ? {} : { blanksPerMemorySize: options.quickjs.blanksPerMemorySize }),
  };
  const nice = options.cpuHeavyNice ?? BACKGROUND_NICE;
  const maxServers = options.quickjs?.maxThreads ?? CHILD_SERVERS_MAX;
  const key = JSON.stringify([size, quickjs, nice, maxServers]);
  let pool = pools.get(key);
  if (!pool) {
    const worker = { quickjs, precompileQuickJS: false };
    pool = new EnginePool(size, (handlers) => ProcessHost.start({ worker, maxServers }, handlers), {
      ...(nice > 0
        ? {
            background: {
              factory: (handlers) => ProcessHost.start({ worker, maxServers, nice }, handlers),
              heavyCallCpuMs: HEAVY_CALL_CPU_MS,
            },
          }
        : {}),
    });
    pools.set(key, pool);
  }
  return pool;
}

/** The background children of in-process v8 by nice value, created on first use (one pool per process and value). */
const backgroundPools = new Map<number, EnginePool>();

/**
 * Where in-process v8 sends CPU-heavy functions' sandboxes (v8-engine.ts `background`): one child
 * process at `nice` (1 to 19; every thread it starts inherits it, isolated-vm's included),
 * started when the first function turns heavy. One is enough: a v8 sandbox never holds its
 * server's thread (isolated-vm runs it on the child's own pool of threads, which the OS
 * time-slices). Its death ends only its sandboxes, and the next boot starts a new one.
 */
export function backgroundChildren(nice: number = BACKGROUND_NICE): EnginePool {
  assertBackgroundNice(nice);
  let pool = backgroundPools.get(nice);
  if (!pool) {
    pool = new EnginePool(1, (handlers) => ProcessHost.start({ worker: { quickjs: {}, precompileQuickJS: false }, maxServers: 1, nice }, handlers));
    backgroundPools.set(nice, pool);
  }
  return pool;
}

/** An engine whose sandboxes live in the child processes of process isolation. */
export function processEngine(name: EngineName, options: ProcessEngineOptions): RemoteEngine {
  const pool = processPool(options);
  return new RemoteEngine(name, () => pool, name === 'v8' ? assertIsolatedVmInstalled : undefined);
}

/** The children load isolated-vm; here it is only looked for, so a missing addon fails the deploy, not each invoke. */
function assertIsolatedVmInstalled(): void {
  try {
    createRequire(import.meta.url).resolve('isolated-vm');
  } catch (error) {
    throw new EngineUnavailableError('The v8 engine needs isolated-vm, which is not installed (it is an optional dependency).', { cause: error });
  }
}
