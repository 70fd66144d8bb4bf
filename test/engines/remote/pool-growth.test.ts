/**
 * EnginePool growth (engine-pool.ts #pick, issue #15 fairness): a sandbox start that finds no
 * server without sandboxes starts a new server while the pool has fewer than `maxSize`; at
 * `maxSize` sandboxes share the least busy server. Servers here are stand-ins in real worker threads
 * that answer boots at once (the placement is the pool's, whatever runs in the server).
 */
import { Worker } from 'node:worker_threads';
import { describe, expect, it } from 'vitest';
import { bundleFunction } from '../../../src/code/index.ts';
import type { SandboxOptions } from '../../../src/engines/engine.ts';
import { EnginePool } from '../../../src/engines/remote/engine-pool.ts';
import type { ServerEvent, ServerRequest } from '../../../src/engines/remote/protocol.ts';
import type { EngineHost, HostHandlers } from '../../../src/engines/remote/worker-host.ts';
import { QUICKJS_THREAD_GROWTH, quickjsWorkerPool } from '../../../src/engines/quickjs/quickjs-engine.ts';

const OPTIONS: SandboxOptions = { memoryMb: 128, onLog: () => {}, hostCall: () => 'n' };

const SERVER = `
const { parentPort } = require('node:worker_threads');
parentPort.on('message', (r) => { if (r.t === 'boot') parentPort.postMessage({ t: 'ready', id: r.id }); });
parentPort.postMessage({ t: 'up' });
`;

/** Each started server, by the order it started in; `placed` counts the boots each received. */
function fakeFactory(): { started: { placed: number }[]; factory: (handlers: HostHandlers) => Promise<EngineHost> } {
  const started: { placed: number }[] = [];
  const factory = async (handlers: HostHandlers): Promise<EngineHost> => {
    const worker = new Worker(SERVER, { eval: true });
    await new Promise<void>((resolve) => worker.once('message', () => resolve()));
    worker.on('message', (event: ServerEvent) => handlers.onEvent(event));
    worker.unref();
    const entry = { placed: 0 };
    started.push(entry);
    return {
      send: (request: ServerRequest) => {
        if (request.t === 'boot') entry.placed++;
        worker.postMessage(request);
      },
      answer: () => {},
      ref: () => {},
      kill: () => void worker.terminate(),
    };
  };
  return { started, factory };
}

async function bundle() {
  const outcome = await bundleFunction({ files: { 'index.mjs': 'export const handler = async () => 1' } }, 'index.handler');
  if (!outcome.ok) throw new Error(outcome.failure.errorMessage);
  return outcome.bundle;
}

describe('engine pool growth', () => {
  it('without maxSize the pool keeps its size: sandboxes share the servers it has', async () => {
    const { started, factory } = fakeFactory();
    const pool = new EnginePool(2, factory);
    expect(pool.maxSize).toBe(2);
    await pool.warm();
    const def = pool.define('quickjs', await bundle());
    for (let i = 0; i < 5; i++) await pool.boot(def, OPTIONS);
    expect(pool.servers).toBe(2);
    expect(started.map((s) => s.placed).reduce((a, b) => a + b)).toBe(5);
  });

  it('grows one server per sandbox start up to maxSize (under: grows; at: shares), never past it', async () => {
    const { started, factory } = fakeFactory();
    const pool = new EnginePool(2, factory, { maxSize: 4 });
    await pool.warm();
    const def = pool.define('quickjs', await bundle());
    await pool.boot(def, OPTIONS);
    await pool.boot(def, OPTIONS);
    expect(pool.servers).toBe(2); // the kept servers take the first two
    await pool.boot(def, OPTIONS);
    expect(pool.servers).toBe(3); // under maxSize: a new server
    await pool.boot(def, OPTIONS);
    expect(pool.servers).toBe(4); // at maxSize now
    await pool.boot(def, OPTIONS);
    expect(pool.servers).toBe(4); // over: shared
    expect(started.map((s) => s.placed)).toEqual(expect.arrayContaining([1, 1, 1]));
    expect(started.map((s) => s.placed).reduce((a, b) => a + b)).toBe(5);
  });

  it('a maxSize under the size is the size', () => {
    const pool = new EnginePool(3, fakeFactory().factory, { maxSize: 1 });
    expect(pool.maxSize).toBe(3);
  });

  it(`the quickjs engine's pool grows to ${QUICKJS_THREAD_GROWTH}x its threads`, () => {
    const pool = quickjsWorkerPool({ threads: 3 });
    expect(pool.size).toBe(3);
    expect(pool.maxSize).toBe(3 * QUICKJS_THREAD_GROWTH);
  });
});
