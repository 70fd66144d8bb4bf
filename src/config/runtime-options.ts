/**
 * What `createRuntime(options?)` accepts: the account the emulated functions live in, and where
 * their logs go.
 */

import { availableParallelism } from 'node:os';
import { z } from 'zod';
import { integerIn, matching, oneOf } from './fields.ts';
import { expected, parseWith, type Subject } from './format.ts';
import { clusterOptionsSchema, type ClusterOptions, type ClusterOptionsInput } from './cluster-options.ts';
import { InvalidParameterValueException } from '../errors.ts';
import { HOST_DEFAULTS } from './host-defaults.ts';
import {
  CLOSE_TIMEOUT_MS_DEFAULT,
  CLOSE_TIMEOUT_MS_MAX,
  CONCURRENCY_MAX,
  IDLE_TTL_MS_DEFAULT,
  IDLE_TTL_MS_MAX,
  IDLE_TTL_MS_MIN,
  INIT_TIMEOUT_MS,
  MEMORY_BUDGET_MB_MAX,
  MEMORY_BUDGET_MB_MIN,
  PHASE_TIMEOUT_MS_MAX,
  PHASE_TIMEOUT_MS_MIN,
  QUEUE_LENGTH_MAX,
  RESTORE_TIMEOUT_MS,
  SCALE_UP_MAX,
  SNAPSTART_INIT_TIMEOUT_MS_DEFAULT,
  SNAPSTART_INIT_TIMEOUT_MS_MAX,
  SNAPSTART_INIT_TIMEOUT_MS_MIN,
} from './limits.ts';

/** What a region must look like: `us-east-1`, `eu-central-2`, `us-gov-west-1`. */
export const REGION_PATTERN = /^[a-z]{2}(-gov)?-[a-z]+-\d$/;
/** `region` when none is given: `us-east-1`. */
export const REGION_DEFAULT = 'us-east-1';
/** What an account id must look like: 12 digits. */
export const ACCOUNT_ID_PATTERN = /^\d{12}$/;
/** `accountId` when none is given: AWS's documentation account, `123456789012`. */
export const ACCOUNT_ID_DEFAULT = '123456789012';
/** The log formats a runtime can write. Lambda's `JSON` format is not supported yet. */
export const LOG_FORMATS = ['Text'] as const;
/** Values of `quickjsIsolation`. */
export const QUICKJS_ISOLATIONS = ['instance', 'shared'] as const;
/** One of {@link QUICKJS_ISOLATIONS}. */
export type QuickJSIsolation = (typeof QUICKJS_ISOLATIONS)[number];

/** Values of `isolation`: where sandboxes live relative to the host's process. */
export const ISOLATION_MODES = ['in-process', 'process'] as const;
/** One of {@link ISOLATION_MODES}. */
export type IsolationMode = (typeof ISOLATION_MODES)[number];
/** Most worker threads (`engineThreads`) and child processes (`engineProcesses`) a runtime may ask for. */
export const ENGINE_THREADS_MAX = 64;
export const ENGINE_PROCESSES_MAX = 32;
/** `engineThreads` when none is given: the host's available parallelism. */
export const ENGINE_THREADS_DEFAULT = Math.min(ENGINE_THREADS_MAX, availableParallelism());
/** `engineProcesses` when none is given: the host's available parallelism, at most 4 (each child holds ~120 MB of RSS). */
export const ENGINE_PROCESSES_DEFAULT = Math.min(4, availableParallelism());
/** `cpuHeavyNice`: 0 (CPU-heavy functions stay where they are) to 19 (the lowest OS priority). */
export const CPU_HEAVY_NICE_MAX = 19;
/** `cpuHeavyNice` when none is given. */
export const CPU_HEAVY_NICE_DEFAULT = 10;

/** One of {@link LOG_FORMATS}. */
export type LogFormat = (typeof LOG_FORMATS)[number];

/** Where a runtime writes its functions' log lines (the START/END/REPORT lines included). */
export interface LogSink {
  /** Called once per line, without the trailing newline, in order per environment. */
  write(line: string, meta: LogLineMeta): void;
}

/** Which log stream a line belongs to. */
export interface LogLineMeta {
  /** The function's name (its log group is `/aws/lambda/<name>`). */
  readonly functionName: string;
  /** The log stream: one per execution environment, as on AWS. */
  readonly logStreamName: string;
}

/** Options for `createRuntime()`; every one may be left out. */
export interface RuntimeOptionsInput {
  /** AWS region the functions pretend to run in (`AWS_REGION`, ARNs). Default `us-east-1`. */
  readonly region?: string;
  /** 12-digit account id used in ARNs. Default `123456789012`. */
  readonly accountId?: string;
  /** Receives every log line. Default: standard output, as a function's logs go to its log stream. */
  readonly logSink?: LogSink;
  /** Log format. Default `Text`, the only one for now. */
  readonly logFormat?: LogFormat;
  /**
   * Where an alias with a routing config draws its per-invocation pick: a function returning a
   * number in [0, 1), as Math.random does. Give a seeded one to make weighted routing reproducible
   * in tests. Default `Math.random`.
   * @example createRuntime({ random: seededRandom(42) })
   */
  readonly random?: () => number;
  /**
   * A folder where the registry is kept (functions, versions, aliases, layers and their code, in
   * `registry.sqlite`): a new runtime on the same folder serves everything as before. One runtime
   * per folder at a time (a second one is refused with DataDirError). Default: none — the
   * registry lives in memory and is gone when the runtime is.
   * @example createRuntime({ dataDir: './.lambdalet' })
   */
  readonly dataDir?: string;
  /**
   * Host functions that function configs may hold (`egress.fetch`, a `credentials` provider), by
   * name. With `dataDir` (or a cluster) a config is stored with the hook's name in place of the
   * function, and a runtime opened later on the same folder takes the function of that name from
   * its own `hooks`; a function value that is not one of these is refused at deploy
   * (InvalidParameterValueException naming the field), as is a restore whose hook is missing.
   * Names are 1 to 64 characters of `[a-zA-Z0-9._-]`. Default: none.
   * @example createRuntime({ dataDir, hooks: { vaultCredentials: async () => vault.read('role') } })
   */
  readonly hooks?: Readonly<Record<string, HookFunction>>;
  /**
   * The clock of asynchronous invocation, event sources and schedules: epoch milliseconds and
   * timers. Give a manual clock in tests to run a minute's retry wait at once. Default: `Date.now()`
   * and Node's timers.
   * @example createRuntime({ eventClock: { now: () => t, setTimeout: ..., clearTimeout: ... } })
   */
  readonly eventClock?: EventClock;
  /**
   * The event queue backend (an `EventQueueBackend`, lambdalet's exported interface; its contract is
   * src/async/queue.ts): use your own (Redis, ...) instead of the default — memory, or
   * `<dataDir>/events.sqlite` with `dataDir`. The runtime closes it on `close()`. Default: none.
   */
  readonly eventQueue?: object;
  /**
   * Joins a cluster: runtimes (processes on one machine or many) sharing one Redis act as one
   * Lambda region — functions, versions, aliases and layers deployed through any member are served
   * by all (docs/cluster.md). Not together with `dataDir` (the cluster's Redis is the store).
   * @example createRuntime({ cluster: { redis: 'redis://127.0.0.1:6379', name: 'prod' } })
   */
  readonly cluster?: ClusterOptionsInput;
  /**
   * The account concurrency limit: most invocations running at once across all functions, 1 to
   * 100000. Default derived from the host: min(1000, totalMemoryMb / 128, 100 × CPUs), at least 10.
   * Reservations may not take more than 90% of it (Lambda keeps 100 of 1000 unreserved).
   * @example createRuntime({ concurrency: 200 })
   */
  readonly concurrency?: number;
  /**
   * Host memory budget in MB: the sum of `memoryMb` of live environments never exceeds it. Idle
   * environments are evicted (least recently used first) before an invoke is throttled.
   * Default: the host's total memory.
   */
  readonly memoryBudgetMb?: number;
  /** How long an idle environment is kept warm before it is disposed, in ms. Default 300000 (5 min). */
  readonly idleTtlMs?: number;
  /**
   * New environments per function per second (Lambda: 1000 per 10 s). Default derived from the
   * host: clamp(50 × CPUs, 10, 100).
   */
  readonly scaleUpRate?: number;
  /** How many new environments a function may start at once before `scaleUpRate` applies. Default `scaleUpRate`. */
  readonly scaleUpBurst?: number;
  /**
   * Most invokes waiting for capacity (those that passed `waitForCapacityMs`) across all functions;
   * past it an invoke is throttled at once. Default `concurrency`.
   */
  readonly maxQueueLength?: number;
  /**
   * How long `rt.close()` lets in-flight invocations finish before it disposes their environments,
   * in ms. Default 30000.
   */
  readonly closeTimeoutMs?: number;
  /**
   * How `quickjs` sandboxes share WebAssembly instances. `instance` (default): one instance, with its
   * own linear memory, per environment — memoryMb is a hard cap and one tenant's heap cannot touch
   * another's. `shared`: many QuickJS runtimes per instance — about 3x the density, but memoryMb is
   * only QuickJS's soft limit and a crash retires every environment of that instance (docs/quickjs.md).
   */
  readonly quickjsIsolation?: QuickJSIsolation;
  /**
   * Where sandboxes live. `in-process` (default): in the host's process — v8 isolates on
   * isolated-vm's threads, quickjs sandboxes in `engineThreads` worker threads; cheapest, but one
   * isolated-vm catastrophic error (some V8 heap exhaustion) parks an isolate thread for good:
   * v8 then goes on in `engineProcesses` child processes, as under `process` (warning
   * LAMBDALET_V8_DEGRADED, `rt.metrics().isolation`), until the process restarts.
   * `process`: every sandbox (both engines) lives in one of `engineProcesses` child processes; a
   * crash, abort or catastrophic error ends only that child's environments, and the child is
   * replaced. For hostile code, use `process`. In both modes a CPU-heavy function moves to
   * background servers at a lower OS priority (`cpuHeavyNice`).
   */
  readonly isolation?: IsolationMode;
  /**
   * The OS priority (nice value) at which CPU-heavy functions run, so one cannot slow its
   * neighbours or the host much when the cores are contended (an idle machine still gives it every
   * core). A function is CPU-heavy once one of its environments has run 3 invocation calls in a row
   * of 10 ms of guest CPU or more (v8: the isolate's cpuTime, which counts preemption; quickjs: also
   * a call runnable for 10 ms with 1 ms of CPU, a spinner's share on a loaded machine); that environment ends when next idle, and the function's later
   * environments start in background servers: child processes started at this nice value under
   * `process` isolation and for in-process `v8` (one child, started when the first function turns
   * heavy: isolated-vm shares its threads among all isolates of a process), worker threads that
   * lower their own priority for in-process `quickjs`. Per-thread priorities are Linux-only: on
   * other systems quickjs's background workers run at normal priority (children still get theirs).
   * SnapStart restores do not move. 0 keeps CPU-heavy functions where they are; 1 to 19. Default 10.
   */
  readonly cpuHeavyNice?: number;
  /**
   * Worker threads hosting quickjs sandboxes (in-process isolation; the quickjs pool grows to 4x this,
   * at most 64, while every worker hosts a sandbox), and as many hosting wasm components (either
   * isolation), 1 to 64. Default: the host's available parallelism.
   */
  readonly engineThreads?: number;
  /** Child processes hosting sandboxes under `isolation: 'process'`, 1 to 32. Default: available parallelism, at most 4. */
  readonly engineProcesses?: number;
  /**
   * Most worker threads hosting quickjs sandboxes: in-process, the pool's (never fewer than
   * `engineThreads`; default 4x `engineThreads`, at most 64); under `isolation: 'process'`, each
   * child's (default 4). 1 to 64. A worker runs its sandboxes' calls one at a time, so fewer
   * workers make neighbours wait for each other's calls. In-process a value under `engineThreads`
   * counts as `engineThreads` (the pool starts with that many): one worker in all takes
   * `engineThreads: 1, quickjsThreadsMax: 1`; under `isolation: 'process'`, 1 puts each child's
   * quickjs sandboxes in one worker.
   */
  readonly quickjsThreadsMax?: number;
  /**
   * SnapStart: the floor of the deploy-time INIT limit, in ms (1000 to 900000). A snapStart
   * function's template INIT and before-snapshot hooks may each run for this or the function's
   * timeout, whichever is higher (Lambda: 130 s or the timeout). Default 130000.
   */
  readonly snapStartInitTimeoutMs?: number;
  /**
   * How long INIT (the module's top level) may run, in ms, 1 to 900000. Default 10000, Lambda's
   * fixed INIT limit: change it only to test an INIT timeout without waiting 10 s (or to give a
   * slow host more time). Past it, the invoke fails with `Sandbox.Timedout` "INIT phase timed out
   * after N seconds".
   * @example createRuntime({ initTimeoutMs: 500 }) // in a test of a top-level infinite loop
   */
  readonly initTimeoutMs?: number;
  /**
   * SnapStart: how long a restored environment's after-restore hooks may run, in ms, 1 to 900000.
   * Default 10000, Lambda's fixed restore limit; past it the invoke rejects with
   * SnapStartTimeoutException. Change it only to test that without waiting 10 s.
   */
  readonly restoreTimeoutMs?: number;
}

/**
 * A clock in epoch milliseconds with timers: the shape of dispatch/clock.ts's Clock. Asynchronous
 * invocation, event sources and schedules read time only from it.
 */
export interface EventClock {
  now(): number;
  setTimeout(callback: () => void, ms: number, unref: boolean): unknown;
  clearTimeout(handle: unknown): void;
}

/** Runtime options after parsing: defaults filled, frozen. */
export interface RuntimeOptions {
  /** AWS region. Default `us-east-1`. */
  readonly region: string;
  /** Account id. Default `123456789012`. */
  readonly accountId: string;
  /** The caller's sink, the very object given (so its `this` still works), if any. */
  readonly logSink?: LogSink | undefined;
  /** Log format. Default `Text`. */
  readonly logFormat: LogFormat;
  /** Host functions function configs may refer to by name (see RuntimeOptionsInput.hooks). */
  readonly hooks?: Readonly<Record<string, HookFunction>> | undefined;
  /** The alias routing pick's source of numbers in [0, 1), if one was given (else Math.random). */
  readonly random?: (() => number) | undefined;
  /** The durable registry's folder, if one was given. */
  readonly dataDir?: string | undefined;
  /** The asynchronous layer's clock, if one was given (else wall-clock time and Node's timers). */
  readonly eventClock?: EventClock | undefined;
  /** An event queue backend given by the caller (checked for its methods), if any. */
  readonly eventQueue?: object | undefined;
  /** The cluster this runtime joins, if any. */
  readonly cluster?: ClusterOptions | undefined;
  /** Account concurrency limit. Default derived from the host. */
  readonly concurrency: number;
  /** Host memory budget in MB. Default: the host's total memory. */
  readonly memoryBudgetMb: number;
  /** Idle environment TTL in ms. Default 300000. */
  readonly idleTtlMs: number;
  /** New environments per function per second. Default derived from the host. */
  readonly scaleUpRate: number;
  /** New environments a function may start at once. Default `scaleUpRate`. */
  readonly scaleUpBurst: number;
  /** Most invokes waiting for capacity. Default `concurrency`. */
  readonly maxQueueLength: number;
  /** Grace period of `rt.close()` in ms. Default 30000. */
  readonly closeTimeoutMs: number;
  /** QuickJS isolation mode. Default `instance`. */
  readonly quickjsIsolation: QuickJSIsolation;
  /** Where sandboxes live. Default `in-process`. */
  readonly isolation: IsolationMode;
  /** Worker threads for quickjs sandboxes. Default: available parallelism. */
  readonly engineThreads: number;
  /** Child processes under process isolation. Default: available parallelism, at most 4. */
  readonly engineProcesses: number;
  /** Most quickjs worker threads, per pool in-process and per child under process isolation. Default: see RuntimeOptionsInput. */
  readonly quickjsThreadsMax?: number | undefined;
  /** CPU-heavy functions' OS priority (nice); 0: they do not move. Default 10. */
  readonly cpuHeavyNice: number;
  /** Floor of a snapStart function's deploy-time INIT limit in ms. Default 130000. */
  readonly snapStartInitTimeoutMs: number;
  /** INIT's limit in ms. Default 10000 (Lambda's). */
  readonly initTimeoutMs: number;
  /** SnapStart's restore-phase limit in ms. Default 10000 (Lambda's). */
  readonly restoreTimeoutMs: number;
}

/** The methods of an EventQueueBackend (src/async/queue.ts). */
const EVENT_QUEUE_METHODS = ['enqueue', 'claim', 'ack', 'retry', 'deadLetter', 'listDue', 'listDead', 'count', 'close'] as const;

/** A host function a function config may hold: `egress.fetch`, a credentials provider. */
// eslint-disable-next-line @typescript-eslint/no-explicit-any -- any function signature is accepted
export type HookFunction = (...args: any[]) => unknown;

/** What a hook's name may be. */
export const HOOK_NAME_PATTERN = /^[a-zA-Z0-9._-]{1,64}$/;

const DEFAULT_RUNTIME_OPTIONS: RuntimeOptions = Object.freeze({
  region: REGION_DEFAULT,
  accountId: ACCOUNT_ID_DEFAULT,
  logFormat: 'Text',
  concurrency: HOST_DEFAULTS.concurrency,
  memoryBudgetMb: HOST_DEFAULTS.memoryBudgetMb,
  idleTtlMs: IDLE_TTL_MS_DEFAULT,
  scaleUpRate: HOST_DEFAULTS.scaleUpRate,
  scaleUpBurst: HOST_DEFAULTS.scaleUpRate,
  maxQueueLength: HOST_DEFAULTS.concurrency,
  closeTimeoutMs: CLOSE_TIMEOUT_MS_DEFAULT,
  quickjsIsolation: 'instance',
  isolation: 'in-process',
  engineThreads: ENGINE_THREADS_DEFAULT,
  engineProcesses: ENGINE_PROCESSES_DEFAULT,
  cpuHeavyNice: CPU_HEAVY_NICE_DEFAULT,
  snapStartInitTimeoutMs: SNAPSTART_INIT_TIMEOUT_MS_DEFAULT,
  initTimeoutMs: INIT_TIMEOUT_MS,
  restoreTimeoutMs: RESTORE_TIMEOUT_MS,
});

const runtimeOptionsSchema = z.strictObject(
  {
    region: matching(REGION_PATTERN, REGION_PATTERN.source).default(REGION_DEFAULT),
    accountId: matching(ACCOUNT_ID_PATTERN, ACCOUNT_ID_PATTERN.source).default(ACCOUNT_ID_DEFAULT),
    // z.custom returns the value itself: an object schema would copy it and lose its prototype.
    logSink: z.custom<LogSink>(isLogSink, expected('be an object with a write(line) function')).optional(),
    logFormat: oneOf(LOG_FORMATS).default('Text'),
    dataDir: z.string(expected('be a folder path')).min(1, expected('be a folder path')).optional(),
    cluster: clusterOptionsSchema.optional(),
    random: z.custom<() => number>((v) => typeof v === 'function', expected('be a function returning a number in [0, 1)')).optional(),
    hooks: z
      .record(
        z.string().regex(HOOK_NAME_PATTERN, expected('be hook names of 1 to 64 characters of [a-zA-Z0-9._-]')),
        // z.custom keeps the function itself (a function schema would wrap it).
        z.custom<HookFunction>((v) => typeof v === 'function', expected('be a function')),
        expected('be an object of name → function'),
      )
      .optional(),
    eventClock: z.custom<EventClock>(isEventClock, expected('be an object with now(), setTimeout() and clearTimeout() functions')).optional(),
    eventQueue: z.custom<object>(isEventQueue, expected(`be an event queue backend with ${EVENT_QUEUE_METHODS.map((m) => `${m}()`).join(', ')}`)).optional(),
    quickjsIsolation: oneOf(QUICKJS_ISOLATIONS).default('instance'),
    isolation: oneOf(ISOLATION_MODES).default('in-process'),
    engineThreads: integerIn(1, ENGINE_THREADS_MAX).default(ENGINE_THREADS_DEFAULT),
    engineProcesses: integerIn(1, ENGINE_PROCESSES_MAX).default(ENGINE_PROCESSES_DEFAULT),
    quickjsThreadsMax: integerIn(1, ENGINE_THREADS_MAX).optional(),
    cpuHeavyNice: integerIn(0, CPU_HEAVY_NICE_MAX).default(CPU_HEAVY_NICE_DEFAULT),
    concurrency: integerIn(1, CONCURRENCY_MAX).default(HOST_DEFAULTS.concurrency),
    memoryBudgetMb: integerIn(MEMORY_BUDGET_MB_MIN, MEMORY_BUDGET_MB_MAX).default(HOST_DEFAULTS.memoryBudgetMb),
    idleTtlMs: integerIn(IDLE_TTL_MS_MIN, IDLE_TTL_MS_MAX).default(IDLE_TTL_MS_DEFAULT),
    scaleUpRate: integerIn(1, SCALE_UP_MAX).default(HOST_DEFAULTS.scaleUpRate),
    // Defaults that follow another option are filled after the parse.
    scaleUpBurst: integerIn(1, SCALE_UP_MAX).optional(),
    maxQueueLength: integerIn(0, QUEUE_LENGTH_MAX).optional(),
    closeTimeoutMs: integerIn(0, CLOSE_TIMEOUT_MS_MAX).default(CLOSE_TIMEOUT_MS_DEFAULT),
    snapStartInitTimeoutMs: integerIn(SNAPSTART_INIT_TIMEOUT_MS_MIN, SNAPSTART_INIT_TIMEOUT_MS_MAX).default(
      SNAPSTART_INIT_TIMEOUT_MS_DEFAULT,
    ),
    initTimeoutMs: integerIn(PHASE_TIMEOUT_MS_MIN, PHASE_TIMEOUT_MS_MAX).default(INIT_TIMEOUT_MS),
    restoreTimeoutMs: integerIn(PHASE_TIMEOUT_MS_MIN, PHASE_TIMEOUT_MS_MAX).default(RESTORE_TIMEOUT_MS),
  },
  expected('be an object'),
);

// Fails to compile if the schema's output and the documented RuntimeOptions ever disagree.
const _outputMatches: (parsed: z.output<typeof runtimeOptionsSchema>) => Omit<RuntimeOptions, 'scaleUpBurst' | 'maxQueueLength'> = (
  parsed,
) => parsed;
void _outputMatches;

const subject: Subject = {
  name: 'runtime options',
  knownOptions: Object.keys(runtimeOptionsSchema.shape),
  renames: {
    Region: 'region',
    account: 'accountId',
    accountID: 'accountId',
    logger: 'logSink',
    LogFormat: 'logFormat',
    ConcurrentExecutions: 'concurrency',
    concurrentExecutions: 'concurrency',
    maxConcurrency: 'concurrency',
  },
};

function isEventQueue(value: unknown): boolean {
  if (typeof value !== 'object' || value === null) return false;
  return EVENT_QUEUE_METHODS.every((m) => typeof (value as Record<string, unknown>)[m] === 'function');
}

function isEventClock(value: unknown): boolean {
  if (typeof value !== 'object' || value === null) return false;
  const clock = value as Record<string, unknown>;
  return typeof clock.now === 'function' && typeof clock.setTimeout === 'function' && typeof clock.clearTimeout === 'function';
}

function isLogSink(value: unknown): boolean {
  return typeof value === 'object' && value !== null && typeof (value as { write?: unknown }).write === 'function';
}

/**
 * Validates what `createRuntime()` was given and fills the defaults; `undefined` gives the defaults.
 * @throws InvalidParameterValueException for the first problem; `field` is its dotted path.
 */
export function parseRuntimeOptions(input?: unknown): RuntimeOptions {
  if (input === undefined) return DEFAULT_RUNTIME_OPTIONS;
  const parsed = parseWith(runtimeOptionsSchema, input, subject);
  if (parsed.cluster !== undefined && parsed.dataDir !== undefined) {
    throw new InvalidParameterValueException(
      'dataDir',
      'runtime options: `dataDir` and `cluster` cannot be used together: a cluster member keeps its registry in the cluster\'s Redis; remove `dataDir`',
    );
  }
  return Object.freeze({
    ...parsed,
    scaleUpBurst: parsed.scaleUpBurst ?? parsed.scaleUpRate,
    maxQueueLength: parsed.maxQueueLength ?? parsed.concurrency,
  });
}
