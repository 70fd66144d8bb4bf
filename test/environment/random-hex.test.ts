/**
 * src/random-hex.ts: the cold-start path's random hex strings (log stream names, SnapStart restore
 * seeds) from a pooled block of CSPRNG output, each byte handed out once.
 */
import { describe, expect, it } from 'vitest';
import { randomHex } from '../../src/random-hex.ts';

describe('randomHex', () => {
  it('gives 2 hex digits per byte, from 1 byte to the pool size (4096), and refuses 0, 4097 and fractions', () => {
    expect(randomHex(1)).toMatch(/^[0-9a-f]{2}$/);
    expect(randomHex(16)).toMatch(/^[0-9a-f]{32}$/);
    expect(randomHex(4095)).toMatch(/^[0-9a-f]{8190}$/);
    expect(randomHex(4096)).toMatch(/^[0-9a-f]{8192}$/);
    for (const bad of [0, 4097, 1.5, -1, Number.NaN]) {
      expect(() => randomHex(bad)).toThrow(new RangeError(`randomHex: bytes must be an integer from 1 to 4096, got ${bad}`));
    }
  });

  it('never hands out the same bytes twice, across pool refills (10,000 draws of 16 bytes: 39 refills)', () => {
    const seen = new Set<string>();
    for (let i = 0; i < 10_000; i++) seen.add(randomHex(16));
    expect(seen.size).toBe(10_000);
    // Each hex digit about equally often (a stuck or zeroed pool would not be): 160,000 bytes.
    const counts = new Map<string, number>();
    for (const hex of seen) for (const digit of hex) counts.set(digit, (counts.get(digit) ?? 0) + 1);
    expect(counts.size).toBe(16);
    for (const count of counts.values()) expect(Math.abs(count - 20_000)).toBeLessThan(1_500);
  });
});
