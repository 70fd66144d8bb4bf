/**
 * `isolation: 'process'`: sandboxes live in child processes. A process-level failure — isolated-vm's
 * catastrophic error, an abort, a kill — ends only that child's environments; the child is
 * replaced and every function keeps being admitted. (In-process, the same bomb stops all v8 work:
 * test/engines/v8/catastrophic.test.ts.)
 *
 * Lambda's shapes: a runtime that dies mid-invocation is `Runtime.ExitError` with
 * "RequestId: <id> Error: Runtime exited with error: signal: killed" (Lambda's init reports the exit
 * in Go's os/exec words: `signal: killed`, `exit status 1`).
 */
import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { engineProcessIds } from '../../../src/engines/remote/process-host.ts';
import { createRuntime, type Runtime } from '../../../src/index.ts';
import { CATASTROPHE_BOMB as BOMB, CATASTROPHE_BOMB_MEMORY_MB } from '../../helpers/catastrophe-bomb.ts';
import { GENEROUS_TIMEOUT_MS, SLOW_CASE_LIMIT_MS } from '../../helpers/runtime.ts';

const OK = 'export const handler = async (event) => ({ ok: true, n: event.n ?? 0 })';
const SPIN = 'export const handler = async () => { console.log("spinning"); const end = Date.now() + 4000; while (Date.now() < end); return "spun"; }';

describe('process isolation', () => {
  let rt: Runtime;
  const lines: string[] = [];

  beforeAll(async () => {
    rt = await createRuntime({ isolation: 'process', engineProcesses: 2, logSink: { write: (line) => lines.push(line) } });
    // Neighbours' deadlines are far past their work: a cold start in a replacement child on a busy
    // machine must never time out, or the case would test the load, not the isolation.
    await rt.deploy({ name: 'ok', timeoutMs: GENEROUS_TIMEOUT_MS, code: { files: { 'index.mjs': OK } } });
    await rt.deploy({ name: 'okq', engine: 'quickjs', timeoutMs: GENEROUS_TIMEOUT_MS, code: { files: { 'index.mjs': OK } } });
    await rt.deploy({ name: 'bomb', memoryMb: CATASTROPHE_BOMB_MEMORY_MB, timeoutMs: GENEROUS_TIMEOUT_MS, code: { files: { 'index.mjs': BOMB } } });
    await rt.deploy({ name: 'spin', timeoutMs: 10_000, code: { files: { 'index.mjs': SPIN } } });
  }, SLOW_CASE_LIMIT_MS);
  afterAll(() => rt.close());

  it('sandboxes of both engines run in child processes, not in the host', async () => {
    expect((await rt.invoke('ok', { n: 1 })).payload).toEqual({ ok: true, n: 1 });
    expect((await rt.invoke('okq', { n: 2 })).payload).toEqual({ ok: true, n: 2 });
    expect(engineProcessIds().length).toBeGreaterThan(0);
    expect(engineProcessIds()).not.toContain(process.pid);
  });

  it.skipIf(process.platform !== 'linux')('children start with --no-node-snapshot, --no-wasm-code-gc and --no-turboshaft-loop-unrolling (src/engines/v8/flags.ts says why)', () => {
    const pids = engineProcessIds();
    expect(pids.length).toBeGreaterThan(0);
    for (const pid of pids) {
      const argv = readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0');
      expect(argv).toContain('--no-node-snapshot');
      expect(argv).toContain('--no-wasm-code-gc');
      expect(argv).toContain('--no-turboshaft-loop-unrolling');
    }
  });

  it('a v8 memory bomb fails as Runtime.OutOfMemory; other functions keep answering, later v8 invocations work', async () => {
    await rt.invoke('ok');
    const bombed = await rt.invoke('bomb');
    expect(bombed.functionError).toBe('Unhandled');
    expect(bombed.payload).toMatchObject({ errorType: 'Runtime.OutOfMemory' });
    // Whether or not its child died (isolated-vm's catastrophic error ends it; its soft limit does
    // not), everything else answers: environments of a dead child are not handed out again.
    for (const name of ['ok', 'okq', 'ok']) {
      const res = await rt.invoke(name, { n: 3 });
      expect(res.payload).toEqual({ ok: true, n: 3 });
    }
    const again = await rt.invoke('bomb');
    expect(again.payload).toMatchObject({ errorType: 'Runtime.OutOfMemory' });
    expect((await rt.invoke('ok', { n: 4 })).payload).toEqual({ ok: true, n: 4 });
  }, SLOW_CASE_LIMIT_MS);

  it('kill -9 of the child mid-invocation: that invocation fails as Runtime.ExitError "signal: killed"; the next one succeeds', async () => {
    lines.length = 0;
    const pending = rt.invoke('spin');
    // The guest has started (its first line reached the host): the child is running it.
    for (let i = 0; i < 2000 && !lines.some((line) => line.includes('spinning')); i++) await new Promise((resolve) => setTimeout(resolve, 5));
    expect(lines.some((line) => line.includes('spinning'))).toBe(true);
    const pids = engineProcessIds();
    for (const pid of pids) process.kill(pid, 'SIGKILL');
    const res = await pending;
    expect(res.functionError).toBe('Unhandled');
    expect(res.payload).toEqual({
      errorType: 'Runtime.ExitError',
      errorMessage: `RequestId: ${res.requestId} Error: Runtime exited with error: signal: killed`,
    });
    // The host has seen every killed child exit (the spinner's reply says only that its own child
    // died): an environment in a child killed but not yet seen gone is still handed out, and its
    // call fails as this one did (seen once at load ~30, 'ok' got 'signal: killed').
    for (let i = 0; i < 2000 && engineProcessIds().some((pid) => pids.includes(pid)); i++) await new Promise((resolve) => setTimeout(resolve, 5));
    // Replaced: new children, and every function answers again.
    expect((await rt.invoke('ok', { n: 5 })).payload).toEqual({ ok: true, n: 5 });
    expect((await rt.invoke('okq', { n: 6 })).payload).toEqual({ ok: true, n: 6 });
    expect(engineProcessIds().some((pid) => pids.includes(pid))).toBe(false);
  }, SLOW_CASE_LIMIT_MS);

  it('SnapStart images survive their child: after every child is killed, cold starts still restore (v8 and quickjs)', async () => {
    const source = 'let n = 0; const seed = Math.random(); export const handler = async () => ({ n: ++n, restored: typeof seed });';
    for (const engine of ['v8', 'quickjs'] as const) {
      const info = await rt.deploy({ name: `snap-${engine}`, engine, snapStart: true, code: { files: { 'index.mjs': source } } });
      expect(info.snapStart?.path).toBe('snapshot');
      const first = await rt.invoke(`snap-${engine}`);
      expect(first.restoreDurationMs).toBeDefined();
      expect(first.payload).toEqual({ n: 1, restored: 'number' });
    }
    const killed = engineProcessIds();
    for (const pid of killed) process.kill(pid, 'SIGKILL');
    // The host has seen them exit (their idle environments are then discarded, not handed out).
    for (let i = 0; i < 2000 && engineProcessIds().some((pid) => killed.includes(pid)); i++) await new Promise((resolve) => setTimeout(resolve, 5));
    for (const engine of ['v8', 'quickjs'] as const) {
      // The warm environment died with its child: this is a cold start, restored in a new child.
      const again = await rt.invoke(`snap-${engine}`);
      expect(again.payload).toEqual({ n: 1, restored: 'number' });
      expect(again.restoreDurationMs).toBeDefined();
    }
  }, SLOW_CASE_LIMIT_MS);
});

describe('process isolation, one child', () => {
  it('a neighbour idle in the child a bomb ends is never handed out: its next invocation cold-starts and answers', async () => {
    // One child: the neighbour's warm environment is in the child the bomb ends, every time.
    const rt = await createRuntime({ isolation: 'process', engineProcesses: 1 });
    try {
      await rt.deploy({ name: 'ok', timeoutMs: GENEROUS_TIMEOUT_MS, code: { files: { 'index.mjs': OK } } });
      await rt.deploy({ name: 'bomb', memoryMb: CATASTROPHE_BOMB_MEMORY_MB, timeoutMs: GENEROUS_TIMEOUT_MS, code: { files: { 'index.mjs': BOMB } } });
      expect((await rt.invoke('ok', { n: 1 })).payload).toEqual({ ok: true, n: 1 });
      const bombed = await rt.invoke('bomb');
      expect(bombed.payload).toMatchObject({ errorType: 'Runtime.OutOfMemory' });
      const next = await rt.invoke('ok', { n: 2 });
      expect(next.payload).toEqual({ ok: true, n: 2 });
    } finally {
      await rt.close();
    }
  }, SLOW_CASE_LIMIT_MS);
});

describe('process isolation, two bombs in one child', () => {
  it('each bomb is Runtime.OutOfMemory, or Runtime.ExitError naming the other\'s catastrophe (its child was replaced under it); at least one is out of memory', async () => {
    // Issue #15: "the v8-process memory bomb sometimes answers Runtime.ExitError under load". Why:
    // a catastrophic isolated-vm error makes its child unhealthy; the child is killed once the
    // failing call's reply has had UNHEALTHY_GRACE_MS (engine-pool.ts) — a process after a
    // catastrophe must not run on — so another sandbox's call still running there (here a second
    // bomb, in the catalogue any concurrent case placed in that child) ends with it, as the README's
    // isolation table says: Runtime.ExitError. Which bomb reaches the catastrophe first is the race;
    // reproduced with one child, 2 of 6 second bombs (test/adversarial's harness runs such a case
    // once more from a fresh deploy). Both bombs in the only child makes the collision likely, not certain.
    const rt = await createRuntime({ isolation: 'process', engineProcesses: 1 });
    try {
      await rt.deploy({ name: 'ok', timeoutMs: GENEROUS_TIMEOUT_MS, code: { files: { 'index.mjs': OK } } });
      for (const name of ['bomb1', 'bomb2']) await rt.deploy({ name, memoryMb: CATASTROPHE_BOMB_MEMORY_MB, timeoutMs: GENEROUS_TIMEOUT_MS, code: { files: { 'index.mjs': BOMB } } });
      const results = await Promise.all([rt.invoke('bomb1'), rt.invoke('bomb2')]);
      const types = results.map((r) => (r.payload as { errorType: string }).errorType);
      expect(types).toContain('Runtime.OutOfMemory');
      for (const result of results) {
        const { errorType, errorMessage } = result.payload as { errorType: string; errorMessage: string };
        if (errorType === 'Runtime.OutOfMemory') continue;
        expect(errorType).toBe('Runtime.ExitError');
        expect(errorMessage).toMatch(/Runtime exited with error: the engine server was replaced: .*catastrophic isolated-vm error/);
        // The child is replaced on its own: no advice to restart the host's process (it is not needed).
        expect(errorMessage).not.toContain('Restart the process');
      }
      expect((await rt.invoke('ok', { n: 1 })).payload).toEqual({ ok: true, n: 1 });
    } finally {
      await rt.close();
    }
  }, SLOW_CASE_LIMIT_MS);
});

describe('process isolation, cold starts beside a dying child', () => {
  it('cold starts racing a neighbour\'s memory bomb in their only child never reject: each answers, or fails in Lambda\'s shape', async () => {
    // Whichever way the race goes, a cold start whose server dies under it starts again on the
    // replacement (its sandbox never ran user code); only an environment already running in the
    // dying child may fail, and then as Runtime.ExitError — never a rejected rt.invoke.
    const rt = await createRuntime({ isolation: 'process', engineProcesses: 1 });
    try {
      await rt.deploy({ name: 'bomb', memoryMb: CATASTROPHE_BOMB_MEMORY_MB, timeoutMs: GENEROUS_TIMEOUT_MS, code: { files: { 'index.mjs': BOMB } } });
      const names = ['c1', 'c2', 'c3', 'c4'];
      for (const name of names) await rt.deploy({ name, timeoutMs: GENEROUS_TIMEOUT_MS, code: { files: { 'index.mjs': OK } } });
      const settled = await Promise.allSettled([rt.invoke('bomb'), ...names.map((name) => rt.invoke(name, { n: 7 }))]);
      expect(settled.map((s) => s.status)).toEqual(['fulfilled', 'fulfilled', 'fulfilled', 'fulfilled', 'fulfilled']);
      for (const s of settled.slice(1)) {
        const payload = (s as PromiseFulfilledResult<{ payload: unknown }>).value.payload;
        if ((payload as { ok?: boolean }).ok !== true) expect(payload).toMatchObject({ errorType: 'Runtime.ExitError' });
      }
      // And afterwards every function answers.
      for (const name of names) expect((await rt.invoke(name, { n: 8 })).payload).toEqual({ ok: true, n: 8 });
    } finally {
      await rt.close();
    }
  }, SLOW_CASE_LIMIT_MS);
});
