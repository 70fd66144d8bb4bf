/**
 * SnapStart for the v8 engine: a V8 startup snapshot (isolated-vm's `Isolate.createSnapshot`) of the
 * guest runtime after the user's INIT and before-snapshot hooks.
 *
 * isolated-vm's README says not to use createSnapshot (crashes on several Node versions: isolated-vm
 * #7, #103, #254, #352) and it runs the scripts with no timeout or memory limit on the calling
 * thread. So lambdalet:
 * - takes it only for an INIT that made no host call but `stdlib` (a snapshot cannot hold the host's
 *   file system, fetch or entropy: those functions fall back to pre-initialised environments);
 * - takes it in a child process (snapshot-child.ts) with a deadline and a heap cap, killed on
 *   overrun — hostile code that behaves differently when snapshotted can only fail its own deploy;
 * - verifies every snapshot at deploy: restored in a throw-away isolate here, its guest must report
 *   INIT and the hooks done and a loaded handler (`verify`); any failure is a fallback, not an error;
 * - builds the bytes itself and never accepts any from a user (CVE-2022-39266).
 *
 * Restoring = a new isolate deserialised from the snapshot + a context (~2.5 ms here, more than
 * booting with code caches for a trivial handler). Isolates are deserialised ahead of need,
 * {@link V8_RESTORED_PER_IMAGE} per image, refilled in the background: a cold start then only binds
 * the host functions (the quickjs engine's blank instances, taken one step further: a V8 heap
 * cannot be written into an existing isolate).
 */
import { fork } from 'node:child_process';
import type ivm from 'isolated-vm';
import type { FunctionBundle } from '../../code/types.ts';
import { SnapshotUnsupportedError, type SandboxImage } from '../engine.ts';
import { decodeReply, encodeMessage, type InitMessage } from '../guest/protocol.ts';
import { DEMAND_MEMORY_MS } from '../pool-demand.ts';
import { V8_CALL_GRACE_MS, withDeadline } from './v8-sandbox.ts';

/** Deserialised isolates kept ready per image (V8EngineOptions.restoredPerImage). */
export const V8_RESTORED_PER_IMAGE = 2;
/**
 * Refills wait this long: deserialising runs on the host's thread (~2.5 ms for a trivial handler,
 * ~90 ms for a 58 MB heap), and run at once it stalled the very cold start that took the isolate.
 */
export const POOL_REFILL_DELAY_MS = 5;
/** The child's own heap headroom over the function's memory, in MB. */
const CHILD_HEAP_HEADROOM_MB = 256;
/** Where the driver leaves what the host needs after a restore (deleted before user code runs again). */
const RESTORE_KEY = '__lambdalet_restore__';
/** The guest's `verify` reads a flag; this bounds a guest runtime gone wrong. */
const VERIFY_TIMEOUT_MS = 1000;

/** What a restore hands the engine: the isolate and the guest's entry points in it. */
export interface RestoredIsolate {
  readonly isolate: ivm.Isolate;
  readonly context: ivm.Context;
  readonly dispatch: ivm.Reference<(type: string, body: string) => string>;
  readonly rebind: ivm.Reference<(log: unknown, hostCall: unknown, binary: unknown) => void>;
  /** Where the isolate's catastrophic errors go once a sandbox owns it. */
  readonly owner: { onCatastrophe?: (message: string) => void };
}

/**
 * The scripts of the snapshot: the guest runtime, the user's bundle, then a driver that installs
 * the guest with a host-call stand-in (it answers `stdlib` from the library's sources and refuses
 * the rest), runs INIT and, once its microtasks have run (V8 runs them between the scripts), the
 * before-snapshot hooks, and leaves the guest's entry points under {@link RESTORE_KEY}.
 */
export function snapshotScripts(
  guest: { readonly code: string; readonly filename: string },
  stdlib: Readonly<Record<string, string>>,
  bundle: FunctionBundle,
  init: InitMessage,
): { code: string; filename?: string }[] {
  const [, initBody] = encodeMessage(init);
  return [
    { code: `globalThis.__lambdalet_install__ = ${guest.code}`, filename: guest.filename },
    { code: `globalThis.__lambdalet_user__ = ${bundle.script}`, filename: bundle.filename },
    {
      code: `(() => {
  let library = ${JSON.stringify(stdlib)};
  const install = globalThis.__lambdalet_install__;
  const userModule = globalThis.__lambdalet_user__;
  delete globalThis.__lambdalet_install__;
  delete globalThis.__lambdalet_user__;
  const refuse = (op) => 'e' + JSON.stringify({ name: 'Error', message: op + ' is not available while lambdalet takes a V8 snapshot' });
  const hostCall = (op, args) => {
    if (op !== 'stdlib' || library === undefined) return refuse(op);
    const name = JSON.parse(args)[0];
    return Object.prototype.hasOwnProperty.call(library, name) ? 'o' + JSON.stringify(library[name]) : refuse('stdlib ' + name);
  };
  const dispatch = install(() => {}, userModule, hostCall);
  const state = { dispatch, rebind: install.rebind, init: dispatch('init', ${JSON.stringify(initBody)}) };
  state.forget = () => { library = undefined; };
  Object.defineProperty(globalThis, ${JSON.stringify(RESTORE_KEY)}, { value: state, configurable: true, enumerable: false, writable: true });
})();`,
    },
    {
      code: `(() => {
  const state = globalThis[${JSON.stringify(RESTORE_KEY)}];
  state.afterInit = state.dispatch('status', '');
  if (state.afterInit[0] === 'o') state.dispatch('snapshot', '');
})();`,
    },
    {
      // Last, after every line of user code (INIT, the hooks and their microtasks): what the host
      // reads after a restore is published as a frozen object of data properties, so reading it
      // (synchronously, on the host's thread) can run no getter, Proxy trap or other user code,
      // whatever INIT or the hooks did to the working state above.
      code: `(() => {
  const key = ${JSON.stringify(RESTORE_KEY)};
  const state = Object.getOwnPropertyDescriptor(globalThis, key).value;
  const afterHooks = state.dispatch('status', '');
  // The library's sources stay out of the snapshot: what INIT loaded is loaded.
  state.forget();
  const published = Object.freeze({
    dispatch: state.dispatch,
    rebind: state.rebind,
    afterInit: String(state.afterInit),
    afterHooks: String(afterHooks),
  });
  Object.defineProperty(globalThis, key, { value: published, configurable: true, enumerable: false, writable: false });
})();`,
    },
  ];
}

/** Runs createSnapshot in a child process; rejects SnapshotUnsupportedError on any failure. */
export function createSnapshotInChild(
  scripts: readonly { code: string; filename?: string }[],
  options: { readonly memoryMb: number; readonly timeoutMs: number },
): Promise<Uint8Array> {
  const self = new URL(import.meta.url);
  const childPath = new URL(`./snapshot-child${self.pathname.endsWith('.ts') ? '.ts' : '.js'}`, self);
  const env = { ...process.env };
  delete env.NODE_OPTIONS; // the parent's (a test runner's hooks) are not the child's business
  return new Promise<Uint8Array>((resolve, reject) => {
    const child = fork(childPath, [], {
      execArgv: ['--no-node-snapshot', `--max-old-space-size=${options.memoryMb + CHILD_HEAP_HEADROOM_MB}`],
      serialization: 'advanced',
      stdio: ['ignore', 'ignore', 'pipe', 'ipc'],
      env,
    });
    let stderr = '';
    child.stderr?.setEncoding('utf8').on('data', (chunk: string) => {
      if (stderr.length < 4096) stderr += chunk;
    });
    let settled = false;
    const finish = (error: Error | undefined, bytes?: Uint8Array): void => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
      if (error) reject(error);
      else resolve(bytes!);
    };
    const timer = setTimeout(
      () => finish(new SnapshotUnsupportedError(`taking the V8 snapshot timed out after ${options.timeoutMs} ms`)),
      options.timeoutMs,
    );
    child.once('message', (reply: { ok: boolean; bytes?: Uint8Array; message?: string }) => {
      if (reply.ok && reply.bytes instanceof Uint8Array) finish(undefined, reply.bytes);
      else finish(new SnapshotUnsupportedError(`V8 could not take the snapshot: ${reply.message ?? 'no reason given'}`));
    });
    child.once('error', (error) => finish(new SnapshotUnsupportedError(`the snapshot process failed: ${error.message}`, { cause: error })));
    child.once('exit', (code, signal) => {
      const last = stderr.trim().split('\n').slice(-3).join(' | ');
      finish(new SnapshotUnsupportedError(`the snapshot process exited (${signal ?? `code ${code}`}) before answering${last ? `: ${last}` : ''}`));
    });
    child.send({ scripts });
  });
}

/**
 * A new isolate from the snapshot, with the guest's entry points taken out of the hidden global
 * (which is deleted: user code never sees them). Host functions are not bound yet. Synchronous on
 * the host's thread, and safe there: the isolate is new (no other thread holds it, no guest task
 * is queued in it), and the reads touch only the frozen data properties the driver published
 * after the last line of user code ran (snapshotScripts), so no user code runs.
 */
export function deserialise(
  isolatedVm: typeof ivm,
  snapshot: ivm.ExternalCopy<ArrayBuffer>,
  memoryLimitMb: number,
  onCatastrophicError: (message: string) => void,
): RestoredIsolate {
  const owner: RestoredIsolate['owner'] = {};
  const isolate = new isolatedVm.Isolate({
    snapshot,
    memoryLimit: memoryLimitMb,
    onCatastrophicError: (message: string) => {
      onCatastrophicError(message);
      owner.onCatastrophe?.(message);
    },
  });
  try {
    const context = isolate.createContextSync();
    const state = context.global.getSync(RESTORE_KEY, { reference: true }) as ivm.Reference<Record<string, unknown>>;
    if (state.typeof !== 'object') throw new Error('the snapshot holds no guest runtime');
    const dispatch = state.getSync('dispatch', { reference: true }) as ivm.Reference<(type: string, body: string) => string>;
    const rebind = state.getSync('rebind', { reference: true }) as ivm.Reference<(log: unknown, hostCall: unknown, binary: unknown) => void>;
    state.release();
    context.global.deleteSync(RESTORE_KEY);
    return { isolate, context, dispatch, rebind, owner };
  } catch (error) {
    isolate.dispose();
    throw error;
  }
}

/**
 * The check at deploy: the snapshot restores, its guest finished INIT and the hooks (as the driver
 * recorded), and it holds a loaded handler. Rejects with SnapshotUnsupportedError saying what failed.
 * The guest's `verify` runs in a heap the user's INIT shaped: an asynchronous call with a timeout,
 * bounded again on the host's clock, never a synchronous one on the host's thread (v8-sandbox.ts).
 */
export async function verifySnapshot(isolatedVm: typeof ivm, snapshot: ivm.ExternalCopy<ArrayBuffer>, memoryLimitMb: number): Promise<void> {
  let catastrophe: string | undefined;
  let isolate: ivm.Isolate | undefined;
  try {
    // One throw-away isolate: the driver's records first, then the guest's own answer.
    isolate = new isolatedVm.Isolate({ snapshot, memoryLimit: memoryLimitMb, onCatastrophicError: (m: string) => (catastrophe = m) });
    const context = isolate.createContextSync();
    const state = context.global.getSync(RESTORE_KEY, { reference: true }) as ivm.Reference<Record<string, unknown>>;
    if (state.typeof !== 'object') throw new Error('no guest runtime in the snapshot');
    for (const step of ['afterInit', 'afterHooks'] as const) {
      const reply: unknown = state.getSync(step);
      if (typeof reply !== 'string' || !reply.startsWith('o')) {
        throw new Error(
          step === 'afterInit'
            ? `INIT had not finished when the snapshot was taken (${String(reply).slice(0, 200)}): timers or host calls at INIT need the host`
            : `the before-snapshot hooks had not finished (${String(reply).slice(0, 200)})`,
        );
      }
    }
    const dispatch = state.getSync('dispatch', { reference: true }) as ivm.Reference<(type: string, body: string) => string>;
    const text = await withDeadline(
      dispatch.apply(undefined, encodeMessage({ type: 'verify' }), { timeout: VERIFY_TIMEOUT_MS }),
      VERIFY_TIMEOUT_MS + V8_CALL_GRACE_MS,
      'the restored guest\'s verify',
    );
    const reply = decodeReply(text);
    if (!reply.done || !reply.ok || reply.payload !== 'true') throw new Error(`the restored guest answered ${String(text).slice(0, 200)}`);
  } catch (error) {
    throw new SnapshotUnsupportedError(`the V8 snapshot failed verification: ${(error as Error).message}`, { cause: error });
  } finally {
    if (isolate && !isolate.isDisposed && catastrophe === undefined) isolate.dispose();
  }
  if (catastrophe !== undefined) throw new SnapshotUnsupportedError(`the V8 snapshot failed verification: ${catastrophe}`);
}

/**
 * The v8 engine's image: the snapshot's bytes and the isolates deserialised from it ahead of need.
 * A fixed depth (unlike quickjs's, see #fill); refills wait until no restore has been taken for
 * {@link POOL_REFILL_DELAY_MS}, so a burst's own restores go first.
 */
export class V8Image implements SandboxImage {
  readonly engine = 'v8' as const;
  readonly kind = 'v8-startup-snapshot' as const;
  readonly memoryMb: number;
  readonly sizeBytes: number;
  readonly #snapshot: ivm.ExternalCopy<ArrayBuffer>;
  readonly #deserialise: () => RestoredIsolate;
  readonly #ready: RestoredIsolate[] = [];
  #filling = 0;
  #disposed = false;
  readonly #poolSize: number;
  #lastTake = Number.NEGATIVE_INFINITY;
  #trim: ReturnType<typeof setTimeout> | undefined;

  constructor(
    snapshot: ivm.ExternalCopy<ArrayBuffer>,
    sizeBytes: number,
    memoryMb: number,
    deserialiseOne: (snapshot: ivm.ExternalCopy<ArrayBuffer>) => RestoredIsolate,
    poolSize = V8_RESTORED_PER_IMAGE,
  ) {
    this.#poolSize = poolSize;
    this.#snapshot = snapshot;
    this.sizeBytes = sizeBytes;
    this.memoryMb = memoryMb;
    this.#deserialise = () => deserialiseOne(this.#snapshot);
    this.#fill();
  }

  get disposed(): boolean {
    return this.#disposed;
  }

  /** Isolates ready now (for tests and the bench). */
  get readyCount(): number {
    return this.#ready.length;
  }

  /** A deserialised isolate: a ready one, or one made now; refills in the background. */
  take(): RestoredIsolate {
    if (this.#disposed) throw new Error('v8: the image was disposed');
    const ready = this.#ready.shift();
    this.#fill();
    const restored = ready ?? this.#deserialise();
    this.#lastTake = performance.now();
    return restored;
  }

  dispose(): void {
    if (this.#disposed) return;
    this.#disposed = true;
    if (this.#trim) clearTimeout(this.#trim);
    for (const restored of this.#ready.splice(0)) if (!restored.isolate.isDisposed) restored.isolate.dispose();
    this.#snapshot.release();
  }

  #fill(): void {
    // Not the demand-following depth the quickjs pool uses: each refill deserialises a whole heap
    // synchronously on the host's thread, and a pool deepened after a burst of 12 large heaps made
    // the next burst 4.5x slower (refills ran into it: bench area burst, issue 21). Fixed depth.
    const depth = this.#poolSize;
    while (this.#ready.length > depth) {
      const extra = this.#ready.pop()!;
      if (!extra.isolate.isDisposed) extra.isolate.dispose();
    }
    if (depth > this.#poolSize && !this.#trim) {
      // Shrink back once the burst is forgotten (DEMAND_MEMORY_MS after it).
      this.#trim = setTimeout(() => {
        this.#trim = undefined;
        if (!this.#disposed) this.#fill();
      }, DEMAND_MEMORY_MS + 10).unref();
    }
    while (!this.#disposed && this.#ready.length + this.#filling < depth) {
      this.#filling++;
      const refill = (): void => {
        if (this.#disposed) {
          this.#filling--;
          return;
        }
        // Deserialising runs on this thread: while restores are being taken, they go first.
        const quietFor = performance.now() - this.#lastTake;
        if (quietFor < POOL_REFILL_DELAY_MS) {
          setTimeout(refill, POOL_REFILL_DELAY_MS - quietFor).unref();
          return;
        }
        this.#filling--;
        try {
          this.#ready.push(this.#deserialise());
        } catch {
          // The engine stopped admitting work (a catastrophic error), or memory is short: a cold
          // start deserialises its own.
        }
      };
      setTimeout(refill, POOL_REFILL_DELAY_MS).unref();
    }
  }
}
