/**
 * Syntax errors in V8's words: `node --check <file>` with the Node binary running this host. It
 * parses the file as Node would load it (extension, package.json `type`, the CommonJS wrapper,
 * ES module syntax detection) and runs nothing. Used only on failure paths at deploy, so its cost
 * (a process start, ~50 ms) is never paid by a function whose code is sound.
 */
import { execFile } from 'node:child_process';

/** Node's verdict on a file that does not parse: the message and the 1-based line. */
export interface NodeSyntaxError {
  readonly message: string;
  readonly line: number;
  /** 1-based, from Node's caret line; absent when Node printed none (an error at the end of input). */
  readonly column?: number;
}

const CHECK_TIMEOUT_MS = 10_000;

/**
 * Runs `node --check` on `file`. Returns undefined when Node accepts the file or its answer has
 * no SyntaxError line (then the caller keeps what it had).
 */
export function nodeSyntaxError(file: string): Promise<NodeSyntaxError | undefined> {
  return new Promise((resolvePromise) => {
    const env = { ...process.env };
    delete env.NODE_OPTIONS; // the host's flags (test runners' loaders) are not the user's
    execFile(process.execPath, ['--check', file], { env, timeout: CHECK_TIMEOUT_MS, maxBuffer: 1024 * 1024 }, (error, _stdout, stderr) => {
      if (error === null) return resolvePromise(undefined);
      const text = String(stderr);
      const message = /^SyntaxError: (.*)$/m.exec(text)?.[1];
      // The first line of Node's report is `<file>:<line>`.
      const at = text.indexOf(`${file}:`);
      const line = at < 0 ? NaN : Number(/^(\d+)/.exec(text.slice(at + file.length + 1))?.[1]);
      // Then the source line, then carets under the offending token.
      const caret = /^( *)\^+$/m.exec(text)?.[1]?.length;
      if (message === undefined) return resolvePromise(undefined);
      const found = { message, line: Number.isFinite(line) ? line : 1 };
      resolvePromise(caret === undefined ? found : { ...found, column: caret + 1 });
    });
  });
}
