/**
 * The vitest settings lambdalet's v8 engine needs. isolated-vm needs Node started with
 * `--no-node-snapshot`, a start-up flag: vitest's default `threads` pool cannot pass it (Node
 * rejects it in a Worker's execArgv), so test files run in forked processes that have it.
 *
 *   // vitest.config.ts
 *   import { defineConfig } from 'vitest/config';
 *   import { vitestConfig } from 'lambdalet/testing';
 *   export default defineConfig({ test: { ...vitestConfig } });
 */

/** Spread into `test` in vitest.config: `pool: 'forks'` and `execArgv: ['--no-node-snapshot']`. */
export const vitestConfig: { readonly pool: 'forks'; readonly execArgv: string[] } = Object.freeze({
  pool: 'forks',
  execArgv: ['--no-node-snapshot'],
});

/** What the missing-flag error adds for users of lambdalet/testing. */
export const VITEST_PRESET_LINES = [
  'With lambdalet/testing and vitest, spread the preset into vitest.config.ts:',
  "  import { vitestConfig } from 'lambdalet/testing';",
  '  export default defineConfig({ test: { ...vitestConfig } });',
  "(that is `pool: 'forks'` and `execArgv: ['--no-node-snapshot']`). With node:test: `node --no-node-snapshot --test`.",
].join('\n');
