/**
 * invoke/json-text.ts: the Invoke API's body passed through as JSON text. `isJsonText` must accept
 * exactly what JSON.parse accepts (ECMA-262 25.5.1, RFC 8259's grammar): were it to accept more, a
 * body Lambda refuses with InvalidRequestContentException would reach the guest; were it to accept
 * less, the host would parse the body again (correct, only slower). Checked at each grammar rule's
 * edges and against JSON.parse on seeded random mutations of JSON texts (a differential test).
 */
import { describe, expect, it, vi } from 'vitest';
import { InvalidRequestContentException } from '../../src/index.ts';
import { eventFromPayload } from '../../src/invoke/payload.ts';
import { serializeEvent } from '../../src/invoke/event.ts';
import { isJsonText, JsonText } from '../../src/invoke/json-text.ts';

function parses(text: string): boolean {
  try {
    JSON.parse(text);
    return true;
  } catch {
    return false;
  }
}

const EDGES = [
  '', ' ', '\t\n\r ', 'null', 'true', 'false', 'nul', 'truex', 'True', ' null ', 'null null',
  '0', '-0', '01', '-01', '-', '+1', '1.', '.5', '1.5', '1e', '1e+', '1e-5', '1E5', '1e+05', '0.0e0', '1.e3', '-1.5E-3', '0x10', 'NaN', 'Infinity',
  '""', '"a', '"\\"', '"\\u00e9"', '"\\u12G4"', '"\\u12"', '"\\a"', '"\\/"', '"\\b\\f\\n\\r\\t"', '"\u0000"', '"\u001f"', '"\u007f"', '"\ud800"', '"\u2028"', "'a'",
  '[]', '[', ']', '[1,]', '[,1]', '[1,,2]', '[1 2]', '[[[]]]', '[1]]', '[[1]', '[] []',
  '{}', '{', '{"a":1}', '{"a":1,}', '{,}', '{"a" 1}', '{"a":}', '{a:1}', '{"a":1 "b":2}', '{"a":1}}', '{}{}', '{"a":{"b":[1,{"c":null}]}}', '{"a":1,"a":2}', '{"__proto__":1}', '{"a":[}', '{"a"}',
  '\ufeff{}', '{}\u00a0', '{} /* c */', '[1]\n', '\n[1]',
];

describe('isJsonText', () => {
  it.each(EDGES.map((text) => [JSON.stringify(text), text] as const))('%s: as JSON.parse judges it', (_name, text) => {
    expect(isJsonText(text)).toBe(parses(text));
  });

  it('agrees with JSON.parse on 30,000 seeded random mutations of JSON texts', () => {
    let seed = 0x15f00d;
    const random = (): number => {
      seed = (Math.imul(seed, 1103515245) + 12345) >>> 0;
      return seed / 2 ** 32;
    };
    const pick = <T>(items: readonly T[]): T => items[Math.floor(random() * items.length)]!;
    const value = (depth: number): string => {
      const r = random();
      if (depth > 4 || r < 0.3) return pick(['0', '-1.5e3', '12', 'true', 'false', 'null', '"x"', '"\\u0041\\n"', '""', '1E-2', '"é\\\\"']);
      if (r < 0.65) return `[${Array.from({ length: Math.floor(random() * 4) }, () => value(depth + 1)).join(pick([',', ', ', ' ,\n']))}]`;
      return `{${Array.from({ length: Math.floor(random() * 4) }, () => `"k${Math.floor(random() * 9)}"${pick([':', ' : '])}${value(depth + 1)}`).join(',')}}`;
    };
    const PIECES = ['', ',', ':', '"', '\\', '[', ']', '{', '}', '-', '.', 'e', '0', '1', ' ', '\n', '\u0001', 'u', 'n', 't', 'x', '\\u', '00'];
    let valid = 0;
    for (let i = 0; i < 30_000; i++) {
      let text = value(0);
      // Half are mutated: a character replaced, inserted or deleted at a random place (up to 3 times).
      if (random() < 0.5) {
        for (let m = 1 + Math.floor(random() * 3); m > 0; m--) {
          const at = Math.floor(random() * (text.length + 1));
          const kind = random();
          if (kind < 0.4) text = text.slice(0, at) + pick(PIECES) + text.slice(at + 1);
          else if (kind < 0.8) text = text.slice(0, at) + pick(PIECES) + text.slice(at);
          else text = text.slice(0, at) + text.slice(at + 1);
        }
      }
      const expected = parses(text);
      if (expected) valid++;
      if (isJsonText(text) !== expected) expect.fail(`isJsonText(${JSON.stringify(text)}) should be ${expected}`);
    }
    // Both sides of the decision were exercised.
    expect(valid).toBeGreaterThan(10_000);
    expect(valid).toBeLessThan(25_000);
  });

  it('handles a 5.5 MB object of 340,000 keys and a 1,400,000-element array (the issue #15 bodies)', () => {
    const keys = JSON.stringify(Object.fromEntries(Array.from({ length: 340_000 }, (_, i) => [`k${i}`, i])));
    const numbers = JSON.stringify(Array.from({ length: 1_400_000 }, (_, i) => i % 1000));
    expect(isJsonText(keys)).toBe(true);
    expect(isJsonText(numbers)).toBe(true);
    expect(isJsonText(`${keys.slice(0, -1)},}`)).toBe(false);
  });
});

describe('serializeEvent with a JsonText', () => {
  it('passes the text through, and keeps the 6,291,456-byte limit in the body\'s bytes: at it accepted, one over RequestTooLargeException', () => {
    const text = (bytes: number): JsonText => new JsonText(`"${'a'.repeat(bytes - 2)}"`, bytes);
    expect(serializeEvent(new JsonText('{ "a" : 1 }', 11))).toBe('{ "a" : 1 }');
    expect(serializeEvent(text(6_291_456)).length).toBe(6_291_456);
    expect(() => serializeEvent(text(6_291_457))).toThrow('Request must be smaller than 6291456 bytes for the InvokeFunction operation');
    // Counted in UTF-8 bytes, not characters: 2,097,152 three-byte characters are 6,291,456 bytes (+2 quotes over).
    const wide = `"${'€'.repeat(2_097_152)}"`;
    expect(() => serializeEvent(new JsonText(wide, Buffer.byteLength(wide)))).toThrow(/Request must be smaller than 6291456 bytes/);
  });
});

describe("the Invoke API's body (invoke/payload.ts eventFromPayload)", () => {
  it('a JSON body is passed on as its text, never parsed on the host; empty is no event; not JSON is JSON.parse\'s error', () => {
    const body = Buffer.from(JSON.stringify(Object.fromEntries(Array.from({ length: 10_000 }, (_, i) => [`k${i}`, i]))));
    const parse = vi.spyOn(JSON, 'parse');
    try {
      const event = eventFromPayload(body);
      expect(parse).not.toHaveBeenCalled();
      expect(event).toBeInstanceOf(JsonText);
      expect((event as JsonText).text).toBe(body.toString('utf8'));
      expect((event as JsonText).bytes).toBe(body.length);
    } finally {
      parse.mockRestore();
    }
    expect(eventFromPayload(Buffer.alloc(0))).toBeUndefined();
    let words = '';
    try {
      JSON.parse('{"a":1,}');
    } catch (error) {
      words = (error as Error).message;
    }
    expect(() => eventFromPayload(Buffer.from('{"a":1,}'))).toThrow(InvalidRequestContentException);
    expect(() => eventFromPayload(Buffer.from('{"a":1,}'))).toThrow(`Could not parse request body into json: Could not parse payload into json: ${words}`);
  });
});
