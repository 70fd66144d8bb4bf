/**
 * node:console's `Console` class (also `console.Console`), after Node's
 * lib/internal/console/constructor.js: a console that writes to the streams it is given —
 * `new Console(stdout[, stderr[, ignoreErrors]])` or `new Console({ stdout, stderr, ignoreErrors,
 * inspectOptions, groupIndentation })`, callable without `new`. log / info / debug / dir / dirxml /
 * count / time* go to stdout, warn / error / trace / assert to stderr, one `write(text + '\n')` a
 * call, formatted with util.formatWithOptions and indented by group().
 *
 * Powertools for AWS Lambda's Logger and Metrics build one over process.stdout / process.stderr at
 * INIT (its Logger.setConsole: "an instance of the internal version of Console() class"), so their
 * JSON lines and EMF blobs reach the log raw, without the runtime client's timestamp / request id /
 * level prefix — on Lambda as in lambdalet (process.stdout's lines are the function's log, raw).
 *
 * Not Node's: no colours (the sandbox's streams are never TTYs, where Node's 'auto' colour mode
 * prints none either), and `table` prints its data as `log` would instead of drawing a table.
 */
import { nodeError } from '../bridge.ts';
import { formatWithOptions, inspect } from './inspect.ts';

interface WritableLike {
  write(chunk: string): unknown;
  once?(event: string, listener: (...args: unknown[]) => void): unknown;
  listenerCount?(event: string): number;
}

interface ConsoleOptions {
  readonly stdout?: WritableLike;
  readonly stderr?: WritableLike;
  readonly ignoreErrors?: boolean;
  readonly colorMode?: boolean | 'auto';
  readonly inspectOptions?: Record<string, unknown>;
  readonly groupIndentation?: number;
}

const noop = (): void => {};

function isWritable(stream: unknown): stream is WritableLike {
  return stream !== null && typeof stream === 'object' && typeof (stream as WritableLike).write === 'function';
}

/** Node's formatTime (lib/internal/util/debuglog.js) for console.timeEnd / timeLog. */
function formatTime(ms: number): string {
  let hours = 0;
  let minutes = 0;
  let seconds = 0;
  if (ms >= 1000) {
    if (ms >= 60_000) {
      if (ms >= 3_600_000) {
        hours = Math.floor(ms / 3_600_000);
        ms = ms % 3_600_000;
      }
      minutes = Math.floor(ms / 60_000);
      ms = ms % 60_000;
    }
    seconds = ms / 1000;
  }
  const pad = (n: number, width = 2): string => String(n).padStart(width, '0');
  if (hours !== 0 || minutes !== 0) {
    const [whole, fraction] = seconds.toFixed(3).split('.') as [string, string];
    return `${hours !== 0 ? `${hours}:${pad(minutes)}` : minutes}:${pad(Number(whole))}.${fraction} (${hours !== 0 ? 'h:m' : ''}m:ss.mmm)`;
  }
  if (seconds !== 0) return `${seconds.toFixed(3)}s`;
  return `${Number(ms.toFixed(3))}ms`;
}

const now = (): number => (globalThis as { performance?: { now(): number } }).performance?.now() ?? Date.now();

export interface Console {
  [method: string]: unknown;
}

export const Console = function Console(this: Record<string, unknown> | undefined, ...args: unknown[]): unknown {
  if (!new.target) return Reflect.construct(Console, args);
  const first = args[0];
  const options: ConsoleOptions =
    first !== null && typeof first === 'object' && !isWritable(first) ? first : { stdout: first as WritableLike, stderr: args[1] as WritableLike, ignoreErrors: args[2] as boolean };
  const stdout = options.stdout;
  const stderr = options.stderr ?? stdout;
  if (!isWritable(stdout)) throw nodeError(TypeError, 'ERR_CONSOLE_WRITABLE_STREAM', 'Console expects a writable stream instance for stdout');
  if (!isWritable(stderr)) throw nodeError(TypeError, 'ERR_CONSOLE_WRITABLE_STREAM', 'Console expects a writable stream instance for stderr');
  const ignoreErrors = options.ignoreErrors ?? true;
  const inspectOptions = options.inspectOptions ?? {};
  const indentation = options.groupIndentation ?? 2;
  let indent = '';
  const counts = new Map<string, number>();
  const timers = new Map<string, number>();

  const write = (stream: WritableLike, text: string): void => {
    if (indent.length > 0) text = indent + (text.includes('\n') ? text.replace(/\n/g, `\n${indent}`) : text);
    text += '\n';
    if (!ignoreErrors) {
      stream.write(text);
      return;
    }
    // Node: write errors are swallowed, and an 'error' the write emits is caught once (ignoreErrors).
    try {
      if (typeof stream.once === 'function' && typeof stream.listenerCount === 'function' && stream.listenerCount('error') === 0) stream.once('error', noop);
      stream.write(text);
    } catch {
      // ignored, as Node's console does
    }
  };
  const format = (values: readonly unknown[]): string => (formatWithOptions as (o: object, ...a: unknown[]) => string)(inspectOptions, ...values);
  const out = (...values: unknown[]): void => write(stdout, format(values));
  const err = (...values: unknown[]): void => write(stderr, format(values));
  const warnLabel = (method: string, label: string): void => {
    (globalThis as { process?: { emitWarning?(message: string): void } }).process?.emitWarning?.(`No such label '${label}' for console.${method}()`);
  };
  const self = this as Record<string, unknown>;
  const methods: Record<string, (...values: unknown[]) => void> = {
    log: out,
    info: out,
    debug: out,
    dirxml: out,
    warn: err,
    error: err,
    dir: (value: unknown, dirOptions?: unknown) => write(stdout, inspect(value, { customInspect: false, ...inspectOptions, ...(dirOptions as Record<string, unknown> | undefined) })),
    trace: (...values: unknown[]) => {
      const error = { name: 'Trace', message: format(values) } as Error;
      Error.captureStackTrace?.(error, methods.trace);
      write(stderr, error.stack ?? `Trace: ${error.message}`);
    },
    assert: (condition: unknown, ...values: unknown[]) => {
      if (condition) return;
      values[0] = `Assertion failed${values.length === 0 ? '' : `: ${String(values[0])}`}`;
      (self.warn as (...v: unknown[]) => void)(...values);
    },
    count: (label: unknown = 'default') => {
      const key = `${label as string}`;
      const n = (counts.get(key) ?? 0) + 1;
      counts.set(key, n);
      out(`${key}: ${n}`);
    },
    countReset: (label: unknown = 'default') => {
      const key = `${label as string}`;
      if (!counts.delete(key)) warnLabel('countReset', key);
    },
    time: (label: unknown = 'default') => {
      const key = `${label as string}`;
      if (timers.has(key)) (globalThis as { process?: { emitWarning?(message: string): void } }).process?.emitWarning?.(`Label '${key}' already exists for console.time()`);
      else timers.set(key, now());
    },
    timeLog: (label: unknown = 'default', ...data: unknown[]) => {
      const key = `${label as string}`;
      const start = timers.get(key);
      if (start === undefined) return warnLabel('timeLog', key);
      out(`${key}: ${formatTime(now() - start)}`, ...data);
    },
    timeEnd: (label: unknown = 'default') => {
      const key = `${label as string}`;
      const start = timers.get(key);
      if (start === undefined) return warnLabel('timeEnd', key);
      timers.delete(key);
      out(`${key}: ${formatTime(now() - start)}`);
    },
    group: (...values: unknown[]) => {
      if (values.length > 0) (self.log as (...v: unknown[]) => void)(...values);
      indent += ' '.repeat(indentation);
    },
    groupEnd: () => {
      indent = indent.slice(0, Math.max(0, indent.length - indentation));
    },
    table: out,
  };
  methods.groupCollapsed = methods.group!;
  for (const [name, method] of Object.entries(methods)) {
    Object.defineProperty(method, 'name', { value: name });
    self[name] = method;
  }
  // The streams, as Node keeps them (winston's Console transport writes to _stdout / _stderr).
  Object.defineProperties(self, { _stdout: { value: stdout, writable: true }, _stderr: { value: stderr, writable: true } });
  return undefined;
} as unknown as new (...args: unknown[]) => Console;
