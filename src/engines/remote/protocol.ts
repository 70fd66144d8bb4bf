/**
 * Messages between the host thread (remote-engine.ts) and an engine server (server.ts) that runs
 * sandboxes in a worker thread — in this process, or in a child process that relays them
 * (process-child.ts). Everything is structured-cloned; nothing carries a function.
 *
 * Ids: blueprints, sandboxes and images are numbered by the host, unique per host thread; every
 * request that expects an answer carries a call id the answer repeats.
 */
import type { EngineName } from '../../config/index.ts';
import type { SandboxFaultKind, RejectionReason } from '../engine.ts';
import type { GuestReply, HostMessage } from '../guest/protocol.ts';
import type { WasmDefinition } from '../wasm/in-thread.ts';
import type { BinaryAnswer } from '../binary-host-call.ts';
import type { RuntimeImage } from '../quickjs/runtime-image.ts';
import type { SharedStandardLibrary } from '../shared-stdlib.ts';

/** Host → server. */
export type ServerRequest =
  /** A function version's code, prepared once per server before its first boot there. */
  | {
      readonly t: 'define';
      readonly bp: number;
      readonly engine: EngineName;
      readonly script: string;
      readonly filename: string;
      readonly hash: string;
      /** Engine `wasm`: the component's glue and compiled core modules (WebAssembly.Module objects are shared, not copied). */
      readonly wasm?: WasmDefinition;
    }
  | { readonly t: 'forget'; readonly bp: number }
  | { readonly t: 'boot'; readonly id: number; readonly sb: number; readonly bp: number; readonly memoryMb: number }
  | { readonly t: 'restore'; readonly id: number; readonly sb: number; readonly bp: number; readonly img: number; readonly memoryMb: number }
  /**
   * `deadline`: epoch milliseconds (performance.timeOrigin + now()), so time spent queued counts.
   * `budgetMs`: a call sent right behind its sandbox's restore (Blueprint.restore's `resume`): its
   * deadline is `budgetMs` after the restore began on the server (its image at hand), not
   * `deadline`: starting the server, its child and the image's adoption are not the restore's work.
   */
  | { readonly t: 'call'; readonly id: number; readonly sb: number; readonly message: HostMessage; readonly deadline: number; readonly budgetMs?: number }
  | { readonly t: 'snapshot'; readonly id: number; readonly sb: number; readonly img: number }
  | { readonly t: 'dispose'; readonly sb: number }
  /**
   * An image another server made, shareable (its bytes in shared memory), or one made outside the
   * servers (EnginePool.share). With `id`, the server answers `ready` once it has adopted it.
   */
  | { readonly t: 'adopt'; readonly img: number; readonly engine: EngineName; readonly parts: unknown; readonly id?: number }
  | { readonly t: 'drop'; readonly img: number }
  /** The answer to a v8 sandbox's heavy host call (`heavy` event), named by its call: one for a call no longer waiting is dropped. */
  | { readonly t: 'heavyAnswer'; readonly sb: number; readonly hc: number; readonly answer: BinaryAnswer };

/** A sandbox fault, copied across. */
export interface FaultShape {
  readonly kind: SandboxFaultKind;
  readonly message: string;
  readonly reason?: RejectionReason;
  /** For `unhandled-rejection`: the phase's outcome, when it had one before the rejection (SandboxFault.settled). */
  readonly settled?: GuestReply;
}

/** Server → host. */
export type ServerEvent =
  /**
   * The server has loaded and handles requests from now on (its first event). `runtimeImage`: the
   * guest runtime's image it made as it started (a QuickJS server not given one), for later servers.
   * `tid`: a worker's OS thread id (Linux), whose CPU time its watchdog reads (stuck-watch.ts).
   */
  | { readonly t: 'up'; readonly runtimeImage?: RuntimeImage; readonly tid?: number }
  /**
   * Sent by a server's host (worker-host.ts), not the server: at each watchdog look while a call is
   * past its deadline and its worker's thread has not yet burned the grace of CPU (stuck-watch.ts).
   * The pool counts it as the server answering (engine-pool.ts #giveUpStuck): the watchdog holds the
   * call and ends the worker itself, within STUCK_BACKSTOP_MS of the deadline.
   */
  | { readonly t: 'overdue' }
  | { readonly t: 'log'; readonly sb: number; readonly level: string; readonly message: string }
  /**
   * The guest called the host (the worker waits for the answer: see server.ts). `hc` numbers the
   * server's host calls (1, 2, … wrapping below 2^31); the answer repeats it and `sb` ({@link HostAnswer}).
   * `binary` (a server started with `hostCallBytes`): the request's payload is `bytes` (transferred,
   * not copied) and the answer may be `[head, ArrayBuffer]` (engines/binary-host-call.ts), not text.
   */
  | {
      readonly t: 'host';
      readonly sb: number;
      readonly hc: number;
      readonly op: string;
      readonly args: string;
      readonly binary?: true;
      readonly bytes?: ArrayBuffer;
      /** Instead of `bytes`: the payload is the first `staged` bytes of the server's staging area (ServerData.staging). */
      readonly staged?: number;
    }
  /** A boot, restore or snapshot finished; `error` when it threw (not a fault: a refusal or a bug). */
  /**
   * A v8 sandbox's heavy host call (SandboxOptions.hostCallAsyncBytes: Brotli, pbkdf2, scrypt, key
   * generation), answered later by a `heavyAnswer` request while the server goes on serving its
   * other sandboxes; its guest waits on its own thread (v8/deferred-host-calls.ts).
   */
  | { readonly t: 'heavy'; readonly sb: number; readonly hc: number; readonly op: string; readonly args: string; readonly bytes?: ArrayBuffer }
  /** The sandbox gave up waiting for heavy call `hc` (disposed, or its call's deadline): work not started never starts. */
  | { readonly t: 'heavyAbort'; readonly sb: number; readonly hc: number }
  /** `began` (a restore's): epoch ms when the server began restoring, its image at hand. */
  | { readonly t: 'ready'; readonly id: number; readonly error?: ErrorCopy; readonly image?: ImageInfo; readonly began?: number }
  /**
   * A call's answer: the reply, the guest's status right after it when the phase is not done (the
   * host's synchronous `peek` reads it), and the sandbox's memory; or the fault that ended it.
   * The reply and the status cross as one string each, in the guest's reply format
   * (guest/protocol.ts encodeReply; the host decodes them): a thread's `postMessage` copies one
   * string for less than an object of six fields (a worker round trip 15-16 -> 12-13 µs, load ~13).
   */
  | {
      readonly t: 'reply';
      readonly id: number;
      readonly reply?: string;
      readonly status?: string | { readonly fault: FaultShape };
      readonly fault?: FaultShape;
      readonly memoryBytes: number;
      /** The guest's CPU time in this call, in ms, when the server could measure it. */
      readonly cpuMs?: number;
      /**
       * A call run on the server's own thread (QuickJS, a component): its wall time less its waits
       * for the host's answers, in ms — the time the guest wanted a CPU, preemption included, as
       * a v8 isolate's `cpuTime` counts it (engine-pool.ts `#weigh`).
       */
      readonly busyMs?: number;
    }
  /**
   * One engine server (worker thread) of a process-isolation child ended — terminated by its
   * watchdog, crashed, or could not start (child-servers.ts) — and the child goes on with its others
   * (and a new one when it was the last). Sent by the child only. `sandboxes`: the ones that lived
   * there (gone); `ids`: its requests still unanswered (never to be answered); `unstarted`: those
   * of `ids` that are calls certainly not started there (QuickJS and component calls past the
   * highest id the server recorded as started, ServerData.signal [2]): their callers may run the
   * invocation again elsewhere (SandboxFault `not-started`).
   */
  | { readonly t: 'lost'; readonly reason: string; readonly sandboxes: readonly number[]; readonly ids: readonly number[]; readonly unstarted?: readonly number[] }
  /**
   * The server can no longer be trusted (isolated-vm's catastrophic error, or a host-call answer
   * that was not its call's: `code` LAMBDALET_HOST_CALL_MISMATCH, logged by the host): the host replaces it.
   */
  | {
      readonly t: 'unhealthy';
      readonly reason: string;
      readonly code?: string;
      /**
       * Calls the failure ended, with their fault (a catastrophe's sandbox's calls in flight: out of
       * memory): the host answers them from this event, whatever it does before their own replies
       * arrive (it ignores those then). Other calls in flight get the grace period (engine-pool.ts).
       */
      readonly failed?: readonly { readonly id: number; readonly fault: FaultShape }[];
    };

/** Which host call an answer is for: the `sb` and `hc` of its `host` event. */
export interface HostCallId {
  readonly sb: number;
  readonly hc: number;
}

/** A host-call answer as it crosses the answers port: the call it is for, and the answer (text, or `[head, bytes]` for a binary call). */
export interface HostAnswer extends HostCallId {
  readonly answer: BinaryAnswer;
}

/** An error thrown by a boot, restore or snapshot, copied across (name kept for SnapshotUnsupportedError). */
export interface ErrorCopy {
  readonly name: string;
  readonly message: string;
}

/** What the host learns of an image made in a server. */
export interface ImageInfo {
  readonly kind: 'wasm-memory' | 'v8-startup-snapshot';
  readonly memoryMb: number;
  readonly sizeBytes: number;
  /** Present when other servers can adopt the image (it lives in shared memory); absent: only its maker restores it. */
  readonly parts?: unknown;
}

/** What a worker is started with (its `workerData`). */
export interface ServerData {
  /** Marks a worker started as an engine server. */
  readonly lambdaletEngineServer: true;
  /**
   * The JS guest runtime; absent in a server that hosts only wasm components. Its standard library
   * in shared memory when it could be packed (engines/shared-stdlib.ts: one copy per process).
   */
  readonly guest?: { readonly script: string; readonly quickjsScript: string; readonly stdlib: Readonly<Record<string, string>> | SharedStandardLibrary };
  /** The QuickJS WebAssembly module, compiled once by the host thread. */
  readonly quickjsModule?: object;
  /** The process's live-QuickJS-instance counter (engines/quickjs/in-thread.ts). */
  readonly instanceCounter: SharedArrayBuffer;
  /**
   * [0]: the `hc` of the host call the host answered last (0: none yet). [1]: the call id running
   * synchronously (0: none). [2]: the highest id of a synchronous call started here (0: none;
   * {@link STARTED_UNKNOWN} once an id beyond it started): a call of a higher id has run no guest
   * code (child-servers.ts moves a fresh sandbox whose calls all have, when its server ends).
   */
  readonly signal: SharedArrayBuffer;
  /** The port host-call answers come back on (read synchronously by the blocked worker). */
  readonly answers: import('node:worker_threads').MessagePort;
  readonly quickjs: {
    readonly isolation?: 'instance' | 'shared';
    readonly blanksPerMemorySize?: number;
    /** Test-only: the `shared` instance's heap maximum in MiB (in-thread.ts `sharedHeapMb`). */
    readonly sharedHeapMb?: number;
  };
  /** The guest runtime's image an earlier server of this process made (bytes in shared memory): used instead of making one. */
  readonly runtimeImage?: RuntimeImage;
  /**
   * Host calls with payloads as bytes both ways (a worker of this process: ArrayBuffers cross a
   * MessagePort; process isolation's relay speaks text over IPC and leaves it off).
   */
  readonly hostCallBytes?: boolean;
  /**
   * With hostCallBytes: a growable SharedArrayBuffer (at most {@link STAGING_MAX_BYTES}) where the
   * server puts an `fs` call's payload for the host to read in place (the `staged` host event),
   * instead of a fresh ArrayBuffer transferred per call.
   */
  readonly staging?: SharedArrayBuffer;
  /**
   * False: replies carry no `cpuMs` (nor `busyMs`) for guests that run on the server's own thread
   * (QuickJS, wasm components), whose CPU time costs two getrusage calls per call to read — for a
   * pool with no background servers, which never weighs calls. `after-busy`: `cpuMs` only for a
   * call of a sandbox whose previous call was busy for engine-pool.ts HEAVY_CALL_CPU_MS (`busyMs`
   * always): a pool that weighs calls where a trivial call must not pay the syscalls (in-process
   * QuickJS; the pool counts a busy call with no `cpuMs` as heavy, and needs three in a row, so
   * the CPU of at least the last two is read). Default true.
   */
  readonly guestCpuTime?: boolean | 'after-busy';
  /**
   * Plain replies cross as one string each (text-calls.ts); calls may cross so whatever this says
   * (the host encodes them, the server reads both forms).
   */
  readonly textCalls?: boolean;
  /**
   * A background server's OS priority: the worker lowers its own thread to this nice value before
   * it takes any request (thread-priority.ts; Linux only, elsewhere it runs at normal priority).
   */
  readonly nice?: number;
  /**
   * SnapStart pool refills shared by a pool's servers (v8/restore-servers.ts): one Int32 slot per
   * background deserialisation allowed at a time across them, holding {@link refillOwner} of the
   * server running one (0: free). A server refills only once it holds a slot, so with fewer slots than
   * servers one server's thread stays free for restores (issue 21). A server that ends holding one
   * has it freed by its host (worker-host.ts).
   */
  readonly refills?: SharedArrayBuffer;
}

/**
 * The largest payload that crosses through the staging area; larger ones are transferred. The area
 * grows to the largest payload staged so far and stays that size for the server's life: memory
 * resident per server, traded for no fresh 8 MiB buffer per /tmp write (each one page-faulted in
 * and counted as external memory that drives the host's garbage collections).
 */
export const STAGING_MAX_BYTES = 16 * 1024 * 1024;

/** What a server's thread writes in a ServerData.refills slot it holds: never 0 (a free slot), even for thread 0. */
export function refillOwner(threadId: number): number {
  return threadId + 1;
}

/** ServerData.signal's length in Int32 slots. */
export const SIGNAL_SLOTS = 4;
/**
 * ServerData.signal slot [3]: how many V8 isolates the server is deserialising from SnapStart
 * images now (pool refills and restores with none ready). `new Isolate({ snapshot })` holds the
 * server's thread for the whole copy of the heap (~100 ms for a 37 MB heap, 300+ ms at load ~15):
 * a restore sent there waits behind it, so the host sends restores elsewhere when it can
 * (engine-pool.ts #pickForRestore; issue 21).
 */
export const SIGNAL_DESERIALISING = 3;
/** ServerData.signal slot [2]'s value once a call id beyond Int32 started: which calls started is unknown. */
export const STARTED_UNKNOWN = 0x7fffffff;
