/**
 * worker_threads: a new Worker per environment, which evaluates the handler script; an invoke is
 * one postMessage round trip (structured clone both ways). Workers inherit the bench's
 * `--no-node-snapshot` (a process flag), as they would in an app that uses lambdalet's v8 engine.
 */
import { Worker } from 'node:worker_threads';
import type { HandlerCode } from '../lib/handlers.ts';
import type { Baseline, BaselineEnv } from './baseline.ts';

const WORKER_SOURCE = `
const { parentPort, workerData } = require('node:worker_threads');
const handler = (0, eval)(workerData.script);
parentPort.on('message', async (event) => {
  try { parentPort.postMessage({ ok: true, value: await handler(event) }); }
  catch (error) { parentPort.postMessage({ ok: false, value: String(error) }); }
});
`;

interface Reply {
  ok: boolean;
  value: unknown;
}

export const workerThreads: Baseline = {
  name: 'worker-threads',
  async boot(code: HandlerCode): Promise<BaselineEnv> {
    const worker = new Worker(WORKER_SOURCE, { eval: true, workerData: { script: code.script } });
    worker.unref();
    let pending: { resolve: (v: unknown) => void; reject: (e: Error) => void } | undefined;
    worker.on('message', (reply: Reply) => {
      const p = pending;
      pending = undefined;
      if (reply.ok) p?.resolve(reply.value);
      else p?.reject(new Error(String(reply.value)));
    });
    worker.on('error', (error) => pending?.reject(error));
    return {
      call: (event) =>
        new Promise((resolve, reject) => {
          pending = { resolve, reject };
          worker.postMessage(event);
        }),
      dispose: async () => {
        await worker.terminate();
      },
    };
  },
};
