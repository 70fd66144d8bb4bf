/**
 * node:querystring: querystring-es3 (Node's lib/querystring.js, packaged by browserify) for
 * parse/decode and stringify/encode; `escape` and `unescape` as Node defines them (RFC 3986
 * percent-encoding; unescape tolerates malformed sequences, as Node's `unescapeBuffer` path does).
 */
// querystring-es3 ships no types; its shape is Node's.
// eslint-disable-next-line @typescript-eslint/ban-ts-comment
// @ts-ignore
import qs from 'querystring-es3';

const base = qs as { parse: (...a: unknown[]) => unknown; stringify: (...a: unknown[]) => string };

/** Node's querystring.escape leaves the same characters as encodeURIComponent unescaped. */
function escape(text: unknown): string {
  return encodeURIComponent(String(text));
}

/** Node's unescapeBuffer: each valid %XX is a byte, anything else stays as its UTF-8 bytes. */
function unescapeBuffer(text: unknown): Uint8Array {
  const source = globalThis.Buffer.from(String(text));
  const out = new Uint8Array(source.length);
  let n = 0;
  for (let i = 0; i < source.length; i++) {
    const hex = source[i] === 0x25 && i + 2 < source.length ? String.fromCharCode(source[i + 1]!, source[i + 2]!) : '';
    if (/^[0-9a-fA-F]{2}$/.test(hex)) {
      out[n++] = parseInt(hex, 16);
      i += 2;
    } else {
      out[n++] = source[i]!;
    }
  }
  return globalThis.Buffer.from(out.subarray(0, n));
}

function unescape(text: unknown): string {
  try {
    return decodeURIComponent(String(text));
  } catch {
    return globalThis.Buffer.from(unescapeBuffer(text)).toString('utf8');
  }
}

export const querystring = {
  parse: base.parse,
  decode: base.parse,
  stringify: base.stringify,
  encode: base.stringify,
  escape,
  unescape,
  unescapeBuffer,
};
