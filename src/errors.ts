/**
 * The errors lambdalet throws to its caller. Two families, never mixed:
 *
 * - service errors (this file): the runtime refused or could not do what was asked — unknown
 *   function, payload too large, invalid configuration, use after close. They are thrown.
 * - function errors (what the user's code did: Unhandled, timed out, out of memory) are not thrown:
 *   they come back in the invoke result as Lambda shapes them (`functionError` + payload).
 *
 * `code` is AWS's exception name where one exists. `instanceof` works across duplicate copies of
 * the package (a brand on `Symbol.for`), as undici does it.
 */

const brand = Symbol.for('lambdalet.error');

export class LambdaletError extends Error {
  /** AWS's exception name where one exists, otherwise a lambdalet name. */
  readonly code: string;

  constructor(code: string, message: string, options?: ErrorOptions) {
    super(message, options);
    this.code = code;
    this.name = new.target.name;
  }

  get [brand](): true {
    return true;
  }

  static override [Symbol.hasInstance](value: unknown): boolean {
    if (typeof value !== 'object' || value === null) return false;
    if (!(brand in value)) return false;
    // Subclasses match on the name their constructor gave, so copies from another package
    // instance are recognised too.
    if (this === LambdaletError) return true;
    return Function.prototype[Symbol.hasInstance].call(this, value) || (value as { name?: unknown }).name === this.name;
  }
}

/** The function (or version) named in the call does not exist. */
export class ResourceNotFoundException extends LambdaletError {
  constructor(message: string, options?: ErrorOptions) {
    super('ResourceNotFoundException', message, options);
  }
}

/** The request payload is over Lambda's limit (6 MB for a synchronous invoke). */
export class RequestTooLargeException extends LambdaletError {
  constructor(message: string, options?: ErrorOptions) {
    super('RequestTooLargeException', message, options);
  }
}

/** A configuration or request field is invalid; the message names the field, the value and the range. */
export class InvalidParameterValueException extends LambdaletError {
  /** Dotted path of the offending field, e.g. `memoryMb` or `env.KEY`. */
  readonly field: string;

  constructor(field: string, message: string, options?: ErrorOptions) {
    super('InvalidParameterValueException', message, options);
    this.field = field;
  }
}

/** The event is not valid JSON (Lambda: InvalidRequestContentException). */
export class InvalidRequestContentException extends LambdaletError {
  constructor(message: string, options?: ErrorOptions) {
    super('InvalidRequestContentException', message, options);
  }
}

/** A method was called on a runtime that is closing or closed. */
export class RuntimeClosedError extends LambdaletError {
  constructor(message = 'The runtime is closed: create a new one with createRuntime()') {
    super('RuntimeClosed', message);
  }
}

/**
 * An engine cannot run in this process — for example isolated-vm without `--no-node-snapshot`,
 * or after a catastrophic error that left the process unhealthy.
 */
export class EngineUnavailableError extends LambdaletError {
  constructor(message: string, options?: ErrorOptions) {
    super('EngineUnavailable', message, options);
  }
}

/** Why an invoke was throttled: Lambda's `Reason` values that a single-host dispatcher can produce. */
export type ThrottleReason = 'ConcurrentInvocationLimitExceeded' | 'ReservedFunctionConcurrentInvocationLimitExceeded';

/**
 * The invoke could not get capacity (Lambda's HTTP 429): the function's reserved concurrency is in
 * use or is 0 (`ReservedFunctionConcurrentInvocationLimitExceeded`), or the account's unreserved
 * concurrency, the function's scale-up rate or the host's memory budget is exhausted
 * (`ConcurrentInvocationLimitExceeded`). A service error: the function never ran. Retry later, or
 * pass `waitForCapacityMs` to wait in the runtime's bounded queue.
 */
export class TooManyRequestsException extends LambdaletError {
  /** Lambda's `Reason` field. */
  readonly reason: ThrottleReason;
  /** Lambda's `retryAfterSeconds`, when the dispatcher knows when capacity comes back (scale-up rate). */
  readonly retryAfterSeconds: number | undefined;

  constructor(reason: ThrottleReason, message: string, options?: ErrorOptions & { readonly retryAfterSeconds?: number }) {
    super('TooManyRequestsException', message, options);
    this.reason = reason;
    this.retryAfterSeconds = options?.retryAfterSeconds;
  }
}

/** The user's error behind a SnapStart failure, as Lambda shapes function errors. */
export interface SnapStartErrorDetail {
  readonly errorType: string;
  readonly errorMessage: string;
  readonly trace: readonly string[];
}

/**
 * SnapStart failed on the user's side: at deploy, the template's INIT or before-snapshot hooks
 * failed, timed out or ran out of memory (the deploy is refused and the previous deployment stays);
 * at invoke, a restored environment's after-restore hooks failed (Lambda's SnapStartException).
 * `detail` is the user's error.
 */
export class SnapStartException extends LambdaletError {
  readonly detail: SnapStartErrorDetail;

  constructor(message: string, detail: SnapStartErrorDetail, options?: ErrorOptions) {
    super('SnapStartException', `${message}: ${detail.errorType}: ${detail.errorMessage}`, options);
    this.detail = detail;
  }
}

/** A restored environment's after-restore hooks did not finish within 10 s (Lambda's SnapStartTimeoutException). */
export class SnapStartTimeoutException extends LambdaletError {
  constructor(message: string, options?: ErrorOptions) {
    super('SnapStartTimeoutException', message, options);
  }
}

/**
 * The resource is in a state that does not allow the call (Lambda's ResourceConflictException):
 * another update of the same function is in progress, an alias name is already taken, or a
 * version an alias points to is being deleted.
 */
export class ResourceConflictException extends LambdaletError {
  constructor(message: string, options?: ErrorOptions) {
    super('ResourceConflictException', message, options);
  }
}

/**
 * SQS's QueueDeletedRecently: a lambdalet queue of this name was deleted less than 60 seconds ago
 * (on the runtime's event clock); SQS refuses to create another of the same name until then.
 */
export class QueueDeletedRecently extends LambdaletError {
  constructor(message = 'You must wait 60 seconds after deleting a queue before you can create another queue with the same name.', options?: ErrorOptions) {
    super('QueueDeletedRecently', message, options);
  }
}

/**
 * The `revisionId` the call named is not the resource's current one (Lambda's
 * PreconditionFailedException): someone changed the function or alias since it was read.
 */
export class PreconditionFailedException extends LambdaletError {
  constructor(message: string, options?: ErrorOptions) {
    super('PreconditionFailedException', message, options);
  }
}

/** Why a `dataDir` cannot be used. */
export type DataDirProblem = 'in-use' | 'corrupt' | 'foreign' | 'version' | 'unusable';

/**
 * `createRuntime({ dataDir })` cannot use the folder: another runtime holds it (`in-use`), its
 * registry file is not a readable SQLite database (`corrupt`), is someone else's database
 * (`foreign`) or of another schema (`version`), or the folder cannot be created (`unusable`). The
 * file is never modified in these cases.
 */
export class DataDirError extends LambdaletError {
  readonly problem: DataDirProblem;

  constructor(problem: DataDirProblem, message: string, options?: ErrorOptions) {
    super('DataDirError', message, options);
    this.problem = problem;
  }
}

/** What a {@link ClusterError} is about. */
export type ClusterProblem = 'unreachable' | 'version';

/**
 * `createRuntime({ cluster })` could not join: `unreachable` — the cluster's Redis did not answer
 * (the message names the URL, with any password hidden, and the cause); `version` — the cluster was
 * created by another lambdalet version than this member's (the message names both: every member of
 * a cluster runs the same version, since they share stored configurations and Lua scripts).
 */
export class ClusterError extends LambdaletError {
  readonly problem: ClusterProblem;

  constructor(problem: ClusterProblem, message: string, options?: ErrorOptions) {
    super('ClusterError', message, options);
    this.problem = problem;
  }
}

/**
 * The function's code signing policy is `Enforce` and its package is unsigned, its signature does
 * not match the package, or it was signed by a key not in `allowedPublishers` (Lambda's
 * CodeVerificationFailedException). The deploy is refused; the previous code stays.
 */
export class CodeVerificationFailedException extends LambdaletError {
  constructor(message: string, options?: ErrorOptions) {
    super('CodeVerificationFailedException', message, options);
  }
}
