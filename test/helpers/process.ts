/** Child processes in tests: what a finished command printed and how it ended. */
import { spawn, type ChildProcessByStdio } from 'node:child_process';
import type { Readable, Writable } from 'node:stream';
import { fileURLToPath } from 'node:url';

export interface Run {
  readonly code: number | null;
  readonly stdout: string;
  readonly stderr: string;
}

/** Collects a spawned child's stdout and stderr (as UTF-8) until it closes; rejects if it cannot start. */
export function collectRun(child: ChildProcessByStdio<Writable | null, Readable, Readable>): Promise<Run> {
  let stdout = '';
  let stderr = '';
  child.stdout.setEncoding('utf8').on('data', (d: string) => (stdout += d));
  child.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d));
  return new Promise((resolve, reject) => {
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, stdout, stderr }));
  });
}

/**
 * Runs `node --no-node-snapshot <args>` from the repository's root and resolves with what it
 * printed once its stdout says DONE (then kills it: after an isolated-vm catastrophe a process
 * cannot always exit by itself, a parked isolate thread holding it) or once it exits. Rejects after
 * `limitMs` without either, with the output so far.
 */
export function runUntilDone(args: readonly string[], limitMs: number): Promise<{ stdout: string; stderr: string }> {
  const child = spawn(process.execPath, ['--no-node-snapshot', ...args], {
    cwd: fileURLToPath(new URL('../..', import.meta.url)),
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`no DONE within ${limitMs} ms; stdout: ${stdout}; stderr: ${stderr.slice(-2000)}`));
    }, limitMs);
    child.stdout.on('data', (chunk: Buffer) => {
      stdout += chunk.toString();
      if (stdout.includes('DONE')) {
        clearTimeout(timer);
        child.kill('SIGKILL');
        resolve({ stdout, stderr });
      }
    });
    child.on('exit', () => {
      clearTimeout(timer);
      resolve({ stdout, stderr });
    });
  });
}

/** The JSON after `tag ` on its own line of `stdout` (undefined when no line has it). */
export function taggedLine(stdout: string, tag: string): unknown {
  const match = new RegExp(`^${tag} (.*)$`, 'm').exec(stdout);
  return match ? JSON.parse(match[1]!) : undefined;
}

/**
 * The opening of a catastrophe test's child script (an ES module run with `node -e`): imports
 * createRuntime, silentSink and engineProcessIds from src/, collects the process's warning codes in
 * `warnings`, and defines `show(tag, run)`, which prints `TAG {payload, functionError}` for an
 * invocation's result or `TAG {name, message}` for what it threw (read back with {@link taggedLine}).
 */
export function catastropheChildPrelude(): string {
  const indexUrl = new URL('../../src/index.ts', import.meta.url).href;
  const processHostUrl = new URL('../../src/engines/remote/process-host.ts', import.meta.url).href;
  return `
    import { createRuntime, silentSink } from ${JSON.stringify(indexUrl)};
    import { engineProcessIds } from ${JSON.stringify(processHostUrl)};
    const warnings = [];
    process.on('warning', (w) => warnings.push(w.code));
    const show = async (tag, run) => {
      try {
        const result = await run();
        console.log(tag + ' ' + JSON.stringify({ payload: result.payload, functionError: result.functionError ?? null }));
      } catch (error) {
        console.log(tag + ' ' + JSON.stringify({ name: error.name, message: error.message }));
      }
    };`;
}
