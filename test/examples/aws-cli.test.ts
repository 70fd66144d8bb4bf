/**
 * examples/aws-cli: the `aws` CLI, unchanged, against lambdalet's server (create-function from a
 * zip, invoke with --log-type Tail, publish-version, create-alias, invoke the alias, list, delete).
 * Runs when `aws` is on PATH; skipped, saying why, when it is not, and under CI=true (about 35 s of
 * CLI start-ups on this machine; LAMBDALET_TEST_AWS_CLI=1 runs it there too).
 */
import { execFileSync, spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { collectRun } from '../helpers/process.ts';

const root = fileURLToPath(new URL('../..', import.meta.url));

function awsVersion(): string | undefined {
  try {
    return execFileSync('aws', ['--version'], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'], timeout: 60_000 }).trim();
  } catch {
    return undefined;
  }
}

const version = awsVersion();
const inCi = process.env.CI === 'true' && process.env.LAMBDALET_TEST_AWS_CLI !== '1';
const why = version === undefined ? 'skipped: no `aws` on PATH (apt-get install awscli)' : inCi ? 'skipped under CI=true (~35 s; LAMBDALET_TEST_AWS_CLI=1 runs it)' : `with ${version.split(' ')[0]}`;

describe('examples/aws-cli', () => {
  it.skipIf(version === undefined || inCi)(`the aws CLI creates, invokes (Tail), publishes, aliases, lists and deletes through the server — ${why}`, async () => {
    const env = { ...process.env };
    delete env.NODE_OPTIONS;
    const run = await collectRun(spawn(process.execPath, ['--no-node-snapshot', 'examples/aws-cli/run.ts'], { cwd: root, env }));
    expect(run.stderr).toBe('');
    expect(run.code).toBe(0);
    expect(run.stdout).toContain('created arn:aws:lambda:us-east-1:123456789012:function:greeter (Active)');
    expect(run.stdout).toContain('invoke: 200 {"hello":"Ada","version":"$LATEST"}');
    expect(run.stdout).toContain('log tail: hello from $LATEST');
    expect(run.stdout).toContain('published version 1');
    expect(run.stdout).toContain('invoke live: 1 {"hello":"Grace","version":"1"}');
    expect(run.stdout).toContain('functions: greeter');
    expect(run.stdout).toMatch(/deleted\n$/);
  }, 300_000);
});
