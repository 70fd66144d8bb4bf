/**
 * `loadHandler(file, options)`: one source file deployed as a Lambda function in this process,
 * ready to invoke from a test.
 *
 * Loads of the same file with the same options share one deployed function (bundled once) while
 * any of them is alive: a cache keyed by the absolute path, the file's mtime and size (so an edit
 * is picked up) and the options. Handles on one function share its warm environments, as two
 * callers of one Lambda function do; `fresh()` redeploys, so the next invoke is a cold start.
 * Disposing the last handle closes the function's runtime and drops it from the cache.
 */
import { stat } from 'node:fs/promises';
import { basename, extname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describeValue, type EngineName, type RuntimeName } from '../config/index.ts';
import { hasNoNodeSnapshotFlag } from '../engines/v8/flags.ts';
import {
  createRuntime,
  EngineUnavailableError,
  InvalidParameterValueException,
  RuntimeClosedError,
  type FunctionConfigInput,
  type InvokeOptionsInput,
  type InvokeResult,
  type LogSink,
  type Runtime,
} from '../index.ts';
import { LogCapture } from './log-capture.ts';
import { VITEST_PRESET_LINES } from './vitest-preset.ts';

/** Options for {@link loadHandler}; every one may be left out. */
export interface LoadHandlerOptions {
  /** The export that is the handler, a dotted path inside the module (`handler`, `api.get`). Default `handler`. */
  readonly handler?: string;
  /** The engine that runs it: `v8` or `quickjs` (`wasm` runs components, not Node handlers). Default `v8`. */
  readonly engine?: EngineName;
  /** The Lambda runtime emulated. Default `nodejs22.x`. */
  readonly runtime?: RuntimeName;
  /** Environment variables (Lambda's 4 KB limit and reserved names apply). Default `{}`. */
  readonly env?: Readonly<Record<string, string>>;
  /** Invoke timeout in ms, 1 to 900000. Default 3000. */
  readonly timeoutMs?: number;
  /** Memory in MB, 128 to 10240 (the isolate's heap limit). Default 128. */
  readonly memoryMb?: number;
  /**
   * SnapStart: INIT runs once when the handler is loaded (an INIT error rejects loadHandler with
   * SnapStartException), and each cold start restores its snapshot (`restoreDurationMs`). Default false.
   */
  readonly snapStart?: boolean;
  /**
   * Where the handler's `fetch` and `http`/`https` requests may go, as `rt.deploy`'s `egress`
   * (`{ allowHosts: ['localhost:4566'] }` for a local AWS endpoint; `{ fetch }` to answer them in the
   * test). Default: every request refused.
   */
  readonly egress?: FunctionConfigInput['egress'];
  /** The execution role's credentials (AWS_ACCESS_KEY_ID & co.), as `rt.deploy`'s `credentials`. Default: none. */
  readonly credentials?: FunctionConfigInput['credentials'];
  /** The function's name, as the handler sees it in `context.functionName`. Default: the file's base name. */
  readonly name?: string;
  /** Also send every log line here (e.g. `stdoutSink` to watch them). Default: lines are only captured. */
  readonly logSink?: LogSink;
}

/** Per-invoke options for {@link LoadedHandler.invoke}. */
export interface HandlerInvokeOptions {
  /** `context.clientContext`. */
  readonly clientContext?: Readonly<Record<string, unknown>>;
  /** `context.identity`. */
  readonly identity?: { readonly cognitoIdentityId: string; readonly cognitoIdentityPoolId: string };
}

/** A function error as Lambda reports it (the payload of a failed invoke). */
export interface FunctionErrorPayload {
  readonly errorType: string;
  readonly errorMessage: string;
  /** The stack, remapped to your files; absent for platform errors (timeout, out of memory). */
  readonly trace?: readonly string[];
}

/** The runtime's REPORT figures (documented on InvokeResult), plus the invocation's own log lines. */
interface InvocationBase
  extends Pick<
    InvokeResult,
    'requestId' | 'coldStart' | 'durationMs' | 'billedDurationMs' | 'initDurationMs' | 'restoreDurationMs' | 'maxMemoryUsedMb'
  > {
  /** The invocation's log lines in Lambda's Text format: INIT's on a cold start, START … REPORT. */
  readonly logs: readonly string[];
}

/** What the handler returned. */
export interface InvocationSuccess<TResult> extends InvocationBase {
  readonly ok: true;
  readonly payload: TResult;
  readonly error?: undefined;
}

/** The handler failed: it threw, timed out, ran out of memory, or its INIT failed. */
export interface InvocationFailure extends InvocationBase {
  readonly ok: false;
  readonly payload?: undefined;
  readonly error: FunctionErrorPayload;
}

export type Invocation<TResult> = InvocationSuccess<TResult> | InvocationFailure;

/** A handler deployed by {@link loadHandler}. */
export interface LoadedHandler<TEvent = unknown, TResult = unknown> extends AsyncDisposable {
  /** The function's name. */
  readonly functionName: string;
  /** The Lambda handler string, `<file base name>.<export>`. */
  readonly handler: string;
  /** Invokes the handler with `event` (sent as JSON, as Lambda does). Function errors are in the result. */
  invoke(event: TEvent, options?: HandlerInvokeOptions): Promise<Invocation<TResult>>;
  /** Invokes and returns the runtime's own result (`rt.invoke`): payload, functionError, logResult, … */
  invokeRaw(event: TEvent, options?: InvokeOptionsInput): Promise<InvokeResult>;
  /** Discards the function's warm environments: the next invoke is a cold start (redeploys, ~5 ms). */
  fresh(): Promise<void>;
  /** Releases this handle; the last one released disposes the function's environments. Idempotent. */
  dispose(): Promise<void>;
}

const KNOWN_OPTIONS = ['handler', 'engine', 'runtime', 'env', 'timeoutMs', 'memoryMb', 'snapStart', 'egress', 'credentials', 'name', 'logSink'] as const;

interface Entry {
  readonly key: string;
  readonly rt: Promise<Runtime>;
  readonly capture: LogCapture;
  readonly config: FunctionConfigInput;
  refs: number;
  ready: Promise<void>;
}

const cache = new Map<string, Entry>();
/** One id per LogSink given, so a key never holds an object. */
const sinkIds = new WeakMap<LogSink, number>();

/**
 * Deploys the source file at `path` (TypeScript or JavaScript; it and its imports, node_modules
 * included, are bundled) and returns a handle to invoke it. Relative paths resolve against the
 * current directory; a `file:` URL (`new URL('./handler.ts', import.meta.url)`) works too.
 * A CPU-heavy handler stays where it is (`cpuHeavyNice: 0`): its warm environment is never replaced.
 *
 * @throws InvalidParameterValueException for a bad option (the message names it) or a missing file;
 *   EngineUnavailableError when the engine cannot run here (v8 without `--no-node-snapshot`: the
 *   message shows the vitest line that fixes it).
 */
export async function loadHandler<TEvent = unknown, TResult = unknown>(
  path: string | URL,
  options: LoadHandlerOptions = {},
): Promise<LoadedHandler<TEvent, TResult>> {
  checkOptions(options);
  const file = resolve(path instanceof URL ? fileURLToPath(path) : path);
  const info = await stat(file).catch((error: unknown) => {
    throw new InvalidParameterValueException('path', `loadHandler: cannot read ${file}: ${(error as Error).message}`, { cause: error });
  });
  if (!info.isFile()) throw new InvalidParameterValueException('path', `loadHandler: ${file} is not a file: give the handler's source file`);

  const base = basename(file, extname(file));
  const exportPath = options.handler ?? 'handler';
  const config: FunctionConfigInput = {
    name: options.name ?? functionNameFor(base),
    code: { entry: file },
    handler: `${base}.${exportPath}`,
    ...(options.engine !== undefined ? { engine: options.engine } : {}),
    ...(options.runtime !== undefined ? { runtime: options.runtime } : {}),
    ...(options.env !== undefined ? { env: options.env } : {}),
    ...(options.timeoutMs !== undefined ? { timeoutMs: options.timeoutMs } : {}),
    ...(options.memoryMb !== undefined ? { memoryMb: options.memoryMb } : {}),
    ...(options.snapStart !== undefined ? { snapStart: options.snapStart } : {}),
    ...(options.egress !== undefined ? { egress: options.egress } : {}),
    ...(options.credentials !== undefined ? { credentials: options.credentials } : {}),
  };
  // A function-valued option (egress.fetch, a credentials provider) has no text for the key: such
  // a load gets a function of its own.
  const unique = typeof options.credentials === 'function' || typeof (options.egress as { fetch?: unknown } | undefined)?.fetch === 'function' ? nextUnique++ : 0;
  const key = JSON.stringify([file, info.mtimeMs, info.size, { ...config, code: undefined }, sinkId(options.logSink), unique]);

  let entry = cache.get(key);
  if (entry) {
    entry.refs++;
  } else {
    const capture = new LogCapture(options.logSink);
    // cpuHeavyNice 0: a CPU-heavy handler is not moved to background servers, which would end its
    // warm environment after its third such call — a test has no neighbours to protect, and a warm
    // environment that goes cold at random breaks what tests of module state assert.
    const created: Entry = { key, rt: createRuntime({ logSink: capture, cpuHeavyNice: 0 }), capture, config, refs: 1, ready: Promise.resolve() };
    created.ready = deploy(created);
    cache.set(key, (entry = created));
  }
  try {
    await entry.ready;
  } catch (error) {
    // A failed deploy is not cached: the next load tries again.
    if (cache.get(key) === entry) cache.delete(key);
    await release(entry);
    throw error;
  }
  return new Handle<TEvent, TResult>(entry);
}

class Handle<TEvent, TResult> implements LoadedHandler<TEvent, TResult> {
  readonly #entry: Entry;
  #disposed: Promise<void> | undefined;

  constructor(entry: Entry) {
    this.#entry = entry;
  }

  get functionName(): string {
    return this.#entry.config.name;
  }

  get handler(): string {
    return this.#entry.config.handler as string;
  }

  async invoke(event: TEvent, options: HandlerInvokeOptions = {}): Promise<Invocation<TResult>> {
    const raw = await this.#invoke(event, options);
    const base: InvocationBase = {
      logs: this.#entry.capture.take(raw.requestId),
      requestId: raw.requestId,
      coldStart: raw.coldStart,
      durationMs: raw.durationMs,
      billedDurationMs: raw.billedDurationMs,
      maxMemoryUsedMb: raw.maxMemoryUsedMb,
      ...(raw.initDurationMs !== undefined ? { initDurationMs: raw.initDurationMs } : {}),
      ...(raw.restoreDurationMs !== undefined ? { restoreDurationMs: raw.restoreDurationMs } : {}),
    };
    if (raw.functionError === undefined) return { ...base, ok: true, payload: raw.payload as TResult };
    return { ...base, ok: false, error: raw.payload as FunctionErrorPayload };
  }

  async invokeRaw(event: TEvent, options?: InvokeOptionsInput): Promise<InvokeResult> {
    const raw = await this.#invoke(event, options);
    this.#entry.capture.take(raw.requestId);
    return raw;
  }

  async #invoke(event: TEvent, options: InvokeOptionsInput | undefined): Promise<InvokeResult> {
    this.#assertLive();
    await this.#entry.ready;
    const rt = await this.#entry.rt;
    return rt.invoke(this.#entry.config.name, event, options);
  }

  async fresh(): Promise<void> {
    this.#assertLive();
    const entry = this.#entry;
    entry.ready = entry.ready.then(() => deploy(entry));
    await entry.ready;
  }

  dispose(): Promise<void> {
    this.#disposed ??= release(this.#entry);
    return this.#disposed;
  }

  [Symbol.asyncDispose](): Promise<void> {
    return this.dispose();
  }

  #assertLive(): void {
    if (this.#disposed) throw new RuntimeClosedError(`The handler ${this.handler} was disposed: load it again with loadHandler()`);
  }
}

async function deploy(entry: Entry): Promise<void> {
  try {
    await (await entry.rt).deploy(entry.config);
  } catch (error) {
    throw withPresetHint(error);
  }
}

async function release(entry: Entry): Promise<void> {
  if (--entry.refs > 0) return;
  if (cache.get(entry.key) === entry) cache.delete(entry.key);
  await entry.ready.catch(() => {});
  await (await entry.rt).close();
}

/** The engine's own message says how to fix a missing --no-node-snapshot; add the preset's line. */
function withPresetHint(error: unknown): unknown {
  if (!(error instanceof EngineUnavailableError) || hasNoNodeSnapshotFlag()) return error;
  return new EngineUnavailableError(`${error.message}\n\n${VITEST_PRESET_LINES}`, { cause: error });
}

function checkOptions(options: LoadHandlerOptions): void {
  if (typeof options !== 'object' || options === null) {
    throw new InvalidParameterValueException('', 'Expected the loadHandler options to be an object');
  }
  for (const key of Object.keys(options)) {
    if (!(KNOWN_OPTIONS as readonly string[]).includes(key)) {
      throw new InvalidParameterValueException(
        key,
        `Unknown option \`${key}\` in loadHandler options (known options: ${KNOWN_OPTIONS.map((k) => `\`${k}\``).join(', ')})`,
      );
    }
  }
  if (options.snapStart !== undefined && typeof options.snapStart !== 'boolean') {
    throw new InvalidParameterValueException('snapStart', `Expected \`snapStart\` to be a boolean, got ${describeValue(options.snapStart)}`);
  }
  const handler: unknown = options.handler;
  if (handler !== undefined && (typeof handler !== 'string' || !/^[^\s.][^\s]*$/.test(handler) || handler.endsWith('.'))) {
    throw new InvalidParameterValueException(
      'handler',
      `Expected \`handler\` to be the export's name or dotted path in the module (\`handler\`, \`api.get\`), got ${describeValue(handler)}`,
    );
  }
}

/** A valid Lambda function name from a file's base name. */
function functionNameFor(base: string): string {
  const name = base.replace(/[^a-zA-Z0-9_-]/g, '-').slice(0, 64);
  return name === '' ? 'handler' : name;
}

let nextSinkId = 1;
let nextUnique = 1;
function sinkId(sink: LogSink | undefined): number {
  if (sink === undefined) return 0;
  let id = sinkIds.get(sink);
  if (id === undefined) sinkIds.set(sink, (id = nextSinkId++));
  return id;
}
