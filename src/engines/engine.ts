/**
 * The one seam every engine implements. The environment, runtime and (later) dispatcher talk to
 * sandboxes only through these interfaces, never to isolated-vm or QuickJS directly.
 *
 * Contract:
 * - `Engine.prepare` runs once per function version and may compile and cache; it never runs user
 *   code. `Blueprint.boot` makes a fresh sandbox with the guest runtime (engines/guest/) and the
 *   user's bundle loaded but NOT initialised: INIT is the guest's `init` message.
 * - A sandbox runs one message at a time. `call` may run user code and must enforce `timeoutMs`
 *   on synchronous execution; `peek` answers the `status` read right after a call (no user code)
 *   from what the engine read with that call, and must never wait on the sandbox (a synchronous
 *   wait on the host's thread is how a guest stalls the host: engines/v8/v8-sandbox.ts). Both
 *   reject/throw {@link SandboxFault} when the sandbox can no longer answer.
 * - After any fault, or after `dispose`, the sandbox is dead: every later call faults.
 * - Only copied plain data crosses: messages in, replies out, and the two host functions the guest
 *   runtime receives at boot (`onLog`, `hostCall`), whose arguments and results are strings copied
 *   across. No host object ever reaches the guest.
 */
import type { BinaryAnswer } from './binary-host-call.ts';
import type { FunctionBundle } from '../code/types.ts';
import type { EngineName } from '../config/index.ts';
import type { GuestReply, HostMessage } from './guest/protocol.ts';

export interface Engine {
  readonly name: EngineName;
  /** Throws EngineUnavailableError when the engine cannot run in this process, saying how to fix it. */
  assertAvailable(): void;
  /**
   * `hints.memoryMb`: the function's memory size, for engines that compile per size (wasm writes
   * the cap into its modules); engines may ignore it.
   */
  prepare(bundle: FunctionBundle, hints?: { readonly memoryMb?: number }): Promise<Blueprint>;
}

export interface SandboxOptions {
  /** Memory cap for the sandbox, in MB (the function's memoryMb). */
  readonly memoryMb: number;
  /** One console line from the guest (fire-and-forget). */
  readonly onLog: (level: string, message: string) => void;
  /**
   * The guest's synchronous channel to the host (file system, randomness, fetch): `op` and `args`
   * in, one string out, both copied. It must not throw; failures are encoded in the answer (see
   * guest/protocol.ts, "host calls"). Absent: every host call answers "not available".
   */
  readonly hostCall?: (op: string, args: string) => string;
  /**
   * The same channel with payloads as bytes both ways (binary-host-call.ts's shapes), for engines
   * whose guest hands the host an ArrayBuffer directly (in-process v8; quickjs in worker threads of
   * this process, whose payloads cross the MessagePort as ArrayBuffers): must answer what
   * `binaryAnswer(hostCall(op, textRequest(args, bytes)))` would. Optional; process isolation's
   * children use `hostCall`.
   */
  readonly hostCallBytes?: (op: string, args: string, bytes: Uint8Array | undefined) => BinaryAnswer;
  /**
   * For an engine that can wait for an answer without the host's thread (a guest in an engine
   * server, blocked in the host-call handshake; an in-process v8 guest, blocked in Atomics.wait:
   * v8/deferred-host-calls.ts): the calls whose work is too heavy for the host's
   * thread, answered later with exactly what `hostCall(op, textRequest(args, bytes))` would answer (never rejects);
   * undefined for the others, which go to `hostCall`. `signal` aborts at the invocation's deadline
   * (or when the call that made it has ended otherwise): work not yet started then never starts
   * (environment/heavy-work.ts). Optional.
   */
  readonly hostCallAsync?: (op: string, args: string, bytes: Uint8Array | undefined, signal?: AbortSignal) => Promise<string> | undefined;
  /**
   * {@link hostCallAsync} with the answer in binary-host-call.ts's shapes: must answer what
   * `binaryAnswer` of hostCallAsync's text would, for an engine whose guest takes bytes (in-process
   * v8): a heavy call's output (up to 64 MiB of Brotli) is not turned into latin1 text and back on
   * the host's thread. Optional.
   */
  readonly hostCallAsyncBytes?: (op: string, args: string, bytes: Uint8Array | undefined, signal?: AbortSignal) => Promise<BinaryAnswer> | undefined;
}

export interface Blueprint {
  readonly engine: EngineName;
  boot(options: SandboxOptions): Promise<Sandbox>;
  /**
   * SnapStart: a sandbox restored from `image` (made by a sandbox of this blueprint), holding the
   * guest's state after INIT and the before-snapshot hooks; host functions come from `options`
   * (memoryMb must equal the image's). The caller then sends the guest's `restore` message.
   * Absent when the engine cannot restore.
   *
   * `resume`: that `restore` message, given ahead. An engine whose sandboxes live in another thread
   * may send it along with the restore (one round trip fewer on the cold start's path), to run
   * once the sandbox is made and before any other call; the sandbox's first `call` with this same
   * message object then answers with that run's reply. Its deadline is `resume.timeoutMs` after the
   * restore request, or, where the engine knows it (engines/remote/: a server, a child process or an
   * image adoption to wait for first), after the restore work began: then it calls `resume.began`
   * with that time (epoch ms) before the restore settles. Lambda's restore limit counts the
   * snapshot's restore and the after-restore hooks, not the provisioning of the microVM. An engine
   * may ignore `resume`: the caller's call then runs it.
   */
  restore?(image: SandboxImage, options: SandboxOptions, resume?: SentAhead): Promise<Sandbox>;
}

/** A sandbox's first call, sent with the request that makes the sandbox (Blueprint.restore). */
export interface SentAhead {
  readonly message: HostMessage;
  readonly timeoutMs: number;
  /** Told when the restore work began (epoch ms), if later than the request: the deadline counts from then. */
  readonly began?: (epochMs: number) => void;
}

/**
 * SnapStart's picture of an initialised sandbox. Made only by lambdalet from its own sandboxes, and
 * never accepted from a user (snapshot bytes can hold machine code: isolated-vm's CVE-2022-39266).
 * Opaque outside its engine.
 */
export interface SandboxImage {
  readonly engine: EngineName;
  /** How sandboxes start from it, for reports: `wasm-memory` (QuickJS), `v8-startup-snapshot` (V8). */
  readonly kind: 'wasm-memory' | 'v8-startup-snapshot';
  /** The memory cap the image was made under; restores must use the same. */
  readonly memoryMb: number;
  /** Bytes the image keeps in the host's memory. */
  readonly sizeBytes: number;
  /** Frees what the image holds (pooled blanks, buffers). Idempotent. */
  dispose(): void;
}

/** The engine cannot snapshot what this sandbox's INIT built; the sandbox itself is unharmed. */
export class SnapshotUnsupportedError extends Error {
  constructor(message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = 'SnapshotUnsupportedError';
  }
}

export interface Sandbox {
  call(message: HostMessage, timeoutMs: number): Promise<GuestReply>;
  peek(message: HostMessage): GuestReply;
  /** Memory the sandbox holds now, in bytes (heap + external buffers). */
  memoryUsedBytes(): number;
  /** Frees the sandbox; an in-flight call faults with `disposed`. Idempotent. */
  dispose(): void;
  readonly disposed: boolean;
  /**
   * SnapStart: an image of this sandbox, called once it has finished INIT and the guest's
   * `snapshot` message (before-snapshot hooks) with no call in flight. Rejects with
   * {@link SnapshotUnsupportedError} when the engine cannot capture what INIT built (the caller
   * falls back); any other rejection is a bug. Absent when the engine cannot snapshot.
   */
  snapshot?(): Promise<SandboxImage>;
  /**
   * CPU time the guest has used in this sandbox so far, in ms (v8: the isolate's `cpuTime`). Absent
   * when the engine cannot tell it apart from its thread's (QuickJS: its server measures the thread).
   */
  cpuTimeMs?(): number;
  /**
   * True once the engine asks that the sandbox not serve another invocation (process isolation
   * moves a CPU-heavy function's sandboxes to low-priority processes: engine-pool.ts). The
   * environment ends when it is next idle, never during an invocation; the next one cold-starts.
   */
  readonly retired?: boolean;
}

/**
 * `not-started`: the sandbox ended (its engine server was terminated, e.g. for a neighbour's call
 * stuck past its deadline) before this call began running guest code — certain, not guessed (the
 * server records the calls it starts: engines/remote/engine-pool.ts). The environment lets its
 * caller run the invocation again on a fresh environment when it is the phase's first call
 * (invoke/run.ts); for any later call of a phase it is a crash.
 */
export type SandboxFaultKind = 'timeout' | 'out-of-memory' | 'unhandled-rejection' | 'disposed' | 'crashed' | 'not-started';

/** A rejection reason as the engine saw it, copied out of the sandbox. */
export interface RejectionReason {
  /** `String(reason)`, as Node prints it (`Error: boom`). */
  readonly text: string;
  /** The reason's stack lines, if it was an Error. */
  readonly stack: readonly string[];
}

/**
 * The sandbox could not answer: it timed out, ran out of memory, left a promise rejection
 * unhandled (Node's process would exit), was disposed or broke.
 */
export class SandboxFault extends Error {
  readonly kind: SandboxFaultKind;
  /** For `unhandled-rejection`: the rejection reason. */
  readonly reason: RejectionReason | undefined;
  /**
   * For `unhandled-rejection`: the guest's reply read just before the sandbox was discarded, when
   * the phase already had its outcome — the response was decided before the rejection went
   * unhandled, and stands (the runtime client posts it first, then exits with code 128).
   */
  readonly settled: GuestReply | undefined;

  constructor(kind: SandboxFaultKind, message: string, options?: ErrorOptions & { reason?: RejectionReason; settled?: GuestReply }) {
    super(message, options);
    this.name = 'SandboxFault';
    this.kind = kind;
    this.reason = options?.reason;
    this.settled = options?.settled;
  }
}
