/**
 * EnginePool.share (issue 21): an image made outside the servers (the host's v8 snapshot bytes) is
 * adopted by every server before the deploy goes on; a server's refusal fails it with that
 * server's error, and the image is dropped everywhere. Servers here are fakes answering the
 * protocol (remote/protocol.ts); the real ones run in test/engines/v8/v8-restore-servers.test.ts.
 */
import { describe, expect, it } from 'vitest';
import { SnapshotUnsupportedError } from '../../../src/engines/engine.ts';
import { EnginePool } from '../../../src/engines/remote/engine-pool.ts';
import type { ServerRequest } from '../../../src/engines/remote/protocol.ts';
import type { EngineHost, HostHandlers } from '../../../src/engines/remote/worker-host.ts';
import { EngineUnavailableError } from '../../../src/errors.ts';

type Adopt = (request: Extract<ServerRequest, { t: 'adopt' }>, handlers: HostHandlers) => void;

function fakePool(size: number, adopt: (index: number) => Adopt): { pool: EnginePool; sent: ServerRequest[][] } {
  const sent: ServerRequest[][] = [];
  let started = 0;
  const pool = new EnginePool(size, async (handlers) => {
    const index = started++;
    const mine: ServerRequest[] = [];
    sent[index] = mine;
    const host: EngineHost = {
      send: (request) => {
        mine.push(request);
        if (request.t === 'adopt') queueMicrotask(() => adopt(index)(request, handlers));
      },
      answer: () => {},
      ref: () => {},
      kill: () => handlers.onExit('killed'),
    };
    return host;
  });
  return { pool, sent };
}

const INFO = { kind: 'v8-startup-snapshot', memoryMb: 128, sizeBytes: 3, parts: { bytes: new Uint8Array([1, 2, 3]), memoryMb: 128 } } as const;
const ok: Adopt = (request, handlers) => handlers.onEvent({ t: 'ready', id: request.id! });

describe('EnginePool.share', () => {
  it('resolves once every server has adopted the image (each asked with an answer id)', async () => {
    const { pool, sent } = fakePool(2, () => ok);
    const image = await pool.share('v8', INFO);
    expect(image).toMatchObject({ engine: 'v8', kind: 'v8-startup-snapshot', memoryMb: 128, sizeBytes: 3, owner: undefined });
    for (const requests of sent) {
      expect(requests.filter((r) => r.t === 'adopt')).toEqual([{ t: 'adopt', id: expect.any(Number), img: image.img, engine: 'v8', parts: INFO.parts }]);
    }
    image.dispose();
    for (const requests of sent) expect(requests.at(-1)).toEqual({ t: 'drop', img: image.img });
  });

  it("one server's refusal rejects with its error (SnapshotUnsupportedError kept) and drops the image everywhere", async () => {
    const refuse: Adopt = (request, handlers) =>
      handlers.onEvent({ t: 'ready', id: request.id!, error: { name: 'SnapshotUnsupportedError', message: 'the V8 snapshot failed verification: no guest runtime in the snapshot' } });
    const { pool, sent } = fakePool(2, (index) => (index === 1 ? refuse : ok));
    await expect(pool.share('v8', INFO)).rejects.toThrow(new SnapshotUnsupportedError('the V8 snapshot failed verification: no guest runtime in the snapshot'));
    for (const requests of sent) expect(requests.at(-1)).toMatchObject({ t: 'drop' });
  });

  it('rejects with EngineUnavailableError when no server could adopt it (each died first)', async () => {
    const die: Adopt = (_request, handlers) => handlers.onExit('signal: killed');
    const { pool } = fakePool(2, () => die);
    const error = await pool.share('v8', INFO).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(EngineUnavailableError);
    expect((error as Error).message).toBe('no engine server could adopt the image: The sandbox could not start: signal: killed');
  });

  it("owns(): its own images only; onDispose follows the image's disposal once (at once when already disposed)", async () => {
    const { pool } = fakePool(1, () => ok);
    const other = fakePool(1, () => ok).pool;
    const image = await pool.share('v8', INFO);
    expect(pool.owns(image)).toBe(true);
    expect(other.owns(image)).toBe(false);
    expect(pool.owns({ engine: 'v8', kind: 'v8-startup-snapshot', memoryMb: 128, sizeBytes: 3, dispose: () => {} })).toBe(false);
    let heard = 0;
    image.onDispose(() => heard++);
    expect(heard).toBe(0);
    image.dispose();
    image.dispose();
    expect(heard).toBe(1);
    image.onDispose(() => heard++);
    expect(heard).toBe(2);
  });

  it('retireAll(): every shared image is dropped from every server; the image stays its owner\'s to dispose', async () => {
    const { pool, sent } = fakePool(2, () => ok);
    const image = await pool.share('v8', INFO);
    pool.retireAll();
    for (const requests of sent) expect(requests.at(-1)).toEqual({ t: 'drop', img: image.img });
    // The image itself stays its owner's to dispose (idempotent there; the servers already dropped it).
    expect(image.disposed).toBe(false);
    image.dispose();
    expect(image.disposed).toBe(true);
  });
});
