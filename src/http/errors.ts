/**
 * How errors leave the server: Lambda's service error shape — the exception name in the
 * `x-amzn-ErrorType` header and a JSON body `{"Type":"User","Message":"..."}` — with Lambda's
 * status codes. The SDK's restJson1 deserialiser reads the header and the message (in either case)
 * to build its typed exception, so `instanceof ResourceNotFoundException` works client side.
 *
 * Sources: the Lambda API reference "Errors" section of each operation (status per exception);
 * the body shape as Lambda sends it (`{"Message":"Function not found: arn:...","Type":"User"}`,
 * quoted in localstack/localstack#702); TooManyRequestsException's `Reason` and `Retry-After`
 * from the SDK's model (client-lambda schemas: `Reason`, header `Retry-After`).
 */
import { LambdaletError, TooManyRequestsException } from '../errors.ts';

/**
 * An error the HTTP layer itself produces (malformed request, unknown route, bad signature, a body
 * over its limit, a slow client): `code` is the exception name sent in `x-amzn-ErrorType`,
 * `status` the HTTP status.
 */
export class HttpError extends LambdaletError {
  readonly status: number;
  readonly headers: Readonly<Record<string, string>>;

  constructor(status: number, code: string, message: string, options?: ErrorOptions & { readonly headers?: Record<string, string> }) {
    super(code, message, options);
    this.status = status;
    this.headers = options?.headers ?? {};
  }
}

/** Lambda's HTTP status for each service exception lambdalet throws (Lambda API reference, Errors). */
const STATUS: Readonly<Record<string, number>> = {
  ResourceNotFoundException: 404,
  ResourceConflictException: 409,
  RequestTooLargeException: 413,
  TooManyRequestsException: 429,
  InvalidParameterValueException: 400,
  InvalidRequestContentException: 400,
  PreconditionFailedException: 412,
  CodeVerificationFailedException: 400,
  SnapStartException: 400,
  SnapStartTimeoutException: 408,
  UnsupportedMediaTypeException: 415,
};

/** A response ready to write: status, headers and body bytes. */
export interface ErrorResponse {
  readonly status: number;
  readonly headers: Record<string, string>;
  readonly body: string;
}

/**
 * The response for any error: lambdalet's service errors with Lambda's status and name, HttpError
 * as it says, and anything else (a bug, a closed runtime, an unavailable engine) as Lambda's
 * `ServiceException` 500 / 503 with a message that says what happened.
 */
export function errorResponse(error: unknown): ErrorResponse {
  if (error instanceof HttpError) return shape(error.status, error.code, error.message, error.headers);
  if (error instanceof TooManyRequestsException) {
    // Lambda's throttle body carries `Reason` and a lower-case `message` (the SDK model's fields).
    const headers: Record<string, string> = { 'x-amzn-ErrorType': error.code, 'Content-Type': 'application/json' };
    if (error.retryAfterSeconds !== undefined) headers['Retry-After'] = String(error.retryAfterSeconds);
    return { status: 429, headers, body: JSON.stringify({ Reason: error.reason, Type: 'User', message: error.message }) };
  }
  if (error instanceof LambdaletError) {
    const status = STATUS[error.code];
    if (status !== undefined) return shape(status, error.code, error.message);
    if (error.code === 'RuntimeClosed') return shape(503, 'ServiceException', error.message, {}, 'Service');
    return shape(500, 'ServiceException', `${error.name}: ${error.message}`, {}, 'Service');
  }
  const message = error instanceof Error ? error.message : String(error);
  return shape(500, 'ServiceException', `lambdalet could not handle the request: ${message}`, {}, 'Service');
}

function shape(status: number, code: string, message: string, extra: Readonly<Record<string, string>> = {}, type = 'User'): ErrorResponse {
  return {
    status,
    headers: { ...extra, 'x-amzn-ErrorType': code, 'Content-Type': 'application/json' },
    body: JSON.stringify({ Type: type, Message: message }),
  };
}
