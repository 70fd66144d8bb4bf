/**
 * The messages that cross the sandbox boundary, shared by the host (environment/) and the guest
 * runtime (this folder). Only copied plain data crosses: strings, numbers, plain objects.
 * Both sides import these types; nothing here runs.
 */
import { RESPONSE_PAYLOAD_MAX_BYTES } from '../../config/limits.ts';

/** Lambda's error shape, as the runtime interface client posts it. */
export interface ErrorShape {
  readonly errorType: string;
  readonly errorMessage: string;
  readonly trace: readonly string[];
}

/** Facts about the function the guest needs at INIT. */
export interface InitMessage {
  readonly type: 'init';
  /** The context fields that stay the same for every invocation of this environment. */
  readonly context: EnvironmentContextFields;
  /** process.env inside the sandbox: the user's variables plus Lambda's reserved ones. */
  readonly env: Readonly<Record<string, string>>;
  /** The configured handler string, for error messages. */
  readonly handler: string;
  /** Property path walked on the module's export root. */
  readonly handlerPath: readonly string[];
  readonly runtime: 'nodejs22.x' | 'nodejs24.x';
  /** Present when the handler's module is an ES module (Node's wording of CommonJS globals). */
  readonly moduleScope?: ModuleScope;
}

/** Facts about an ES module handler that Node's messages mention. */
export interface ModuleScope {
  /** For a `.js` module: the package.json (as `/var/task/...`) whose `"type": "module"` made it ESM. */
  readonly typeModulePackageJson?: string;
}

/** The context fields fixed for an environment (Lambda takes them from its environment variables). */
export interface EnvironmentContextFields {
  readonly functionName: string;
  readonly functionVersion: string;
  readonly invokedFunctionArn: string;
  readonly memoryLimitInMB: string;
  readonly logGroupName: string;
  readonly logStreamName: string;
}

/** One invocation: what Lambda sends in the Lambda-Runtime-* headers and the body. */
export interface InvokeMessage {
  readonly type: 'invoke';
  readonly requestId: string;
  /** Wall-clock deadline, ms since the epoch (getRemainingTimeInMillis counts down to it). */
  readonly deadlineMs: number;
  /** `{ clientContext, identity }` as JSON text, or '' when the caller sent neither. */
  readonly extras: string;
  /** The event, as the JSON text the caller sent. */
  readonly event: string;
}

/**
 * SnapStart: the first message to a sandbox restored from a snapshot. The guest forgets the
 * template's log count, takes this environment's context fields, reseeds its random number generator
 * (every copy of one snapshot would otherwise draw the same numbers), then runs the function's
 * after-restore hooks as a phase.
 */
export interface RestoreMessage {
  readonly type: 'restore';
  /** Fresh entropy from the host, 64 hex digits. */
  readonly seed: string;
  /** This environment's context fields (its own log stream). */
  readonly context: EnvironmentContextFields;
}

/**
 * `status` reads the guest's state and runs no user code, so an engine may answer it
 * synchronously. `tick` runs due timers. `drain` tells the guest its event loop is empty and
 * nothing else will happen: it settles the phase as Node's `beforeExit` would.
 * SnapStart: `snapshot` runs the before-snapshot hooks as a phase; `verify` is answered ok (payload
 * `true`) only by a guest that holds a loaded handler, and runs no user code.
 */
export type HostMessage =
  | InitMessage
  | InvokeMessage
  | RestoreMessage
  | { readonly type: 'status' }
  | { readonly type: 'tick' }
  | { readonly type: 'drain' }
  | { readonly type: 'snapshot' }
  | { readonly type: 'verify' };

/** The guest's answer to every message. */
export interface GuestReply {
  /** The current phase (INIT or the invocation) has an outcome. */
  readonly done: boolean;
  /** With `done`: the phase succeeded (`payload` set) or failed (`error` set). */
  readonly ok?: boolean;
  /** JSON text of the handler's response. */
  readonly payload?: string;
  readonly error?: ErrorShape;
  /**
   * The environment must be discarded after this outcome (an uncaught exception, a failed INIT),
   * as Lambda's runtime process exits.
   */
  readonly fatal?: boolean;
  /** Milliseconds until the next timer is due; -1 when no timer is pending. */
  readonly nextTimerInMs: number;
  /** Log lines the guest has emitted since it booted: the host waits until it has them all. */
  readonly logCount: number;
}

/** The host functions an engine hands the guest runtime's install() at boot (and nothing else). */
export interface GuestHost {
  /** Fire-and-forget: one console line. `level` is Lambda's (INFO, WARN, ERROR...). */
  log(level: string, message: string): void;
  /** Synchronous: one host call (see "Host calls" below). */
  call(op: string, args: string): string;
}

/**
 * The guest script's completion value: `install(log, userModule, hostCall, seed?)` returns
 * `dispatch`. `binary`: `hostCall` takes and gives binary payloads as ArrayBuffers (see "Host
 * calls" below). `seed` (32 hex digits or more, from the host's entropy) reseeds Math.random and
 * restarts `process.uptime()`: a guest booted from an image of the guest runtime (quickjs) would
 * otherwise draw the image's sequence in every environment. `answerSlot`: where the host marks a
 * deferred host call answered (see "Host calls" below; in-process v8 only). `rebind` swaps the
 * host functions of an installed guest: a V8 startup snapshot cannot hold host functions, so a
 * sandbox restored from one gets its own through this.
 */
export interface GuestInstall {
  (log: GuestHost['log'], userModule: () => Promise<unknown>, hostCall: GuestHost['call'], seed?: string, binary?: boolean, answerSlot?: SharedArrayBuffer): GuestDispatchFunction;
  rebind(log: GuestHost['log'], hostCall: GuestHost['call'], binary?: boolean, answerSlot?: SharedArrayBuffer): void;
}

/**
 * `dispatch(type, body)` answers a string at once. `dispatch(type, body, true)` (a host that reads
 * the answer only after the call's microtasks: isolated-vm's task epilogue) may answer a promise
 * of that string instead: it settles as soon as the phase has an outcome, or after
 * {@link SETTLED_REPLY_TURNS} microtask turns without one (then the reply says pending and the host
 * reads the status, which follows every microtask, with a second call). If, after a reply that had
 * an outcome, the environment breaks in the same call (an uncaught exception in a later microtask),
 * the guest writes {@link REPLY_STALE} on its log channel — which the host receives before the
 * call's answer — and the host reads the status again instead of trusting that reply.
 */
export type GuestDispatchFunction = (type: string, body: string, settled?: boolean | typeof DEFERRED_REPLY) => string | Promise<string> | (() => string);

/**
 * `dispatch(type, body, DEFERRED_REPLY)`, for a host that runs the call's microtasks itself before
 * it reads anything (the QuickJS sandbox drains the job queue after every call): the answer is a
 * function that returns the reply, and the host calls it once the jobs have run. The reply then
 * already follows every microtask of the call, so nothing is pending that a settled-mode promise
 * would wait for and no outcome can go stale; the guest makes no promise and no closure for it
 * (QuickJS interprets each one: settled mode's turns cost about what the status read they save).
 */
export const DEFERRED_REPLY = 2;

/** Microtask turns a settled-mode dispatch waits for an outcome before it answers pending (see GuestDispatchFunction). */
export const SETTLED_REPLY_TURNS = 32;

/**
 * The guest runtime's mark on its log channel (the level; never a console line, which has a
 * Lambda level): a reply with an outcome already given in this call no longer holds.
 */
export const REPLY_STALE = 'lambdalet:reply-stale';

/**
 * The host call a v8 guest makes once, when it first compiles WebAssembly (wasm-ledger.ts): a note
 * for SnapStart, answered `null` by the v8 engine itself. A V8 startup snapshot cannot hold a
 * compiled module, so an INIT that made it is not snapshotted (v8-sandbox.ts snapshot()).
 */
export const WASM_COMPILED_OP = 'wasm-compiled';

/**
 * The host call behind the guest's process.memoryUsage(), cpuUsage() and resourceUsage()
 * (process.ts), answered by the engine itself from this environment's own isolate or QuickJS
 * runtime — never the host process's figures — as `o[rss, heapTotal, heapUsed, external,
 * arrayBuffers, cpuMicros]` (bytes; CPU time in µs). rss is the memory the environment is charged
 * (what Max Memory Used reads).
 */
export const USAGE_OP = 'process.usage';


/*
 * Wire format. Messages and replies cross as two strings rather than objects: a string crosses an
 * isolate boundary without a structured clone, which halves the cost of a warm invoke.
 *
 *   host → guest: dispatch(type, body)
 *     init | restore: body = JSON of the message
 *     invoke: body = requestId \n deadlineMs \n extras \n traceId \n event   (JSON texts hold no raw newline)
            traceId: _X_AMZN_TRACE_ID for the invocation ({@link traceHeader}), or '' and the guest
            makes it. The QuickJS sandbox makes it (encodeMessage's `withTraceId`) on its own thread,
            JIT-compiled: in QuickJS its string work was interpreted on every invoke (~2.5-5 µs of a
            ~15 µs guest call, issue 21). V8 runs the guest's JIT-compiled too, and there the host
            is the host's own thread, which every in-process v8 invoke shares: v8 leaves it to the guest.
 *     status | tick | drain | snapshot | verify: body = ''
 *   guest → host: one string
 *     <state><fatal><nextTimerInMs>,<logCount>,<rest>
 *     state '-' pending | 'o' ok (rest = payload JSON) | 'e' error (rest = ErrorShape JSON)
 *     fatal 'f' | '-'
 */

export function encodeMessage(message: HostMessage, withTraceId = false): [type: HostMessage['type'], body: string] {
  switch (message.type) {
    case 'init':
    case 'restore':
      return [message.type, JSON.stringify(message)];
    case 'invoke':
      return ['invoke', `${message.requestId}\n${message.deadlineMs}\n${message.extras}\n${withTraceId ? traceHeader(message.requestId, Date.now()) : ''}\n${message.event}`];
    default:
      return [message.type, ''];
  }
}

/**
 * An invoke as the guest receives it: with its X-Ray trace header if the host made it, else '' (see
 * the wire format), and its deadline as the text that crossed: read as a number only when
 * getRemainingTimeInMillis is called (in QuickJS, `Number()` of the 13 digits on every invoke was
 * ~0.8 µs of a ~20 µs call, issue #21).
 */
export interface DecodedInvokeMessage extends Omit<InvokeMessage, 'deadlineMs'> {
  readonly deadlineText: string;
  readonly traceId: string;
}

export function decodeMessage(type: string, body: string): Exclude<HostMessage, InvokeMessage> | DecodedInvokeMessage {
  switch (type) {
    case 'init':
      return JSON.parse(body) as InitMessage;
    case 'restore':
      return JSON.parse(body) as RestoreMessage;
    case 'invoke': {
      const a = body.indexOf('\n');
      const b = body.indexOf('\n', a + 1);
      const c = body.indexOf('\n', b + 1);
      const d = body.indexOf('\n', c + 1);
      return {
        type: 'invoke',
        requestId: body.slice(0, a),
        deadlineText: body.slice(a + 1, b),
        extras: body.slice(b + 1, c),
        traceId: body.slice(c + 1, d),
        event: body.slice(d + 1),
      };
    }
    case 'status':
    case 'tick':
    case 'drain':
    case 'snapshot':
    case 'verify':
      return { type };
    default:
      throw new Error(`Unknown message type ${String(type)}`);
  }
}

/**
 * `_X_AMZN_TRACE_ID` for one invocation, in X-Ray's header format as Lambda sets it
 * (`Root=1-<epoch seconds, 8 hex>-<96-bit id, 24 hex>;Parent=<16 hex>;Sampled=0`,
 * https://docs.aws.amazon.com/xray/latest/devguide/xray-concepts.html#xray-concepts-tracingheader).
 * The ids are taken from the request id (a random UUID from the host), so no random number is
 * drawn from the function's Math.random sequence.
 */
export function traceHeader(requestId: string, nowMs: number): string {
  const hex = requestId.toLowerCase().replace(/[^0-9a-f]/g, '').padEnd(32, '0');
  const seconds = Math.floor(nowMs / 1000).toString(16).padStart(8, '0');
  return `Root=1-${seconds}-${hex.slice(0, 24)};Parent=${hex.slice(16, 32)};Sampled=0`;
}

export function encodeReply(reply: GuestReply): string {
  return encodeOutcome(reply.done ? reply : undefined, reply.fatal === true, reply.nextTimerInMs, reply.logCount);
}

/**
 * {@link encodeReply} from its parts, `outcome` undefined while the phase is pending: the guest's
 * every reply, made without a GuestReply object first (QuickJS interprets each object made per call).
 */
export function encodeOutcome(
  outcome: { readonly ok?: boolean | undefined; readonly payload?: string | undefined; readonly error?: ErrorShape | undefined } | undefined,
  fatal: boolean,
  nextTimerInMs: number,
  logCount: number,
): string {
  let state = outcome === undefined ? '-' : outcome.ok ? 'o' : 'e';
  let rest = outcome === undefined ? '' : outcome.ok ? (outcome.payload ?? 'null') : JSON.stringify(outcome.error);
  // An outcome over Lambda's response limit never crosses whole (issue #15): more characters than
  // the limit has bytes are over it whatever their encoding, so the guest sends Lambda's error in
  // their place and the host holds at most about the limit. The host counts the exact bytes of
  // what does cross (environment.ts), and also of a tampered runtime's reply.
  if (rest.length > RESPONSE_PAYLOAD_MAX_BYTES) {
    state = 'e';
    rest = JSON.stringify(RESPONSE_TOO_LARGE);
  }
  return `${state}${fatal ? 'f' : '-'}${nextTimerInMs},${logCount},${rest}`;
}

/**
 * Lambda's answer to a response (result or function error) over RESPONSE_PAYLOAD_MAX_BYTES
 * (lambda-compat.md, "Platform error types"). Its empty trace marks it as the platform's: a thrown
 * Error always has a trace line, and a thrown non-Error's errorType is a `typeof`.
 */
export const RESPONSE_TOO_LARGE: ErrorShape = {
  errorType: 'Function.ResponseSizeTooLarge',
  errorMessage: `Response payload size exceeded maximum allowed payload size (${RESPONSE_PAYLOAD_MAX_BYTES} bytes).`,
  trace: [],
};

/** Decodes a reply; the text comes from an untrusted guest, so any deviation throws. */
export function decodeReply(text: unknown): GuestReply {
  if (typeof text !== 'string') throw new TypeError('reply is not a string');
  const state = text[0];
  const fatal = text[1] === 'f';
  const a = text.indexOf(',', 2);
  const b = a < 0 ? -1 : text.indexOf(',', a + 1);
  if ((state !== '-' && state !== 'o' && state !== 'e') || b < 0) throw new TypeError('reply is malformed');
  const nextTimerInMs = Number(text.slice(2, a));
  const logCount = Number(text.slice(a + 1, b));
  if (!Number.isFinite(nextTimerInMs) || !Number.isSafeInteger(logCount)) throw new TypeError('reply counters are malformed');
  const rest = text.slice(b + 1);
  if (state === '-') return { done: false, fatal, nextTimerInMs, logCount };
  if (state === 'o') return { done: true, ok: true, payload: rest, fatal, nextTimerInMs, logCount };
  return { done: true, ok: false, error: checkErrorShape(JSON.parse(rest)), fatal, nextTimerInMs, logCount };
}

/** An error from an untrusted guest, made into an ErrorShape of strings whatever it sent. */
function checkErrorShape(value: unknown): ErrorShape {
  if (typeof value !== 'object' || value === null) throw new TypeError('reply error is not an object');
  const e = value as Record<string, unknown>;
  const trace = Array.isArray(e.trace) ? e.trace.filter((line): line is string => typeof line === 'string') : [];
  return { errorType: String(e.errorType), errorMessage: String(e.errorMessage), trace };
}

/*
 * Host calls: the guest's synchronous channel to the host (GuestHost.call), for the file system,
 * randomness and fetch. Copied both ways.
 *
 *   guest → host: call(op, args)
 *     args   = JSON text, optionally followed by '\n' and a binary payload as a latin1 string
 *              (one char per byte, a zero byte as U+0100 because QuickJS strings cross as C
 *              strings; JSON text holds no raw newline, so the first '\n' splits them)
 *   host → guest: one string
 *     'o' + JSON text [+ '\n' + latin1 payload]     the call succeeded
 *     'e' + JSON of a HostCallError                 the call failed; the guest throws it
 *
 * That is the host's side (environment/host-bridge.ts) on every engine. Between an engine and its
 * guest the payload may cross as bytes instead (engines/binary-host-call.ts): a host function
 * marked `binary` (quickjs: a property of the function; v8: install's and rebind's argument) takes a
 * request's payload as an ArrayBuffer third argument and answers a payload as
 * `['o' + JSON text, ArrayBuffer]` — copied straight in and out of the WebAssembly memory, where
 * turning latin1 text into bytes ran one interpreted step per byte (guest/bridge.ts hostCall).
 *
 * Deferred answers (in-process v8, whose host calls run on the host's own thread: issue #15): for a
 * call whose work runs off the host's thread (Brotli, pbkdf2, scrypt, key generation) the host
 * answers at once with
 *     'w' + the call's number (1 … 2^31 - 1)
 * and stores that number in slot 0 of the guest's answer slot (an Int32Array over a
 * SharedArrayBuffer of this guest's own, install's `answerSlot`) once the answer is ready, then
 * notifies. The guest blocks its own thread in Atomics.wait until the slot holds the number, then
 * calls DEFERRED_ANSWER_OP with `[number]` for the answer — which is the deferral again while the
 * answer is not ready. The slot is guest-writable memory: the host never reads it, and answers a
 * take only for the one call it deferred for this guest.
 */

/** A deferred answer's first char (see "Host calls" above). */
export const DEFERRED_ANSWER_PREFIX = 'w';
/** The host call that takes a deferred call's answer: args `[number]` (see "Host calls" above). */
export const DEFERRED_ANSWER_OP = 'answer';

/**
 * The `stdlib` host call's two marks around the parse of a standard-library chunk (stdlib-loader.ts),
 * sent as raw args with the answer ignored: from BEGIN to END the guest parses only lambdalet's own
 * library code, so the quickjs engine keeps no source text for it (quickjs/strip-source.ts: issue
 * 21); sent only where the engine's host function says it wants them (bridge.ts `parseMarks`).
 */
export const STDLIB_PARSE_BEGIN = '[0]';
export const STDLIB_PARSE_END = '[1]';

/** A failed host call, as plain data; the guest re-makes it as an Error with these properties. */
export interface HostCallError {
  readonly name: string;
  readonly message: string;
  readonly code?: string;
  readonly errno?: number;
  readonly syscall?: string;
  readonly path?: string;
  readonly dest?: string;
  /**
   * The error's cause (fetch's network failures): its message, or the message with Node's socket
   * error properties (`connect ECONNREFUSED 127.0.0.1:1` with errno, code, syscall, address, port).
   */
  readonly cause?: string | HostCallCause;
}

/** A network failure's cause as Node's net reports it: only the properties it has are present. */
export interface HostCallCause {
  readonly message: string;
  readonly errno?: number;
  readonly code?: string;
  readonly syscall?: string;
  readonly address?: string;
  readonly port?: number;
  readonly hostname?: string;
}

/** Bytes → a payload string (host side; Buffer's latin1 decoding takes the low 8 bits back). */
export function encodePayload(bytes: { toString(encoding: 'latin1'): string }): string {
  const text = bytes.toString('latin1');
  return text.includes('\0') ? text.replace(/\0/g, '\u0100') : text;
}

/** Splits `json \n payload` (either side of a host call). */
export function splitPayload(text: string): [json: string, payload: string | undefined] {
  const at = text.indexOf('\n');
  return at < 0 ? [text, undefined] : [text.slice(0, at), text.slice(at + 1)];
}
