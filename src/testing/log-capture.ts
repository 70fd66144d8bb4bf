/**
 * A LogSink that hands each invocation its own log lines. An execution environment serves one
 * invocation at a time and has its own log stream, so the lines of one stream since its previous
 * REPORT line belong to the invocation that REPORT closes — INIT's lines included on a cold start,
 * as CloudWatch shows them. The runtime writes REPORT before `invoke()` resolves.
 */
import type { LogLineMeta, LogSink } from '../index.ts';

const REPORT = /^REPORT RequestId: (\S+)/;

export class LogCapture implements LogSink {
  readonly #open = new Map<string, string[]>();
  readonly #done = new Map<string, string[]>();
  readonly #forward: LogSink | undefined;

  constructor(forward?: LogSink) {
    this.#forward = forward;
  }

  write(line: string, meta: LogLineMeta): void {
    this.#forward?.write(line, meta);
    let lines = this.#open.get(meta.logStreamName);
    if (!lines) this.#open.set(meta.logStreamName, (lines = []));
    lines.push(line);
    const report = REPORT.exec(line);
    if (report?.[1] !== undefined) {
      this.#done.set(report[1], lines);
      this.#open.delete(meta.logStreamName);
    }
  }

  /** The lines of the invocation `requestId` (START to REPORT, INIT's before them), once. */
  take(requestId: string): string[] {
    const lines = this.#done.get(requestId) ?? [];
    this.#done.delete(requestId);
    return lines;
  }
}
