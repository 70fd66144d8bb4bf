/** The streams a command uses, so the commands never touch `process` directly. */
export interface Io {
  readonly stdout: { write(text: string): unknown };
  readonly stderr: { write(text: string): unknown };
  readonly stdin: NodeJS.ReadableStream;
  /** Pretty-print JSON for people; compact for pipes. */
  readonly stdoutIsTTY: boolean;
  /** Redraw a progress line in place (a terminal) or print a line per step (a log file). */
  readonly stderrIsTTY: boolean;
}

export const processIo: Io = {
  stdout: process.stdout,
  stderr: process.stderr,
  stdin: process.stdin,
  stdoutIsTTY: process.stdout.isTTY === true,
  stderrIsTTY: process.stderr.isTTY === true,
};
