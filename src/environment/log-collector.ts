/**
 * One environment's log stream. Guest console lines arrive fire-and-forget from the sandbox and
 * are stamped here (time, request id, level); platform lines are written by the runtime. Lines go
 * to the sink as they come and, while an invocation asked for `logType: 'Tail'`, into a bounded
 * buffer for its `logResult`.
 */
import { remapBudget, type RemapBudget } from '../code/stack-remap.ts';
import type { FunctionBundle } from '../code/types.ts';
import type { LoggingConfig } from '../config/index.ts';
import { initStartEvent, jsonApplicationLine, reportEvent, startEvent } from '../observability/json-lines.ts';
import { applicationLine, endLine, reportLine, startLine, type ReportFields } from '../observability/log-lines.ts';
import type { LogLineMeta, LogSink } from '../observability/log-sink.ts';
import { setImmediate } from '../host-clock.ts';

const LEVELS = new Set(['TRACE', 'DEBUG', 'INFO', 'WARN', 'ERROR', 'FATAL']);
/** CloudWatch's largest log event; longer guest lines are cut, so a flood cannot exhaust the host. */
const MAX_LINE_CHARS = 256 * 1024;
/**
 * Application output one phase (INIT or one invocation) may write, in characters of the lines the
 * sink is given (prefix and line end included). Lambda publishes
 * no per-invocation figure (only CloudWatch's 256 KB per event, MAX_LINE_CHARS above); this bound is
 * lambdalet's, so one tenant's console flood cannot fill the host's sink or memory. Past it, one
 * notice is written and later guest lines of the phase are dropped (still counted for settle()).
 */
export const LOG_CHARS_PER_PHASE = 10 * 1024 * 1024;
/** Keep a little more than the 4 KB tail needs. */
const CAPTURE_CHARS = 16 * 1024;
/** How many event-loop turns to wait for guest lines still in flight. */
const SETTLE_TURNS = 64;

export class LogCollector {
  readonly logStreamName: string;
  #requestId: string | undefined;
  /**
   * Tenant isolation: the tenant this environment serves, set once it is known (before INIT or the
   * restore). JSON application lines carry it, as Lambda's do, so that each tenant's lines can be
   * told apart, and a guest's own `tenantId` key is dropped like the rest of the envelope.
   */
  tenantId: string | undefined;
  /** Guest output written in this phase (characters), and lines dropped past LOG_CHARS_PER_PHASE. */
  #phaseChars = 0;
  #dropped = 0;
  /**
   * What is left of this phase's source-mapping budget (code/stack-remap.ts): shared by its log
   * lines and its error's trace, so guest text cannot make the host map without end.
   */
  #remapBudget: RemapBudget = remapBudget();
  readonly #sink: LogSink;
  readonly #meta: LogLineMeta;
  readonly #bundle: Pick<FunctionBundle, 'filename' | 'remapStack'>;
  readonly #json: boolean;
  /** JSON: platform events are INFO events, written unless systemLogLevel is WARN. */
  readonly #platformEvents: boolean;
  #received = 0;
  #capture: string[] | undefined;
  #captureChars = 0;

  constructor(
    sink: LogSink,
    functionName: string,
    logStreamName: string,
    bundle: Pick<FunctionBundle, 'filename' | 'remapStack'>,
    logging?: LoggingConfig,
  ) {
    this.#sink = sink;
    this.logStreamName = logStreamName;
    this.#meta = { functionName, logStreamName };
    this.#bundle = bundle;
    this.#json = logging?.logFormat === 'JSON';
    this.#platformEvents = logging?.logFormat !== 'JSON' || logging.systemLogLevel !== 'WARN';
  }

  /** INIT of a cold start begins: JSON `platform.initStart` (the Text format has no line for it here). */
  initStart(initializationType: string, functionName: string, version: string): void {
    if (this.#json && this.#platformEvents) this.write(initStartEvent(initializationType, functionName, version));
  }

  /** START, or JSON `platform.start`. */
  start(requestId: string, version: string): void {
    if (!this.#json) this.write(startLine(requestId, version));
    else if (this.#platformEvents) this.write(startEvent(requestId, version));
  }

  /**
   * END and REPORT, or JSON `platform.report` with the invocation's status (the JSON format has
   * no END event in the function's log).
   */
  end(fields: ReportFields, status: 'success' | 'error' | 'timeout' | 'failure', errorType?: string): void {
    if (!this.#json) {
      this.write(endLine(fields.requestId));
      this.write(reportLine(fields));
    } else if (this.#platformEvents) {
      this.write(reportEvent(fields, status, errorType));
    }
  }

  /** The invocation in progress; `undefined` during INIT, as Lambda prints it. Setting it starts a new phase's log budget. */
  get requestId(): string | undefined {
    return this.#requestId;
  }

  set requestId(value: string | undefined) {
    this.#requestId = value;
    this.#phaseChars = 0;
    this.#dropped = 0;
    this.#remapBudget = remapBudget();
  }

  /** Stack lines of this phase mapped back to the user's files, within the phase's budget. */
  remapStack(lines: readonly string[]): string[] {
    return this.#bundle.remapStack(lines, this.#remapBudget);
  }

  /** A console line from the guest: its arguments are untrusted, so they are checked and bounded. */
  guestLine(level: unknown, message: unknown): void {
    this.#received++;
    if (this.#phaseChars >= LOG_CHARS_PER_PHASE) {
      if (this.#dropped++ === 0) {
        const notice = `[lambdalet] this phase wrote more than ${LOG_CHARS_PER_PHASE} characters of logs; later lines are dropped`;
        this.write(this.#json ? jsonApplicationLine(new Date(), this.#requestId, 'WARN', notice, this.tenantId) : applicationLine(new Date(), this.#requestId, 'WARN', notice));
      }
      return;
    }
    const lvl = typeof level === 'string' && LEVELS.has(level) ? level : 'INFO';
    let text = typeof message === 'string' ? message : String(message);
    if (text.length > MAX_LINE_CHARS) text = text.slice(0, MAX_LINE_CHARS) + '... [truncated]';
    if (text.includes(this.#bundle.filename)) text = this.remapStack(text.split('\n')).join('\n');
    // process.stdout / stderr: Lambda records a runtime's own output lines as they are.
    const line =
      level === 'STDOUT' || level === 'STDERR'
        ? text.replace(/\n/g, '\r')
        : this.#json
          ? jsonApplicationLine(new Date(), this.#requestId, lvl, text, this.tenantId)
          : applicationLine(new Date(), this.#requestId, lvl, text);
    // What the sink is given, its line end included: an empty line is not free (issue #15: 2.25
    // million empty console.log lines in 5 s, counted as 0 characters, reached the sink whole).
    this.#phaseChars += line.length + 1;
    this.write(line);
  }

  /** Guest lines dropped in this phase because it passed LOG_CHARS_PER_PHASE. */
  get droppedLines(): number {
    return this.#dropped;
  }

  platformLine(line: string): void {
    this.write(line);
  }

  write(line: string): void {
    this.#sink.write(line, this.#meta);
    if (this.#capture) {
      this.#capture.push(line);
      this.#captureChars += line.length + 1;
      while (this.#captureChars > CAPTURE_CHARS && this.#capture.length > 1) {
        this.#captureChars -= this.#capture.shift()!.length + 1;
      }
    }
  }

  /**
   * The guest starts counting its lines again (SnapStart's `restore` message: a restored guest
   * holds the template's count, a pre-initialised one its own INIT's): so does the collector.
   */
  restartCount(): void {
    this.#received = 0;
  }

  /** Start keeping lines for a Tail log result (INIT lines of a cold start included). */
  startCapture(): void {
    this.#capture ??= [];
  }

  /** Stop keeping lines and return what was kept. */
  takeCapture(): string[] {
    const lines = this.#capture ?? [];
    this.#capture = undefined;
    this.#captureChars = 0;
    return lines;
  }

  /**
   * Waits until the guest's lines up to `expected` have arrived (they travel apart from the
   * reply). With no count (the sandbox died), gives stragglers a few turns. Bounded either way.
   * Undefined when every line is already here (the warm path: nothing to wait for, no promise made).
   */
  settle(expected: number | undefined): Promise<void> | undefined {
    if (expected !== undefined && this.#received >= expected) return undefined;
    return this.#waitForLines(expected);
  }

  async #waitForLines(expected: number | undefined): Promise<void> {
    const target = expected ?? Infinity;
    const turns = expected === undefined ? 4 : SETTLE_TURNS;
    for (let i = 0; i < turns && this.#received < target; i++) {
      await new Promise<void>((resolve) => setImmediate(resolve));
    }
  }
}
