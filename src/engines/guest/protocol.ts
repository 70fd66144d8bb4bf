/**
 * The messages that cross the sandbox boundary, shared by the host (environment/) and the guest
 * runtime (this folder). Only copied plain data crosses: strings, numbers, plain objects.
 * Both sides import these types; nothing here runs.
 */

/** Lambda's error shape, as the runtime interface client posts it. */
export interface ErrorShape {
  readonly errorType: string;
  readonly errorMessage: string;
  readonly trace: readonly string[];
}

/** Facts about the function the guest needs at INIT. */
export interface InitMessage {
  readonly type: 'init';
  /** process.env inside the sandbox: the user's variables plus Lambda's reserved ones. */
  readonly env: Readonly<Record<string, string>>;
  /** The configured handler string, for error messages. */
  readonly handler: string;
  /** Property path walked on the module's export root. */
  readonly handlerPath: readonly string[];
  readonly runtime: 'nodejs22.x' | 'nodejs24.x';
}

/** The context fields that come from the invoke request (Lambda-Runtime-* headers). */
export interface InvokeContextFields {
  readonly awsRequestId: string;
  readonly functionName: string;
  readonly functionVersion: string;
  readonly invokedFunctionArn: string;
  readonly memoryLimitInMB: string;
  readonly logGroupName: string;
  readonly logStreamName: string;
  readonly clientContext?: unknown;
  readonly identity?: unknown;
}

export interface InvokeMessage {
  readonly type: 'invoke';
  /** The event, as the JSON text the caller sent. */
  readonly event: string;
  readonly context: InvokeContextFields;
  /** Wall-clock deadline, ms since the epoch (getRemainingTimeInMillis counts down to it). */
  readonly deadlineMs: number;
}

/**
 * `status` reads the guest's state and runs no user code, so an engine may answer it
 * synchronously. `tick` runs due timers. `drain` tells the guest its event loop is empty and
 * nothing else will happen: it settles the phase as Node's `beforeExit` would.
 */
export type HostMessage =
  | InitMessage
  | InvokeMessage
  | { readonly type: 'status' }
  | { readonly type: 'tick' }
  | { readonly type: 'drain' };

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

/** The host functions an engine hands the guest runtime at boot (and nothing else). */
export interface GuestHost {
  /** Fire-and-forget: one console line. `level` is Lambda's (INFO, WARN, ERROR...). */
  log(level: string, message: string): void;
}

/** Global name under which an engine places {@link GuestHost} before running the guest runtime. */
export const GUEST_HOST_GLOBAL = '__lambdalet_host';
