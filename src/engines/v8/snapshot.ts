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
 * - verifies every snapshot at deploy: restored in a throw-away isolate in that child process (a
 *   large heap's deserialisation would stall the host's thread), its guest must report INIT and
 *   the hooks done and a loaded handler (`verify`); any failure is a fallback, not an error. An
 *   image adopted by another process or a worker (exportImage/importImage) is verified again there;
 * - builds the bytes itself and never accepts any from a user (CVE-2022-39266).
 *
 * Restoring = a new isolate deserialised from the snapshot + a context (~2.5 ms here, more than
 * booting with code caches for a trivial handler). Isolates are deserialised ahead of need,
 * {@link V8_RESTORED_PER_IMAGE} per image at rest and more after a burst (V8Image), refilled in the
 * background (in the host process: in the restore servers' workers, restore-servers.ts), their
 * guests bound to forwarding host functions (v8-engine.ts #bindAhead): a cold start then only
 * points those at its environment (the quickjs engine's blank instances, taken one step further:
 * a V8 heap cannot be written into an existing isolate). Snapshots are warmed up
 * ({@link snapshotWarmUp}) so the first invocation does not compile the guest's invoke path.
 */
import { fork } from 'node:child_process';
import { setTimeout as sleep } from 'node:timers/promises';
import type ivm from 'isolated-vm';
import type { FunctionBundle } from '../../code/types.ts';
import type { BinaryAnswer } from '../binary-host-call.ts';
import { SnapshotUnsupportedError, type SandboxImage } from '../engine.ts';
import { isCompressedChunk } from '../guest-bundle.ts';
import { decodeReply, encodeMessage, type GuestDispatchFunction, type InitMessage } from '../guest/protocol.ts';
import { DEMAND_MEMORY_MS, PoolDemand } from '../pool-demand.ts';
import { ISOLATE_PROCESS_V8_FLAGS, NO_NODE_SNAPSHOT } from './flags.ts';
import { warmupMessages } from './guest-code-cache.ts';
import { V8_CALL_GRACE_MS, withDeadline } from './v8-sandbox.ts';

/** Deserialised isolates kept ready per image (V8EngineOptions.restoredPerImage). */
export const V8_RESTORED_PER_IMAGE = 2;
/**
 * Refills wait this long: deserialising runs on the host's thread (~2.5 ms for a trivial handler,
 * ~90 ms for a 58 MB heap), and run at once it stalled the very cold start that took the isolate.
 */
export const POOL_REFILL_DELAY_MS = 5;
/**
 * The longest INIT (with the before-snapshot hooks, as the template took them) whose snapshot is
 * warmed up (snapshotWarmUp): the warm-up runs it once more in the snapshot process, whose deadline
 * (SNAPSHOT_TIMEOUT_MS, 30 s) a longer one would bring closer for ~0.3 ms per cold start.
 */
export const SNAPSHOT_WARMUP_MAX_INIT_MS = 2000;
/** The child's own heap headroom over the function's memory, in MB. */
const CHILD_HEAP_HEADROOM_MB = 256;
/** Where the driver leaves what the host needs after a restore (deleted before user code runs again). */
const RESTORE_KEY = '__lambdalet_restore__';
/** The guest's `verify` reads a flag; this bounds a guest runtime gone wrong. */
const VERIFY_TIMEOUT_MS = 1000;

/**
 * Refills shared between threads (v8-engine.ts V8EngineOptions.refillGate): `enter` is true when
 * this refill may deserialise now (and holds a slot until `leave`).
 */
export interface RefillGate {
  enter(): boolean;
  leave(): void;
}

/** What a restore hands the engine: the isolate and the guest's entry points in it. */
export interface RestoredIsolate {
  readonly isolate: ivm.Isolate;
  readonly context: ivm.Context;
  readonly dispatch: ivm.Reference<GuestDispatchFunction>;
  readonly rebind: ivm.Reference<(log: unknown, hostCall: unknown, binary: unknown, answerSlot: unknown) => void>;
  /** Where the isolate's catastrophic errors go once a sandbox owns it (instead of deserialise's `onCatastrophicError`). */
  readonly owner: { onCatastrophe?: (message: string) => void };
  /** Set once the guest was bound ahead of need (v8-engine.ts #bindAhead): the sandbox that takes the isolate points it at its environment. */
  readonly bound?: BoundGuest;
}

/**
 * A restored guest's host functions, bound ahead of need: the isolate's log and host-call Callbacks
 * forward to `log` and `host`, which refuse until the sandbox that takes the isolate sets them to
 * its environment's; `answerSlot` is the guest's slot for deferred host calls (deferred-host-calls.ts).
 */
export interface BoundGuest {
  log: (level: string, message: string) => void;
  host: (op: unknown, args: unknown, bytes?: unknown) => BinaryAnswer;
  readonly answerSlot: SharedArrayBuffer;
}

/** The library less its compressed chunks (quickjs's Intl locale data: V8 has its own ICU). */
function uncompressed(stdlib: Readonly<Record<string, string>>): Record<string, string> {
  return Object.fromEntries(Object.entries(stdlib).filter(([, source]) => !isCompressedChunk(source)));
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
  let library = ${JSON.stringify(uncompressed(stdlib))};
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
  const state = { install, dispatch, rebind: install.rebind, init: dispatch('init', ${JSON.stringify(initBody)}) };
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
    install: state.install,
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

/**
 * The module a snapshot's warm-up installs: the guest's paths of a common invocation — a console
 * line, the context, a timer, the reply's JSON — with no standard-library chunk to load (the
 * warm-up refuses every host call): primitives only in the line, no Date (the date chunk).
 */
const SNAPSHOT_WARMUP_MODULE = `(async function () { "use strict";
  const handler = async (event, context) => {
    console.log('warm-up', event.name, context.awsRequestId);
    setTimeout(() => {}, 0);
    return { echoed: event, arn: context.invokedFunctionArn };
  };
  return { handler };
})`;

/**
 * The warm-up of a snapshot (isolated-vm's `createSnapshot` second argument). V8 compiles functions
 * lazily, and a restored isolate compiled the guest's invoke path on its first invocation: that
 * call took ~0.64 ms of a trivial v8 SnapStart cold start, ~0.32 ms warmed (medians, load ~3-5;
 * guest-code-cache.ts does the same for booted isolates). createSnapshot keeps compiled functions
 * (`FunctionCodeHandling::kKeep`); with a warm-up it first runs every script again in a second,
 * throw-away context, then this script there: the functions of that context share their compiled
 * code with the snapshot's (one compiled script, bound to both). So INIT and the before-snapshot
 * hooks run once more in the snapshot process, in a context that is discarded (the snapshot holds
 * the first one only; hence {@link SNAPSHOT_WARMUP_MAX_INIT_MS}); this script then walks the
 * guest's rebind and invoke paths with lambdalet's own module ({@link SNAPSHOT_WARMUP_MODULE})
 * installed in place of the user's, refusing every host call. It never calls the user's handler
 * nor sends `restore`, which would run the user's after-restore hooks: the restore path stays
 * cold. Whatever it does is caught: a warm-up is only an optimisation, it cannot fail a snapshot.
 */
export function snapshotWarmUp(): string {
  const messages = warmupMessages().map((message) => encodeMessage(message));
  // Each message waits for the last one's settled reply, as the host's calls do (the microtasks
  // run once this script has returned, before the snapshot is made).
  return `try {
  (async () => {
    const state = Object.getOwnPropertyDescriptor(globalThis, ${JSON.stringify(RESTORE_KEY)}).value;
    const refuse = (op) => 'e' + JSON.stringify({ name: 'Error', message: op + ' is not available while lambdalet warms a V8 snapshot' });
    state.rebind(() => {}, refuse, true, undefined);
    const dispatch = state.install(() => {}, ${SNAPSHOT_WARMUP_MODULE}, refuse);
    for (const [type, body] of ${JSON.stringify(messages)}) await dispatch(type, body, true);
  })().then(undefined, () => {});
} catch {}`;
}

/** Runs createSnapshot in a child process; rejects SnapshotUnsupportedError on any failure. */
export function createSnapshotInChild(
  scripts: readonly { code: string; filename?: string }[],
  options: { readonly memoryMb: number; readonly memoryLimitMb: number; readonly timeoutMs: number; readonly warmUp?: string },
): Promise<Uint8Array> {
  const self = new URL(import.meta.url);
  const childPath = new URL(`./snapshot-child${self.pathname.endsWith('.ts') ? '.ts' : '.js'}`, self);
  const env = { ...process.env };
  delete env.NODE_OPTIONS; // the parent's (a test runner's hooks) are not the child's business
  return new Promise<Uint8Array>((resolve, reject) => {
    const child = fork(childPath, [], {
      // A warm-up runs INIT again in a second context: room for both heaps (a cap, not a reservation).
      execArgv: [NO_NODE_SNAPSHOT, ...ISOLATE_PROCESS_V8_FLAGS, `--max-old-space-size=${options.memoryMb * (options.warmUp ? 2 : 1) + CHILD_HEAP_HEADROOM_MB}`],
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
    child.once('message', (reply: { ok: boolean; bytes?: Uint8Array; name?: string; message?: string }) => {
      if (reply.ok && reply.bytes instanceof Uint8Array) finish(undefined, reply.bytes);
      // verifySnapshot's own words (SnapshotUnsupportedError) stand as they are.
      else if (reply.name === 'SnapshotUnsupportedError') finish(new SnapshotUnsupportedError(reply.message ?? 'the V8 snapshot failed verification'));
      else finish(new SnapshotUnsupportedError(`V8 could not take the snapshot: ${reply.message ?? 'no reason given'}`));
    });
    child.once('error', (error) => finish(new SnapshotUnsupportedError(`the snapshot process failed: ${error.message}`, { cause: error })));
    child.once('exit', (code, signal) => {
      const last = stderr.trim().split('\n').slice(-3).join(' | ');
      finish(new SnapshotUnsupportedError(`the snapshot process exited (${signal ?? `code ${code}`}) before answering${last ? `: ${last}` : ''}`));
    });
    child.send({ scripts, memoryLimitMb: options.memoryLimitMb, ...(options.warmUp ? { warmUp: options.warmUp } : {}) });
  });
}

/**
 * A new isolate from the snapshot, with the guest's entry points taken out of the hidden global
 * (which is deleted: user code never sees them). Host functions are not bound yet.
 *
 * What runs where (isolated-vm 7, src/isolate/environment.cc `IsolateCtor`): `new Isolate({ snapshot })`
 * deserialises the isolate AND a default context (isolated-vm keeps one for its own use) on the
 * calling thread — for a snapshot holding the user's INIT heap, that is a whole copy of it;
 * `createContext()` deserialises the context the guest runs in on isolated-vm's own thread pool.
 * So half the work is on the calling thread whatever is done here: the host's v8 engine sends
 * restores to worker threads (restore-servers.ts), and this runs there.
 *
 * The reads are asynchronous too; they touch only the frozen data properties the driver published
 * after the last line of user code ran (snapshotScripts), so no user code runs.
 */
export async function deserialise(
  isolatedVm: typeof ivm,
  snapshot: ivm.ExternalCopy<ArrayBuffer>,
  memoryLimitMb: number,
  onCatastrophicError: (message: string) => void,
): Promise<RestoredIsolate> {
  const owner: RestoredIsolate['owner'] = {};
  const isolate = new isolatedVm.Isolate({
    snapshot,
    memoryLimit: memoryLimitMb,
    // Once a sandbox owns the isolate its handler tells the engine too, with the calls it failed.
    onCatastrophicError: (message: string) => (owner.onCatastrophe ? owner.onCatastrophe(message) : onCatastrophicError(message)),
  });
  try {
    const context = await isolate.createContext();
    const state = (await context.global.get(RESTORE_KEY, { reference: true })) as ivm.Reference<Record<string, unknown>>;
    if (state.typeof !== 'object') throw new Error('the snapshot holds no guest runtime');
    const dispatch = (await state.get('dispatch', { reference: true })) as ivm.Reference<GuestDispatchFunction>;
    const rebind = (await state.get('rebind', { reference: true })) as ivm.Reference<(log: unknown, hostCall: unknown, binary: unknown, answerSlot: unknown) => void>;
    state.release();
    await context.global.delete(RESTORE_KEY);
    return { isolate, context, dispatch, rebind, owner };
  } catch (error) {
    if (!isolate.isDisposed) isolate.dispose();
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
 * The depth follows demand (engines/pool-demand.ts: a burst of N restores keeps N ready for the
 * next minute, within a byte budget counted as twice the snapshot's size per isolate: isolated-vm
 * deserialises the heap into its default context and into the guest's). Refills run one at a time,
 * each once no restore has been taken for {@link POOL_REFILL_DELAY_MS}, so a burst's own restores
 * go first and the thread gets turns between them. In the host process this runs in the restore
 * servers' worker threads (restore-servers.ts), never on the host's thread: there, deepened
 * refills had run into the next burst and slowed it 4.5x (issue 21).
 */
export class V8Image implements SandboxImage {
  readonly engine = 'v8' as const;
  readonly kind = 'v8-startup-snapshot' as const;
  readonly memoryMb: number;
  readonly sizeBytes: number;
  readonly #snapshot: ivm.ExternalCopy<ArrayBuffer>;
  readonly #deserialise: () => Promise<RestoredIsolate>;
  #queue: Promise<void> = Promise.resolve();
  readonly #ready: RestoredIsolate[] = [];
  #refilling = false;
  #disposed = false;
  readonly #poolSize: number;
  readonly #demand: PoolDemand;
  #lastTake = Number.NEGATIVE_INFINITY;
  #trim: ReturnType<typeof setTimeout> | undefined;
  readonly #gate: RefillGate | undefined;

  constructor(
    snapshot: ivm.ExternalCopy<ArrayBuffer>,
    sizeBytes: number,
    memoryMb: number,
    deserialiseOne: (snapshot: ivm.ExternalCopy<ArrayBuffer>) => Promise<RestoredIsolate>,
    poolSize = V8_RESTORED_PER_IMAGE,
    gate?: RefillGate,
  ) {
    this.#gate = gate;
    this.#poolSize = poolSize;
    this.#demand = new PoolDemand(poolSize);
    this.#snapshot = snapshot;
    this.sizeBytes = sizeBytes;
    this.memoryMb = memoryMb;
    // One deserialisation at a time per image, first come first served: run side by side, a burst's
    // restores shared the cores and all finished together, the pooled ones' binding with them.
    this.#deserialise = () => {
      const turn = this.#queue.then(() => deserialiseOne(this.#snapshot));
      this.#queue = turn.then(
        () => {},
        () => {},
      );
      return turn;
    };
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
  async take(): Promise<RestoredIsolate> {
    if (this.#disposed) throw new Error('v8: the image was disposed');
    this.#demand.noteTake();
    this.#lastTake = performance.now();
    const ready = this.#ready.shift();
    this.#fill();
    const restored = ready ?? (await this.#deserialise());
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

  /** The depth to keep now: 0 when the pool is off, else what demand says. */
  #depth(): number {
    return this.#poolSize === 0 ? 0 : this.#demand.depth(this.sizeBytes * 2);
  }

  #fill(): void {
    const depth = this.#depth();
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
    if (!this.#refilling && this.#ready.length < depth) void this.#refill();
  }

  /** One refill loop per image: a deserialisation at a time, each after a quiet moment. */
  async #refill(): Promise<void> {
    this.#refilling = true;
    try {
      while (!this.#disposed && this.#ready.length < this.#depth()) {
        // While restores are being taken, they go first.
        for (let quietFor = performance.now() - this.#lastTake; quietFor < POOL_REFILL_DELAY_MS; quietFor = performance.now() - this.#lastTake) {
          await sleep(POOL_REFILL_DELAY_MS - quietFor, undefined, { ref: false });
        }
        if (this.#disposed) return;
        // Shared with the other restore servers: while they refill, this one stays free for restores.
        if (this.#gate && !this.#gate.enter()) {
          await sleep(POOL_REFILL_DELAY_MS, undefined, { ref: false });
          continue;
        }
        let restored: RestoredIsolate;
        try {
          restored = await this.#deserialise();
        } catch {
          // The engine stopped admitting work (a catastrophic error), or memory is short: a cold
          // start deserialises its own.
          return;
        } finally {
          this.#gate?.leave();
        }
        if (this.#disposed) restored.isolate.dispose();
        else this.#ready.push(restored);
      }
    } finally {
      this.#refilling = false;
    }
  }
}
