/**
 * child_process.fork per environment, what local Lambda emulators do: a new Node process (plain
 * `node`, no extra flags) evaluates the handler script; an invoke is one IPC round trip (JSON).
 */
import { fork, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { fileURLToPath } from 'node:url';
import type { HandlerCode } from '../lib/handlers.ts';
import type { Baseline, BaselineEnv } from './baseline.ts';

const CHILD = fileURLToPath(new URL('./fork-child.ts', import.meta.url));

interface Reply {
  ok: boolean;
  value: unknown;
}

/** Starts the child; resolves once it has evaluated the script and listens. */
export async function forkHandler(code: HandlerCode): Promise<ChildProcess> {
  const child = fork(CHILD, [], {
    execArgv: [],
    serialization: 'json',
    stdio: ['ignore', 'ignore', 'inherit', 'ipc'],
    env: { ...process.env, NODE_OPTIONS: '', BENCH_HANDLER_SCRIPT: code.script },
  });
  const [ready] = (await Promise.race([once(child, 'message'), once(child, 'exit').then(() => [undefined])])) as [{ ready?: boolean } | undefined];
  if (!ready?.ready) throw new Error('fork baseline: the child did not start');
  return child;
}

export const childProcessFork: Baseline = {
  name: 'child-process-fork',
  async boot(code: HandlerCode): Promise<BaselineEnv> {
    const child = await forkHandler(code);
    let pending: { resolve: (v: unknown) => void; reject: (e: Error) => void } | undefined;
    child.on('message', (reply: Reply) => {
      const p = pending;
      pending = undefined;
      if (reply.ok) p?.resolve(reply.value);
      else p?.reject(new Error(String(reply.value)));
    });
    child.on('exit', (code) => pending?.reject(new Error(`child exited with ${code}`)));
    return {
      call: (event) =>
        new Promise((resolve, reject) => {
          pending = { resolve, reject };
          child.send(event as object);
        }),
      dispose: async () => {
        if (child.exitCode !== null || child.signalCode !== null) return;
        const exited = once(child, 'exit');
        child.kill();
        await exited;
      },
    };
  },
};
