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
 * What Node does with a TypeScript file it loads as CommonJS (a `.cts`, or a `.ts` under `"type":
 * "commonjs"`): strip the types, whitespace for each (positions kept), then compile the rest as a
 * CommonJS module body (Node's loader, lib/internal/modules/cjs/loader.js `wrapSafe`). `node --check`
 * cannot say it: it does not strip types (a `.ts` with an annotation is "missing ) after argument
 * list", one with only `export` passes). So a child strips with `module.stripTypeScriptTypes` and
 * compiles with `vm.compileFunction` and the CommonJS wrapper's parameters; an uncaught SyntaxError
 * prints the same `<file>:<line>`, source line, carets and `SyntaxError: ...` as `--check`. Where
 * the stripper is missing the source is compiled as it is.
 */
const COMMONJS_TYPESCRIPT_CHECK =
  "const m = require('node:module'), fs = require('node:fs'), vm = require('node:vm');" +
  'const file = process.argv[1]; const source = fs.readFileSync(file, "utf8");' +
  "vm.compileFunction(typeof m.stripTypeScriptTypes === 'function' ? m.stripTypeScriptTypes(source) : source," +
  " ['exports', 'require', 'module', '__filename', '__dirname'], { filename: file });";

/**
 * Runs `node --check` on `file` (with `typescript`, {@link COMMONJS_TYPESCRIPT_CHECK}: the file as
 * Node loads a TypeScript file as CommonJS). Returns undefined when Node accepts the file or its
 * answer has no SyntaxError line (then the caller keeps what it had).
 */
export function nodeSyntaxError(file: string, options: { typescript?: boolean } = {}): Promise<NodeSyntaxError | undefined> {
  const args = options.typescript ? ['--no-warnings', '-e', COMMONJS_TYPESCRIPT_CHECK, file] : ['--check', file];
  return new Promise((resolvePromise) => {
    const env = { ...process.env };
    delete env.NODE_OPTIONS; // the host's flags (test runners' loaders) are not the user's
    execFile(process.execPath, args, { env, timeout: CHECK_TIMEOUT_MS, maxBuffer: 1024 * 1024 }, (error, _stdout, stderr) => {
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
