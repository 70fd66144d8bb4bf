/**
 * The staging area of a quickjs engine server (issue 21, /tmp writes): an `fs` call's payload is
 * copied into a SharedArrayBuffer the host reads in place, instead of a fresh ArrayBuffer per call.
 * Checked through a real worker, the pool and a real HostBridge with its vfs: payloads at, under
 * and over STAGING_MAX_BYTES arrive byte for byte (the two first staged, the last transferred), a
 * smaller write after a larger one takes nothing of the larger one's bytes still in the area, a file
 * written earlier keeps its contents when the area is reused, and a non-`fs` payload is never staged.
 */
import { brotliDecompressSync } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { bundleFunction } from '../../../src/code/index.ts';
import type { Sandbox } from '../../../src/engines/engine.ts';
import { EnginePool } from '../../../src/engines/remote/engine-pool.ts';
import { STAGING_MAX_BYTES, type ServerEvent } from '../../../src/engines/remote/protocol.ts';
import { RemoteEngine } from '../../../src/engines/remote/remote-engine.ts';
import { WorkerHost } from '../../../src/engines/remote/worker-host.ts';
import { HostBridge } from '../../../src/environment/host-bridge.ts';
import { LazyVfs } from '../../../src/vfs/lazy.ts';
import { GENEROUS_TIMEOUT_MS, SLOW_CASE_LIMIT_MS } from '../../helpers/runtime.ts';
import { INIT, invoke, phase } from '../../helpers/sandbox.ts';

/** Writes `size` bytes of {@link pattern}`(seed)` to `path` (the guest builds them with native copies only). */
const SOURCE = `import fs from 'node:fs';
import zlib from 'node:zlib';
export const handler = async ({ path, size, seed, compress }) => {
  if (compress) return zlib.brotliCompressSync(Buffer.alloc(compress, 1)).toString('base64');
  const data = Buffer.alloc(size);
  const first = Math.min(size, 256);
  for (let i = 0; i < first; i++) data[i] = (i + seed) & 255;
  for (let len = first; len < size; len *= 2) data.copyWithin(len, 0, Math.min(len, size - len));
  fs.writeFileSync(path, data);
  return size;
};`;

function pattern(size: number, seed: number): Buffer {
  const data = Buffer.alloc(size);
  for (let i = 0; i < size; i++) data[i] = (i + seed) & 255;
  return data;
}

describe('quickjs engine server: the staging area for fs payloads', () => {
  const hostEvents: Extract<ServerEvent, { t: 'host' }>[] = [];
  const vfs = new LazyVfs({ ephemeralStorageMb: 512, tmpBackend: 'memory', code: { files: { 'index.mjs': '' } } });
  const readBack = (path: string): Buffer => vfs.get().readFile(path);
  const bridge = new HostBridge({ vfs, egress: { allowHosts: [] }, maxResponseBytes: 1 << 20 });
  const pool = new EnginePool(1, (handlers) =>
    WorkerHost.start(
      { quickjs: {}, hostCallBytes: true },
      {
        ...handlers,
        onEvent: (event) => {
          if (event.t === 'host') hostEvents.push(event);
          handlers.onEvent(event);
        },
      },
    ),
  );
  let sandbox: Sandbox;

  beforeAll(async () => {
    const outcome = await bundleFunction({ files: { 'index.mjs': SOURCE } }, 'index.handler');
    if (!outcome.ok) throw new Error(outcome.failure.errorMessage);
    const blueprint = await new RemoteEngine('quickjs', () => pool).prepare(outcome.bundle);
    sandbox = await blueprint.boot({ memoryMb: 512, onLog: () => {}, hostCall: bridge.call, hostCallBytes: bridge.callBytes });
    expect(await phase(sandbox, { ...INIT, runtime: 'nodejs24.x' }, GENEROUS_TIMEOUT_MS)).toMatchObject({ done: true, ok: true });
  }, SLOW_CASE_LIMIT_MS);

  afterAll(() => {
    sandbox.dispose(); // the pool's worker is unref'd: it does not hold the test process
    bridge.dispose();
    vfs.dispose();
  });

  /** Writes through the guest and returns the `host` event of the write. */
  async function write(path: string, size: number, seed: number): Promise<Extract<ServerEvent, { t: 'host' }>> {
    hostEvents.length = 0;
    expect(await invoke(sandbox, { path, size, seed }, GENEROUS_TIMEOUT_MS)).toMatchObject({ done: true, ok: true, payload: String(size) });
    const writes = hostEvents.filter((event) => event.op === 'fs' && event.args.includes('"writeFile"'));
    expect(writes).toHaveLength(1);
    return writes[0]!;
  }

  it('at, just under and just over STAGING_MAX_BYTES: the contents arrive exactly; the last is transferred, not staged', async () => {
    for (const [size, staged] of [[STAGING_MAX_BYTES - 1, true], [STAGING_MAX_BYTES, true], [STAGING_MAX_BYTES + 1, false]] as const) {
      const event = await write('/tmp/edge.bin', size, size & 255);
      if (staged) {
        expect(event.staged).toBe(size);
        expect(event.bytes).toBeUndefined();
      } else {
        expect(event.staged).toBeUndefined();
        expect(event.bytes?.byteLength).toBe(size);
      }
      expect(readBack('/tmp/edge.bin').equals(pattern(size, size & 255))).toBe(true);
    }
  }, SLOW_CASE_LIMIT_MS);

  it('a smaller write after a larger one takes nothing beyond its own bytes; earlier files keep their contents', async () => {
    await write('/tmp/large.bin', 1 << 20, 3);
    expect((await write('/tmp/small.bin', 1000, 200)).staged).toBe(1000);
    expect(readBack('/tmp/small.bin').equals(pattern(1000, 200))).toBe(true);
    // The area was overwritten by the small write: the large file is the vfs's own copy.
    expect(readBack('/tmp/large.bin').equals(pattern(1 << 20, 3))).toBe(true);
    expect((await write('/tmp/empty.bin', 0, 0)).staged).toBe(0);
    expect(readBack('/tmp/empty.bin').length).toBe(0);
  }, SLOW_CASE_LIMIT_MS);

  it('a payload that is not file contents (zlib) is not staged', async () => {
    hostEvents.length = 0;
    const reply = await invoke(sandbox, { compress: 4096 }, GENEROUS_TIMEOUT_MS);
    expect(reply).toMatchObject({ done: true, ok: true });
    expect(brotliDecompressSync(Buffer.from(JSON.parse(reply.payload!) as string, 'base64')).equals(Buffer.alloc(4096, 1))).toBe(true);
    const brotli = hostEvents.filter((event) => event.op === 'zlib.brotli');
    expect(brotli).toHaveLength(1);
    expect(brotli[0]!.staged).toBeUndefined();
    expect(brotli[0]!.bytes?.byteLength).toBe(4096);
  }, SLOW_CASE_LIMIT_MS);
});
