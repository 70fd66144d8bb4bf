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
}

/**
 * The request's body as one Buffer (empty when there is none).
 * @throws HttpError from `limit.tooLarge` past `limit.maxBytes`; HttpError 400
 *   `IncompleteBodyException` when the client stops sending before the body is complete.
 */
export function readBody(req: IncomingMessage, limit: BodyLimit): Promise<Buffer> {
  const declared = req.headers['content-length'];
  if (declared !== undefined) {
    const length = Number(declared);
    if (length > limit.maxBytes) {
      // Nothing more will be read: the connection cannot be reused for a next request.
      req.resume();
      return Promise.reject(limit.tooLarge(length));
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
