/**
 * AsyncLocalStorage in the guest (stdlib/async-hooks.ts, bridge.ts `inFrame`; issue #12, a new
 * user's finding: a store leaked into the next warm invocation, and callbacks queued inside a
 * synchronous `run()` saw no store). Each handler is run by plain Node 24 (a child process, the
 * same module, the same events in turn) for the answers the guest must give, on both engines.
 * What the guest cannot do — tell apart the continuations of two `run()`s interleaved across
 * `await`s — is documented in async-hooks.ts and not asserted here.
 */
import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, describe, expect, it } from 'vitest';
import { createRuntime } from '../../src/index.ts';
import { ENGINES, TEST_QUICKJS_THREADS_MAX } from '../helpers/runtime.ts';

const run = promisify(execFile);
const dir = mkdtempSync(join(tmpdir(), 'lambdalet-als-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/**
 * The handler's answers in plain Node for `events`, one invocation each, in one process (a warm
 * environment). Each is called in the context the driver started in, as Lambda's runtime client
 * calls the handler from its own I/O callback: a store the last invocation entered is not there.
 */
async function inNode(source: string, events: readonly unknown[]): Promise<unknown[]> {
  const file = join(dir, `h${Math.random().toString(36).slice(2)}.mjs`);
  writeFileSync(file, source);
  const driver = `import { AsyncLocalStorage } from 'node:async_hooks';
    const fresh = AsyncLocalStorage.snapshot();
    const m = await import(${JSON.stringify(file)}); const out = [];
    for (const event of ${JSON.stringify(events)}) out.push(await fresh(() => m.handler(event, {})));
    process.stdout.write(JSON.stringify(out));`;
  const { stdout } = await run(process.execPath, ['--input-type=module', '-e', driver]);
  return JSON.parse(stdout) as unknown[];
}

/** Callbacks queued inside a synchronous run(), each reporting the store it sees. */
const CALLBACKS = `import { AsyncLocalStorage } from 'node:async_hooks';
import fs from 'node:fs';
const als = new AsyncLocalStorage();
const seen = (label, out) => () => out.push([label, als.getStore() ?? null]);
export const handler = async () => {
  const out = [];
  await new Promise((resolve) => {
    als.run('S', () => {
      setTimeout(seen('setTimeout', out), 1);
      setImmediate(seen('setImmediate', out));
      process.nextTick(seen('nextTick', out));
      queueMicrotask(seen('queueMicrotask', out));
      const interval = setInterval(() => { clearInterval(interval); seen('setInterval', out)(); }, 1);
      als.run('inner', () => setTimeout(seen('nested', out), 1));
      als.exit(() => setTimeout(seen('exit', out), 1));
    });
    setTimeout(resolve, 20);
  });
  out.push(['after', als.getStore() ?? null]);
  return out.sort((a, b) => (a[0] < b[0] ? -1 : 1));
};`;

/** A store set in one invocation, by an async run() still current at its end, or by enterWith. */
const ACROSS_INVOCATIONS = `import { AsyncLocalStorage } from 'node:async_hooks';
const als = new AsyncLocalStorage();
let n = 0;
const keepAlive = setInterval(() => {}, 5); // a timer queued at INIT, outside any store
keepAlive.unref();
export const handler = async (event) => {
  const atStart = als.getStore() ?? null;
  n++;
  let inside;
  if (event.how === 'run') {
    inside = await als.run({ n }, async () => {
      await null;
      await new Promise((resolve) => setTimeout(resolve, 12)); // the INIT timer fires meanwhile
      await new Promise((resolve) => setImmediate(resolve));
      return als.getStore();
    });
  } else {
    als.enterWith({ n });
    await new Promise((resolve) => setTimeout(resolve, 1));
    inside = als.getStore();
  }
  return { atStart, inside };
};`;

describe.each(ENGINES)('AsyncLocalStorage (%s)', (engine) => {
  const runtime = createRuntime({ logSink: { write() {} }, quickjsThreadsMax: TEST_QUICKJS_THREADS_MAX });
  afterAll(async () => (await runtime).close());

  async function answers(name: string, source: string, events: readonly unknown[]): Promise<unknown[]> {
    const rt = await runtime;
    await rt.deploy({ name, engine, code: { files: { 'index.mjs': source } } });
    const out: unknown[] = [];
    for (const event of events) {
      const result = await rt.invoke(name, event);
      expect(result.functionError, JSON.stringify(result.payload)).toBeUndefined();
      out.push(result.payload);
    }
    return out;
  }

  it('callbacks queued inside a synchronous run() (timers, immediates, nextTick, queueMicrotask) see its store, nested run() and exit() theirs, as in Node', async () => {
    const events = [{}];
    const guest = await answers('callbacks', CALLBACKS, events);
    expect(guest).toEqual(await inNode(CALLBACKS, events));
    expect(guest[0]).toContainEqual(['setTimeout', 'S']);
    expect(guest[0]).toContainEqual(['after', null]);
  });

  it('no store reaches the next invocation of a warm environment: not an async run() current at the end of the last one, not enterWith, as in Node', async () => {
    const events = [{ how: 'run' }, { how: 'run' }, { how: 'enterWith' }, { how: 'run' }];
    const guest = await answers('across', ACROSS_INVOCATIONS, events);
    expect(guest).toEqual(await inNode(ACROSS_INVOCATIONS, events));
    expect(guest.map((answer) => (answer as { atStart: unknown }).atStart)).toEqual([null, null, null, null]);
    expect(guest.map((answer) => (answer as { inside: unknown }).inside)).toEqual([{ n: 1 }, { n: 2 }, { n: 3 }, { n: 4 }]);
  });
});
