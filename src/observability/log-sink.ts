/**
 * Where log lines go. `createRuntime()` without a `logSink` uses {@link stdoutSink}, as a Lambda
 * function's logs go to its log stream; pass {@link silentSink} (or your own) to keep them.
 */

import type { LogSink } from '../config/index.ts';

export type { LogLineMeta, LogSink } from '../config/index.ts';

/**
 * Bytes of log lines the standard-output sink lets wait in the host's memory for a stream that is
 * not keeping up (a pipe nobody reads). Past it, lines are dropped until the stream drains, then
 * one line says how many were lost (issue #15: a console flood buffered 210 MB in the host). Each
 * invocation's log volume is already capped (environment/log-collector.ts); this bounds the sum
 * over all of them.
 */
export const LOG_SINK_BUFFER_MAX_BYTES = 8 * 1024 * 1024;

/** The part of a Writable the sink uses (process.stdout, a socket, a file stream). */
export interface LineStream {
  write(chunk: string): boolean;
  readonly writableLength: number;
  once(event: 'drain', listener: () => void): unknown;
}

/** The line written once the stream drains after `count` lines were dropped. */
export function droppedLinesNotice(count: number, maxBufferedBytes: number): string {
  return `[lambdalet] ${count} log line${count === 1 ? '' : 's'} dropped: the log stream was not keeping up (${maxBufferedBytes} bytes waiting)`;
}

/**
 * A sink writing one line per write to `stream`, holding at most about `maxBufferedBytes` waiting:
 * while the stream's buffer is at or over the bound, lines are dropped (not queued) until it
 * drains; the first line after that is the count of the dropped ones.
 */
export function boundedStreamSink(stream: LineStream, maxBufferedBytes = LOG_SINK_BUFFER_MAX_BYTES): LogSink {
  let dropped = 0;
  return {
    write(line) {
      if (dropped > 0 || stream.writableLength >= maxBufferedBytes) {
        // A buffer over the bound means a write has already returned false, so 'drain' will come.
        if (dropped++ === 0) {
          stream.once('drain', () => {
            const count = dropped;
            dropped = 0;
            stream.write(droppedLinesNotice(count, maxBufferedBytes) + '\n');
          });
        }
        return;
      }
      stream.write(line + '\n');
    },
  };
}

/** Standard output, read when a line is written (as before: never touched by a runtime that logs elsewhere). */
export const stdoutSink: LogSink = boundedStreamSink({
  write: (chunk) => process.stdout.write(chunk),
  get writableLength() {
    return process.stdout.writableLength;
  },
  once: (event, listener) => process.stdout.once(event, listener),
});

/** Drops every line: for benchmarks and tests that read `logResult` instead. */
export const silentSink: LogSink = {
  write() {},
};
