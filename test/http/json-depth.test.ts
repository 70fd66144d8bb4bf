/**
 * The nesting bound checked before a JSON body is parsed on the host's thread (src/invoke/json-depth.ts,
 * issue #15): at, under and over the limit, brackets inside strings (escaped quotes included) not
 * counted, and a 6 MB body of nested arrays refused after reading only past the limit.
 */
import { describe, expect, it } from 'vitest';
import { JSON_NESTING_MAX_DEPTH, nestingTooDeep } from '../../src/invoke/json-depth.ts';

const bytes = (text: string): Uint8Array => new TextEncoder().encode(text);
const arrays = (depth: number): string => '['.repeat(depth) + ']'.repeat(depth);
const objects = (depth: number): string => '{"a":'.repeat(depth) + '1' + '}'.repeat(depth);

describe('nestingTooDeep', () => {
  it('accepts nesting at and under the limit, arrays and objects', () => {
    expect(JSON_NESTING_MAX_DEPTH).toBe(1_000);
    for (const depth of [999, 1_000]) {
      expect(nestingTooDeep(bytes(arrays(depth)))).toBeUndefined();
      expect(nestingTooDeep(bytes(objects(depth)))).toBeUndefined();
    }
  });

  it('refuses one level over, in Jackson\'s words', () => {
    const expected = 'Document nesting depth (1001) exceeds the maximum allowed (1000, from `StreamReadConstraints.getMaxNestingDepth()`)';
    expect(nestingTooDeep(bytes(arrays(1_001)))).toBe(expected);
    expect(nestingTooDeep(bytes(objects(1_001)))).toBe(expected);
    expect(nestingTooDeep(bytes(`[${'{"k":'.repeat(500)}${arrays(501)}${'}'.repeat(500)}]`))).toBe(expected);
  });

  it('counts depth, not brackets: siblings do not add up', () => {
    expect(nestingTooDeep(bytes(`[${Array.from({ length: 5_000 }, () => arrays(1_000)).join(',')}]`), 1_001)).toBeUndefined();
  });

  it('skips brackets inside strings, escaped quotes and backslashes included', () => {
    const inString = JSON.stringify({ s: '['.repeat(5_000) + '\\"[[[' + '{'.repeat(5_000) });
    expect(nestingTooDeep(bytes(inString))).toBeUndefined();
    expect(nestingTooDeep(bytes(JSON.stringify({ s: 'a\\', t: arrays(999) })))).toBeUndefined();
    expect(nestingTooDeep(bytes(JSON.stringify({ s: 'a\\"', t: [JSON.parse(arrays(1_000))] })))).toBeDefined();
  });

  it('a 6 MB body of nested arrays is refused', () => {
    expect(nestingTooDeep(bytes(arrays(3_000_000)))).toMatch(/^Document nesting depth \(1001\)/);
  });
});
