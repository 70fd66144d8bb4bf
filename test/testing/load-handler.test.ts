import { spawnSync } from 'node:child_process';
import { mkdtemp, rm, utimes, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { EngineUnavailableError, InvalidParameterValueException, RuntimeClosedError } from '../../src/index.ts';
import { loadHandler, type LoadedHandler } from '../../src/testing/index.ts';

const greeterPath = fileURLToPath(new URL('./fixtures/greeter.ts', import.meta.url));
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

interface Greeting {
  message: string;
  invocations: number;
  functionName: string;
  memoryLimitInMB: string;
  clientContext: unknown;
  identity: unknown;
}

describe('loadHandler', () => {
  const handles: LoadedHandler[] = [];
  afterAll(async () => {
    await Promise.all(handles.map((h) => h.dispose()));
  });
  async function load<E, R>(...args: Parameters<typeof loadHandler>): Promise<LoadedHandler<E, R>> {
    const handle = await loadHandler<E, R>(...args);
    handles.push(handle);
    return handle;
  }

  it('bundles a TypeScript file with its imports and invokes its handler, cold then warm', async () => {
    const fn = await load<{ name: string }, Greeting>(greeterPath, { env: { GREETING: 'Hi' } });
    expect(fn.handler).toBe('greeter.handler');
    expect(fn.functionName).toBe('greeter');

    const first = await fn.invoke({ name: 'Ada' });
    expect(first.ok).toBe(true);
    expect(first.error).toBeUndefined();
    expect(first.payload).toMatchObject({ message: 'Hi, Ada!', invocations: 1, functionName: 'greeter', memoryLimitInMB: '128' });
    expect(first.coldStart).toBe(true);
    expect(first.initDurationMs).toBeGreaterThan(0);
    expect(first.requestId).toMatch(UUID);

    const second = await fn.invoke({ name: 'Grace' });
    expect(second.coldStart).toBe(false);
    expect(second.initDurationMs).toBeUndefined();
    expect(second.payload?.invocations).toBe(2);
  });

  it('a CPU-bound handler keeps its warm environment: no move to background servers (cpuHeavyNice 0), its module state counts on', async () => {
    // A runtime's default moves a function after 3 calls of >= 10 ms of CPU, which ends the warm
    // environment once (README, Isolation): a unit test saw 1, 2, 3, 1, 2.
    const fn = await load<unknown, number>(fileURLToPath(new URL('./fixtures/spinner.mjs', import.meta.url)));
    const results = [];
    for (let i = 0; i < 6; i++) results.push(await fn.invoke({}));
    expect(results.map((r) => r.payload)).toEqual([1, 2, 3, 4, 5, 6]);
    expect(results.map((r) => r.coldStart)).toEqual([true, false, false, false, false, false]);
  });

  it("returns the invocation's own log lines: INIT's on a cold start, then START … REPORT", async () => {
    const fn = await load<{ name: string }, Greeting>(greeterPath, { env: { GREETING: 'Logs' } });
    const cold = await fn.invoke({ name: 'Ada' });
    expect(cold.logs[0]).toMatch(/\tINFO\tgreeter INIT$/);
    expect(cold.logs[1]).toBe(`START RequestId: ${cold.requestId} Version: $LATEST`);
    expect(cold.logs.some((l) => l.includes(`\t${cold.requestId}\tINFO\tgreeting Ada`))).toBe(true);
    expect(cold.logs.at(-2)).toBe(`END RequestId: ${cold.requestId}`);
    expect(cold.logs.at(-1)).toMatch(new RegExp(`^REPORT RequestId: ${cold.requestId}\\tDuration: .*Init Duration`));

    const warm = await fn.invoke({ name: 'Grace' });
    expect(warm.logs[0]).toBe(`START RequestId: ${warm.requestId} Version: $LATEST`);
    expect(warm.logs.join('\n')).not.toContain('greeter INIT');
    expect(warm.logs.join('\n')).not.toContain(cold.requestId);
  });

  it('passes clientContext and identity to the context object', async () => {
    const fn = await load<{ name: string }, Greeting>(greeterPath);
    const identity = { cognitoIdentityId: 'us-east-1:abc', cognitoIdentityPoolId: 'us-east-1:pool' };
    const res = await fn.invoke({ name: 'Ada' }, { clientContext: { client: { app_title: 'demo' } }, identity });
    expect(res.payload?.identity).toEqual(identity);
    expect(res.payload?.clientContext).toMatchObject({ client: { app_title: 'demo' } });
  });

  it('reports a thrown error as Lambda does, with the trace in your file', async () => {
    const fn = await load(greeterPath, { handler: 'api.fail' });
    expect(fn.handler).toBe('greeter.api.fail');
    const res = await fn.invoke({});
    expect(res.ok).toBe(false);
    expect(res.payload).toBeUndefined();
    expect(res.error).toMatchObject({ errorType: 'TypeError', errorMessage: 'no such order' });
    expect(res.error?.trace?.join('\n')).toContain('greeter.ts');
    expect(res.logs.join('\n')).toContain('"errorType":"TypeError"');
  });

  it('enforces the timeout (Sandbox.Timedout) and the next invoke is a cold start', async () => {
    const fn = await load(greeterPath, { handler: 'api.spin', timeoutMs: 50 });
    const res = await fn.invoke({});
    expect(res.error).toEqual({ errorType: 'Sandbox.Timedout', errorMessage: expect.stringContaining('Task timed out after 0.05 seconds') });
    expect((await fn.invoke({})).coldStart).toBe(true);
  });

  it('answers a missing export with Runtime.HandlerNotFound on invoke, as Lambda does', async () => {
    const fn = await load(greeterPath, { handler: 'nope' });
    const res = await fn.invoke({});
    expect(res.error?.errorType).toBe('Runtime.HandlerNotFound');
  });

  it('reuses the deployed function for a second load of the same file and options; fresh() gives a cold start', async () => {
    const a = await load<{ name: string }, Greeting>(greeterPath, { env: { GREETING: 'Reuse' } });
    expect((await a.invoke({ name: 'x' })).coldStart).toBe(true);
    const b = await load<{ name: string }, Greeting>(greeterPath, { env: { GREETING: 'Reuse' } });
    const shared = await b.invoke({ name: 'y' });
    expect(shared.coldStart).toBe(false);
    expect(shared.payload?.invocations).toBe(2);

    await b.fresh();
    const fresh = await a.invoke({ name: 'z' });
    expect(fresh.coldStart).toBe(true);
    expect(fresh.payload?.invocations).toBe(1);

    const other = await load<{ name: string }, Greeting>(greeterPath, { env: { GREETING: 'Other' } });
    expect((await other.invoke({ name: 'x' })).coldStart).toBe(true);
  });

  it('picks up an edited file (the cache key holds its mtime)', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'lambdalet-testing-'));
    try {
      const file = join(dir, 'edit.mjs');
      await writeFile(file, 'export const handler = async () => "v1";');
      const v1 = await load(file);
      expect((await v1.invoke({})).payload).toBe('v1');
      await writeFile(file, 'export const handler = async () => "v2";');
      const later = new Date(Date.now() + 5_000);
      await utimes(file, later, later);
      const v2 = await load(file);
      expect((await v2.invoke({})).payload).toBe('v2');
      expect((await v1.invoke({})).payload).toBe('v1');
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  it('bundles node_modules dependencies of the file', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'lambdalet-testing-'));
    try {
      const { mkdir } = await import('node:fs/promises');
      await mkdir(join(dir, 'node_modules', 'shout'), { recursive: true });
      await writeFile(join(dir, 'node_modules', 'shout', 'package.json'), '{"name":"shout","type":"module","exports":"./index.js"}');
      await writeFile(join(dir, 'node_modules', 'shout', 'index.js'), 'export const shout = (s) => s.toUpperCase() + "!";');
      await writeFile(join(dir, 'app.ts'), 'import { shout } from "shout";\nexport const handler = async (e: { text: string }) => shout(e.text);');
      const fn = await load(join(dir, 'app.ts'));
      expect((await fn.invoke({ text: 'hey' })).payload).toBe('HEY!');
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  it('returns the runtime result from invokeRaw (logType Tail included)', async () => {
    const fn = await load(greeterPath);
    const raw = await fn.invokeRaw({ name: 'Raw' }, { logType: 'Tail' });
    expect(raw.statusCode).toBe(200);
    expect(raw.executedVersion).toBe('$LATEST');
    expect(Buffer.from(raw.logResult!, 'base64').toString()).toContain('greeting Raw');
  });

  it('dispose() releases the handle: it refuses invokes afterwards; `await using` disposes too', async () => {
    const fn = await loadHandler(greeterPath, { name: 'disposable' });
    await fn.dispose();
    await fn.dispose();
    await expect(fn.invoke({ name: 'x' })).rejects.toBeInstanceOf(RuntimeClosedError);

    let kept: LoadedHandler | undefined;
    {
      await using scoped = await loadHandler(greeterPath, { name: 'scoped' });
      kept = scoped;
      expect((await scoped.invoke({ name: 'x' })).ok).toBe(true);
    }
    await expect(kept.invoke({ name: 'x' })).rejects.toThrow(/was disposed: load it again with loadHandler\(\)/);
  });

  it('snapStart: true runs INIT at load and restores on each cold start', async () => {
    const fn = await load<{ name: string }, Greeting>(greeterPath, { name: 'snap-greeter', snapStart: true });
    const first = await fn.invoke({ name: 'Snap' });
    expect(first.payload?.message).toBe('Hello, Snap!');
    expect(first.coldStart).toBe(true);
    expect(first.restoreDurationMs).toBeGreaterThan(0);
    expect(first.initDurationMs).toBeUndefined();
    expect(first.logs.find((line) => line.startsWith('REPORT'))).toMatch(/\tRestore Duration: \d+\.\d{2} ms\tBilled Restore Duration: \d+ ms\t/);
    const warm = await fn.invoke({ name: 'Warm' });
    expect(warm.coldStart).toBe(false);
    expect(warm.restoreDurationMs).toBeUndefined();
  });

  it('rejects unknown options, a non-boolean snapStart and invalid config with the field named', async () => {
    await expect(loadHandler(greeterPath, { timeout: 5 } as never)).rejects.toThrow(/Unknown option `timeout` in loadHandler options \(known options: .*`timeoutMs`/);
    const snap = await loadHandler(greeterPath, { snapStart: 'yes' as never }).catch((e: unknown) => e);
    expect(snap).toBeInstanceOf(InvalidParameterValueException);
    expect(snap).toMatchObject({ field: 'snapStart', message: 'Expected `snapStart` to be a boolean, got `yes` (string)' });
    await expect(loadHandler(greeterPath, { memoryMb: 64 })).rejects.toMatchObject({
      field: 'memoryMb',
      message: 'Expected `memoryMb` to be an integer from 128 to 10240, got `64` (number)',
    });
    await expect(loadHandler(greeterPath, { engine: 'spidermonkey' as never })).rejects.toMatchObject({ field: 'engine' });
    await expect(loadHandler(greeterPath, { handler: 'greeter.handler ' })).rejects.toMatchObject({ field: 'handler' });
    await expect(loadHandler('./does/not/exist.ts')).rejects.toThrow(/loadHandler: cannot read .*exist\.ts/);
  });

  it('accepts a file: URL', async () => {
    const fn = await load<{ name: string }, Greeting>(new URL('./fixtures/greeter.ts', import.meta.url), { name: 'by-url' });
    expect((await fn.invoke({ name: 'Url' })).payload?.message).toBe('Hello, Url!');
  });
});

describe('loadHandler without --no-node-snapshot', () => {
  it('fails with EngineUnavailableError whose message shows the vitest preset line', () => {
    const testing = new URL('../../src/testing/index.ts', import.meta.url).href;
    const script = `
      import { loadHandler } from ${JSON.stringify(testing)};
      try {
        await loadHandler(${JSON.stringify(greeterPath)});
        console.log('LOADED');
      } catch (error) {
        console.log(JSON.stringify({ name: error.name, code: error.code, message: error.message }));
      }`;
    const env = { ...process.env };
    delete env.NODE_OPTIONS;
    const child = spawnSync(process.execPath, ['--input-type=module', '-e', script], { env, encoding: 'utf8' });
    expect(child.status).toBe(0);
    const reported = JSON.parse(child.stdout.trim()) as { name: string; code: string; message: string };
    expect(reported.name).toBe(EngineUnavailableError.name);
    expect(reported.code).toBe('EngineUnavailable');
    expect(reported.message).toContain('node --no-node-snapshot');
    expect(reported.message).toContain("import { vitestConfig } from 'lambdalet/testing';");
    expect(reported.message).toContain('export default defineConfig({ test: { ...vitestConfig } });');
  });
});
