/**
 * A restart on the same dataDir after the process was killed (SIGKILL: no close, no cleanup) brings
 * back every function with its versions, aliases, layers, reservation, provisioned concurrency and
 * the function-valued parts of its config (egress.fetch, a credentials provider), re-attached by
 * name from createRuntime({ hooks }). SQLite releases the dead process's lock (the OS drops it).
 */
import { spawn } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createRuntime, InvalidParameterValueException, silentSink } from '../../src/index.ts';
import { hooks } from './fixtures/restart-hooks.ts';

const CHILD = join(import.meta.dirname, 'fixtures/restart-child.ts');

let dataDir: string;
beforeEach(async () => {
  dataDir = await mkdtemp(join(tmpdir(), 'lambdalet-restart-'));
});
afterEach(async () => {
  await rm(dataDir, { recursive: true, force: true });
});

/** Runs the child until it prints READY, then kills it with SIGKILL; returns what it printed. */
async function buildThenKill(): Promise<Record<string, unknown>> {
  const child = spawn(process.execPath, ['--no-node-snapshot', CHILD, dataDir], { stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  child.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d));
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => child.on('exit', (code, signal) => resolve({ code, signal })));
  const ready = await new Promise<string>((resolve, reject) => {
    child.stdout.setEncoding('utf8').on('data', (d: string) => {
      stdout += d;
      const line = stdout.split('\n').find((l) => l.startsWith('READY '));
      if (line !== undefined) resolve(line.slice('READY '.length));
    });
    void exited.then(({ code }) => reject(new Error(`the child exited (${code}) before READY:\n${stderr}`)));
  });
  child.kill('SIGKILL');
  expect(await exited).toEqual({ code: null, signal: 'SIGKILL' });
  return JSON.parse(ready) as Record<string, unknown>;
}

describe('restart after SIGKILL', () => {
  it('Restart: every function, version, alias, layer, reservation, provisioned config and hook comes back', async () => {
    const before = await buildThenKill();
    const rt = await createRuntime({ logSink: silentSink, dataDir, hooks, concurrency: 100 });
    try {
      expect(rt.listFunctions()).toEqual(before.functions);
      expect(rt.listVersions('orders')).toEqual(before.orders);
      expect(rt.listVersions('billing')).toEqual(before.billing);
      expect(rt.listAliases('orders')).toEqual(before.aliases);
      const layer = before.layer as { layerVersionArn: string };
      expect(rt.getLayerVersion(layer.layerVersionArn)).toEqual(before.layer);
      expect(rt.getFunctionConcurrency('orders')).toEqual({ reservedConcurrentExecutions: 7 });
      // Allocated again before createRuntime resolved: READY, split 1/1 by the alias's weight 0.5.
      expect(rt.getProvisionedConcurrencyConfig('orders', 'live')).toEqual(before.provisioned);
      const provisioned = Object.fromEntries(rt.metrics().functions.filter((f) => f.functionName === 'orders').map((f) => [f.version, f.environments.provisioned]));
      expect(provisioned).toEqual({ $LATEST: 0, '1': 1, '2': 1 });
      // The hooks are this process's functions of the same names: fetch and credentials work.
      const v1 = await rt.invoke('orders:1');
      expect(v1.coldStart).toBe(false); // its provisioned environment
      expect(v1.payload).toEqual(before.live);
      expect(v1.payload).toEqual({ tag: 'v1', greet: 'hi x', fetched: 'from-hook:/ping', key: 'AKIDRESTART', version: '1' });
      expect((await rt.invoke('orders:2')).payload).toMatchObject({ tag: 'v2', fetched: 'from-hook:/ping', key: 'AKIDRESTART' });
      expect((await rt.invoke('orders')).payload).toMatchObject({ tag: 'v3', version: '$LATEST' });
      expect((await rt.invoke('billing:1')).payload).toBe('billing');
    } finally {
      await rt.close();
    }
  });

  it('Restart: a hook the new runtime does not provide is InvalidParameterValueException naming it; the folder stays usable', async () => {
    await buildThenKill();
    const { fakeFetch: _dropped, ...partial } = hooks;
    const error = await createRuntime({ logSink: silentSink, dataDir, hooks: partial, concurrency: 100 }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(InvalidParameterValueException);
    expect(error).toMatchObject({ field: 'hooks.fakeFetch' });
    expect((error as Error).message).toBe(
      'Expected `hooks.fakeFetch` to be a function: function orders (version $LATEST) was deployed with it as `egress.fetch` and is restored from the dataDir; pass createRuntime({ hooks: { "fakeFetch": fn } })',
    );
    // The failed open closed the store: the next runtime opens the folder.
    const rt = await createRuntime({ logSink: silentSink, dataDir, hooks, concurrency: 100 });
    try {
      expect(rt.listFunctions().map((f) => f.functionName)).toEqual(['orders', 'billing']);
    } finally {
      await rt.close();
    }
  });

  it('Hooks: a function value not named in hooks is refused at deploy with the fix in the message; a named one is kept', async () => {
    const rt = await createRuntime({ logSink: silentSink, dataDir, hooks });
    try {
      const stray = await rt
        .deploy({ name: 'f', code: { files: { 'index.mjs': 'export const handler = async () => 1;' } }, credentials: () => ({ accessKeyId: 'A', secretAccessKey: 'B' }) })
        .catch((e: unknown) => e);
      expect(stray).toBeInstanceOf(InvalidParameterValueException);
      expect(stray).toMatchObject({ field: 'credentials' });
      expect((stray as Error).message).toContain('give it a name in createRuntime({ hooks: { name: fn } })');
      await rt.deploy({ name: 'f', code: { files: { 'index.mjs': 'export const handler = async () => process.env.AWS_ACCESS_KEY_ID;' } }, credentials: hooks.roleCredentials });
      expect((await rt.invoke('f')).payload).toBe('AKIDRESTART');
    } finally {
      await rt.close();
    }
    const bad = await createRuntime({ hooks: { 'bad name': () => 1 } }).catch((e: unknown) => e);
    expect(bad).toBeInstanceOf(InvalidParameterValueException);
    const notFn = await createRuntime({ hooks: { ok: 5 as never } }).catch((e: unknown) => e);
    expect(notFn).toBeInstanceOf(InvalidParameterValueException);
  });
});
