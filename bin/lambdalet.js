#!/usr/bin/env node
// The `lambdalet` command. It makes sure Node runs with the flags lambdalet's engines need — today
// `--no-node-snapshot` for isolated-vm, a start-up flag no library can set — by starting Node again
// with them when they are missing, then runs the CLI:
//   - from a checkout (this file not inside node_modules, src/ present): src/cli/main.ts, which
//     Node >= 24 runs directly (type stripping), so a fresh clone needs no build;
//   - from an installed package: dist/cli/main.js (Node does not strip types under node_modules).
// On a Node older than lambdalet needs it stops at once with one line (bin/require-node.js).
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { dirname, join, sep } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { requireNode } from './require-node.js';

requireNode();

const NEEDED_FLAGS = ['--no-node-snapshot'];

const self = fileURLToPath(import.meta.url);
const root = dirname(dirname(self));
const source = join(root, 'src', 'cli', 'main.ts');
const built = join(root, 'dist', 'cli', 'main.js');
const fromSource = !root.split(sep).includes('node_modules') && existsSync(source);
const entry = fromSource ? source : built;

const nodeOptions = (process.env.NODE_OPTIONS ?? '').split(/\s+/);
const missing = NEEDED_FLAGS.filter((flag) => !process.execArgv.includes(flag) && !nodeOptions.includes(flag));

if (missing.length > 0) {
  // Start Node again with the flags, this same script and the same arguments; pass the exit code
  // (or the signal) through. Signals sent to this process are forwarded to the child.
  const child = spawn(process.execPath, [...missing, ...process.execArgv, self, ...process.argv.slice(2)], { stdio: ['inherit', 'inherit', 'inherit', 'ipc'] });
  // A child that cannot exit by itself (see below) sends its exit code, then kills itself.
  let sentCode;
  child.on('message', (message) => {
    if (typeof message?.lambdaletExitCode === 'number') sentCode = message.lambdaletExitCode;
  });
  for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP']) {
    process.on(signal, () => child.kill(signal));
  }
  child.on('error', (error) => {
    process.stderr.write(`lambdalet: could not start ${process.execPath}: ${error.message}\n`);
    process.exit(1);
  });
  child.on('exit', (code, signal) => {
    if (signal === 'SIGKILL' && sentCode !== undefined) process.exit(sentCode);
    if (signal) {
      process.removeAllListeners(signal);
      process.kill(process.pid, signal);
    }
    process.exit(code ?? 1);
  });
} else if (!existsSync(entry)) {
  process.stderr.write(`lambdalet: ${entry} is missing: run \`npm run build\` in ${root} (the published package ships dist/)\n`);
  process.exit(1);
} else {
  // After in-process v8 degraded (isolated-vm's catastrophic error: a heap bomb it could not
  // contain), the isolate's thread stays parked and Node's exit waits on it for good: the process
  // printed its answer and then hung, `process.exit()` included. Then the command ends itself with
  // SIGKILL once its output is flushed, handing its exit code to the parent above when there is one.
  let degraded = false;
  process.on('warning', (warning) => {
    if (warning.code === 'LAMBDALET_V8_DEGRADED') degraded = true;
  });
  const { main } = await import(pathToFileURL(entry).href);
  const code = await main(process.argv.slice(2));
  process.exitCode = code;
  if (degraded) {
    await new Promise((resolve) => process.stdout.write('', () => process.stderr.write('', resolve)));
    const end = () => process.kill(process.pid, 'SIGKILL');
    if (process.send) process.send({ lambdaletExitCode: code ?? 0 }, end);
    else end();
  }
}
