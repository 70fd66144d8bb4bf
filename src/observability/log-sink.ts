/**
 * Where log lines go. The runtime is silent unless given a sink; `createRuntime()` with no options
 * uses {@link stdoutSink}, as a Lambda function's logs go to its log stream.
 */

/** Receives every log line of every function, in order per environment. */
export interface LogSink {
  write(line: string, meta: LogLineMeta): void;
}

export interface LogLineMeta {
  /** The function's name. */
  readonly functionName: string;
  /** The log stream: one per environment, as on AWS. */
  readonly logStreamName: string;
}

export const stdoutSink: LogSink = {
  write(line) {
    process.stdout.write(line + '\n');
  },
};

/** Drops every line: for benchmarks and tests that read `logResult` instead. */
export const silentSink: LogSink = {
  write() {},
};
