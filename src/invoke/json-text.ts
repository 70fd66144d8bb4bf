/**
 * A JSON text passed through as it is: the Lambda API's Invoke body (src/http/lambda-api/invoke.ts).
 *
 * Lambda's runtime API hands the runtime the request's bytes (the runtime client's
 * `GET /runtime/invocation/next` body, which the Node.js runtime client JSON.parses itself). The
 * HTTP front end used to JSON.parse the body on the host's thread only for serializeEvent to
 * JSON.stringify it again: for a 5.5 MB object of 340,000 keys that held the host's event loop
 * 1.1-2.2 s at load ~17 (issue #15). The body is now checked to be JSON by {@link isJsonText} (one
 * linear pass, no objects made) and its text goes to the guest, whose JSON.parse gives the same
 * event JSON.parse would have given here (whitespace, number spellings and escapes differ, the
 * values do not; a repeated key is the last one's in both).
 */

/** A checked JSON text (made only by the host from a body that passed {@link isJsonText}). */
export class JsonText {
  readonly text: string;
  /** The text's length in UTF-8 (the body's length): Lambda's request limit is in bytes. */
  readonly bytes: number;

  constructor(text: string, bytes: number) {
    this.text = text;
    this.bytes = bytes;
  }
}

/** A hex digit's byte. */
function isHex(c: number): boolean {
  return (c >= 0x30 && c <= 0x39) || (c >= 0x41 && c <= 0x46) || (c >= 0x61 && c <= 0x66);
}

/** 1 for JSON's four whitespace bytes. */
const SPACE = new Uint8Array(256);
for (const c of [0x20, 0x0a, 0x0d, 0x09]) SPACE[c] = 1;
/** 1 for the bytes after a backslash that make an escape of their own (`u` is checked apart). */
const ESCAPE = new Uint8Array(256);
for (const c of '"\\/bfnrt') ESCAPE[c.charCodeAt(0)] = 1;

/**
 * Whether `text` (a string, or its UTF-8 bytes) is one JSON text as ECMA-262's JSON.parse accepts
 * it (RFC 8259's grammar: the four whitespace characters, no comments, no trailing commas, any
 * value at the top level, strings of characters from U+0020 with the nine escapes and \uXXXX).
 * Checked on UTF-8 bytes: every byte of a multi-byte character (and of U+FFFD, which a malformed
 * sequence decodes to) is 0x80 or more, which a string accepts and nothing else does, as JSON.parse
 * does with the decoded text. Linear, one pass, nesting on an explicit stack (the Invoke body's
 * depth is bounded before this: json-depth.ts). It decides nothing about values (a key repeated, a
 * number out of range): JSON.parse accepts those too. ~5.5 MB in tens of ms, about JSON.parse's
 * time for an array of numbers and a fifth of parse + stringify for an object of many keys.
 */
export function isJsonText(text: string | Uint8Array): boolean {
  const b = typeof text === 'string' ? Buffer.from(text, 'utf8') : text;
  const n = b.length;
  let i = 0;
  /** Open containers: 1 for an object, 0 for an array. */
  const stack: number[] = [];
  let c: number;
  for (;;) {
    // A value is expected at i (after whitespace).
    while (i < n && SPACE[b[i]!] === 1) i++;
    if (i >= n) return false;
    c = b[i]!;
    let key = false;
    if (c === 0x7b /* { */) {
      i++;
      while (i < n && SPACE[b[i]!] === 1) i++;
      if (b[i] === 0x7d) i++;
      else {
        stack.push(1);
        key = true;
      }
    } else if (c === 0x5b /* [ */) {
      i++;
      while (i < n && SPACE[b[i]!] === 1) i++;
      if (b[i] === 0x5d) i++;
      else {
        stack.push(0);
        continue;
      }
    } else if (c === 0x22 /* " */) {
      key = false;
    } else if (c === 0x2d /* - */ || (c >= 0x30 && c <= 0x39)) {
      if (c === 0x2d) i++;
      c = b[i]!;
      if (c === 0x30) i++;
      else if (c >= 0x31 && c <= 0x39) {
        i++;
        while (i < n && b[i]! >= 0x30 && b[i]! <= 0x39) i++;
      } else return false;
      if (b[i] === 0x2e /* . */) {
        i++;
        const start = i;
        while (i < n && b[i]! >= 0x30 && b[i]! <= 0x39) i++;
        if (i === start) return false;
      }
      if (b[i] === 0x65 || b[i] === 0x45 /* e E */) {
        i++;
        if (b[i] === 0x2b || b[i] === 0x2d) i++;
        const start = i;
        while (i < n && b[i]! >= 0x30 && b[i]! <= 0x39) i++;
        if (i === start) return false;
      }
    } else if (c === 0x74 /* t */) {
      if (b[i + 1] !== 0x72 || b[i + 2] !== 0x75 || b[i + 3] !== 0x65) return false;
      i += 4;
    } else if (c === 0x66 /* f */) {
      if (b[i + 1] !== 0x61 || b[i + 2] !== 0x6c || b[i + 3] !== 0x73 || b[i + 4] !== 0x65) return false;
      i += 5;
    } else if (c === 0x6e /* n */) {
      if (b[i + 1] !== 0x75 || b[i + 2] !== 0x6c || b[i + 3] !== 0x6c) return false;
      i += 4;
    } else return false;

    // A string here: the value itself, or (key) the first key of an object just opened; after a
    // key its colon, then a value. Otherwise, after the value: a comma or closes, or the end.
    for (;;) {
      if (key || c === 0x22) {
        if (key) {
          while (i < n && SPACE[b[i]!] === 1) i++;
          if (b[i] !== 0x22) return false;
        }
        // The string from its opening quote at i.
        i++;
        for (;;) {
          if (i >= n) return false;
          const d = b[i++]!;
          if (d === 0x22) break;
          if (d < 0x20) return false;
          if (d !== 0x5c) continue;
          const e = b[i++];
          if (e === undefined) return false;
          if (e === 0x75 /* u */) {
            if (i + 4 > n || !isHex(b[i]!) || !isHex(b[i + 1]!) || !isHex(b[i + 2]!) || !isHex(b[i + 3]!)) return false;
            i += 4;
          } else if (ESCAPE[e] !== 1) return false;
        }
        if (key) {
          while (i < n && SPACE[b[i]!] === 1) i++;
          if (b[i] !== 0x3a /* : */) return false;
          i++;
          break; // its value
        }
        c = 0;
      }
      while (i < n && SPACE[b[i]!] === 1) i++;
      if (stack.length === 0) return i === n;
      const next = b[i];
      const inObject = stack[stack.length - 1] === 1;
      if (next === 0x2c /* , */) {
        i++;
        if (inObject) {
          key = true;
          continue;
        }
        break; // the next element
      }
      if (next === (inObject ? 0x7d : 0x5d)) {
        i++;
        stack.pop();
        continue;
      }
      return false;
    }
  }
}
