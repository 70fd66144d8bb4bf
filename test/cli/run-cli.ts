/**
 * Runs the `lambdalet` command in this process through `main(args, io)` with in-memory streams —
 * the code bin/lambdalet.js calls, without a Node start-up per case. stdout and stderr are pipes
 * (compact JSON, no progress redraws); stdin holds `options.stdin` (empty by default).
 */
import { Readable } from 'node:stream';
import type { Io } from '../../src/cli/io.ts';
import { main } from '../../src/cli/main.ts';
import type { Run } from '../helpers/process.ts';

export async function runCli(args: readonly string[], options: { stdin?: string } = {}): Promise<Run> {
  let stdout = '';
  let stderr = '';
  const io: Io = {
    stdout: { write: (text: string) => (stdout += text) },
    stderr: { write: (text: string) => (stderr += text) },
    stdin: Readable.from([Buffer.from(options.stdin ?? '')]),
    stdoutIsTTY: false,
    stderrIsTTY: false,
  };
  const code = await main(args, io);
  return { code, stdout, stderr };
}
