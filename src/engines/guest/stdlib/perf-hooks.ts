/**
 * node:perf_hooks: `performance` is the sandbox's global one, its user timing (marks and measures)
 * recorded here, seen by PerformanceObservers; no other entry type is produced (no gc, function,
 * resource timeline); the event-loop delay monitor and histograms have Node's shape with empty
 * statistics.
 */
import { nodeError } from '../bridge.ts';
import { invalidArgType } from './node-errors.ts';


function histogram(): Record<string, unknown> {
  const empty = {
    min: 9223372036854776000, max: 0, mean: NaN, stddev: NaN, exceeds: 0, count: 0,
    percentiles: new Map<number, number>(), minBigInt: 9223372036854775807n, maxBigInt: 0n, countBigInt: 0n, exceedsBigInt: 0n,
    percentile: (): number => 0,
    percentileBigInt: (): bigint => 0n,
    reset: (): void => {},
    record: (): void => {},
    recordDelta: (): void => {},
    add: (): void => {},
    enable: (): boolean => true,
    disable: (): boolean => true,
  };
  return empty;
}

const kCreate = Symbol('create');
type EntryType = 'mark' | 'measure';

/** Node's PerformanceEntry (lib/internal/perf/performance_entry.js): read-only name, type, start, duration. */
class PerformanceEntry {
  readonly #name: string;
  readonly #type: EntryType;
  readonly #start: number;
  readonly #duration: number;
  constructor(key?: symbol, name?: string, type?: EntryType, start?: number, duration?: number) {
    if (key !== kCreate) throw nodeError(TypeError, 'ERR_ILLEGAL_CONSTRUCTOR', 'Illegal constructor');
    this.#name = name!;
    this.#type = type!;
    this.#start = start!;
    this.#duration = duration!;
  }
  get name(): string {
    return this.#name;
  }
  get entryType(): string {
    return this.#type;
  }
  get startTime(): number {
    return this.#start;
  }
  get duration(): number {
    return this.#duration;
  }
  toJSON(): Record<string, unknown> {
    return { name: this.#name, entryType: this.#type, startTime: this.#start, duration: this.#duration };
  }
}

const now = (): number => (globalThis as unknown as { performance: { now(): number } }).performance.now();
const clone = (detail: unknown): unknown => (detail === undefined || detail === null ? null : globalThis.structuredClone(detail));

/** Node's PerformanceMark: public constructor (not recorded), startTime defaulting to now, a cloned detail. */
class PerformanceMark extends PerformanceEntry {
  readonly #detail: unknown;
  constructor(name?: unknown, options?: { detail?: unknown; startTime?: number }) {
    if (arguments.length === 0) throw nodeError(TypeError, 'ERR_MISSING_ARGS', 'The "name" argument must be specified');
    const start = options?.startTime ?? now();
    if (typeof start !== 'number') throw invalidArgType('options.startTime', 'of type number', start);
    super(kCreate, String(name), 'mark', start, 0);
    this.#detail = clone(options?.detail);
  }
  get detail(): unknown {
    return this.#detail;
  }
  override toJSON(): Record<string, unknown> {
    return { ...super.toJSON(), detail: this.#detail };
  }
  get [Symbol.toStringTag](): string {
    return 'PerformanceMark';
  }
}

class PerformanceMeasure extends PerformanceEntry {
  #detail: unknown = null;
  constructor(key?: symbol, name?: string, start?: number, duration?: number, detail?: unknown) {
    super(key, name, 'measure', start, duration);
    this.#detail = clone(detail);
  }
  get detail(): unknown {
    return this.#detail;
  }
  override toJSON(): Record<string, unknown> {
    return { ...super.toJSON(), detail: this.#detail };
  }
  get [Symbol.toStringTag](): string {
    return 'PerformanceMeasure';
  }
}

const text = (value: unknown): string => String(value);
const byStart = (a: PerformanceEntry, b: PerformanceEntry): number => a.startTime - b.startTime;
const marks: PerformanceEntry[] = [];
const measures: PerformanceEntry[] = [];
const observers = new Set<PerformanceObserver>();
let notifying = false;

/** Node's PerformanceObserverEntryList: the entries of one callback, by start time. */
class PerformanceObserverEntryList {
  readonly #entries: PerformanceEntry[];
  constructor(key: symbol, entries: PerformanceEntry[]) {
    if (key !== kCreate) throw nodeError(TypeError, 'ERR_ILLEGAL_CONSTRUCTOR', 'Illegal constructor');
    this.#entries = [...entries].sort(byStart);
  }
  getEntries(): PerformanceEntry[] {
    return [...this.#entries];
  }
  getEntriesByType(type: string): PerformanceEntry[] {
    return this.#entries.filter((e) => e.entryType === String(type));
  }
  getEntriesByName(name: string, type?: string): PerformanceEntry[] {
    return this.#entries.filter((e) => e.name === String(name) && (type === undefined || e.entryType === String(type)));
  }
}

type ObserverCallback = (list: PerformanceObserverEntryList, observer: PerformanceObserver) => void;

/**
 * Node's PerformanceObserver for the entry types this sandbox records (mark, measure): entries are
 * buffered per observer and delivered together from a setImmediate, as Node's queuePending does
 * (lib/internal/perf/observe.js); other types are accepted and never produce entries.
 */
class PerformanceObserver {
  static readonly supportedEntryTypes = Object.freeze(['function', 'gc', 'mark', 'measure']);
  readonly #callback: ObserverCallback;
  #types = new Set<string>();
  #buffer: PerformanceEntry[] = [];
  constructor(callback: unknown) {
    if (typeof callback !== 'function') throw invalidArgType('callback', 'of type function', callback);
    this.#callback = callback as ObserverCallback;
  }
  observe(options: { entryTypes?: string[]; type?: string; buffered?: boolean } = {}): void {
    const { entryTypes, type, buffered } = options;
    if (entryTypes === undefined && type === undefined) {
      throw nodeError(TypeError, 'ERR_MISSING_ARGS', 'The "options.entryTypes" and "options.type" arguments must be specified');
    }
    if (entryTypes !== undefined && type !== undefined) {
      throw nodeError(TypeError, 'ERR_INVALID_ARG_VALUE', `The property 'options.entryTypes' options.entryTypes can not set with options.type together. Received [ ${entryTypes.map((t) => `'${t}'`).join(', ')} ]`);
    }
    this.#types = new Set(entryTypes ?? [type!]);
    observers.add(this);
    if (type !== undefined && buffered === true) for (const entry of type === 'mark' ? marks : type === 'measure' ? measures : []) this.#enqueue(entry);
  }
  disconnect(): void {
    observers.delete(this);
    this.#buffer = [];
  }
  takeRecords(): PerformanceEntry[] {
    const records = this.#buffer;
    this.#buffer = [];
    return records;
  }
  /** @internal */
  enqueue(entry: PerformanceEntry): void {
    if (this.#types.has(entry.entryType)) this.#enqueue(entry);
  }
  #enqueue(entry: PerformanceEntry): void {
    this.#buffer.push(entry);
    if (notifying) return;
    notifying = true;
    (globalThis as unknown as { setImmediate: (fn: () => void) => void }).setImmediate(() => {
      notifying = false;
      for (const observer of [...observers]) observer.dispatch();
    });
  }
  /** @internal */
  dispatch(): void {
    const entries = this.takeRecords();
    if (entries.length > 0) this.#callback.call(this, new PerformanceObserverEntryList(kCreate, entries), this);
  }
  get [Symbol.toStringTag](): string {
    return 'PerformanceObserver';
  }
}

function record(list: PerformanceEntry[], entry: PerformanceEntry): void {
  list.push(entry);
  for (const observer of observers) observer.enqueue(entry);
}

/** A start or end of measure(): a mark's name (its latest), or a time. */
function timeOf(value: unknown): number {
  if (typeof value === 'number') return value;
  const name = String(value);
  for (let i = marks.length - 1; i >= 0; i--) if (marks[i]!.name === name) return marks[i]!.startTime;
  throw new DOMException(`The "${name}" performance mark has not been set`, 'SyntaxError');
}

interface MeasureOptions {
  start?: unknown;
  end?: unknown;
  duration?: number;
  detail?: unknown;
}

/**
 * The user timing half of Node's `performance` (lib/internal/perf/usertiming.js): mark and measure
 * record entries (kept until cleared, as Node keeps them), read back by getEntries*; the global
 * `performance` (globals.ts) forwards to these, so that the timeline loads with its first use.
 */
export const timeline = {
  mark(...args: [name?: unknown, options?: { detail?: unknown; startTime?: number }]): PerformanceMark {
    const entry = new PerformanceMark(...args);
    record(marks, entry);
    return entry;
  },
  measure(...args: [name?: unknown, startOrOptions?: unknown, endMark?: unknown]): PerformanceMeasure {
    if (args.length === 0) throw nodeError(TypeError, 'ERR_MISSING_ARGS', 'The "name" argument must be specified');
    const [name, startOrOptions, endMark] = args;
    let start: number;
    let end: number;
    let detail: unknown = null;
    if (startOrOptions !== null && typeof startOrOptions === 'object') {
      const options = startOrOptions as MeasureOptions;
      if (options.start !== undefined && options.end !== undefined && options.duration !== undefined) {
        throw nodeError(TypeError, 'ERR_PERFORMANCE_MEASURE_INVALID_OPTIONS', 'Must not have options.start, options.end, and options.duration specified');
      }
      detail = options.detail;
      if (options.start !== undefined) start = timeOf(options.start);
      if (options.end !== undefined) end = timeOf(options.end);
      else if (options.duration !== undefined && options.start !== undefined) end = start! + options.duration;
      else end = endMark === undefined ? now() : timeOf(endMark);
      if (options.start === undefined) start = options.duration !== undefined ? end - options.duration : 0;
    } else {
      start = startOrOptions === undefined ? 0 : timeOf(startOrOptions);
      end = endMark === undefined ? now() : timeOf(endMark);
    }
    const entry = new PerformanceMeasure(kCreate, String(name), start!, end - start!, detail);
    record(measures, entry);
    return entry;
  },
  clearMarks(name?: unknown): void {
    clear(marks, name);
  },
  clearMeasures(name?: unknown): void {
    clear(measures, name);
  },
  getEntries: (): PerformanceEntry[] => [...marks, ...measures].sort(byStart),
  getEntriesByName: (name: unknown, type?: unknown): PerformanceEntry[] =>
    timeline.getEntries().filter((e) => e.name === text(name) && (type === undefined || e.entryType === text(type))),
  getEntriesByType: (type: unknown): PerformanceEntry[] => (type === 'mark' ? [...marks] : type === 'measure' ? [...measures] : []).sort(byStart),
};

function clear(list: PerformanceEntry[], name: unknown): void {
  if (name === undefined) list.length = 0;
  else for (let i = list.length - 1; i >= 0; i--) if (list[i]!.name === text(name)) list.splice(i, 1);
}

export const perfHooks = {
  get performance(): unknown {
    return (globalThis as { performance?: unknown }).performance;
  },
  PerformanceObserver,
  PerformanceEntry,
  PerformanceMark,
  PerformanceMeasure,
  PerformanceObserverEntryList,
  monitorEventLoopDelay: histogram,
  createHistogram: histogram,
  constants: { NODE_PERFORMANCE_GC_MAJOR: 4, NODE_PERFORMANCE_GC_MINOR: 1, NODE_PERFORMANCE_GC_INCREMENTAL: 8, NODE_PERFORMANCE_GC_WEAKCB: 16 },
};
