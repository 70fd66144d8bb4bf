/**
 * A bound on the nesting of JSON bodies, checked before JSON.parse runs on the host's thread.
 * V8's JSON.parse takes time superlinear in nesting depth: a 6 MB body of 3,000,000 nested arrays
 * held the host's event loop for seconds (issue #15, red team: 2,138 ms; 8 s on a loaded 2-core
 * machine), where 6 MB of flat JSON takes milliseconds. Lambda's front end parses with Jackson,
 * whose messages its InvalidRequestContentException carries (test/http/lambda-api.test.ts);
 * Jackson's StreamReadConstraints refuse nesting past 1,000 by default, in the words below.
 */

/** Deepest nesting of arrays and objects a JSON body may have (Jackson's default maxNestingDepth). */
export const JSON_NESTING_MAX_DEPTH = 1_000;

/** Jackson's words for a document nested deeper than `max`, or undefined when it is not. */
export function nestingTooDeep(bytes: Uint8Array, max = JSON_NESTING_MAX_DEPTH): string | undefined {
  const depth = nestingPastLimit(bytes, max);
  return depth === undefined ? undefined : `Document nesting depth (${depth}) exceeds the maximum allowed (${max}, from \`StreamReadConstraints.getMaxNestingDepth()\`)`;
}

/**
 * One pass over the bytes, skipping strings (a `\` escapes the next byte): the depth at which the
 * nesting first passes `max`, or undefined. Linear, and it stops there; the text need not be valid
 * JSON (JSON.parse judges that afterwards).
 */
function nestingPastLimit(bytes: Uint8Array, max: number): number | undefined {
  let depth = 0;
  let inString = false;
  for (let i = 0; i < bytes.length; i++) {
    const byte = bytes[i]!;
    if (inString) {
      if (byte === 0x5c) i++;
      else if (byte === 0x22) inString = false;
    } else if (byte === 0x22) {
      inString = true;
    } else if (byte === 0x5b || byte === 0x7b) {
      if (++depth > max) return depth;
    } else if (byte === 0x5d || byte === 0x7d) {
      depth--;
    }
  }
  return undefined;
}
