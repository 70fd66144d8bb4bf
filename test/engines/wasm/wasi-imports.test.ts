/**
 * What worker/wasi-imports.ts gives a component instance, under hostile use (issue #15): wasi:random
 * (instanceRandom) refuses a list longer than the instance's memory cap before the host allocates
 * it, and its insecure seed is the instance's own; stdout/stderr (LineSink) hold at most one log
 * line's worth of an unfinished line.
 */
import { describe, expect, it } from 'vitest';
import { instanceRandom, LINE_MAX_CHARS, LineSink, loadShim } from '../../../src/engines/wasm/worker/wasi-imports.ts';

type Random = { getRandomBytes(len: bigint): Uint8Array; getRandomU64(): bigint };
type Insecure = { getInsecureRandomBytes(len: bigint): Uint8Array; getInsecureRandomU64(): bigint };
type Seed = { insecureSeed(): [bigint, bigint] };

describe('wasi:random per instance (issue #15)', () => {
  it("get-random-bytes answers up to the instance's memory cap and refuses more with a RangeError naming it, allocating nothing", async () => {
    const shim = await loadShim();
    const cap = 1024 * 1024;
    const { random, insecure } = instanceRandom(shim, cap) as { random: Random; insecure: Insecure };
    expect(random.getRandomBytes(BigInt(cap)).length).toBe(cap);
    expect(insecure.getInsecureRandomBytes(16n).length).toBe(16);
    const before = process.memoryUsage().arrayBuffers;
    expect(() => random.getRandomBytes(BigInt(cap) + 1n)).toThrow(new RangeError(`wasi:random/random get-random-bytes: ${cap + 1} bytes asked for, more than the function's memory (${cap} bytes) can hold`));
    expect(() => insecure.getInsecureRandomBytes(2n ** 32n)).toThrow(RangeError);
    expect(() => random.getRandomBytes(2n ** 64n - 1n)).toThrow(RangeError);
    expect(process.memoryUsage().arrayBuffers - before).toBeLessThan(cap);
    expect(typeof random.getRandomU64()).toBe('bigint');
  });

  it('the insecure seed is stable for an instance and its own', async () => {
    const shim = await loadShim();
    const a = instanceRandom(shim, 1024).insecureSeed as Seed;
    const b = instanceRandom(shim, 1024).insecureSeed as Seed;
    expect(a.insecureSeed()).toEqual(a.insecureSeed());
    expect(a.insecureSeed()).not.toEqual(b.insecureSeed());
  });
});

describe('LineSink (issue #15)', () => {
  const sink = () => {
    const lines: string[] = [];
    return { lines, s: new LineSink((line) => lines.push(line)) };
  };
  const bytes = (text: string) => new TextEncoder().encode(text);

  it('emits complete lines as written, across writes, with \\r\\n and a partial last line on flush', () => {
    const { lines, s } = sink();
    s.write(bytes('a\nb'));
    s.write(bytes('c\r\n\nd'));
    expect(lines).toEqual(['a', 'bc', '']);
    s.flush();
    expect(lines).toEqual(['a', 'bc', '', 'd']);
    // a UTF-8 character split between writes
    const euro = bytes('€\n');
    s.write(euro.subarray(0, 1));
    s.write(euro.subarray(1));
    expect(lines.at(-1)).toBe('€');
  });

  it('a line at LINE_MAX_CHARS is emitted whole; one past it is emitted as soon as it passes, with one character more for the collector to cut, and the rest of it is dropped', () => {
    const { lines, s } = sink();
    s.write(bytes(`${'a'.repeat(LINE_MAX_CHARS)}\n`));
    expect(lines).toEqual(['a'.repeat(LINE_MAX_CHARS)]);
    const chunk = bytes('x'.repeat(64 * 1024));
    for (let i = 0; i < 4 * 16; i++) s.write(chunk); // 4 MiB without a newline
    expect(lines.slice(1)).toEqual(['x'.repeat(LINE_MAX_CHARS + 1)]);
    s.write(bytes('yyy\nnext\n'));
    expect(lines.slice(2)).toEqual(['next']);
    s.write(bytes('z'.repeat(LINE_MAX_CHARS + 5)));
    s.flush();
    expect(lines.slice(3)).toEqual(['z'.repeat(LINE_MAX_CHARS + 1)]);
    s.write(bytes('after\n'));
    expect(lines.slice(4)).toEqual(['after']);
  });
});
