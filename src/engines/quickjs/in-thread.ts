/**
 * QuickJS compiled to WebAssembly (quickjs-emscripten, release sync build), run on the calling
 * thread. The `quickjs` engine (quickjs-engine.ts) runs this inside its worker threads
 * (engines/remote/): guest code never runs on the host's own thread. Nothing here loads isolated-vm.
 *
 * Isolation modes:
 * - `instance` (default): each sandbox gets its own WebAssembly instance of the one precompiled
 *   module, with its own linear memory whose `maximum` is memoryMb — a hard memory cap, and a bug in
 *   one tenant's heap cannot reach another's. Costs an instantiation per cold start and a virtual
 *   address-space reservation per instance (see {@link MAX_LIVE_QUICKJS_INSTANCES}).
 * - `shared` (opt-in, for density): many QuickJS runtimes in one instance. Cheaper to boot and to
 *   keep idle, but they share one growable linear memory: memoryMb is only passed to
 *   `setMemoryLimit`, which under Emscripten bounds single allocations, not a runtime's total; and a
 *   crash of the instance ends every sandbox in it.
 */
import type { QuickJSIsolation } from '../../config/index.ts';
import type { QuickJSContext, QuickJSHandle, QuickJSRuntime } from 'quickjs-emscripten-core';
import type { FunctionBundle } from '../../code/types.ts';
import { EngineUnavailableError } from '../../errors.ts';
import type { Blueprint, Engine, Sandbox, SandboxImage, SandboxOptions } from '../engine.ts';
import { binaryAnswer, textRequest, type BinaryAnswer } from '../binary-host-call.ts';
import { guestRuntime, withStandardLibrary, type GuestRuntime } from '../guest-bundle.ts';
import { REPLY_STALE, STDLIB_PARSE_BEGIN, STDLIB_PARSE_END, USAGE_OP } from '../guest/protocol.ts';
import { QuickJSSandbox } from './quickjs-sandbox.ts';
import { bootFromImage, makeRuntimeImage, type RuntimeImage } from './runtime-image.ts';
import { mallocStateOfModule } from './free-heap.ts';
import { setSourceStripped, withSourceStripped } from './strip-source.ts';
import {
  adoptImage,
  BlankPool,
  REFILL_HOLD_OFF_MAX_MS,
  captureImage,
  imageParts,
  newBlankInstance,
  writeImage,
  type Blank,
  type BlankExtent,
  type MemoryPages,
  type QuickJSImage,
  type QuickJSImageParts,
} from './snapshot.ts';
import { firstInstanceMade, instantiateQuickJS, QUICKJS_MAX_MEMORY_MB, quickjsWasmModule, type QuickJSInstance } from './wasm.ts';
import type { RejectionLog } from './rejection-tracker.ts';
import { randomHex } from '../../random-hex.ts';

export type { QuickJSIsolation };

export interface InThreadQuickJSOptions {
  /** `instance` (default): one WebAssembly instance per sandbox; `shared`: many sandboxes per instance. */
  readonly isolation?: QuickJSIsolation;
  /** SnapStart: blank instances kept ready per memory size; 0 instantiates at each restore. Default 2. */
  readonly blanksPerMemorySize?: number;
  /**
   * Instance isolation: boot from an image of the booted guest runtime (runtime-image.ts) instead
   * of parsing the guest script at every boot. Default true; false is for comparisons and tests.
   */
  readonly runtimeImage?: boolean;
  /**
   * The guest runtime's image made by another thread of this process (its bytes in shared memory):
   * used instead of making one (remote/worker-host.ts hands the first server's to later ones).
   */
  readonly madeRuntimeImage?: RuntimeImage;
  /**
   * Test-only: the `shared` instance's heap maximum in MiB (default {@link QUICKJS_MAX_MEMORY_MB}),
   * so a test can fill it with a 256 MiB bomb instead of 2 GiB (~9 CPU-s and 2 GiB of RSS).
   */
  readonly sharedHeapMb?: number;
}

/**
 * Live WebAssembly instances (instance mode) per process. V8 reserves about 8–10 GiB of virtual
 * address space for each 32-bit WebAssembly memory (guard regions; nodejs/node#41319), and x86-64
 * gives a process 128 TiB: 4096 instances reserve about 40 TiB and leave room for everything else.
 * A boot beyond the cap fails with EngineUnavailableError; use `shared` isolation for more.
 */
export const MAX_LIVE_QUICKJS_INSTANCES = 4096;
/** Sandboxes per instance in `shared` mode; a full (or crashed) instance is replaced by a new one. */
export const SHARED_RUNTIMES_PER_INSTANCE = 1024;
/**
 * QuickJS's stack limit. WebAssembly frames run on the host's native stack, so the limit must leave
 * the host room: at 512 KiB Node's own stack overflows first (a crash of the instance); at 256 KiB
 * deep recursion is QuickJS's catchable stack overflow (about 1,500 simple frames).
 */
export const QUICKJS_MAX_STACK_BYTES = 256 * 1024;
const MIB = 1024 * 1024;
const GUEST_FILENAME = '/var/runtime/lambdalet-guest.js';
/** Running a script at boot only defines functions; this bounds a pathological one. */
const BOOT_TIMEOUT_MS = 10_000;

/**
 * Figures shared by every thread of this process that hosts QuickJS: each worker gets this buffer
 * ({@link useInstanceCounter}). Slot {@link LIVE}: live instances, counted process-wide because the
 * address space the cap protects is the process's. Slots {@link RESTORING} and {@link LAST_RESTORE}:
 * SnapStart restores under way anywhere in the process, and when the last one started or ended
 * (see {@link restoredLately}).
 */
let instanceCounter: Int32Array<SharedArrayBuffer> = new Int32Array(new SharedArrayBuffer(16));
const LIVE = 0;
const LAST_RESTORE = 1;
const RESTORING = 2;
/** Of the {@link LIVE} instances, the spares waiting for a boot ({@link SpareBoots}). */
const SPARES = 3;
/** {@link LAST_RESTORE} holds Date.now() in ms modulo this (an Int32); differences are taken modulo it too. */
const CLOCK_MODULO = 0x80000000;

/**
 * Blanks are not backed while a restore runs anywhere in the process, nor within this many ms of
 * one starting or ending: a blank's backing is CPU (~29 ms for a 48 MB image here, more than
 * restoring into fresh memory: ~19 ms), and in a burst it took the cores from the burst's own
 * restores in other workers (a worker's pool saw only its own restores waiting). Short, because
 * restores under way are counted: with 100 ms (and no count), a steady stream of cold starts 20-30
 * ms apart never let a pool refill, and 57 of 58 restores instantiated their blank on their own
 * path (~1.6 ms of a 4-5 ms Restore Duration, then its image written into unbacked memory).
 */
export const RESTORE_QUIET_MS = 10;

/** Whether a restore runs in this process, or one started or ended within {@link RESTORE_QUIET_MS}. */
function restoredLately(): boolean {
  if (Atomics.load(instanceCounter, RESTORING) > 0) return true;
  const last = Atomics.load(instanceCounter, LAST_RESTORE);
  return last !== 0 && ((Date.now() % CLOCK_MODULO) - last + CLOCK_MODULO) % CLOCK_MODULO < RESTORE_QUIET_MS;
}

/**
 * Between two chunks of a blank's backing: lets this thread's queued work (a restore) run, then
 * waits while restores run elsewhere in the process, at most REFILL_HOLD_OFF_MAX_MS in all per pause.
 */
async function backingPause(): Promise<void> {
  await new Promise((resolve) => setImmediate(resolve));
  const since = performance.now();
  while (restoredLately() && performance.now() - since < REFILL_HOLD_OFF_MAX_MS) await new Promise((resolve) => setTimeout(resolve, RESTORE_QUIET_MS / 2));
}

/** Counts a restore as under way in the process; the returned function ends it (once). */
function beginRestore(): () => void {
  Atomics.add(instanceCounter, RESTORING, 1);
  Atomics.store(instanceCounter, LAST_RESTORE, Date.now() % CLOCK_MODULO);
  let ended = false;
  return () => {
    if (ended) return;
    ended = true;
    Atomics.store(instanceCounter, LAST_RESTORE, Date.now() % CLOCK_MODULO);
    Atomics.sub(instanceCounter, RESTORING, 1);
  };
}

/** The process-wide counter's buffer, handed to the threads that host QuickJS sandboxes. */
export function instanceCounterBuffer(): SharedArrayBuffer {
  return instanceCounter.buffer;
}

/** In a worker thread: count instances in the process's counter (from {@link instanceCounterBuffer}). */
export function useInstanceCounter(buffer: SharedArrayBuffer): void {
  instanceCounter = new Int32Array(buffer);
}

/** Instance-mode WebAssembly instances alive in this process (shared instances are not counted). */
export function liveQuickJSInstances(): number {
  return Atomics.load(instanceCounter, LIVE);
}

/** Of {@link liveQuickJSInstances}, the spares booted from the runtime image ahead of a cold start, not yet taken. */
export function spareQuickJSInstances(): number {
  return Atomics.load(instanceCounter, SPARES);
}

/** Takes a live-instance slot (undefined at the cap); the returned function gives it back (once). */
function countInstance(): (() => void) | undefined {
  const counter = instanceCounter;
  if (Atomics.add(counter, LIVE, 1) >= MAX_LIVE_QUICKJS_INSTANCES) {
    Atomics.sub(counter, LIVE, 1);
    return undefined;
  }
  let released = false;
  return () => {
    if (released) return;
    released = true;
    Atomics.sub(counter, LIVE, 1);
  };
}

function instanceCapError(): EngineUnavailableError {
  return new EngineUnavailableError(
    `The quickjs engine has ${liveQuickJSInstances()} live WebAssembly instances, its cap (MAX_LIVE_QUICKJS_INSTANCES: each ` +
      'reserves gigabytes of address space). Dispose environments, or use shared isolation.',
  );
}

/** Several sandboxes' runtimes in one instance (shared mode). */
interface SharedInstance {
  readonly instance: QuickJSInstance;
  runtimes: number;
  broken: boolean;
}

export class InThreadQuickJS implements Engine {
  readonly name = 'quickjs' as const;
  readonly isolation: QuickJSIsolation;
  #guest: Promise<GuestRuntime> | undefined;
  #shared: Promise<SharedInstance> | undefined;
  /** The booted guest runtime as an image (instance isolation); undefined when it could not be made. */
  #runtimeImage: Promise<RuntimeImage | undefined> | undefined;
  readonly #useRuntimeImage: boolean;
  readonly #givenRuntimeImage: boolean;
  /** SnapStart: blank instances ready to receive an image. */
  readonly #blanks: BlankPool;
  readonly #sharedHeapMb: number;
  /** Instance isolation: an instance per memory size booted from the runtime image ahead of the next cold start. */
  readonly #spares = new SpareBoots(restoredLately);
  /** Shared isolation: a runtime per memory size with the guest runtime evaluated, ahead of the next cold start. */
  readonly #sharedSpares = new SharedSpares(() => this.#sharedInstance(), restoredLately);

  /** This engine's spares ready for a cold start (the process-wide count: {@link spareQuickJSInstances}). */
  get readySpares(): number {
    return this.#spares.ready;
  }

  /** Shared isolation: this engine's spare runtimes ready for a cold start ({@link SharedSpares}). */
  get readySharedSpares(): number {
    return this.#sharedSpares.ready;
  }

  constructor(options: InThreadQuickJSOptions = {}) {
    this.isolation = options.isolation ?? 'instance';
    this.#sharedHeapMb = options.sharedHeapMb ?? QUICKJS_MAX_MEMORY_MB;
    this.#useRuntimeImage = options.runtimeImage ?? true;
    this.#givenRuntimeImage = this.#useRuntimeImage && options.madeRuntimeImage !== undefined;
    if (this.#givenRuntimeImage) this.#runtimeImage = Promise.resolve(options.madeRuntimeImage);
    this.#blanks = new BlankPool((memoryMb, extent, image) => this.#makeBlank(memoryMb, extent, image), options.blanksPerMemorySize, restoredLately);
  }

  /** What another thread needs to restore `image` (one of this engine's). */
  exportImage(image: SandboxImage): QuickJSImageParts {
    return imageParts(image as QuickJSImage);
  }

  /** An image exported by another thread's engine, restorable here. */
  importImage(parts: QuickJSImageParts): SandboxImage {
    return adoptImage(parts, this.#blanks);
  }

  /** WebAssembly is always there; nothing to check. */
  assertAvailable(): void {}

  /**
   * What `prepare` needs before any function: the compiled module, the guest bundle and (instance
   * isolation) the guest runtime's image. An engine server calls it as it starts, so a server the
   * pool grows into has them before its first cold start (made there, 0.1-2 s of a cold start).
   */
  async warm(): Promise<GuestRuntime> {
    const [guest] = await Promise.all([(this.#guest ??= guestRuntime()), quickjsWasmModule()]);
    // Made once per engine (per worker thread), at its start or first deploy: no cold start pays for
    // it. One given by another thread still leaves this thread's first instance to make (the probe).
    if (this.isolation === 'instance' && this.#useRuntimeImage) await Promise.all([this.#imageOf(guest.quickjsScript), firstInstanceMade()]);
    return guest;
  }

  /** The guest runtime's image this engine made itself (not one it was given), once made; else undefined. */
  async madeRuntimeImage(): Promise<RuntimeImage | undefined> {
    if (!this.#runtimeImage || this.#givenRuntimeImage) return undefined;
    return this.#runtimeImage;
  }

  async prepare(bundle: FunctionBundle): Promise<Blueprint> {
    const guest = await this.warm();
    const withLibrary = (options: SandboxOptions): SandboxOptions => ({
      ...options,
      hostCall: withStandardLibrary(guest.stdlib, options.hostCall ?? unavailableHostCall),
    });
    return {
      engine: 'quickjs',
      boot: (options) => this.#boot(guest.quickjsScript, bundle, withLibrary(options)),
      restore: (image, options) => this.#restore(image, withLibrary(options)),
    };
  }

  /** The guest runtime's image, made on first use; a failure is kept as undefined (boots then parse). */
  #imageOf(guest: string): Promise<RuntimeImage | undefined> {
    this.#runtimeImage ??= makeRuntimeImage(guest, startRuntime, evaluateGuest).catch(
      (error: unknown) => {
        process.emitWarning(`lambdalet: the quickjs guest runtime image could not be made (${(error as Error).message}); boots parse the guest script`, {
          code: 'LAMBDALET_QUICKJS_RUNTIME_IMAGE',
        });
        return undefined;
      },
    );
    return this.#runtimeImage;
  }

  /** SnapStart: a sandbox from a blank instance with `image` written into it. */
  async #restore(image: SandboxImage, options: SandboxOptions): Promise<Sandbox> {
    if (image.engine !== 'quickjs' || image.kind !== 'wasm-memory') throw new Error(`quickjs cannot restore a ${image.engine} ${image.kind} image`);
    const quickjsImage = image as QuickJSImage;
    if (quickjsImage.disposed) throw new Error('quickjs: the image was disposed');
    if (options.memoryMb !== image.memoryMb) {
      throw new Error(`quickjs: an image made under memoryMb ${image.memoryMb} cannot be restored under ${options.memoryMb}`);
    }
    const endRestore = beginRestore();
    let blank: Blank | undefined;
    let dispatch: QuickJSHandle;
    try {
      blank = await this.#blanks.take(image.memoryMb, quickjsImage);
      if (!blank) throw instanceCapError();
      dispatch = writeImage(blank, quickjsImage);
    } catch (error) {
      blank?.release();
      throw error;
    } finally {
      endRestore();
    }
    const { started, release } = blank;
    started.current.options = options;
    // As in #boot: the whole instance goes with the sandbox, nothing inside it is freed.
    started.current.sandbox = makeSandbox(started, dispatch, false, release);
    return started.current.sandbox;
  }

  /** A blank instance for the pool, counted as a live instance; undefined at the cap. */
  async #makeBlank(memoryMb: number, extent: BlankExtent | undefined, image: MemoryPages | undefined): Promise<Blank | undefined> {
    const release = countInstance();
    if (!release) return undefined;
    try {
      return { ...(await newBlankInstance(memoryMb, extent, (instance) => startRuntime(instance, memoryMb), backingPause, image)), release };
    } catch (error) {
      release();
      throw error;
    }
  }

  async #boot(guest: string, bundle: FunctionBundle, options: SandboxOptions): Promise<Sandbox> {
    if (this.isolation === 'shared') {
      const spare = this.#sharedSpares.take(options.memoryMb, guest);
      const shared = spare?.shared ?? (await this.#sharedInstance());
      if (!spare) shared.runtimes++;
      const started = spare?.started ?? startRuntime(shared.instance, options.memoryMb);
      started.current.afterFirstInvoke = () => this.#sharedSpares.soon(options.memoryMb, guest);
      return boot(started, spare ? () => spare.install : () => evaluateGuest(started, guest), bundle, options, true, (clean, free) =>
        releaseSharedRuntime(shared, clean, free),
      );
    }
    const image = this.#useRuntimeImage ? await this.#imageOf(guest) : undefined;
    const spare = image ? this.#spares.take(options.memoryMb, image) : undefined;
    // At the cap, spares of other sizes give their slots to the boot before it is refused.
    const release = spare?.release ?? countInstance() ?? (this.#spares.dropAll() > 0 ? countInstance() : undefined);
    if (!release) throw instanceCapError();
    try {
      let started: StartedRuntime;
      let loadGuest: GuestLoader;
      if (image) {
        const restored = spare ?? (await bootFromImage(image, options.memoryMb, startRuntime));
        started = restored.started;
        started.current.afterFirstInvoke = () => this.#spares.soon(options.memoryMb, image);
        loadGuest = () => restored.install;
      } else {
        const parsing = startRuntime(await instantiateQuickJS(options.memoryMb), options.memoryMb);
        started = parsing;
        loadGuest = () => evaluateGuest(parsing, guest);
      }
      const { instance } = started;
      // The whole instance is dropped with the sandbox: nothing inside it needs freeing (`free` is
      // not called), and a broken one (after a trap) must not be touched.
      // Capture runs once INIT is over and the sandbox idle; nothing runs in it while the state is found.
      const snapshot = async (dispatch: QuickJSHandle): Promise<SandboxImage> => captureImage(instance, dispatch, options.memoryMb, this.#blanks, await mallocStateOfModule());
      return boot(started, loadGuest, bundle, options, false, release, snapshot);
    } catch (error) {
      release();
      throw error;
    }
  }

  #sharedInstance(): Promise<SharedInstance> {
    const current = this.#shared;
    const replace = (): Promise<SharedInstance> =>
      (this.#shared = instantiateQuickJS(this.#sharedHeapMb).then((instance) => ({ instance, runtimes: 0, broken: false })));
    if (!current) return replace();
    return current.then((shared) => (shared.broken || shared.runtimes >= SHARED_RUNTIMES_PER_INSTANCE ? replace() : shared));
  }
}

/** A shared instance's runtime is done with: freed inside the instance unless a fault may have broken it. */
function releaseSharedRuntime(shared: SharedInstance, clean: boolean, free: () => void): void {
  shared.runtimes--;
  if (!clean) {
    // A fault (trap, out of memory) may have left the instance broken: no new sandboxes in it.
    shared.broken = true;
    return;
  }
  if (shared.broken) return;
  try {
    free();
  } catch {
    shared.broken = true;
  }
}

interface SharedSpare {
  readonly shared: SharedInstance;
  readonly started: StartedRuntime;
  readonly install: QuickJSHandle;
  readonly guest: string;
  readonly idle: ReturnType<typeof setTimeout>;
}

/**
 * When each memory size's spare is made ({@link SpareBoots}, {@link SharedSpares}): due
 * {@link SPARE_FALLBACK_MS} after a boot took one, brought forward to the next turn once the cold
 * start is over (`soon`: setImmediate, after the reply this turn posts and before the timers; a
 * 1 ms timer often lost the race with the next cold start), put off while SnapStart restores run
 * (a spare's instantiation would take their CPU); one ready or being made per size at most.
 */
class SpareSchedule<Source> {
  /** Sizes whose spare is being made. */
  readonly #making = new Set<number>();
  /** Sizes whose spare is due, with the cancel of its timer: {@link soon} brings it forward. */
  readonly #due = new Map<number, () => void>();
  readonly #holdOff: () => boolean;
  readonly #isReady: (memoryMb: number) => boolean;
  readonly #make: (memoryMb: number, source: Source) => Promise<void>;

  constructor(holdOff: () => boolean, isReady: (memoryMb: number) => boolean, make: (memoryMb: number, source: Source) => Promise<void>) {
    this.#holdOff = holdOff;
    this.#isReady = isReady;
    this.#make = make;
  }

  soon(memoryMb: number, source: Source): void {
    if (this.#due.has(memoryMb)) this.schedule(memoryMb, source, 0);
  }

  schedule(memoryMb: number, source: Source, delayMs: number): void {
    if (this.#making.has(memoryMb) || this.#isReady(memoryMb)) return;
    this.#due.get(memoryMb)?.();
    const due = (): void => {
      this.#due.delete(memoryMb);
      if (this.#holdOff()) return this.schedule(memoryMb, source, RESTORE_QUIET_MS);
      this.#making.add(memoryMb);
      void this.#make(memoryMb, source).finally(() => this.#making.delete(memoryMb));
    };
    if (delayMs === 0) {
      const immediate = setImmediate(due).unref();
      this.#due.set(memoryMb, () => clearImmediate(immediate));
    } else {
      const timer = setTimeout(due, delayMs).unref();
      this.#due.set(memoryMb, () => clearTimeout(timer));
    }
  }
}

/**
 * Shared isolation's spares (issue 21): a sandbox there is a runtime and context of its own inside a
 * shared instance, and its boot parsed and ran the guest runtime's script — ~12 ms of CPU of a
 * trivial cold start here, against ~0.3 ms for the raw baseline's whole cold start (QuickJS has no
 * bytecode cache the FFI can reach, and a runtime cannot be imaged apart from its instance). So, as
 * {@link SpareBoots} does for instance isolation: after each cold start of a memory size, one runtime
 * of that size is started in the shared instance with the guest runtime evaluated in it, and the
 * next boot of that size takes it and evaluates only the user's bundle. It holds no user code
 * (nothing but lambdalet's script ran in it), is taken once, is a runtime like any boot's (its own
 * memory limit, counted in the instance's runtimes), and is freed after {@link SPARE_IDLE_MS}
 * unused; one in an instance that broke meanwhile is dropped unused. Not made while SnapStart
 * restores run in the process.
 */
class SharedSpares {
  readonly #ready = new Map<number, SharedSpare>();
  readonly #instance: () => Promise<SharedInstance>;
  readonly #schedule: SpareSchedule<string>;

  constructor(instance: () => Promise<SharedInstance>, holdOff: () => boolean) {
    this.#instance = instance;
    this.#schedule = new SpareSchedule(holdOff, (memoryMb) => this.#ready.has(memoryMb), (memoryMb, guest) => this.#make(memoryMb, guest));
  }

  /** The ready spare of this size for `guest`, if any; the next one is due either way. */
  take(memoryMb: number, guest: string): SharedSpare | undefined {
    const spare = this.#ready.get(memoryMb);
    this.#ready.delete(memoryMb);
    if (spare) clearTimeout(spare.idle);
    this.#schedule.schedule(memoryMb, guest, SPARE_FALLBACK_MS);
    if (spare && (spare.guest !== guest || spare.shared.broken)) {
      drop(spare);
      return undefined;
    }
    return spare;
  }

  /** How many spares are ready (one per memory size at most). */
  get ready(): number {
    return this.#ready.size;
  }

  /** A cold start of this size is over: its spare, if still due, is made next (as SpareBoots.soon). */
  soon(memoryMb: number, guest: string): void {
    this.#schedule.soon(memoryMb, guest);
  }

  async #make(memoryMb: number, guest: string): Promise<void> {
    if (this.#ready.has(memoryMb)) return;
    let shared: SharedInstance;
    try {
      shared = await this.#instance();
    } catch {
      return; // boots make their own, and say why if they cannot
    }
    if (this.#ready.has(memoryMb) || shared.broken) return;
    shared.runtimes++;
    let started: StartedRuntime | undefined;
    try {
      started = startRuntime(shared.instance, memoryMb);
      const install = evaluateGuest(started, guest);
      const idle = setTimeout(() => {
        const ready = this.#ready.get(memoryMb);
        if (ready?.idle !== idle) return;
        this.#ready.delete(memoryMb);
        drop(ready);
      }, SPARE_IDLE_MS).unref();
      this.#ready.set(memoryMb, { shared, started, install, guest, idle });
    } catch {
      // Boots evaluate the guest themselves, and say why if they cannot.
      const failed = started;
      releaseSharedRuntime(shared, true, () => {
        if (failed) freeStarted(failed);
      });
    }
  }
}

/** A shared spare not used: its runtime freed in its instance (left alone if the instance broke). */
function drop(spare: SharedSpare): void {
  releaseSharedRuntime(spare.shared, true, () => {
    spare.install.dispose();
    freeStarted(spare.started);
  });
}

/** Frees a started runtime whose install was never called (its host functions' handles too). */
function freeStarted(started: StartedRuntime): void {
  started.log.dispose();
  started.hostCall.dispose();
  started.rejections?.take();
  started.instance.rejections.detach(started.context);
  started.context.dispose();
  started.runtime.dispose();
}

/** A new instance with the guest runtime's image written in, made ahead of a boot (it holds no user code). */
interface Spare {
  readonly started: StartedRuntime;
  readonly install: QuickJSHandle;
  readonly release: () => void;
  readonly image: RuntimeImage;
}

/**
 * When a boot's memory size's next spare is made: as soon as the boot's first invoke has returned
 * (its cold start is over), or this long after the boot when no invoke comes (an environment
 * provisioned ahead, a SnapStart template). With a fixed 1 ms after the boot, at load 5-7 the
 * spare's ~0.8 ms of work often ran between the cold start's INIT and its invoke, on its path.
 */
const SPARE_FALLBACK_MS = 20;
/** A spare not taken for this long is dropped (its instance and memory given back): spares follow cold starts, not deployments. */
export const SPARE_IDLE_MS = 30_000;

/**
 * One spare instance per memory size, booted from the guest runtime's image (runtime-image.ts) after
 * each cold start of that size, so the next one starts from it: instantiating and writing the image
 * (~0.8 ms of a ~2.2 ms cold start here, issue 21) leave the cold start's path. A spare is an
 * instance like any boot's, never shared and taken once: each environment still gets its own
 * instance, capped at its memory size; it holds only lambdalet's guest runtime (no user code ran in
 * the template). Counted as a live instance (and in {@link spareQuickJSInstances}); dropped after
 * {@link SPARE_IDLE_MS} unused, and not made while SnapStart restores run in the process.
 */
class SpareBoots {
  readonly #ready = new Map<number, Spare & { readonly idle: ReturnType<typeof setTimeout> }>();
  readonly #schedule: SpareSchedule<RuntimeImage>;

  constructor(holdOff: () => boolean) {
    this.#schedule = new SpareSchedule(holdOff, (memoryMb) => this.#ready.has(memoryMb), (memoryMb, image) => this.#make(memoryMb, image));
  }

  /** The ready spare of this size holding `image`, if any; a new one is made for the next boot either way. */
  take(memoryMb: number, image: RuntimeImage): Spare | undefined {
    const spare = this.#ready.get(memoryMb);
    this.#ready.delete(memoryMb);
    if (spare) {
      clearTimeout(spare.idle);
      Atomics.sub(instanceCounter, SPARES, 1);
    }
    this.#schedule.schedule(memoryMb, image, SPARE_FALLBACK_MS);
    if (spare && spare.image !== image) {
      spare.release();
      return undefined;
    }
    return spare;
  }

  /** How many spares are ready (one per memory size at most). */
  get ready(): number {
    return this.#ready.size;
  }

  /** Drops every ready spare (their instances and slots given back); how many there were. */
  dropAll(): number {
    const spares = [...this.#ready.values()];
    this.#ready.clear();
    for (const spare of spares) {
      clearTimeout(spare.idle);
      Atomics.sub(instanceCounter, SPARES, 1);
      spare.release();
    }
    return spares.length;
  }

  /**
   * A cold start of this size is over: its spare, if still due, is made next (setImmediate: after the
   * reply this turn posts, before the timers; a 1 ms timer often lost the race with the next cold start).
   */
  soon(memoryMb: number, image: RuntimeImage): void {
    this.#schedule.soon(memoryMb, image);
  }

  async #make(memoryMb: number, image: RuntimeImage): Promise<void> {
    if (this.#ready.has(memoryMb)) return;
    const release = countInstance();
    if (!release) return; // at the cap: boots get the slots
    // Counted as a spare from its slot on, so live minus spares is always the environments' count.
    Atomics.add(instanceCounter, SPARES, 1);
    const drop = (): void => {
      Atomics.sub(instanceCounter, SPARES, 1);
      release();
    };
    try {
      const { started, install } = await bootFromImage(image, memoryMb, startRuntime);
      const idle = setTimeout(() => {
        if (this.#ready.get(memoryMb)?.idle !== idle) return;
        this.#ready.delete(memoryMb);
        drop();
      }, SPARE_IDLE_MS).unref();
      this.#ready.set(memoryMb, { started, install, release, image, idle });
    } catch {
      // Boots make their own instance, and say why if they cannot.
      drop();
    }
  }
}

/** Frees what a sandbox holds in its instance (clean: the instance may still be used). */
type Release = (clean: boolean, free: () => void) => void;

/**
 * A runtime + context with the guest's two host functions, before any script runs: the start of
 * every boot, and what a SnapStart restore starts from (snapshot.ts). The sequence must stay
 * identical for both: quickjs-emscripten numbers host functions in creation order and the restored
 * heap refers to them by number, so a blank that made them in the same order answers the image's
 * calls with its own callbacks. The callbacks read `current`, so a blank made ahead of time is
 * bound to its environment's options later.
 */
export interface StartedRuntime {
  readonly instance: QuickJSInstance;
  readonly runtime: QuickJSRuntime;
  readonly context: QuickJSContext;
  /** Host-side handles of the two functions (freed after install; never after a restore). */
  readonly log: QuickJSHandle;
  readonly hostCall: QuickJSHandle;
  /** `bootDeadline`: until a sandbox is set, scripts are interrupted past it (performance.now() ms; reset by each boot, so a spare made ahead gets its full time). */
  readonly current: { sandbox?: QuickJSSandbox; options?: SandboxOptions; bootDeadline: number; afterFirstInvoke?: () => void };
  /** The context's unhandled promise rejections (rejection-tracker.ts); undefined without the tracker. */
  readonly rejections: RejectionLog | undefined;
}

export function startRuntime(instance: QuickJSInstance, memoryMb: number): StartedRuntime {
  const runtime = instance.module.newRuntime();
  const current: StartedRuntime['current'] = { bootDeadline: Number.POSITIVE_INFINITY };
  try {
    runtime.setMemoryLimit(memoryMb * MIB);
    runtime.setMaxStackSize(QUICKJS_MAX_STACK_BYTES);
    current.bootDeadline = performance.now() + BOOT_TIMEOUT_MS;
    runtime.setInterruptHandler(() => (current.sandbox ? current.sandbox.shouldInterrupt() : performance.now() > current.bootDeadline));
    const ctx = runtime.newContext();
    const log = ctx.newFunction('log', (level, message) => {
      // After an interrupt the guest reports the interrupt as the handler's error: not a user line.
      if (current.sandbox?.interrupted) return;
      try {
        const name = ctx.getString(level);
        // The guest runtime's mark, not a line (quickjs-sandbox.ts, settled mode).
        if (name === REPLY_STALE) return void current.sandbox?.replyWentStale();
        current.options?.onLog(name, ctx.getString(message));
      } catch {
        // Fire-and-forget: the host's problems are not the guest's.
      }
    });
    // Copied both ways, as the V8 engine's Callback does. Binary payloads cross as bytes, not as one
    // char per byte: see hostCallFunction.
    // The standard library's chunks are parsed without their source text, as the guest runtime is.
    const stripSource = (on: boolean): void => setSourceStripped(instance, runtime, instance.stripOffset, on);
    const hostCall = ctx.newFunction('hostCall', (op, args, bytes) => hostCallFunction(ctx, current, stripSource, op, args, bytes));
    ctx.setProp(hostCall, 'binary', ctx.true);
    // The guest marks each standard-library chunk's parse (hostCallFunction) where the flag was found.
    if (instance.stripOffset !== undefined) ctx.setProp(hostCall, 'parseMarks', ctx.true);
    // The tracker goes in before any script runs, so an image made from this runtime carries it.
    const rejections = instance.trackerOffset === undefined ? undefined : instance.rejections.attach(runtime, ctx, instance.trackerOffset);
    // So are QuickJS's SharedArrayBuffer hooks (sab-hooks.ts: without them a grown buffer reaches past its memory).
    if (!instance.sabHooks.attach(runtime, instance.sabOffset)) throw new Error('quickjs: the SharedArrayBuffer hooks could not be installed in a new runtime');
    return { instance, runtime, context: ctx, log, hostCall, current, rejections };
  } catch (error) {
    runtime.dispose();
    throw error;
  }
}

/**
 * The guest's host calls (wire format in guest/protocol.ts), with binary payloads as bytes: the
 * guest passes a request's payload as an ArrayBuffer (third argument) and gets an answer's payload
 * as `[head, ArrayBuffer]`, each copied straight between the WebAssembly memory and a Buffer. As
 * latin1 text the guest turned strings into bytes one char at a time, interpreted (/tmp reads ran
 * at ~4 MB/s, issue 21). In a server of this process (SandboxOptions.hostCallBytes) the payload
 * goes on to the environment as bytes too; otherwise the host's text wire format (engines/binary-host-call.ts).
 */
function hostCallFunction(
  ctx: QuickJSContext,
  current: StartedRuntime['current'],
  stripSource: (on: boolean) => void,
  op: QuickJSHandle,
  args: QuickJSHandle,
  bytes: QuickJSHandle | undefined,
): QuickJSHandle {
  const options = current.options;
  const name = ctx.getString(op);
  if (name === USAGE_OP) return ctx.newString(usageAnswer(ctx, current));
  if (name === 'stdlib') {
    // The marks around a standard-library chunk's parse (guest/stdlib-loader.ts): lambdalet's own
    // code, kept without its source text (strip-source.ts); the flag is off again at the end mark.
    const mark = ctx.getString(args);
    if (mark === STDLIB_PARSE_BEGIN || mark === STDLIB_PARSE_END) {
      stripSource(mark === STDLIB_PARSE_BEGIN);
      return ctx.newString('onull');
    }
  }
  let answer: BinaryAnswer;
  if (options?.hostCallBytes && name !== 'stdlib') {
    // The host takes the payload as bytes (a server of this process: remote/server.ts); the
    // standard library's chunks are answered here, by hostCall (withStandardLibrary).
    const view = bytes !== undefined && ctx.typeof(bytes) === 'object' ? ctx.getArrayBuffer(bytes) : undefined;
    try {
      answer = options.hostCallBytes(name, ctx.getString(args), view?.value);
    } finally {
      view?.dispose();
    }
  } else {
    let request = ctx.getString(args);
    if (bytes !== undefined && ctx.typeof(bytes) === 'object') {
      const view = ctx.getArrayBuffer(bytes);
      try {
        request = textRequest(request, view.value);
      } finally {
        view.dispose();
      }
    }
    answer = binaryAnswer((options?.hostCall ?? unavailableHostCall)(name, request));
  }
  if (typeof answer === 'string') return ctx.newString(answer);
  const pair = ctx.newArray();
  const head = ctx.newString(answer[0]);
  const body = ctx.newArrayBuffer(answer[1]);
  ctx.setProp(pair, 0, head);
  ctx.setProp(pair, 1, body);
  head.dispose();
  body.dispose();
  return pair;
}

/** The guest runtime's `install` in a started runtime: evaluated from the script, or adopted from an image. */
type GuestLoader = (context: QuickJSContext) => QuickJSHandle;

/**
 * The guest's process.memoryUsage() / cpuUsage() figures (guest/protocol.ts USAGE_OP), this
 * runtime's alone (a shared instance's linear memory is its neighbours' too: not read): QuickJS's
 * own count of its allocations, of which `binary_object_size` are ArrayBuffers; rss is what the
 * sandbox is charged (memoryUsedBytes, Max Memory Used's figure); CPU is its calls' (cpuMicros).
 * QuickJS walks its heap for the count (~35 µs for the runtime alone).
 */
function usageAnswer(ctx: QuickJSContext, current: StartedRuntime['current']): string {
  let used = 0;
  let buffers = 0;
  try {
    const usage = ctx.runtime.computeMemoryUsage();
    const dumped = ctx.dump(usage) as { memory_used_size?: number; binary_object_size?: number };
    usage.dispose();
    used = Number(dumped.memory_used_size ?? 0);
    buffers = Number(dumped.binary_object_size ?? 0);
  } catch {
    // A runtime past its memory cap cannot make the figures' object: zeros, as before a first read.
  }
  const sandbox = current.sandbox;
  const charged = sandbox ? sandbox.memoryUsedBytes() : 0;
  const heapTotal = Math.max(used, charged);
  return `o${JSON.stringify([heapTotal, heapTotal, used, buffers, buffers, Math.floor(sandbox ? sandbox.cpuMicros() : 0)])}`;
}

/** The guest runtime and the user's module function, install(log, module, hostCall, seed) → dispatch. */
function boot(
  started: StartedRuntime,
  loadGuest: GuestLoader,
  bundle: FunctionBundle,
  options: SandboxOptions,
  shared: boolean,
  release: Release,
  snapshot?: (dispatch: QuickJSHandle) => Promise<SandboxImage>,
): QuickJSSandbox {
  const { runtime, context: ctx, current } = started;
  current.options = options;
  current.bootDeadline = performance.now() + BOOT_TIMEOUT_MS;
  try {
    const install = loadGuest(ctx);
    const userModule = evaluate(ctx, bundle.script, bundle.filename);
    // Fresh entropy for Math.random (and a fresh process clock): see runtime-image.ts.
    const seed = ctx.newString(randomHex(16));
    const dispatch = ctx.unwrapResult(ctx.callFunction(install, ctx.undefined, started.log, userModule, started.hostCall, seed));
    seed.dispose();
    install.dispose();
    userModule.dispose();
    started.log.dispose();
    started.hostCall.dispose();
    current.sandbox = makeSandbox(started, dispatch, shared, release, snapshot);
    return current.sandbox;
  } catch (error) {
    // A script QuickJS cannot load (a syntax error the bundler let through): the instance is fine.
    release(true, () => {
      started.rejections?.take();
      started.instance.rejections.detach(ctx);
      ctx.dispose();
      runtime.dispose();
    });
    throw error;
  }
}

/** The sandbox over a started runtime whose guest is installed (booted, or restored from an image). */
export function makeSandbox(
  started: StartedRuntime,
  dispatch: QuickJSHandle,
  shared: boolean,
  release: Release,
  snapshot?: (dispatch: QuickJSHandle) => Promise<SandboxImage>,
): QuickJSSandbox {
  const { instance, runtime, context: ctx, rejections } = started;
  return new QuickJSSandbox({
    ...(snapshot ? { snapshot: () => snapshot(dispatch) } : {}),
    ...(started.current.afterFirstInvoke ? { afterFirstInvoke: started.current.afterFirstInvoke } : {}),
    runtime,
    context: ctx,
    dispatch,
    takeRejection: () => rejections?.take(),
    growthRefused: instance.growthRefused,
    resetGrowthRefused: instance.resetGrowthRefused,
    memoryUsedBytes: shared ? throttledReading(() => runtimeMemoryUsed(runtime)) : () => instance.memory.buffer.byteLength,
    release: (clean) =>
      release(clean, () => {
        // Values the tracker holds must go before their runtime (QuickJS checks none is left).
        rejections?.take();
        instance.rejections.detach(ctx);
        dispatch.dispose();
        ctx.dispose();
        runtime.dispose();
      }),
  });
}

/**
 * How often a shared-isolation sandbox's memory is measured: QuickJS walks the runtime's whole heap
 * for it (~35 µs for the guest runtime alone, as long as the trivial call it was read after), and
 * the engine server reads it after every call. As the v8 engine reads its heap statistics, at most
 * once per sandbox every this many ms: a figure may trail the heap by that long.
 */
export const SHARED_MEMORY_READ_MS = 10;

/** `measure()`, taken again only once the last reading is {@link SHARED_MEMORY_READ_MS} old on `now`'s clock (ms). */
export function throttledReading(measure: () => number, now: () => number = () => performance.now()): () => number {
  let value = 0;
  let readAt = Number.NEGATIVE_INFINITY;
  return () => {
    const at = now();
    if (at - readAt >= SHARED_MEMORY_READ_MS) {
      value = measure();
      readAt = at;
    }
    return value;
  };
}

/**
 * A shared instance's linear memory belongs to every runtime in it: ask QuickJS what this one holds.
 * Under Emscripten QuickJS cannot see allocation sizes, so this undercounts (an estimate).
 */
function runtimeMemoryUsed(runtime: QuickJSRuntime): number {
  try {
    const usage = runtime.computeMemoryUsage();
    const context = runtime.context ?? undefined;
    const used = context ? Number((context.dump(usage) as { memory_used_size?: number }).memory_used_size ?? 0) : 0;
    usage.dispose();
    return used;
  } catch {
    return 0;
  }
}

function unavailableHostCall(op: string): string {
  return `e${JSON.stringify({ name: 'Error', message: `${op} is not available in this sandbox` })}`;
}

/**
 * lambdalet's guest script evaluated in `started`, its functions without their source text
 * (strip-source.ts: line numbers kept; the user's bundle, evaluated after, keeps its source).
 */
function evaluateGuest(started: StartedRuntime, guest: string): QuickJSHandle {
  return withSourceStripped(started.instance, started.runtime, started.instance.stripOffset, () => evaluate(started.context, guest, GUEST_FILENAME));
}

function evaluate(context: QuickJSContext, code: string, filename: string): QuickJSHandle {
  const result = context.evalCode(code, filename);
  if (!result.error) return result.value;
  const error: unknown = context.dump(result.error);
  result.error.dispose();
  const text = error && typeof error === 'object' ? `${String((error as Error).name)}: ${String((error as Error).message)}` : String(error);
  throw new Error(`QuickJS could not load ${filename}: ${text}`);
}
