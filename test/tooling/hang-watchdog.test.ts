// The suite's hang watchdog (test/helpers/hang-watchdog.ts): a test process whose main thread
// never turns its event loop again is killed with a message naming the test, and the run ends
// (failed) instead of hanging. Checked with a nested vitest run whose threshold is 1.5 s.
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { expect, it } from 'vitest';
import { collectRun } from '../helpers/process.ts';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const VITEST = fileURLToPath(new URL('../../node_modules/vitest/vitest.mjs', import.meta.url));

it('kills a test process whose main thread is parked, names the test, and the run ends failed', async () => {
  const child = spawn(process.execPath, [VITEST, 'run', '--config', 'test/tooling/fixtures/hang.config.ts'], {
    cwd: ROOT,
    env: { ...process.env, LAMBDALET_TEST_HANG_MS: '1500', LAMBDALET_TEST_HANG_STACKS: '0', PATH: process.env.PATH ?? '', CI: 'true' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const run = await collectRun(child);
  const output = run.stdout + run.stderr;
  expect(run.code, output).not.toBe(0);
  expect(output).toMatch(/\[lambdalet test watchdog\] the main thread of test process \d+ has not turned its event loop for 1\.5 s/);
  expect(output).toContain('blocks-main-thread.fixture.ts > parks the main thread');
}, 120_000);
