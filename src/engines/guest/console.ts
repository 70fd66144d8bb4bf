/**
 * The sandbox's console: every method becomes one log line with Lambda's level (the runtime
 * client's LogPatch mapping), sent to the host fire-and-forget. The host adds the timestamp and
 * request id, so lines are formatted in one place (observability/).
 */
import { format } from './format.ts';

export type Emit = (level: string, message: string) => void;

/** Captured at boot: reading the clock must not load the time-zone code (globals.ts's lazy Date). */
const dateNow = Date.now;

export function createConsole(emit: Emit): Console {
  const counts = new Map<string, number>();
  const timers = new Map<string, number>();
  const log = (level: string) => (...args: unknown[]): void => emit(level, format(args));
  const console = {
    log: log('INFO'),
    info: log('INFO'),
    debug: log('DEBUG'),
    warn: log('WARN'),
    error: log('ERROR'),
    trace: log('TRACE'),
    fatal: log('FATAL'),
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
  return console as unknown as Console;
}
