/**
 * An invocation's payload as bytes — the Invoke API's request body, or the `Payload` bytes a caller
 * of `rt.invoke` hands over as the AWS SDK's InvokeCommand takes them — made into the event.
 *
 * Empty means `{}` (Lambda's Invoke with no body). A body nested deeper than Jackson's default is
 * refused before anything parses it (json-depth.ts); JSON text is checked in one pass and passed
 * through to the guest as it is (json-text.ts says why the host does not parse it); anything else
 * is InvalidRequestContentException with JSON.parse's words, prefixed as Lambda's front end
 * prefixes Jackson's ("Could not parse request body into json: Could not parse payload into json: ").
 * Bytes that are not UTF-8 in a string are refused as Lambda's front end refuses them (Jackson's
 * words: "Invalid UTF-8 start byte 0x97", awsdocs/aws-lambda-developer-guide#382; "Invalid UTF-8
 * middle byte 0x28", aws-samples/aws-waf-ipset-auto-update-aws-ip-ranges#1), not decoded to U+FFFD.
 */
import { isUtf8 } from 'node:buffer';
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
  if (isJsonText(bytes)) {
    // Every byte of 0x80 or more is in a string here (isJsonText): UTF-8 or refused as Jackson refuses it.
    const badUtf8 = isUtf8(bytes) ? undefined : jacksonUtf8Error(bytes);
    if (badUtf8 !== undefined) throw new InvalidRequestContentException(`${PREFIX}${badUtf8}`);
    return new JsonText(bytes.toString('utf8'), bytes.length);
  }
  try {
    return JSON.parse(bytes.toString('utf8')) as unknown;
  } catch (error) {
    throw new InvalidRequestContentException(`${PREFIX}${(error as Error).message}`, { cause: error });
  }
}

/**
 * Jackson's words for the first malformed UTF-8 sequence (UTF8StreamJsonParser: `_reportInvalidInitial`
 * "Invalid UTF-8 start byte 0x%x" for a byte no character starts with — 0x80-0xBF, 0xF8-0xFF — and
 * `_reportInvalidOther` "Invalid UTF-8 middle byte 0x%x" for a byte after a start byte that is not
 * 10xxxxxx; the byte as Integer.toHexString writes it), or undefined when Jackson's decoder would take
 * every sequence (it does not refuse overlong forms or encoded surrogates, which Node's isUtf8 does:
 * those keep being decoded as before).
 */
function jacksonUtf8Error(bytes: Uint8Array): string | undefined {
  const n = bytes.length;
  for (let i = 0; i < n; ) {
    const c = bytes[i]!;
    if (c < 0x80) {
      i++;
      continue;
    }
    const more = c >= 0xc0 && c <= 0xdf ? 1 : c >= 0xe0 && c <= 0xef ? 2 : c >= 0xf0 && c <= 0xf7 ? 3 : -1;
    if (more < 0) return `Invalid UTF-8 start byte 0x${c.toString(16)}`;
    for (let k = 1; k <= more; k++) {
      const next = bytes[i + k];
      if (next === undefined) return undefined;
      if ((next & 0xc0) !== 0x80) return `Invalid UTF-8 middle byte 0x${next.toString(16)}`;
    }
    i += more + 1;
  }
  return undefined;
}
