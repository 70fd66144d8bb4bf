/**
 * The process that takes a V8 startup snapshot (isolated-vm's `Isolate.createSnapshot`). It runs the
 * user's INIT with no time or memory protection, on its own thread: so never in the host process.
 * The parent (snapshot.ts) sends the scripts over IPC, kills this process at its deadline, and
 * gets the snapshot's bytes back once they have passed verifySnapshot here (restored in a throw-away
 * isolate, its guest reporting INIT and the hooks done): deserialising a large heap to check it
 * would otherwise stall the host's thread (issue 21).
 */
import { createRequire } from 'node:module';
import type ivm from 'isolated-vm';
import { verifySnapshot } from './snapshot.ts';

interface Request {
  readonly scripts: readonly { readonly code: string; readonly filename?: string }[];
  /** The isolate's memory limit for the verification restore, in MB. */
  readonly memoryLimitMb: number;
  /** createSnapshot's warm-up script (snapshot.ts snapshotWarmUp), if any. */
  readonly warmUp?: string;
}

process.once('message', (request: Request) => {
  void (async () => {
    try {
      const isolatedVm = createRequire(import.meta.url)('isolated-vm') as typeof ivm;
      const snapshot = isolatedVm.Isolate.createSnapshot([...request.scripts], request.warmUp);
      await verifySnapshot(isolatedVm, snapshot, request.memoryLimitMb);
      const bytes = snapshot.copy();
      process.send!({ ok: true, bytes: new Uint8Array(bytes) }, () => process.exit(0));
    } catch (error) {
      process.send!({ ok: false, name: error instanceof Error ? error.name : 'Error', message: error instanceof Error ? error.message : String(error) }, () => process.exit(0));
    }
  })();
});
