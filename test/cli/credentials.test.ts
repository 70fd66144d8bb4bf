/**
 * `lambdalet invoke --credentials env` (a new user's trial, issue #12: no handler using the AWS SDK
 * could run from the CLI — `CredentialsProviderError: Could not load credentials from any
 * providers` — while Lambda always gives a function its execution role's credentials): the shell's
 * AWS credentials become the function's, as `sam local invoke` passes the caller's. Without the flag
 * a function gets none.
 */
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, expect, it } from 'vitest';
import { functionConfig, UsageError } from '../../src/cli/options.ts';
import { runCli } from './run-cli.ts';

const saved = { id: process.env.AWS_ACCESS_KEY_ID, secret: process.env.AWS_SECRET_ACCESS_KEY, token: process.env.AWS_SESSION_TOKEN };
afterEach(() => {
  for (const [key, value] of [['AWS_ACCESS_KEY_ID', saved.id], ['AWS_SECRET_ACCESS_KEY', saved.secret], ['AWS_SESSION_TOKEN', saved.token]] as const) {
    if (value === undefined) delete process.env[key];
    else process.env[key] = value;
  }
});

it('--credentials env: the function sees the shell\'s credentials as its role\'s; without it, none', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'lambdalet-credentials-'));
  try {
    const file = join(dir, 'whoami.mjs');
    await writeFile(file, 'export const handler = async () => [process.env.AWS_ACCESS_KEY_ID ?? null, process.env.AWS_SECRET_ACCESS_KEY ?? null, process.env.AWS_SESSION_TOKEN ?? null];\n');
    process.env.AWS_ACCESS_KEY_ID = 'AKIAIOSFODNN7EXAMPLE';
    process.env.AWS_SECRET_ACCESS_KEY = 'wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY';
    process.env.AWS_SESSION_TOKEN = 'token-example';
    const given = await runCli(['invoke', file, '--credentials', 'env', '--log-type', 'None']);
    expect(given, given.stderr).toMatchObject({ code: 0 });
    expect(JSON.parse(given.stdout)).toEqual(['AKIAIOSFODNN7EXAMPLE', 'wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY', 'token-example']);

    const none = await runCli(['invoke', file, '--log-type', 'None']);
    expect(none, none.stderr).toMatchObject({ code: 0 });
    expect(JSON.parse(none.stdout)).toEqual([null, null, null]);

    delete process.env.AWS_SECRET_ACCESS_KEY;
    const missing = await runCli(['invoke', file, '--credentials', 'env']);
    expect(missing.code).toBe(2);
    expect(missing.stderr).toContain('--credentials env: AWS_SECRET_ACCESS_KEY is not set in this shell');
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});

it('--credentials takes only env; the session token is optional', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'lambdalet-credentials-'));
  try {
    const file = join(dir, 'h.mjs');
    await writeFile(file, 'export const handler = async () => 1;\n');
    await expect(functionConfig(file, { credentials: 'profile' }, {})).rejects.toThrow(UsageError);
    await expect(functionConfig(file, { credentials: 'profile' }, {})).rejects.toThrow("--credentials takes 'env'");
    await expect(functionConfig(file, { credentials: 'env' }, {})).rejects.toThrow('AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY are not set');
    const config = await functionConfig(file, { credentials: 'env' }, { AWS_ACCESS_KEY_ID: 'a', AWS_SECRET_ACCESS_KEY: 'b' });
    expect(config.credentials).toEqual({ accessKeyId: 'a', secretAccessKey: 'b' });
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});
