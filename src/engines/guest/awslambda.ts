/**
 * `globalThis.awslambda`, as the runtime client installs it before loading the handler's module
 * (aws-lambda-nodejs-runtime-interface-client src/UserFunction.js `_loadUserApp`,
 * src/HttpResponseStream.js): `streamifyResponse` marks a handler as response-streaming, and
 * `HttpResponseStream.from` makes a stream open with the HTTP integration's JSON prelude and eight
 * NUL bytes. Not installed when AWS_LAMBDA_NODEJS_NO_GLOBAL_AWSLAMBDA is `1` or `true`.
 */
import { runtimeError } from './errors.ts';

const HANDLER_STREAMING = Symbol.for('aws.lambda.runtime.handler.streaming');
const HANDLER_HIGHWATERMARK = Symbol.for('aws.lambda.runtime.handler.streaming.highWaterMark');
const STREAM_RESPONSE = 'response';
const METADATA_PRELUDE_CONTENT_TYPE = 'application/vnd.awslambda.http-integration-response';
const DELIMITER_LEN = 8;

/** What a stream must offer for HttpResponseStream.from (the guest's response stream does). */
interface PreludeTarget {
  setContentType(type: string): void;
  _onBeforeFirstWrite?: (write: (chunk: string | Uint8Array) => void) => void;
}

class HttpResponseStream {
  static from<T extends PreludeTarget>(underlyingStream: T, prelude: unknown): T {
    underlyingStream.setContentType(METADATA_PRELUDE_CONTENT_TYPE);
    const metadataPrelude = JSON.stringify(prelude);
    underlyingStream._onBeforeFirstWrite = (write) => {
      write(metadataPrelude);
      write(new Uint8Array(DELIMITER_LEN));
    };
    return underlyingStream;
  }
}

/** Installs (or, when the variable says so, leaves out) the global, as the runtime client does. */
export function installAwsLambda(env: Readonly<Record<string, string>>): void {
  const opt = env.AWS_LAMBDA_NODEJS_NO_GLOBAL_AWSLAMBDA;
  if (opt === '1' || opt === 'true') return;
  (globalThis as Record<string, unknown>).awslambda = {
    streamifyResponse: (handler: Record<symbol, unknown>, options?: { highWaterMark?: unknown }) => {
      handler[HANDLER_STREAMING] = STREAM_RESPONSE;
      if (typeof options?.highWaterMark === 'number') handler[HANDLER_HIGHWATERMARK] = parseInt(String(options.highWaterMark));
      return handler;
    },
    HttpResponseStream,
  };
}

/**
 * The runtime client's `_isHandlerStreaming`: false when unmarked, true for `'response'`, and
 * Runtime.MalformedStreamingHandler for any other marker.
 */
export function isStreamingHandler(handler: object): boolean {
  const marker = (handler as Record<symbol, unknown>)[HANDLER_STREAMING];
  if (marker === undefined || marker === null || marker === false) return false;
  if (marker === STREAM_RESPONSE) return true;
  throw runtimeError('MalformedStreamingHandler', 'Only response streaming is supported.');
}

/** The runtime client's `_highWaterMark`: the number the handler was marked with, if any. */
export function streamingHighWaterMark(handler: object): number | undefined {
  const value = (handler as Record<symbol, unknown>)[HANDLER_HIGHWATERMARK];
  if (value === undefined || value === null || value === false) return undefined;
  // parseInt as the runtime client calls it: its argument is made a string the same way.
  const hwm = parseInt(value as string);
  return Number.isNaN(hwm) ? undefined : hwm;
}
