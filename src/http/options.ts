/** What `rt.serve()` accepts, validated once (zod, with the project's message style). */
import { z } from 'zod';
import { expected, parseWith, type Subject } from '../config/format.ts';
import { integerIn } from '../config/fields.ts';
import { splitResponseStreamOptions, type ResponseStreamOptionsInput } from '../invoke/response-stream.ts';
import type { AccessKey } from './sigv4.ts';

/** Options of `rt.serve()`; every one may be left out. */
export interface ServeOptionsInput {
  /** TCP port, 0 to 65535 (0: any free port). Default 9001. */
  readonly port?: number;
  /**
   * Address to listen on. Default `127.0.0.1` (loopback). Any other address without `auth` emits
   * a process warning (`LAMBDALET_UNAUTHENTICATED`): anyone who reaches it can deploy and run code.
   */
  readonly host?: string;
  /**
   * SigV4 authentication: every Lambda API request must be signed with one of these keys
   * (403 otherwise). Default: none (no authentication).
   * @example { keys: [{ accessKeyId: 'AKIDEXAMPLE', secretAccessKey: '...' }] }
   */
  readonly auth?: { readonly keys: readonly AccessKey[] };
  /** Requests handled at once; past it a request gets 429 TooManyRequestsException at once. 1 to 100000, default 1024. */
  readonly maxInFlight?: number;
  /**
   * Request body bytes the server holds at once, over all requests being served (Lambda API, function
   * URLs, HTTP APIs), in MiB: a body that does not fit is refused at once with 429 (a function URL's or
   * HTTP API's `{"message":"Too Many Requests"}`, the Lambda API's TooManyRequestsException), as when
   * Lambda throttles. 67 (the largest body one request may send: a CreateFunction of 70,167,211
   * bytes) to 1048576, default 256.
   */
  readonly maxRequestBodiesMb?: number;
  /** How long a client may take to send its headers (Node's `headersTimeout`), 1 to 600000 ms. Default 10000. */
  readonly headersTimeoutMs?: number;
  /** How long a client may take to send the whole request (Node's `requestTimeout`), 1 to 3600000 ms. Default 60000. */
  readonly requestTimeoutMs?: number;
  /** Idle keep-alive connections close after this (Node's `keepAliveTimeout`), 1 to 600000 ms. Default 5000. */
  readonly keepAliveTimeoutMs?: number;
  /** The server's clock for SigV4's 15-minute skew check (tests). Default `Date.now`. */
  readonly clock?: () => number;
  /** One access log line per request through the runtime's log sink (stream `lambdalet/http/access`). Default false. */
  readonly accessLog?: boolean;
  /**
   * Streamed responses (InvokeWithResponseStream, RESPONSE_STREAM function URLs): the size limit
   * (1 to 209715200, default Lambda's 200 MB) and the bandwidth cap (`false` turns it off; default
   * Lambda's 6 MB burst then 2 MBps), as `rt.invokeWithResponseStream` takes them.
   */
  readonly responseStream?: Pick<ResponseStreamOptionsInput, 'maxResponseBytes' | 'bandwidth'>;
}

/** Options after parsing. */
export interface ServeOptions {
  readonly port: number;
  readonly host: string;
  readonly auth?: { readonly keys: readonly AccessKey[] } | undefined;
  readonly maxInFlight: number;
  readonly maxRequestBodiesMb: number;
  readonly headersTimeoutMs: number;
  readonly requestTimeoutMs: number;
  readonly keepAliveTimeoutMs: number;
  readonly clock?: (() => number) | undefined;
  readonly accessLog: boolean;
  readonly responseStream: Pick<ResponseStreamOptionsInput, 'maxResponseBytes' | 'bandwidth'>;
}

const keyPhrase = expected('be an object like { accessKeyId, secretAccessKey } with non-empty strings');

const schema = z.strictObject(
  {
    port: integerIn(0, 65535).default(9001),
    host: z.string(expected('be a host name or IP address')).min(1, expected('be a host name or IP address')).default('127.0.0.1'),
    auth: z
      .strictObject(
        {
          keys: z
            .array(z.strictObject({ accessKeyId: z.string(keyPhrase).min(1, keyPhrase), secretAccessKey: z.string(keyPhrase).min(1, keyPhrase) }, keyPhrase), expected('be an array of 1 or more access keys'))
            .min(1, expected('be an array of 1 or more access keys')),
        },
        expected('be an object like { keys: [{ accessKeyId, secretAccessKey }] }'),
      )
      .optional(),
    maxInFlight: integerIn(1, 100_000).default(1024),
    maxRequestBodiesMb: integerIn(67, 1_048_576).default(256),
    headersTimeoutMs: integerIn(1, 600_000).default(10_000),
    requestTimeoutMs: integerIn(1, 3_600_000).default(60_000),
    keepAliveTimeoutMs: integerIn(1, 600_000).default(5_000),
    accessLog: z.boolean(expected('be a boolean')).default(false),
    clock: z.custom<() => number>((v) => typeof v === 'function', expected('be a function returning epoch milliseconds')).optional(),
    // Checked field by field below, by the stream's own parser (its messages name the field).
    responseStream: z.strictObject({ maxResponseBytes: z.unknown().optional(), bandwidth: z.unknown().optional() }, expected('be an object like { maxResponseBytes, bandwidth }')).default({}),
  },
  expected('be an object'),
);

const subject: Subject = { name: 'serve options', knownOptions: Object.keys(schema.shape), renames: {} };

/** @throws InvalidParameterValueException naming the field. */
export function parseServeOptions(input: unknown): ServeOptions {
  const parsed = parseWith(schema, input ?? {}, subject);
  const responseStream = Object.fromEntries(Object.entries(parsed.responseStream).filter(([, v]) => v !== undefined)) as ServeOptions['responseStream'];
  splitResponseStreamOptions(responseStream); // throws InvalidParameterValueException naming the field
  return Object.freeze({ ...parsed, responseStream });
}
