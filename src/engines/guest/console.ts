/**
 * The sandbox's console: every method becomes one log line with Lambda's level (the runtime
 * client's LogPatch mapping), sent to the host fire-and-forget. The host adds the timestamp and
 * request id, so lines are formatted in one place (observability/).
 */
import { jsonLogMessage } from './json-log.ts';
import { format } from './format.ts';
import { stdlib } from './stdlib-loader.ts';

export type Emit = (level: string, message: string) => void;

/** Captured at boot: reading the clock must not load the time-zone code (globals.ts's lazy Date). */
const dateNow = Date.now;

/** The runtime client's levels (LogPatch.js `_patchConsoleWith`), lowest priority first. */
const PRIORITY: Readonly<Record<string, number>> = { TRACE: 1, DEBUG: 2, INFO: 3, WARN: 4, ERROR: 5, FATAL: 6 };

/** The log controls Lambda passes in AWS_LAMBDA_LOG_FORMAT and AWS_LAMBDA_LOG_LEVEL. */
export interface LogControls {
  /** `JSON` lines (`{"message":...}` to the host, which adds the envelope) or Text. */
  readonly json: boolean;
  /** Below this level console methods do nothing; TRACE (everything) when unset. */
  readonly level: string;
}

/** The controls as the runtime client reads them from its environment (upper-cased, TEXT and TRACE by default). */
export function logControlsFrom(env: Readonly<Record<string, string | undefined>>): LogControls {
  const level = env.AWS_LAMBDA_LOG_LEVEL?.toUpperCase();
  return {
    json: env.AWS_LAMBDA_LOG_FORMAT?.toUpperCase() === 'JSON',
    level: level !== undefined && PRIORITY[level] !== undefined ? level : 'TRACE',
  };
}

/** The sandbox's console, and `configure` to apply Lambda's log controls at INIT. */
export interface GuestConsole {
  readonly console: Console;
  configure(controls: LogControls): void;
  /**
   * The runtime client's `structuredConsole.logError(label, error)` in the configured format:
   * Text writes `text` (the label and toFormatted's JSON), JSON writes `error` as the one argument.
   */
  logError(text: string, error: unknown): void;
}

export function createConsole(emit: Emit): GuestConsole {
  const counts = new Map<string, number>();
  const timers = new Map<string, number>();
  let controls: LogControls = { json: false, level: 'TRACE' };
  const line = (level: string, args: readonly unknown[]): void => {
    if (PRIORITY[level]! < PRIORITY[controls.level]!) return;
    emit(level, controls.json ? jsonLogMessage(args, format) : format(args));
  };
  const log = (level: string) => (...args: unknown[]): void => line(level, args);
  const console = {
    log: log('INFO'),
    info: log('INFO'),
    debug: log('DEBUG'),
    warn: log('WARN'),
    error: log('ERROR'),
    trace: log('TRACE'),
    // The runtime client never filters console.fatal.
    fatal: (...args: unknown[]): void => emit('FATAL', controls.json ? jsonLogMessage(args, format) : format(args)),
    dir: (value: unknown) => emit('INFO', format([value])),
    table: log('INFO'),
    assert: (condition: unknown, ...args: unknown[]) => {
      if (!condition) emit('ERROR', format(['Assertion failed' + (args.length ? ':' : ''), ...args]));
    },
    count: (label = 'default') => {
      const n = (counts.get(label) ?? 0) + 1;
      counts.set(label, n);
      emit('INFO', `${label}: ${n}`);
    },
    countReset: (label = 'default') => void counts.delete(label),
    time: (label = 'default') => void timers.set(label, dateNow()),
    timeLog: (label = 'default', ...args: unknown[]) => {
      const start = timers.get(label);
      if (start !== undefined) emit('INFO', format([`${label}: ${dateNow() - start}ms`, ...args]));
    },
    timeEnd: (label = 'default') => {
      const start = timers.get(label);
      if (start === undefined) return;
      timers.delete(label);
      emit('INFO', `${label}: ${dateNow() - start}ms`);
    },
    group: () => {},
    groupCollapsed: () => {},
    groupEnd: () => {},
  };
  // Node's Console keeps its streams as _stdout / _stderr (winston's Console transport writes to
  // them); on Lambda they are process.stdout / stderr, whose lines reach the log raw.
  Object.defineProperties(console, {
    _stdout: { configurable: true, get: () => (globalThis as { process?: { stdout?: unknown } }).process?.stdout },
    _stderr: { configurable: true, get: () => (globalThis as { process?: { stderr?: unknown } }).process?.stderr },
  });
  // console.Console (node:console's class, stdlib/console.ts), loaded on first read. Not enumerable
  // (Node's is): code that wraps every console method by enumerating them must not load it.
  const setConsoleClass = (value: unknown): void => void Object.defineProperty(console, 'Console', { value, writable: true, configurable: true });
  Object.defineProperty(console, 'Console', {
    configurable: true,
    get: () => {
      const value = stdlib<typeof import('./stdlib/console.ts')>('console').Console;
      setConsoleClass(value);
      return value;
    },
    set: setConsoleClass,
  });
  return {
    console: console as unknown as Console,
    configure(next: LogControls) {
      controls = next;
    },
    logError(text: string, error: unknown) {
      if (controls.json) line('ERROR', [error]);
      else if (PRIORITY.ERROR! >= PRIORITY[controls.level]!) emit('ERROR', text);
    },
  };
}
