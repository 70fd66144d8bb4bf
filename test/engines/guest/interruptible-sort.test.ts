/**
 * The guest's interruptible sorts (src/engines/guest/interruptible-sort.ts, issue #15) against
 * Node's native ones: the same seeded program (sort-cases.ts) runs in a fresh Node context and in a
 * sandbox of each engine, and every outcome must be identical — orders (stability, holes, undefined
 * last, UTF-16 order), thrown errors and their messages, access order on a Proxy, typed arrays,
 * and how the functions look (`String(fn)`, name, length, descriptors) as Node's do.
 */
import { runInNewContext } from 'node:vm';
import { expect, it } from 'vitest';
import { forEachEngine, deployAndInvoke, GENEROUS_TIMEOUT_MS, SLOW_CASE_LIMIT_MS } from '../../helpers/runtime.ts';
import { SORT_PROGRAM } from './sort-cases.ts';

const SEEDS = [1, 2, 3];

const nativeOutcomes = new Map<number, unknown>();
/** Node's outcome for a seed, computed once per file (every engine compares against the same one). */
function nativeOutcome(seed: number): unknown {
  let outcome = nativeOutcomes.get(seed);
  if (outcome === undefined) {
    const run = runInNewContext(`${SORT_PROGRAM}; run`, { structuredClone }) as (seed: number) => unknown;
    outcome = JSON.parse(JSON.stringify(run(seed))) as unknown;
    nativeOutcomes.set(seed, outcome);
  }
  return outcome;
}

/**
 * QuickJS sandboxes give V8's detached-buffer message in Node 24's words ("on a detached
 * ArrayBuffer"); V8 in Node 26 says "on a detached or out-of-bounds ArrayBuffer" (the v8 engine gives
 * whatever its V8 says). Only that wording is mapped back; every other outcome is compared as is.
 */
function asNode24(outcome: unknown): unknown {
  return JSON.parse(JSON.stringify(outcome).replaceAll(' on a detached or out-of-bounds ArrayBuffer', ' on a detached ArrayBuffer')) as unknown;
}

forEachEngine(({ engine, withRuntime, title }) => {
  const skip = { wasm: 'runs no JavaScript handlers' };
  it.skipIf(engine === 'wasm')(
    title('Array and TypedArray sort/toSorted: every outcome as Node\'s native sort gives it', skip),
    async () => {
      await withRuntime(async ({ rt }) => {
        const source = `${SORT_PROGRAM}\nexport const handler = async (event) => JSON.stringify(run(event.seed));`;
        for (const seed of SEEDS) {
          const result = await deployAndInvoke(rt, source, { seed }, { timeoutMs: GENEROUS_TIMEOUT_MS, memoryMb: 1024 });
          expect(result.functionError, JSON.stringify(result.payload)).toBeUndefined();
          expect(JSON.parse(result.payload as string)).toEqual(engine === 'quickjs' ? asNode24(nativeOutcome(seed)) : nativeOutcome(seed));
        }
      });
    },
    SLOW_CASE_LIMIT_MS,
  );
});
