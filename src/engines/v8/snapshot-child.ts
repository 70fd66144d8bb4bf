/**
 * The process that takes a V8 startup snapshot (isolated-vm's `Isolate.createSnapshot`). It runs the
 * user's INIT with no time or memory protection, on its own thread: so never in the host process.
 * The parent (snapshot.ts) sends the scripts over IPC, kills this process at its deadline, and
 * gets the snapshot's bytes back. Nothing else happens here.
 */
import { createRequire } from 'node:module';
import type ivm from 'isolated-vm';

interface Request {
  readonly scripts: readonly { readonly code: string; readonly filename?: string }[];
}

process.once('message', (request: Request) => {
  try {
    const isolatedVm = createRequire(import.meta.url)('isolated-vm') as typeof ivm;
    const snapshot = isolatedVm.Isolate.createSnapshot([...request.scripts]);
    const bytes = snapshot.copy();
    process.send!({ ok: true, bytes: new Uint8Array(bytes) }, () => process.exit(0));
  } catch (error) {
    process.send!({ ok: false, message: error instanceof Error ? error.message : String(error) }, () => process.exit(0));
  }
});
