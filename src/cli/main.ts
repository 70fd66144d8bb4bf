/**
 * The `lambdalet` command line. bin/lambdalet.js starts Node with the flags the engines need
 * (`--no-node-snapshot`) and calls `main()`; `main` returns the exit code and never exits itself.
 *
 *   lambdalet invoke <code> [options]   deploy and invoke once
 *   lambdalet bench <code> [options]    cold and warm invoke latency
 *   lambdalet serve [options]           the Lambda API over HTTP
 */
import { readFileSync } from 'node:fs';
import { InvalidParameterValueException, LambdaletError } from '../index.ts';
import { BENCH_HELP, benchCommand } from './bench.ts';
import { INVOKE_HELP, invokeCommand } from './invoke.ts';
import { SERVE_HELP, serveCommand } from './serve.ts';
import { processIo, type Io } from './io.ts';
import { FLAG_OF_FIELD, UsageError } from './options.ts';

export const HELP = `Usage: lambdalet <command> [options]

Runs AWS Lambda handlers inside this Node.js process, with Lambda's semantics: in V8 isolates
(isolated-vm, --engine v8, the default) or in QuickJS compiled to WebAssembly (--engine quickjs);
a WebAssembly component (.wasm) runs on --engine wasm.

Commands:
  invoke <code>   deploy <code> as a function, invoke it once: payload to stdout, log to stderr
  bench <code>    measure cold and warm invokes of <code> and print a table
  serve           serve the Lambda API over HTTP (AWS SDK / CLI with an endpoint override)

Options:
  -h, --help      show this help (\`lambdalet <command> --help\` for a command's options)
  -v, --version   print lambdalet's version

Exit codes: 0 success; 1 the function failed or could not run; 2 bad usage.`;

const COMMANDS: Readonly<Record<string, { run: (args: readonly string[], io: Io) => Promise<number>; help: string }>> = {
  invoke: { run: invokeCommand, help: INVOKE_HELP },
  bench: { run: benchCommand, help: BENCH_HELP },
  serve: { run: (args, io) => serveCommand(args, io), help: SERVE_HELP },
};

/** Runs the CLI with `args` (without node and the script) and returns the exit code. */
export async function main(args: readonly string[], io: Io = processIo): Promise<number> {
  const [first, ...rest] = args;
  if (first === undefined || first === '-h' || first === '--help' || first === 'help') {
    const topic = first === 'help' ? rest[0] : undefined;
    const command = topic !== undefined ? COMMANDS[topic] : undefined;
    // No command at all is bad usage: the help goes to stderr and the exit code is 2.
    (first === undefined ? io.stderr : io.stdout).write(`${command?.help ?? HELP}\n`);
    return first === undefined ? 2 : 0;
  }
  if (first === '-v' || first === '--version') {
    io.stdout.write(`${version()}\n`);
    return 0;
  }
  const command = Object.hasOwn(COMMANDS, first) ? COMMANDS[first] : undefined;
  if (command === undefined) {
    io.stderr.write(`lambdalet: unknown command '${first}'. Commands: ${Object.keys(COMMANDS).join(', ')}. Run \`lambdalet --help\`.\n`);
    return 2;
  }
  try {
    return await command.run(rest, io);
  } catch (error) {
    return report(error, first, io);
  }
}

function report(error: unknown, command: string, io: Io): number {
  const prefix = `lambdalet ${command}:`;
  if (error instanceof UsageError) {
    io.stderr.write(`${prefix} ${error.message}\nRun \`lambdalet ${command} --help\` for the options.\n`);
    return 2;
  }
  if (error instanceof InvalidParameterValueException) {
    const flag = FLAG_OF_FIELD[error.field] ?? FLAG_OF_FIELD[error.field.split('.')[0] ?? ''];
    io.stderr.write(`${prefix} ${flag !== undefined ? `${flag}: ` : ''}${error.message}\nRun \`lambdalet ${command} --help\` for the options.\n`);
    return 2;
  }
  if (error instanceof LambdaletError) {
    io.stderr.write(`${prefix} ${error.name}: ${error.message}\n`);
    return 1;
  }
  const err = error instanceof Error ? error : new Error(String(error));
  io.stderr.write(`${prefix} ${err.message}${err.cause instanceof Error ? ` (${err.cause.message})` : ''}\n`);
  return 1;
}

function version(): string {
  // src/cli/ and dist/cli/ both sit two levels below the package root.
  const pkg = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version: string };
  return pkg.version;
}
