/**
 * The `v8` engine: one isolated-vm Isolate per sandbox. `prepare` compiles the guest runtime and the
 * user bundle once and keeps V8 code caches made by lambdalet itself (never accepted from a user:
 * isolated-vm's CVE-2022-39266), so each boot skips parsing.
 */
import { createRequire } from 'node:module';
import type ivm from 'isolated-vm';
import type { FunctionBundle } from '../../code/types.ts';
import { EngineUnavailableError } from '../../errors.ts';
import { type Blueprint, type Engine, type Sandbox, type SandboxFault, type SandboxImage, type SandboxOptions, type SentAhead } from '../engine.ts';
import { binaryAnswer, textRequest, type BinaryAnswer } from '../binary-host-call.ts';
import { guestRuntime, withStandardLibrary } from '../guest-bundle.ts';
import { BlankIsolates } from './blank-isolates.ts';
import { encodeMessage, USAGE_OP, WASM_COMPILED_OP, type InitMessage } from '../guest/protocol.ts';
import { exposeGuestGc, hasNoNodeSnapshotFlag, missingFlagError, turnOffLoopUnrolling, turnOffWasmCodeGc } from './flags.ts';
import { warmGuestCodeCache } from './guest-code-cache.ts';
import { RemoteImage, type BlueprintDef, type EnginePool } from '../remote/engine-pool.ts';
import { degradeInProcessV8, inProcessV8DegradedBy } from './in-process-health.ts';
import { createSnapshotInChild, deserialise, type RefillGate, SNAPSHOT_WARMUP_MAX_INIT_MS, snapshotScripts, snapshotWarmUp, V8Image, verifySnapshot, type BoundGuest, type RestoredIsolate } from './snapshot.ts';
import { DeferredHostCalls, heavyCallStarter } from './deferred-host-calls.ts';
import { guestLogCallback, releaseIsolate, V8_CALL_GRACE_MS, V8Sandbox, withDeadline, type GuestDispatch, type HeavyWatch } from './v8-sandbox.ts';
import { randomHex } from '../../random-hex.ts';

/** isolated-vm refuses memory limits under 8 MB. */
const MIN_ISOLATE_MEMORY_MB = 8;
const GUEST_FILENAME = '/var/runtime/lambdalet-guest.js';
/** User scripts above this size compile off the host's thread. */
const SYNC_COMPILE_MAX_CHARS = 256 * 1024;
/** Running a script at boot only defines functions; this bounds a pathological one. */
const BOOT_TIMEOUT_MS = 10_000;
/** Binding a restored snapshot's guest to its host functions runs a few lines of the guest runtime (#bindAhead). */
const BIND_TIMEOUT_MS = 1000;
/** How long the child process that takes a SnapStart snapshot may run (INIT runs again there, twice with a warm-up: snapshot.ts). */
export const SNAPSHOT_TIMEOUT_MS = 30_000;

export interface V8EngineOptions {
  /** Deadline of the snapshot process (SnapStart). Default {@link SNAPSHOT_TIMEOUT_MS}. */
  readonly snapshotTimeoutMs?: number;
  /** Isolates deserialised ahead of need per SnapStart image (the base depth); 0 deserialises at each restore. Default 2. */
  readonly restoredPerImage?: number;
  /**
   * Where SnapStart restores run. Absent (the default, and inside an engine server): on this
   * thread. The host's in-process engine (engines/registry.ts) gives `v8RestoreServers`
   * (restore-servers.ts): worker threads, so a restore's deserialisation never stalls the host's
   * thread; `restoredPerImage` then does not apply (the servers keep the default).
   */
  readonly restoreServers?: () => EnginePool;
  /**
   * Set by an engine server (a worker thread or a process-isolation child): its pool replaces it
   * after a catastrophic error and says so, so the engine's message gives no advice of its own.
   * Absent (the host's in-process engine): the message ends with "Restart the process.", the only
   * way back for in-process v8. Default false.
   */
  readonly insideEngineServer?: boolean;
  /**
   * Hears every catastrophic isolated-vm error of this engine, when it happens: whether or not a
   * call was in flight (a sandbox ending its call at its deadline while V8 still thrashes, one
   * restored ahead of need, a boot). An engine server reports itself unhealthy from here, with
   * the calls the catastrophe failed (server.ts): waiting for a call's fault to do so left a
   * server whose catastrophe failed no call taking boots it then refused, from every runtime
   * of the host process sharing its pool. `sandbox` and `fault`: the sandbox that owned the
   * isolate, if any, and the fault its calls in flight failed with. Default: none.
   */
  readonly onCatastrophe?: (catastrophe: { readonly reason: string; readonly sandbox?: Sandbox; readonly fault?: SandboxFault }) => void;
  /**
   * Told +1 when a deserialisation from a SnapStart image starts (a pool refill, or a restore with
   * no isolate ready) and -1 when it ends: it holds this thread (snapshot.ts `deserialise`). An
   * engine server publishes the count for the host (remote/protocol.ts SIGNAL_DESERIALISING).
   */
  readonly onDeserialising?: (delta: 1 | -1) => void;
  /**
   * Shared with other threads' engines (an engine server's: remote/protocol.ts ServerData.refills):
   * a pool refill deserialises only once `enter` gives it a slot, and `leave`s it after.
   */
  readonly refillGate?: RefillGate;
  /**
   * Where a CPU-heavy function's sandboxes go (issue #15 fairness). Absent (the default, and inside
   * an engine server): nowhere, they stay here. The host's in-process engine (engines/registry.ts)
   * gives background child processes at a lower OS priority (process-host.ts
   * `backgroundChildren`): isolated-vm runs every isolate of a process on one shared pool of
   * threads, so no thread of this process can be given to heavy guests alone. A booted sandbox
   * whose invocation calls were heavy (v8-sandbox.ts HeavyWatch: engine-pool.ts HEAVY_CALLS_IN_A_ROW
   * in a row of at least `heavyCallCpuMs` of cpuTime) is retired (its environment ends when next idle)
   * and its function's later boots start there. SnapStart restores stay in the restore servers.
   */
  readonly background?: { readonly pool: () => EnginePool; readonly heavyCallCpuMs: number };
  /**
   * Where in-process v8 goes on after isolated-vm's catastrophic error in this process (issue #15;
   * in-process-health.ts): the host's in-process engine (engines/registry.ts) gives process
   * isolation's pool of child processes. Once in-process v8 has degraded, every boot and SnapStart
   * restore of this engine's functions — prepared before or after — goes there (a restore-server
   * image is copied to the children on its first restore), the function's in-process sandboxes are
   * retired, and deploys compile nothing in this process. Absent (tests, an engine server): a
   * catastrophe stops the engine, which then throws EngineUnavailableError ("Restart the process.").
   */
  readonly fallback?: () => EnginePool;
}

type IsolatedVm = typeof ivm;
/** Start-up flags cannot change while the process runs: checked once. */
const FLAG_PRESENT = hasNoNodeSnapshotFlag();

type GuestInstallFunction = (log: unknown, userModule: unknown, hostCall: unknown, seed: unknown, binary: unknown, answerSlot: unknown) => unknown;

/**
 * A booted guest runtime waiting for a cold start (blank-isolates.ts). `holder.onCatastrophe` is set
 * by the engine whose sandbox it becomes.
 */
interface Blank {
  readonly isolate: ivm.Isolate;
  readonly context: ivm.Context;
  readonly install: ivm.Reference<GuestInstallFunction>;
  readonly holder: { onCatastrophe?: (message: string) => void };
}

/**
 * The process's blanks, per guest runtime (its source text: every engine of a process runs the same
 * one), shared by every runtime's v8 engine: one blank per memory limit per process, however many
 * runtimes it makes. No blank is made after a catastrophic isolated-vm error anywhere in it.
 */
const blankPools = new Map<string, BlankIsolates<Blank>>();
let blanksStopped = false;

interface CompiledSource {
  readonly code: string;
  readonly filename: string;
  readonly cachedData: ivm.ExternalCopy<ArrayBuffer> | undefined;
}

export class V8Engine implements Engine {
  readonly name = 'v8' as const;
  readonly #snapshotTimeoutMs: number;
  readonly #restoredPerImage: number | undefined;
  readonly #restoreServers: (() => EnginePool) | undefined;
  readonly #background: V8EngineOptions['background'];
  /** A blueprint nobody holds any more is forgotten by the restore servers too. */
  readonly #forget = new FinalizationRegistry<{ pool: EnginePool; bp: number }>(({ pool, bp }) => pool.forget(bp));
  #ivm: IsolatedVm | undefined;
  #guest: Promise<CompiledSource> | undefined;
  /** The guest runtime's source once loaded (blankReady). */
  #guestCode: string | undefined;
  /** The bytes each image was made from (exportImage). */
  readonly #imageBytes = new WeakMap<SandboxImage, Uint8Array>();
  /** Set by onCatastrophicError without a fallback: the process is unhealthy and must not start more isolates. */
  #catastrophe: string | undefined;
  readonly #catastropheAdvice: string;
  readonly #onCatastrophe: V8EngineOptions['onCatastrophe'];
  readonly #onDeserialising: V8EngineOptions['onDeserialising'];
  readonly #refillGate: RefillGate | undefined;
  readonly #fallback: (() => EnginePool) | undefined;
  /** Each image's copy in the fallback pool, made on its first restore there (#restoreIn). */
  readonly #copies = new WeakMap<SandboxImage, Promise<RemoteImage>>();

  constructor(options: V8EngineOptions = {}) {
    this.#onCatastrophe = options.onCatastrophe;
    this.#onDeserialising = options.onDeserialising;
    this.#refillGate = options.refillGate;
    this.#fallback = options.fallback;
    this.#catastropheAdvice = options.insideEngineServer ? '' : ' Restart the process.';
    this.#snapshotTimeoutMs = options.snapshotTimeoutMs ?? SNAPSHOT_TIMEOUT_MS;
    this.#restoredPerImage = options.restoredPerImage;
    this.#restoreServers = options.restoreServers;
    this.#background = options.background;
  }

  assertAvailable(): void {
    // Degraded to process isolation: the children run v8 (they get the flag and load isolated-vm themselves).
    if (this.#degradedPool()) return;
    if (this.#catastrophe !== undefined) throw new EngineUnavailableError(this.#stoppedMessage(this.#catastrophe));
    const degradedBy = this.#restoreServers ? inProcessV8DegradedBy() : undefined;
    if (degradedBy !== undefined) {
      throw new EngineUnavailableError(`The v8 engine stopped admitting work after a catastrophic isolated-vm error in this process (${degradedBy}). Restart the process.`);
    }
    if (!FLAG_PRESENT) throw missingFlagError();
    this.#load();
  }

  /**
   * Process isolation's pool, once in-process v8 has degraded to it (in-process-health.ts) and this
   * engine has one ({@link V8EngineOptions.fallback}); undefined otherwise.
   */
  #degradedPool(): EnginePool | undefined {
    return this.#fallback && inProcessV8DegradedBy() !== undefined ? this.#fallback() : undefined;
  }

  async prepare(bundle: FunctionBundle): Promise<Blueprint> {
    this.assertAvailable();
    // Degraded: nothing is compiled here (no isolate is made in this process any more).
    const degraded = this.#degradedPool();
    if (degraded) return this.#prepareIn(degraded, bundle);
    const [guest, user] = await Promise.all([
      (this.#guest ??= guestRuntime().then(({ script: code }) => ({
        code,
        filename: GUEST_FILENAME,
        cachedData: warmGuestCodeCache(this.#load(), code, GUEST_FILENAME),
      }))),
      this.#compileCache(bundle.script, bundle.filename),
    ]);
    const { stdlib } = await guestRuntime();
    const withLibrary = (options: SandboxOptions): SandboxOptions => ({ ...options, hostCall: withStandardLibrary(stdlib, options.hostCall ?? unavailableHostCall) });
    // The restore servers learn the function's code with its first image (they answer `stdlib`
    // themselves, so their sandboxes take the options as they are).
    let remote: { readonly pool: EnginePool; readonly def: BlueprintDef } | undefined;
    const servers = (): { readonly pool: EnginePool; readonly def: BlueprintDef } | undefined => {
      if (!this.#restoreServers || remote) return remote;
      const pool = this.#restoreServers();
      remote = { pool, def: pool.define('v8', bundle) };
      this.#forget.register(blueprint, { pool, bp: remote.def.bp });
      return remote;
    };
    // Degraded after this function's sandbox booted here: its image goes to the children.
    const snapshot = (init: InitMessage, memoryMb: number, initMs: number): Promise<SandboxImage> =>
      this.#snapshot(guest, stdlib, bundle, init, memoryMb, initMs, moved()?.pool ?? servers()?.pool);
    // Degraded to process isolation (in-process-health.ts): the function's code goes to the children once.
    let elsewhere: { readonly pool: EnginePool; readonly def: BlueprintDef } | undefined;
    const moved = (): { readonly pool: EnginePool; readonly def: BlueprintDef } | undefined => {
      if (elsewhere) return elsewhere;
      const pool = this.#degradedPool();
      if (!pool) return undefined;
      elsewhere = { pool, def: pool.define('v8', bundle) };
      this.#forget.register(blueprint, { pool, bp: elsewhere.def.bp });
      return elsewhere;
    };
    // CPU-heavy: once one of its sandboxes' calls were (HeavyWatch), boots go to the background
    // servers, which learn the function's code then (they answer `stdlib` themselves).
    let heavy: { readonly pool: EnginePool; readonly def: BlueprintDef } | undefined;
    const background = this.#background;
    const heavyWatch = background && {
      barMs: background.heavyCallCpuMs,
      onHeavy: () => {
        if (heavy) return;
        const pool = background.pool();
        heavy = { pool, def: pool.define('v8', bundle) };
        this.#forget.register(blueprint, { pool, bp: heavy.def.bp });
      },
    };
    const blueprint: Blueprint = {
      engine: 'v8',
      boot: (options) => {
        if (heavy) return heavy.pool.boot(heavy.def, options);
        const target = moved();
        return target ? target.pool.boot(target.def, options) : this.#boot(guest, user, withLibrary(options), snapshot, heavyWatch);
      },
      restore: (image, options, resume) => {
        const elsewhere = moved();
        if (elsewhere) return this.#restoreIn(elsewhere, image, options, resume);
        if (!(image instanceof RemoteImage)) return this.#restore(image, withLibrary(options));
        this.assertAvailable();
        const target = servers();
        if (!target || image.engine !== 'v8') return Promise.reject(new Error(`v8 cannot restore a ${image.engine} ${image.kind} image`));
        if (options.memoryMb !== image.memoryMb) {
          return Promise.reject(new Error(`v8: an image made under memoryMb ${image.memoryMb} cannot be restored under ${options.memoryMb}`));
        }
        return target.pool.restore(target.def, image, options, resume);
      },
    };
    return blueprint;
  }

  /** A function prepared once in-process v8 has degraded: its sandboxes live in `pool` (process isolation). */
  async #prepareIn(pool: EnginePool, bundle: FunctionBundle): Promise<Blueprint> {
    await pool.warm();
    const target = { pool, def: pool.define('v8', bundle) };
    const blueprint: Blueprint = {
      engine: 'v8',
      boot: (options) => pool.boot(target.def, options),
      restore: (image, options, resume) => this.#restoreIn(target, image, options, resume),
    };
    this.#forget.register(blueprint, { pool, bp: target.def.bp });
    return blueprint;
  }

  /**
   * A SnapStart restore in `target` (the fallback pool): an image it made itself is restored as
   * is; one made for this process (the restore servers', or an in-thread V8Image) is copied to it
   * once (EnginePool.share: every child verifies the bytes again) and the copy goes with it.
   */
  async #restoreIn(
    target: { readonly pool: EnginePool; readonly def: BlueprintDef },
    image: SandboxImage,
    options: SandboxOptions,
    resume?: SentAhead,
  ): Promise<Sandbox> {
    if (target.pool.owns(image)) return target.pool.restore(target.def, image, options, resume);
    if (image.engine !== 'v8') throw new Error(`v8 cannot restore a ${image.engine} ${image.kind} image`);
    if (options.memoryMb !== image.memoryMb) {
      throw new Error(`v8: an image made under memoryMb ${image.memoryMb} cannot be restored under ${options.memoryMb}`);
    }
    if ((image as { readonly disposed?: boolean }).disposed === true) throw new Error('v8: the image was disposed');
    let copy = this.#copies.get(image);
    if (!copy) {
      const parts = image instanceof RemoteImage ? image.parts : this.exportImage(image);
      if (parts === undefined || parts === null) throw new Error('v8: the image was lost with the process that held it');
      copy = target.pool.share('v8', { kind: image.kind, memoryMb: image.memoryMb, sizeBytes: image.sizeBytes, parts });
      this.#copies.set(image, copy);
      copy.then(
        (made) => {
          if (image instanceof RemoteImage) image.onDispose(() => made.dispose());
        },
        () => this.#copies.delete(image), // the next restore tries again
      );
    }
    return target.pool.restore(target.def, await copy, options, resume);
  }

  /**
   * SnapStart: the snapshot taken and verified in a child process (snapshot.ts). With restore
   * servers, the image lives in them (each adopts the bytes and verifies them again off this
   * thread); otherwise here.
   */
  async #snapshot(
    guest: CompiledSource,
    stdlib: Readonly<Record<string, string>>,
    bundle: FunctionBundle,
    init: InitMessage,
    memoryMb: number,
    initMs: number,
    servers: EnginePool | undefined,
  ): Promise<SandboxImage> {
    // The restore servers start (and prepare the function, `servers()` in prepare) while the
    // snapshot process runs, so a first cold start does not wait for them.
    servers?.warm().catch(() => {}); // a server that cannot start fails share() below
    const scripts = snapshotScripts(guest, stdlib, bundle, init);
    const memoryLimitMb = Math.max(MIN_ISOLATE_MEMORY_MB, memoryMb);
    // The warm-up replays INIT once more in the snapshot process (snapshotWarmUp): only a short one.
    const warmUp = initMs <= SNAPSHOT_WARMUP_MAX_INIT_MS ? snapshotWarmUp() : undefined;
    const bytes = await createSnapshotInChild(scripts, { memoryMb, memoryLimitMb, timeoutMs: this.#snapshotTimeoutMs, ...(warmUp ? { warmUp } : {}) });
    if (servers) return await servers.share('v8', { kind: 'v8-startup-snapshot', memoryMb, sizeBytes: bytes.byteLength, parts: { bytes, memoryMb } });
    return this.#imageFrom(bytes, memoryMb, true);
  }

  /**
   * Process isolation: what another process's engine needs to restore `image` — the snapshot's
   * bytes, made by lambdalet's own snapshot process (never accepted from a user).
   */
  exportImage(image: SandboxImage): { readonly bytes: Uint8Array; readonly memoryMb: number } {
    const bytes = this.#imageBytes.get(image);
    if (!bytes) throw new Error('v8: not an image of this engine');
    return { bytes, memoryMb: image.memoryMb };
  }

  /** An image exported by another process's engine, verified here as at deploy (SnapshotUnsupportedError when it fails). */
  async importImage(parts: { readonly bytes: Uint8Array; readonly memoryMb: number }): Promise<SandboxImage> {
    this.assertAvailable();
    return this.#imageFrom(parts.bytes, parts.memoryMb, false);
  }

  /** `verified`: the snapshot process verified these bytes itself (this engine's own snapshot). */
  async #imageFrom(bytes: Uint8Array, memoryMb: number, verified: boolean): Promise<V8Image> {
    const ivm = this.#load();
    const memoryLimit = Math.max(MIN_ISOLATE_MEMORY_MB, memoryMb);
    const snapshot = new ivm.ExternalCopy(bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength) as ArrayBuffer);
    try {
      if (!verified) await verifySnapshot(ivm, snapshot, memoryLimit);
    } catch (error) {
      snapshot.release();
      throw error;
    }
    const image = new V8Image(
      snapshot,
      bytes.byteLength,
      memoryMb,
      (snap) => {
        const busy = this.#onDeserialising;
        busy?.(1);
        const restored = deserialise(ivm, snap, memoryLimit, (message) => this.#onCatastrophicError(message)).then((one) => this.#bindAhead(ivm, one));
        if (busy) void restored.then(() => busy(-1), () => busy(-1));
        return restored;
      },
      this.#restoredPerImage,
      this.#refillGate,
    );
    this.#imageBytes.set(image, bytes);
    return image;
  }

  /**
   * SnapStart: a deserialised isolate from the image, its guest's host functions (bound as it was
   * deserialised: {@link #bindAhead}) pointed at this environment's.
   */
  async #restore(image: SandboxImage, options: SandboxOptions): Promise<Sandbox> {
    this.assertAvailable();
    if (!(image instanceof V8Image)) throw new Error(`v8 cannot restore a ${image.engine} ${image.kind} image`);
    if (options.memoryMb !== image.memoryMb) {
      throw new Error(`v8: an image made under memoryMb ${image.memoryMb} cannot be restored under ${options.memoryMb}`);
    }
    const restored = await image.take();
    let sandbox: V8Sandbox | undefined;
    try {
      const bound = restored.bound;
      if (!bound) throw new Error('lambdalet bug: a restored isolate whose guest was not bound ahead of need');
      const hostCall = options.hostCall ?? unavailableHostCall;
      const start = heavyCallStarter(options);
      const deferred = start ? new DeferredHostCalls(start, bound.answerSlot) : undefined;
      // No call into the isolate: its guest's host functions already forward here.
      bound.log = guestLogCallback(options.onLog, () => sandbox?.replyWentStale());
      bound.host = binaryCallback(hostCall, options.hostCallBytes, deferred, restored.isolate);
      const restoredSandbox = new V8Sandbox(restored.isolate, restored.dispatch, undefined, true, deferred);
      sandbox = restoredSandbox;
      restored.owner.onCatastrophe = (message) => this.#onCatastrophicError(message, restoredSandbox, restoredSandbox.failCatastrophically(message));
      return restoredSandbox;
    } catch (error) {
      releaseIsolate(restored.isolate);
      throw error;
    }
  }

  /**
   * Binds a restored guest to host functions that forward to its {@link BoundGuest}, as it is
   * deserialised (ahead of need, in the background: V8Image): a cold start then only points them at
   * its environment, without the binding's call into the isolate (~0.1-0.2 ms, a hop to
   * isolated-vm's thread and back). Until a sandbox takes it, its guest's lines go nowhere and its
   * host calls are refused — as the snapshot driver's stand-ins did before. The binding runs a few
   * lines of the guest runtime in a heap the user's INIT shaped: an asynchronous call with a
   * timeout (see v8-sandbox.ts); the isolate is disposed if it fails.
   *
   * Then one `status` call, as the host sends between any two calls: the first call into a
   * restored isolate's guest paid for its dispatch path once more than later ones, and that call
   * was the cold start's `restore`. A phase is settled in a restored guest (the before-snapshot
   * hooks'), so the guest answers at once: no user code runs (no microtask turns), its answer is
   * dropped, and the `restore` message still comes first of everything the environment sends.
   */
  async #bindAhead(ivm: IsolatedVm, restored: RestoredIsolate): Promise<RestoredIsolate> {
    const bound: BoundGuest = {
      log: () => {},
      host: (op) => binaryAnswer(unavailableHostCall(String(op))),
      answerSlot: new SharedArrayBuffer(4),
    };
    try {
      await withDeadline(
        restored.rebind.apply(undefined, [
          new ivm.Callback((level: string, message: string) => bound.log(level, message), { ignored: true }),
          new ivm.Callback((op: unknown, args: unknown, bytes?: unknown) => bound.host(op, args, bytes), { sync: true }),
          true, // binary payloads (engines/binary-host-call.ts)
          new ivm.ExternalCopy(bound.answerSlot).copyInto({ release: true }),
        ], { timeout: BIND_TIMEOUT_MS }),
        BIND_TIMEOUT_MS + V8_CALL_GRACE_MS,
        'binding a restored V8 snapshot to its host functions',
      );
      const [type, body] = encodeMessage({ type: 'status' });
      await withDeadline(
        restored.dispatch.apply(undefined, [type, body, true], { timeout: BIND_TIMEOUT_MS, result: { promise: true } }),
        BIND_TIMEOUT_MS + V8_CALL_GRACE_MS,
        'a restored V8 snapshot\'s first status',
      );
    } catch (error) {
      releaseIsolate(restored.isolate);
      throw error;
    }
    restored.rebind.release();
    return { ...restored, bound };
  }

  #load(): IsolatedVm {
    if (this.#ivm) return this.#ivm;
    const require = createRequire(import.meta.url);
    // Before the first isolate: see flags.ts for the deadlock this rules out, and for the guest
    // loops that no deadline or memory cap could stop without the second.
    turnOffWasmCodeGc();
    turnOffLoopUnrolling();
    exposeGuestGc();
    try {
      this.#ivm = require('isolated-vm') as IsolatedVm;
    } catch (error) {
      throw new EngineUnavailableError(
        `The v8 engine could not load isolated-vm (${(error as Error).message}). ` +
          'isolated-vm 7 ships prebuilt binaries for Node 24 and 26 on common platforms; elsewhere it needs a C++ toolchain.',
        { cause: error },
      );
    }
    return this.#ivm;
  }

  /**
   * Compiles once in a scratch isolate to produce a code cache for every later boot. User code is
   * never run for this (unlike the guest's warm-up): its cache holds what V8 compiles eagerly.
   */
  async #compileCache(code: string, filename: string): Promise<CompiledSource> {
    const ivm = this.#load();
    const scratch = new ivm.Isolate({ memoryLimit: 64 });
    try {
      const script = await scratch.compileScript(code, { filename, produceCachedData: true });
      return { code, filename, cachedData: (script as ivm.Script & ivm.CachedDataResult).cachedData };
    } catch {
      // A syntax error the bundler let through: boot will report it from the real compile.
      return { code, filename, cachedData: undefined };
    } finally {
      scratch.dispose();
    }
  }

  /**
   * Boots with isolated-vm's synchronous calls: nothing here runs user code (the user script only
   * defines its module function), and each asynchronous call would cost a thread hop. They cannot
   * block (see v8-sandbox.ts): the isolate is new, so no other thread holds it and no guest task
   * is queued in it, and each run has a timeout. Large user scripts compile asynchronously so one
   * tenant's big bundle does not hold the host's thread.
   */
  async #boot(
    guest: CompiledSource,
    user: CompiledSource,
    options: SandboxOptions,
    snapshot: (init: InitMessage, memoryMb: number, initMs: number) => Promise<SandboxImage>,
    heavyWatch: HeavyWatch | undefined,
  ): Promise<Sandbox> {
    this.assertAvailable();
    const ivm = this.#load();
    this.#guestCode = guest.code;
    const memoryLimit = Math.max(MIN_ISOLATE_MEMORY_MB, options.memoryMb);
    // A blank (blank-isolates.ts) has run the guest runtime's top level already: its clock restarts
    // with the seed below. Without one, this cold start boots from scratch.
    const blank = blanksOf(ivm, guest).take(memoryLimit);
    const { isolate, context, install, holder } = blank ?? makeBlank(ivm, guest, memoryLimit);
    let sandbox: V8Sandbox | undefined;
    holder.onCatastrophe = (message) => this.#onCatastrophicError(message, sandbox, sandbox?.failCatastrophically(message));
    try {
      const userModule =
        user.code.length > SYNC_COMPILE_MAX_CHARS
          ? await this.#runAsync<() => Promise<unknown>>(isolate, context, user)
          : this.#runSync<() => Promise<unknown>>(isolate, context, user);
      // Callbacks copy their arguments and results; they are the only host functions the guest receives.
      const serve = options.hostCall ?? unavailableHostCall; // prepare() added the standard library's chunks
      // SnapStart: a snapshot cannot hold what the host answered, so INIT's host calls are noted.
      const hostOps = new Set<string>();
      const hostCall = (op: string, args: string): string => {
        if (op !== 'stdlib') hostOps.add(op);
        if (op === WASM_COMPILED_OP) return 'onull'; // a note for SnapStart, nothing to serve
        return serve(op, args);
      };
      const bytes = options.hostCallBytes;
      const hostCallBytes = bytes
        ? (op: string, args: string, payload: Uint8Array | undefined): BinaryAnswer => {
            hostOps.add(op);
            return bytes(op, args, payload);
          }
        : undefined;
      // Heavy calls (Brotli, pbkdf2, scrypt, key generation) run off the host's thread while the
      // guest waits on its own (deferred-host-calls.ts).
      const start = heavyCallStarter(options);
      const deferred = start
        ? new DeferredHostCalls((op, args, payload, signal) => {
            const work = start(op, args, payload, signal);
            if (work) hostOps.add(op);
            return work;
          })
        : undefined;
      const dispatch = install.applySync(
        undefined,
        [
          new ivm.Callback(guestLogCallback(options.onLog, () => sandbox?.replyWentStale()), { ignored: true }),
          userModule.derefInto(),
          new ivm.Callback(binaryCallback(hostCall, hostCallBytes, deferred, isolate), { sync: true }),
          // A blank's guest started its clock when the blank was made: the seed restarts it (and reseeds
          // the generator from the host's entropy). Without: V8 seeds each isolate's generator itself.
          blank ? randomHex(16) : undefined,
          true, // binary payloads (engines/binary-host-call.ts)
          deferred ? new ivm.ExternalCopy(deferred.buffer).copyInto({ release: true }) : undefined,
        ],
        { result: { reference: true }, timeout: BOOT_TIMEOUT_MS },
      ) as unknown as ivm.Reference<GuestDispatch>;
      install.release();
      userModule.release();
      sandbox = new V8Sandbox(
        isolate,
        dispatch,
        {
          hostOps,
          take: (init, initMs) => snapshot(init, options.memoryMb, initMs),
        },
        true,
        deferred,
        heavyWatch,
      );
      // The next cold start of this memory limit finds a blank, made once this one has answered.
      sandbox.onFirstUse(() => blanksOf(ivm, guest).refill(memoryLimit));
      return sandbox;
    } catch (error) {
      releaseIsolate(isolate);
      throw error;
    }
  }

  /** Whether a blank is ready for sandboxes of `memoryMb` in this process (tests; blank-isolates.ts). */
  blankReady(memoryMb: number): boolean {
    const guest = this.#guestCode;
    return guest !== undefined && blankPools.get(guest)?.has(Math.max(MIN_ISOLATE_MEMORY_MB, memoryMb)) === true;
  }

  #runSync<T>(isolate: ivm.Isolate, context: ivm.Context, source: CompiledSource): ivm.Reference<T> {
    const script = isolate.compileScriptSync(source.code, scriptInfo(source));
    const result = script.runSync(context, { reference: true, timeout: BOOT_TIMEOUT_MS }) as ivm.Reference<T>;
    script.release();
    return result;
  }

  async #runAsync<T>(isolate: ivm.Isolate, context: ivm.Context, source: CompiledSource): Promise<ivm.Reference<T>> {
    const script = await isolate.compileScript(source.code, scriptInfo(source));
    const result = (await script.run(context, { reference: true, timeout: BOOT_TIMEOUT_MS })) as ivm.Reference<T>;
    script.release();
    return result;
  }

  #stoppedMessage(catastrophe: string): string {
    return `The v8 engine stopped admitting work after a catastrophic isolated-vm error: ${catastrophe}.${this.#catastropheAdvice}`;
  }

  /**
   * `sandbox`, `fault`: the sandbox that owned the isolate and the fault it failed its calls in
   * flight with (failCatastrophically, called first: their rejections are seen only in later
   * microtasks, so the hook below runs before any of them is answered).
   */
  #onCatastrophicError(message: string, sandbox?: Sandbox, fault?: SandboxFault): void {
    if (this.#fallback) {
      // The host's engine: in-process v8 goes on in child processes (in-process-health.ts warns,
      // once); they start now, so the next cold start finds one up sooner.
      blanksStopped = true;
      degradeInProcessV8(message);
      this.#degradedPool()
        ?.warm()
        .catch(() => {}); // a child that cannot start fails the boot that needs it
      return;
    }
    const first = this.#catastrophe === undefined;
    this.#catastrophe ??= message;
    blanksStopped = true;
    // The isolate's thread is parked forever (isolated-vm's design): in-process, the process must be
    // restarted; an engine server's pool replaces it (onCatastrophe).
    if (first) {
      process.emitWarning(`isolated-vm catastrophic error: ${message}. lambdalet's v8 engine stopped admitting work.`, {
        code: 'LAMBDALET_V8_CATASTROPHIC',
      });
    }
    this.#onCatastrophe?.({ reason: this.#stoppedMessage(this.#catastrophe), ...(sandbox ? { sandbox } : {}), ...(fault ? { fault } : {}) });
  }
}

/** The process's blanks for this guest runtime. */
function blanksOf(ivm: IsolatedVm, guest: CompiledSource): BlankIsolates<Blank> {
  let pool = blankPools.get(guest.code);
  if (pool === undefined) {
    pool = new BlankIsolates<Blank>({
      make: (memoryLimit) => makeBlank(ivm, guest, memoryLimit),
      dispose: (blank) => {
        releaseIsolate(blank.isolate);
      },
      available: () => !blanksStopped && inProcessV8DegradedBy() === undefined,
    });
    blankPools.set(guest.code, pool);
  }
  return pool;
}

/** A new isolate with its context and the guest runtime's top level run (synchronous calls: see V8Engine's #boot). */
function makeBlank(ivm: IsolatedVm, guest: CompiledSource, memoryLimit: number): Blank {
  const holder: Blank['holder'] = {};
  const isolate = new ivm.Isolate({
    memoryLimit,
    onCatastrophicError: (message: string) => {
      blanksStopped = true;
      holder.onCatastrophe?.(message);
    },
  });
  try {
    const context = isolate.createContextSync();
    const script = isolate.compileScriptSync(guest.code, scriptInfo(guest));
    const install = script.runSync(context, { reference: true, timeout: BOOT_TIMEOUT_MS }) as ivm.Reference<GuestInstallFunction>;
    script.release();
    return { isolate, context, install, holder };
  } catch (error) {
    isolate.dispose();
    throw error;
  }
}

/**
 * The guest's host function: copies (isolated-vm copies a Callback's arguments and result), with
 * binary payloads as ArrayBuffers both ways rather than one char per byte (engines/binary-host-call.ts).
 * With `hostCallBytes` (the environment's, in this process) payloads reach the host as bytes and
 * come back as bytes, never as latin1 text; the standard library's chunks are still `hostCall`'s.
 * With `deferred`, heavy calls are deferred and their answers taken (deferred-host-calls.ts).
 */
function binaryCallback(
  hostCall: (op: string, args: string) => string,
  hostCallBytes?: (op: string, args: string, bytes: Uint8Array | undefined) => BinaryAnswer,
  deferred?: DeferredHostCalls,
  isolate?: ivm.Isolate,
): (op: unknown, args: unknown, bytes?: unknown) => BinaryAnswer {
  return (op, args, bytes) => {
    if (op === USAGE_OP) return binaryAnswer(isolate ? usageAnswer(isolate) : unavailableHostCall(USAGE_OP));
    const payload = bytes instanceof ArrayBuffer ? new Uint8Array(bytes) : undefined;
    if (deferred && op !== 'stdlib') {
      const answer = deferred.answer(String(op), String(args), payload);
      if (answer !== undefined) return answer;
    }
    if (hostCallBytes && op !== 'stdlib') return hostCallBytes(String(op), String(args), payload);
    return binaryAnswer(hostCall(String(op), textRequest(String(args), payload)));
  };
}

/**
 * The guest's process.memoryUsage() / cpuUsage() figures (guest/protocol.ts USAGE_OP), this
 * isolate's alone: its heap (V8's statistics), the ArrayBuffer memory isolated-vm's allocator
 * counts (with the memory ledger's shadows: off-heap memory charged to memoryMb), and the CPU time
 * isolated-vm has measured on it. Read while the guest waits in this very host call: the
 * synchronous read is re-entrant there (the isolate runs nothing else; ~30 µs with the call).
 */
function usageAnswer(isolate: ivm.Isolate): string {
  try {
    const heap = isolate.getHeapStatisticsSync();
    const external = heap.externally_allocated_size;
    const cpuMicros = Math.floor(Number(isolate.cpuTime) / 1000);
    return `o${JSON.stringify([heap.total_heap_size + external, heap.total_heap_size, heap.used_heap_size, external, external, cpuMicros])}`;
  } catch (error) {
    return `e${JSON.stringify({ name: 'Error', message: `process usage: ${(error as Error).message}` })}`;
  }
}

/** What a sandbox booted without a host-call handler answers (see guest/protocol.ts). */
function unavailableHostCall(op: string): string {
  return `e${JSON.stringify({ name: 'Error', message: `${op} is not available in this sandbox` })}`;
}

function scriptInfo(source: CompiledSource): ivm.ScriptInfo & ivm.CachedDataOptions {
  return { filename: source.filename, ...(source.cachedData ? { cachedData: source.cachedData } : {}) };
}
