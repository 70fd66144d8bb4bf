/** The invocation's event as JSON text, checked against Lambda's synchronous request limit. */
import { ASYNC_PAYLOAD_MAX_BYTES, REQUEST_PAYLOAD_MAX_BYTES } from '../config/index.ts';
import { InvalidRequestContentException, RequestTooLargeException } from '../errors.ts';
import { JsonText } from './json-text.ts';
import { types } from 'node:util';
import { eventFromPayload } from './payload.ts';

/**
 * The event as JSON text (undefined → `{}`; a checked {@link JsonText}, the Invoke API's body, as
 * it is; bytes — a Uint8Array such as a Buffer, or an ArrayBuffer — are the invocation's payload,
 * as the AWS SDK's InvokeCommand `Payload` and the Invoke API's body are: their UTF-8 JSON text,
 * empty meaning `{}`, see payload.ts), within Lambda's 6 MB synchronous request limit.
 * Throws InvalidRequestContentException (not JSON-serialisable; bytes that are not JSON) or
 * RequestTooLargeException.
 */
export function serializeEvent(input: unknown): string {
  const bytes = payloadBytes(input);
  // Bytes over the limit are refused before they are read, as the Invoke API's body limit refuses
  // them (src/http/lambda-api/routes.ts): before, 6 MB of bytes that are not JSON were parsed and
  // answered InvalidRequestContentException, where the same body over HTTP is RequestTooLargeException.
  if (bytes !== undefined && bytes.length > REQUEST_PAYLOAD_MAX_BYTES) throw requestTooLarge();
  const event = bytes === undefined ? input : eventFromPayload(bytes);
  let json: string | undefined;
  try {
    json = event instanceof JsonText ? event.text : JSON.stringify(event === undefined ? {} : event);
  } catch (error) {
    throw new InvalidRequestContentException(
      `Could not parse request body into json: ${(error as Error).message}`,
      { cause: error },
    );
  }
  if (json === undefined) {
    throw new InvalidRequestContentException(`Could not parse request body into json: a ${typeof event} is not JSON`);
  }
  // UTF-8 takes at most 3 bytes per UTF-16 unit: a short event needs no byte count.
  const byteLength = (): number => (event instanceof JsonText ? event.bytes : Buffer.byteLength(json, 'utf8'));
  if (json.length > REQUEST_PAYLOAD_MAX_BYTES || (json.length * 3 > REQUEST_PAYLOAD_MAX_BYTES && byteLength() > REQUEST_PAYLOAD_MAX_BYTES)) {
    throw requestTooLarge();
  }
  return json;
}

function requestTooLarge(): RequestTooLargeException {
  return new RequestTooLargeException(`Request must be smaller than ${REQUEST_PAYLOAD_MAX_BYTES} bytes for the InvokeFunction operation`);
}

/**
 * The bytes of a payload given as bytes, or undefined for any other event. Bytes are every form the
 * platform takes as a BufferSource (TextDecoder.decode, fetch's body): an ArrayBuffer or
 * SharedArrayBuffer, or any view on one — a Buffer, any typed array, a DataView — from any realm,
 * read as the view's own bytes (byteOffset, byteLength). Not JSON.stringify of the object: that made
 * a DataView or a SharedArrayBuffer `{}` and an Int8Array of JSON `{"0":123,...}`. Bytes in shared
 * memory are copied first, so the text checked is the text sent (another thread may write them); a
 * detached buffer has no bytes (`{}`).
 */
function payloadBytes(input: unknown): Uint8Array | undefined {
  if (ArrayBuffer.isView(input)) {
    if (input.byteLength === 0) return new Uint8Array(0);
    const view = new Uint8Array(input.buffer, input.byteOffset, input.byteLength);
    return types.isSharedArrayBuffer(input.buffer) ? new Uint8Array(view) : view;
  }
  if (types.isArrayBuffer(input)) return input.detached ? new Uint8Array(0) : new Uint8Array(input);
  if (types.isSharedArrayBuffer(input)) return new Uint8Array(input.slice(0));
  return undefined;
}

/**
 * The event of an asynchronous (`Event`) invoke as JSON text, within Lambda's 1 MiB limit; the
 * message is Lambda's for that case ("<n> byte payload is too large for the Event invocation type
 * (limit <max> bytes)", as the Invoke API answers it; e.g. ASFHyP3/hyp3#2241 at the 256 KB limit).
 * Throws InvalidRequestContentException or RequestTooLargeException.
 */
export function serializeAsyncEvent(event: unknown): string {
  const json = serializeEvent(event);
  const bytes = json.length > ASYNC_PAYLOAD_MAX_BYTES / 3 ? Buffer.byteLength(json, 'utf8') : json.length;
  if (bytes > ASYNC_PAYLOAD_MAX_BYTES) {
    throw new RequestTooLargeException(`${bytes} byte payload is too large for the Event invocation type (limit ${ASYNC_PAYLOAD_MAX_BYTES} bytes)`);
  }
  return json;
}
