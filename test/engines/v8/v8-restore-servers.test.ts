/**
 * Issue 21: the host's v8 engine never deserialises a SnapStart snapshot on the host's thread.
 * isolated-vm deserialises the isolate and a default context synchronously on the thread that
 * calls `new Isolate({ snapshot })` (isolated-vm 7, src/isolate/environment.cc `IsolateCtor`), so
 * the runtime's in-process engine verifies snapshots in the snapshot process and restores them in
 * worker threads (src/engines/v8/restore-servers.ts).
 */
import { describe, expect, it, vi } from 'vitest';
import { createRuntime, silentSink } from '../../../src/index.ts';
import { deserialise, verifySnapshot } from '../../../src/engines/v8/snapshot.ts';

// isolated-vm's module is frozen: the two functions that create isolates from a snapshot are
// counted instead (this thread's module graph; the workers load their own).
vi.mock('../../../src/engines/v8/snapshot.ts', async (importOriginal) => {
  const original = await importOriginal<typeof import('../../../src/engines/v8/snapshot.ts')>();
  return { ...original, deserialise: vi.fn(original.deserialise), verifySnapshot: vi.fn(original.verifySnapshot) };
});

describe('v8 SnapStart restores off the host thread (issue 21)', () => {
  it('deploy, a burst of cold starts and warm invokes never create an isolate from a snapshot on the host thread', async () => {
    await using rt = await createRuntime({ logSink: silentSink });
    const info = await rt.deploy({
      name: 'heavy',
      engine: 'v8',
      snapStart: true,
      code: {
        files: {
          'index.mjs': `const objects = []; for (let i = 0; i < 20000; i++) objects.push({ i });
            let calls = 0;
            export const handler = async () => { await new Promise((r) => setTimeout(r, 20)); return { n: objects.length, calls: ++calls }; };`,
        },
      },
    });
    expect(info.snapStart).toMatchObject({ path: 'snapshot', imageKind: 'v8-startup-snapshot' });
    const cold = await Promise.all(Array.from({ length: 4 }, () => rt.invoke('heavy')));
    for (const result of cold) {
      expect(result).toMatchObject({ coldStart: true, payload: { n: 20000, calls: 1 } });
      expect(result.restoreDurationMs).toBeGreaterThan(0);
    }
    expect((await rt.invoke('heavy')).payload).toEqual({ n: 20000, calls: 2 });
    expect(vi.mocked(verifySnapshot)).not.toHaveBeenCalled();
    expect(vi.mocked(deserialise)).not.toHaveBeenCalled();
  }, 60_000);
});
