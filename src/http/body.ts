/**
 * Reading a request body with a byte limit. node:http parses the message (chunked or
 * Content-Length framing, header limits); this only collects the bytes and stops early: a
 * Content-Length over the limit is refused before a byte is read, a chunked body as soon as it
 * passes the limit, so an oversized upload never sits whole in memory.
 */
import type { IncomingMessage } from 'node:http';
import { HttpError } from './errors.ts';
import { nestingTooDeep } from '../invoke/json-depth.ts';

/** What to say when a body is over its limit: the exception name and message (Lambda's for Invoke). */
export interface BodyLimit {
  readonly maxBytes: number;
  readonly tooLarge: (bytes: number | undefined) => HttpError;
  /** What to say when the server's {@link BodyBudget} has no room for the body. Default: 429 TooManyRequestsException. */
  readonly tooMany?: () => HttpError;
}

/**
 * The request body bytes a server holds at once, over all its requests (issue #15): each request may
 * buffer up to 6 MB and `maxInFlight` requests are served at once, so without it 300 clients sending
 * 6 MB bodies and never their last byte held 1.9 GB of the host (red team; 1,024 of them, ~6.5 GB),
 * outside the runtime's memoryBudgetMb. A body's bytes are taken as it arrives (a declared
 * Content-Length all at once, before a byte is read) and given back when its request has been
 * answered ({@link BodyBudget.end}); a body that does not fit is refused at once with 429, as Lambda
 * throttles, and nothing of it is kept.
 */
export class BodyBudget {
  readonly maxBytes: number;
  #held = 0;
  readonly #byRequest = new WeakMap<IncomingMessage, number>();

  constructor(maxBytes: number) {
    this.maxBytes = maxBytes;
  }

  /** Bytes held now by the bodies of requests not yet answered. */
  get heldBytes(): number {
    return this.#held;
  }

  /** `req` is served under this budget (its body, read by {@link readBody}, counts here). */
  begin(req: IncomingMessage): void {
    this.#byRequest.set(req, 0);
    budgets.set(req, this);
  }

  /** `req` has been answered: its body's bytes are given back. */
  end(req: IncomingMessage): void {
    const bytes = this.#byRequest.get(req);
    if (bytes === undefined) return;
    this.#held -= bytes;
    this.#byRequest.delete(req);
    budgets.delete(req);
  }

  /** Takes `bytes` more for `req`'s body; false (nothing taken) when they do not fit. */
  take(req: IncomingMessage, bytes: number): boolean {
    const mine = this.#byRequest.get(req);
    if (mine === undefined) return true; // not (or no longer) served under this budget
    if (this.#held + bytes > this.maxBytes) return false;
    this.#held += bytes;
    this.#byRequest.set(req, mine + bytes);
    return true;
  }
}

/** The budget each request being served counts its body in (set by the server, {@link BodyBudget.begin}). */
const budgets = new WeakMap<IncomingMessage, BodyBudget>();

function noRoom(limit: BodyLimit, budget: BodyBudget): HttpError {
  return (
    limit.tooMany?.() ??
    new HttpError(429, 'TooManyRequestsException', `Rate exceeded: the server holds ${budget.maxBytes} bytes of request bodies at most (its maxRequestBodiesMb); retry later`)
  );
}

/**
 * The request's body as one Buffer (empty when there is none).
 * @throws HttpError from `limit.tooLarge` past `limit.maxBytes`; HttpError 400
 *   `IncompleteBodyException` when the client stops sending before the body is complete.
 */
export function readBody(req: IncomingMessage, limit: BodyLimit): Promise<Buffer> {
  const budget = budgets.get(req);
  const declared = req.headers['content-length'];
  /** Bytes of a declared length already taken from the budget (the chunks then take nothing more up to it). */
  let reserved = 0;
  if (declared !== undefined) {
    const length = Number(declared);
    if (length > limit.maxBytes) {
      // Nothing more will be read: the connection cannot be reused for a next request.
      req.resume();
      return Promise.reject(limit.tooLarge(length));
    }
    if (budget !== undefined && length > 0) {
      if (!budget.take(req, length)) {
        req.resume();
        return Promise.reject(noRoom(limit, budget));
      }
      reserved = length;
    }
  }
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    let done = false;
    const fail = (error: HttpError): void => {
      if (done) return;
      done = true;
      reject(error);
    };
    req.on('data', (chunk: Buffer) => {
      if (done) return;
      size += chunk.length;
      if (size > limit.maxBytes) {
        chunks.length = 0;
        fail(limit.tooLarge(undefined));
        return;
      }
      const more = Math.min(chunk.length, size - reserved);
      if (budget !== undefined && more > 0) {
        if (!budget.take(req, more)) {
          chunks.length = 0;
          req.resume();
          fail(noRoom(limit, budget));
          return;
        }
        reserved = size;
      }
      chunks.push(chunk);
    });
    req.on('end', () => {
      if (done) return;
      done = true;
      resolve(chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks, size));
    });
    // 'aborted' is deprecated; 'close' before 'end' means the body was cut short.
    req.on('close', () => {
      if (!req.complete) fail(new HttpError(400, 'IncompleteBodyException', `The request body ended after ${size} bytes, before it was complete`));
    });
    req.on('error', (error) => fail(new HttpError(400, 'IncompleteBodyException', `The request body could not be read: ${error.message}`, { cause: error })));
  });
}

/** Parses a JSON request body of a control-plane call; an empty body is `{}`. */
export function parseJsonBody(body: Buffer): Record<string, unknown> {
  if (body.length === 0) return {};
  const tooDeep = nestingTooDeep(body);
  if (tooDeep !== undefined) throw new HttpError(400, 'InvalidRequestContentException', `Could not parse request body into json: ${tooDeep}`);
  let value: unknown;
  try {
    value = JSON.parse(body.toString('utf8'));
  } catch (error) {
    throw new HttpError(400, 'InvalidRequestContentException', `Could not parse request body into json: ${(error as Error).message}`, { cause: error });
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw new HttpError(400, 'InvalidRequestContentException', 'Could not parse request body into json: expected a JSON object');
  }
  return value as Record<string, unknown>;
}
