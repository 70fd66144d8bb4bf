/**
 * An invocation's payload as bytes — the Invoke API's request body, or the `Payload` bytes a caller
 * of `rt.invoke` hands over as the AWS SDK's InvokeCommand takes them — made into the event.
 *
 * Empty means `{}` (Lambda's Invoke with no body). A body nested deeper than Jackson's default is
 * refused before anything parses it (json-depth.ts); JSON text is checked in one pass and passed
 * through to the guest as it is (json-text.ts says why the host does not parse it); anything else
 * is InvalidRequestContentException with JSON.parse's words, prefixed as Lambda's front end
 * prefixes Jackson's ("Could not parse request body into json: Could not parse payload into json: ").
 */
import { InvalidRequestContentException } from '../errors.ts';
import { nestingTooDeep } from './json-depth.ts';
import { isJsonText, JsonText } from './json-text.ts';

const PREFIX = 'Could not parse request body into json: Could not parse payload into json: ';

/** The event of a payload (see the module comment); undefined for an empty payload. Throws InvalidRequestContentException. */
export function eventFromPayload(payload: Uint8Array): unknown {
  if (payload.length === 0) return undefined;
  const tooDeep = nestingTooDeep(payload);
  if (tooDeep !== undefined) throw new InvalidRequestContentException(`${PREFIX}${tooDeep}`);
  const bytes = Buffer.from(payload.buffer, payload.byteOffset, payload.byteLength);
  // Checked on the bytes (as JSON.parse would judge their UTF-8 text), then decoded once.
  if (isJsonText(bytes)) return new JsonText(bytes.toString('utf8'), bytes.length);
  try {
    return JSON.parse(bytes.toString('utf8')) as unknown;
  } catch (error) {
    throw new InvalidRequestContentException(`${PREFIX}${(error as Error).message}`, { cause: error });
  }
}
