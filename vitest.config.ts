import { defineConfig } from 'vitest/config';

// isolated-vm needs `--no-node-snapshot`, a process start-up flag: the threads pool cannot pass it
// (Node rejects it in a Worker's execArgv), so every test file runs in a forked process that has it.
export default defineConfig({
  // `lambdalet/testing` resolves to src/ (package.json `exports` condition `lambdalet-source`), so
  // examples import it by its package name from a fresh clone, without a build.
  ssr: { resolve: { conditions: ['lambdalet-source', 'module', 'node', 'development|production'] } },
  test: {
    include: ['test/**/*.test.ts', 'examples/**/*.test.ts'],
    pool: 'forks',
    execArgv: ['--no-node-snapshot'],
    testTimeout: 20_000,
    hookTimeout: 20_000,
  },
});
