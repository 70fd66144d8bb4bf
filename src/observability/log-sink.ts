/**
 * Where log lines go. `createRuntime()` without a `logSink` uses {@link stdoutSink}, as a Lambda
 * function's logs go to its log stream; pass {@link silentSink} (or your own) to keep them.
 */

import type { LogSink } from '../config/index.ts';

export type { LogLineMeta, LogSink } from '../config/index.ts';

export const stdoutSink: LogSink = {
  write(line) {
    process.stdout.write(line + '\n');
  },
};

/** Drops every line: for benchmarks and tests that read `logResult` instead. */
export const silentSink: LogSink = {
  write() {},
};
