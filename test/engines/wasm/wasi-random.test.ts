/**
 * wasi:random for one component instance (worker/wasi-imports.ts instanceRandom, issue #15): a list
 * longer than the instance's memory cap is refused before the host allocates it, and the insecure
 * seed is the instance's own.
 */
import { describe, expect, it } from 'vitest';
import { instanceRandom, loadShim } from '../../../src/engines/wasm/worker/wasi-imports.ts';

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
