/**
 * Where a restore of an image every server holds goes (engine-pool.ts #pickForRestore, issue 21):
 * not to a server whose thread is deserialising a V8 isolate (EngineHost.deserialising: a pool
 * refill holds the thread ~100 ms for a large heap, and a restore sent there waits behind it) while
 * another started server that holds the images is free. Servers here are stand-ins in real worker
 * threads that answer boots, snapshots, restores and adoptions at once; the test sets each one's
 * `deserialising`.
 */
import { Worker } from 'node:worker_threads';
import { describe, expect, it } from 'vitest';
import { bundleFunction } from '../../../src/code/index.ts';
import type { SandboxOptions } from '../../../src/engines/engine.ts';
import { EnginePool } from '../../../src/engines/remote/engine-pool.ts';
import type { ServerEvent, ServerRequest } from '../../../src/engines/remote/protocol.ts';
import type { EngineHost, HostHandlers } from '../../../src/engines/remote/worker-host.ts';
import { eventually } from '../../helpers/eventually.ts';

const OPTIONS: SandboxOptions = { memoryMb: 128, onLog: () => {}, hostCall: () => 'n' };

const SERVER = `
const { parentPort } = require('node:worker_threads');
parentPort.on('message', (r) => {
  if (r.t === 'snapshot') parentPort.postMessage({ t: 'ready', id: r.id, image: { kind: 'v8-startup-snapshot', memoryMb: 128, sizeBytes: 1024, parts: { bytes: new Uint8Array(4), memoryMb: 128 } } });
  else if (r.t === 'boot' || r.t === 'restore' || (r.t === 'adopt' && r.id !== undefined)) parentPort.postMessage({ t: 'ready', id: r.id });
});
parentPort.postMessage({ t: 'up' });
`;

interface FakeServer {
  readonly restores: number[];
  deserialising: boolean;
}

function fakeFactory(): { started: FakeServer[]; factory: (handlers: HostHandlers) => Promise<EngineHost> } {
  const started: FakeServer[] = [];
  const factory = async (handlers: HostHandlers): Promise<EngineHost> => {
    const worker = new Worker(SERVER, { eval: true });
    await new Promise<void>((resolve) => worker.once('message', () => resolve()));
    worker.on('message', (event: ServerEvent) => handlers.onEvent(event));
    worker.unref();
    const entry: FakeServer = { restores: [], deserialising: false };
    started.push(entry);
    return {
      send: (request: ServerRequest) => {
        if (request.t === 'restore') entry.restores.push(request.sb);
        worker.postMessage(request);
      },
      answer: () => {},
      ref: () => {},
      kill: () => void worker.terminate(),
      get deserialising() {
        return entry.deserialising;
      },
    };
  };
  return { started, factory };
}

async function bundle() {
  const outcome = await bundleFunction({ files: { 'index.mjs': 'export const handler = async () => 1' } }, 'index.handler');
  if (!outcome.ok) throw new Error(outcome.failure.errorMessage);
  return outcome.bundle;
}

describe('engine pool: restore routing', () => {
  it('a restore goes to a server that is not deserialising, and to the usual one when every server is', async () => {
    const { started, factory } = fakeFactory();
    const pool = new EnginePool(2, factory);
    await pool.warm();
    // Both servers started (a pool fills to its size; each holds the shared images).
    await eventually(() => expect(started).toHaveLength(2));
    const def = pool.define('v8', await bundle());
    const template = await pool.boot(def, OPTIONS);
    const image = await template.snapshot();
    template.dispose();
    // Both servers hold the image (the second adopted it): a restore with both free goes where #pick says.
    const first = await pool.restore(def, image, OPTIONS);
    const usual = started.findIndex((s) => s.restores.length === 1);
    expect(usual).toBeGreaterThanOrEqual(0);
    first.dispose();
    // The usual server's thread is deserialising (a refill): the next restore goes to the other one.
    started[usual]!.deserialising = true;
    const second = await pool.restore(def, image, OPTIONS);
    expect(started[usual]!.restores).toHaveLength(1);
    expect(started[1 - usual]!.restores).toHaveLength(1);
    second.dispose();
    // Every server deserialising: the usual choice stands (the restore waits there).
    started[1 - usual]!.deserialising = true;
    const third = await pool.restore(def, image, OPTIONS);
    expect(started[0]!.restores.length + started[1]!.restores.length).toBe(3);
    third.dispose();
    image.dispose();
    pool.retireAll();
  });
});
