/**
 * EnginePool growth (engine-pool.ts #pick, issue #15 fairness): a sandbox start that finds no
 * server without sandboxes starts a new server while the pool has fewer than `maxSize`; at
 * `maxSize` sandboxes share the least busy server. Below `maxSize` one server without sandboxes is
 * kept started ahead of demand (issue #21: a cold start that waited for its server to start paid
 * it as Init Duration), and that spare adopts no shared image until its first sandbox (a QuickJS
 * server keeps blanks for every image it holds: 374290d withdrew a spare that did). Servers here are
 * stand-ins in real worker threads that answer boots and adoptions at once (the placement is the
 * pool's, whatever runs in the server).
 */
import { Worker } from 'node:worker_threads';
import { describe, expect, it } from 'vitest';
import { bundleFunction } from '../../../src/code/index.ts';
import type { SandboxOptions } from '../../../src/engines/engine.ts';
import { EnginePool } from '../../../src/engines/remote/engine-pool.ts';
import type { ServerEvent, ServerRequest } from '../../../src/engines/remote/protocol.ts';
import type { EngineHost, HostHandlers } from '../../../src/engines/remote/worker-host.ts';
import { QUICKJS_THREAD_GROWTH, quickjsWorkerPool } from '../../../src/engines/quickjs/quickjs-engine.ts';
import { eventually } from '../../helpers/eventually.ts';

const OPTIONS: SandboxOptions = { memoryMb: 128, onLog: () => {}, hostCall: () => 'n' };

const SERVER = `
const { parentPort } = require('node:worker_threads');
parentPort.on('message', (r) => { if (r.t === 'boot' || (r.t === 'adopt' && r.id !== undefined)) parentPort.postMessage({ t: 'ready', id: r.id }); });
parentPort.postMessage({ t: 'up' });
`;

/** A started server: `placed` counts the boots it received; `sent` lists its requests in order (an adoption as `adopt <img>`). */
interface FakeServer {
  placed: number;
  readonly sent: string[];
}

/**
 * Each started server, by the order it started in. With `held`, a server's start also waits for
 * the test: `held.starts` counts the starts asked for, `held.release()` lets the oldest one finish.
 */
function fakeFactory(held?: { starts: number; release: () => void }): { started: FakeServer[]; factory: (handlers: HostHandlers) => Promise<EngineHost> } {
  const started: FakeServer[] = [];
  const gates: (() => void)[] = [];
  if (held) held.release = () => gates.shift()?.();
  const factory = async (handlers: HostHandlers): Promise<EngineHost> => {
    if (held) {
      held.starts++;
      await new Promise<void>((resolve) => gates.push(resolve));
    }
    const worker = new Worker(SERVER, { eval: true });
    await new Promise<void>((resolve) => worker.once('message', () => resolve()));
    worker.on('message', (event: ServerEvent) => handlers.onEvent(event));
    worker.unref();
    const entry: FakeServer = { placed: 0, sent: [] };
    started.push(entry);
    return {
      send: (request: ServerRequest) => {
        if (request.t === 'boot') entry.placed++;
        entry.sent.push(request.t === 'adopt' ? `adopt ${request.img}` : request.t);
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
    expect(pool.servers).toBe(2); // a kept server takes the first; the other is still empty
    await pool.boot(def, OPTIONS);
    expect(pool.servers).toBe(3); // the last empty one taken: a spare starts ahead of the next start
    await pool.boot(def, OPTIONS);
    expect(pool.servers).toBe(4); // the spare taken, another started: at maxSize now
    await pool.boot(def, OPTIONS);
    expect(pool.servers).toBe(4); // the last spare taken; at maxSize: no new one
    await pool.boot(def, OPTIONS);
    expect(pool.servers).toBe(4); // over: shared
    await eventually(() => expect(started.length).toBe(4));
    expect(started.map((s) => s.placed).sort()).toEqual([1, 1, 1, 2]);
  });

  it('a cold start below maxSize takes the spare started ahead of it, not a server it waits for', async () => {
    const { started, factory } = fakeFactory();
    const pool = new EnginePool(1, factory, { maxSize: 3 });
    await pool.warm();
    const def = pool.define('quickjs', await bundle());
    await pool.boot(def, OPTIONS); // takes the only server; a spare starts
    await eventually(() => expect(started.length).toBe(2));
    const spare = started[1]!;
    expect(spare.placed).toBe(0);
    await pool.boot(def, OPTIONS);
    expect(spare.placed).toBe(1); // the started spare, not a third server
    expect(pool.servers).toBe(3); // and the next spare is on its way (at maxSize now)
    await eventually(() => expect(started.length).toBe(3));
    await pool.boot(def, OPTIONS);
    expect(started[2]!.placed).toBe(1);
    expect(pool.servers).toBe(3); // at maxSize: no spare past it
  });

  it('a cold start that takes a server still starting starts the next spare only once that server is up', async () => {
    const held = { starts: 0, release: () => {} };
    const { started, factory } = fakeFactory(held);
    const pool = new EnginePool(1, factory, { maxSize: 4 });
    const warm = pool.warm();
    held.release();
    await warm;
    const def = pool.define('quickjs', await bundle());
    await pool.boot(def, OPTIONS); // the only server, up: a spare starts at once
    expect(held.starts).toBe(2);
    const second = pool.boot(def, OPTIONS); // takes that spare, still starting (placement is synchronous)
    expect(held.starts).toBe(2); // nothing started beside it
    held.release();
    await second;
    await eventually(() => expect(held.starts).toBe(3)); // up: the next spare starts now
    expect(started[1]!.placed).toBe(1);
    held.release();
    await eventually(() => expect(started.length).toBe(3));
  });

  it('at maxSize, a v8 sandbox shares a server that is up rather than wait for one still starting (a replacement); a quickjs one waits for it', async () => {
    // Process isolation after a child died: its replacement starts for seconds on a loaded
    // machine (bench area recovery: 2-3 s at load 15-20) while the other child serves. A v8
    // sandbox never holds its server's thread; a QuickJS one does, so it keeps a server of its own.
    const held = { starts: 0, release: () => {} };
    const { started, factory } = fakeFactory(held);
    const pool = new EnginePool(2, factory);
    const warm = pool.warm();
    held.release(); // the first server comes up; the second's start stays held
    await warm;
    const v8 = pool.define('v8', await bundle());
    await pool.boot(v8, OPTIONS); // the idle server that is up
    await pool.boot(v8, OPTIONS); // would hang on the held start if placed there
    expect(started.length).toBe(1);
    expect(started[0]!.placed).toBe(2);
    const quickjs = pool.define('quickjs', await bundle());
    const waiting = pool.boot(quickjs, OPTIONS);
    held.release();
    await waiting;
    expect(started[1]!.placed).toBe(1);
    expect(started[0]!.placed).toBe(2);
  });

  it('a spare adopts no shared image until its first sandbox, then every live one before that sandbox starts', async () => {
    const { started, factory } = fakeFactory();
    const pool = new EnginePool(1, factory, { maxSize: 3 });
    await pool.warm();
    const kept = await pool.share('quickjs', { kind: 'wasm-memory', memoryMb: 128, sizeBytes: 1, parts: { n: 1 } });
    const dropped = await pool.share('quickjs', { kind: 'wasm-memory', memoryMb: 128, sizeBytes: 1, parts: { n: 2 } });
    const def = pool.define('quickjs', await bundle());
    await pool.boot(def, OPTIONS); // the only server: a spare starts
    await eventually(() => expect(started.length).toBe(2));
    const [first, spare] = started as [FakeServer, FakeServer];
    expect(first.sent.filter((t) => t.startsWith('adopt'))).toEqual([`adopt ${kept.img}`, `adopt ${dropped.img}`]);
    // Shared while it is a spare: not sent to it either.
    const later = await pool.share('quickjs', { kind: 'wasm-memory', memoryMb: 128, sizeBytes: 1, parts: { n: 3 } });
    dropped.dispose();
    expect(spare.sent.filter((t) => t.startsWith('adopt'))).toEqual([]);
    await pool.boot(def, OPTIONS); // lands on the spare
    expect(spare.placed).toBe(1);
    // The images alive now (not the disposed one), before the boot that may restore one.
    expect(spare.sent.filter((t) => t.startsWith('adopt') || t === 'boot')).toEqual([`adopt ${kept.img}`, `adopt ${later.img}`, 'boot']);
    // The next spare, started as this one was taken, holds none either.
    await eventually(() => expect(started.length).toBe(3));
    expect(started[2]!.sent.filter((t) => t.startsWith('adopt'))).toEqual([]);
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
