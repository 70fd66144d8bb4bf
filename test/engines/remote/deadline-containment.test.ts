/**
 * The host never waits for ever on an engine server (issue #15). Every bound inside a server — V8's
 * per-call host-clock bound, QuickJS's interrupt, the worker watchdog — runs on that server's own
 * event loop, so a server that is deadlocked, stopped or starved answers nothing, and before this
 * the host waited for it indefinitely (a v8-process child that stopped answering held a CI run for
 * 400 s per test). The pool's own bound (engine-pool.ts PoolLimits) ends such a call at its deadline
 * + `callGraceMs`, a boot/restore/snapshot after `workMs`: the server is killed and replaced, the
 * call fails as a `timeout` (Lambda's Sandbox.Timedout, "Task timed out after 1.00 seconds" — the
 * runtime client's and Lambda's words, see src/observability/log-lines.ts timeoutMessage), other
 * sandboxes of that server as `crashed` (Runtime.ExitError).
 *
 * The deadlocks here are real, not simulated in the pool: a child process stopped with SIGSTOP
 * (nothing in it runs, not even its timers), and a worker thread whose only thread blocks in
 * Atomics.wait with nobody to wake it.
 */
import { Worker } from 'node:worker_threads';
import { afterAll, describe, expect, it } from 'vitest';
import { bundleFunction } from '../../../src/code/index.ts';
import { SandboxFault, type SandboxOptions } from '../../../src/engines/engine.ts';
import { DEFAULT_POOL_LIMITS, EnginePool } from '../../../src/engines/remote/engine-pool.ts';
import { engineProcessIds, ProcessHost } from '../../../src/engines/remote/process-host.ts';
import type { ServerEvent, ServerRequest } from '../../../src/engines/remote/protocol.ts';
import type { EngineHost, HostHandlers } from '../../../src/engines/remote/worker-host.ts';
import { createRuntime } from '../../../src/index.ts';
import { eventually } from '../../helpers/eventually.ts';
import { captureLogs, SLOW_CASE_LIMIT_MS } from '../../helpers/runtime.ts';
import { INIT, phase } from '../../helpers/sandbox.ts';

const OPTIONS: SandboxOptions = { memoryMb: 128, onLog: () => {}, hostCall: () => 'n' };
const OK = 'export const handler = async (event) => ({ ok: true, n: event.n ?? 0 })';

async function bundle(source = OK) {
  const outcome = await bundleFunction({ files: { 'index.mjs': source } }, 'index.handler');
  if (!outcome.ok) throw new Error(outcome.failure.errorMessage);
  return outcome.bundle;
}

const invokeMessage = (n: number, timeoutMs: number) =>
  ({ type: 'invoke', requestId: `r${n}`, deadlineMs: Date.now() + timeoutMs, extras: '', event: JSON.stringify({ n }) }) as const;

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

/**
 * A stand-in engine server in a real worker thread: it answers boots at once and calls as
 * `event.n` says — 0 at once, 1 never (the thread blocks in Atomics.wait for good), 2 some time
 * after the call's deadline (`lateMs`), 3 after holding its thread 1 s, 4 `lateMs` after the call.
 * It counts nothing itself; the test sees what the pool does.
 */
const FAKE_SERVER = `
const { parentPort, workerData } = require('node:worker_threads');
const block = () => Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0);
const done = (id) => parentPort.postMessage({ t: 'reply', id, reply: 'o--1,0,"late-or-not"', memoryBytes: 0 });
parentPort.on('message', (r) => {
  if (r.t === 'boot') {
    if (workerData.hangBoots) block();
    parentPort.postMessage({ t: 'ready', id: r.id });
  } else if (r.t === 'call') {
    const n = r.message.type === 'invoke' ? JSON.parse(r.message.event).n : 0;
    if (n === 1) block();
    // A 1 s synchronous call: the thread held for 1 s (Atomics.wait with a timeout) as a spin would
    // hold it — nothing else runs on it, its messages wait — without burning the spin's CPU.
    else if (n === 3) { Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 1000); done(r.id); }
    else if (n === 4) setTimeout(() => done(r.id), workerData.lateMs);
    else if (n === 2) setTimeout(() => done(r.id), Math.max(0, r.deadline - (performance.timeOrigin + performance.now())) + workerData.lateMs);
    else done(r.id);
  }
});
parentPort.postMessage({ t: 'up' });
`;

class FakeServer implements EngineHost {
  /** Servers killed so far (a server may be told to die more than once). */
  static killed = new Set<FakeServer>();
  readonly worker: Worker;
  private constructor(worker: Worker) {
    this.worker = worker;
  }
  static async start(handlers: HostHandlers, data: { hangBoots: boolean; lateMs: number }): Promise<FakeServer> {
    const worker = new Worker(FAKE_SERVER, { eval: true, workerData: data });
    await new Promise<void>((resolve) => worker.once('message', () => resolve()));
    worker.on('message', (event: ServerEvent) => handlers.onEvent(event));
    worker.on('exit', (code) => handlers.onExit(`exit status ${code}`));
    return new FakeServer(worker);
  }
  send(request: ServerRequest): void {
    this.worker.postMessage(request);
  }
  answer(): void {}
  ref(): void {}
  kill(): void {
    FakeServer.killed.add(this);
    void this.worker.terminate();
  }
}

describe('the pool bounds every request on the host clock (engine-pool.ts PoolLimits)', () => {
  it('limits: each must be a positive finite number of ms; RangeError names the limit', () => {
    const factory = (): Promise<EngineHost> => Promise.reject(new Error('unused'));
    expect(() => new EnginePool(1, factory, { limits: { callGraceMs: 1, workMs: 1 } })).not.toThrow(); // the smallest allowed
    expect(() => new EnginePool(1, factory, { limits: { callGraceMs: 0 } })).toThrow(RangeError);
    expect(() => new EnginePool(1, factory, { limits: { callGraceMs: 0 } })).toThrow('EnginePool limit callGraceMs must be a positive number of milliseconds, got 0');
    expect(() => new EnginePool(1, factory, { limits: { workMs: -1 } })).toThrow('EnginePool limit workMs must be a positive number of milliseconds, got -1');
    expect(() => new EnginePool(1, factory, { limits: { workMs: Number.NaN } })).toThrow('got NaN');
    expect(() => new EnginePool(1, factory, { limits: { callGraceMs: Number.POSITIVE_INFINITY } })).toThrow('got Infinity');
    expect(DEFAULT_POOL_LIMITS).toEqual({ callGraceMs: 5000, workMs: 60_000 });
  });

  it('a worker thread deadlocked in Atomics.wait: the call ends as a timeout, the worker is killed and replaced', async () => {
    const pool = new EnginePool(1, (handlers) => FakeServer.start(handlers, { hangBoots: false, lateMs: 0 }), { limits: { callGraceMs: 200 } });
    await pool.warm();
    const def = pool.define('quickjs', await bundle());
    const sandbox = await pool.boot(def, OPTIONS);
    const kills = FakeServer.killed.size;
    const error = await sandbox.call(invokeMessage(1, 100), 100).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(error).toBeInstanceOf(SandboxFault);
    expect((error as SandboxFault).kind).toBe('timeout');
    expect(FakeServer.killed.size).toBe(kills + 1);
    expect(sandbox.disposed).toBe(true);
    // Replaced: a new server takes boots and answers.
    expect(pool.servers).toBe(1);
    const next = await pool.boot(def, OPTIONS);
    expect(await next.call(invokeMessage(0, 5000), 5000)).toMatchObject({ done: true, ok: true });
  });

  it('an answer after the deadline but inside the grace is taken as it is; the server is not killed', async () => {
    const pool = new EnginePool(1, (handlers) => FakeServer.start(handlers, { hangBoots: false, lateMs: 50 }), { limits: { callGraceMs: 60_000 } });
    await pool.warm();
    const sandbox = await pool.boot(pool.define('quickjs', await bundle()), OPTIONS);
    const kills = FakeServer.killed.size;
    expect(await sandbox.call(invokeMessage(2, 20), 20)).toMatchObject({ done: true, ok: true, payload: '"late-or-not"' });
    expect(FakeServer.killed.size).toBe(kills);
    expect(sandbox.disposed).toBe(false);
  });

  it('a call queued behind a long synchronous one passes its bound unanswered; the server, busy within the long call\'s bound, is left alone', async () => {
    const pool = new EnginePool(1, (handlers) => FakeServer.start(handlers, { hangBoots: false, lateMs: 0 }), { limits: { callGraceMs: 200 } });
    await pool.warm();
    const def = pool.define('quickjs', await bundle());
    const [long, queued] = [await pool.boot(def, OPTIONS), await pool.boot(def, OPTIONS)];
    const kills = FakeServer.killed.size;
    const running = long.call(invokeMessage(3, 30_000), 30_000);
    // Due 20 ms + 200 ms from now; answered only once the 1 s call is done.
    const behind = queued.call(invokeMessage(0, 20), 20);
    expect(await running).toMatchObject({ done: true, ok: true });
    expect(await behind).toMatchObject({ done: true, ok: true });
    expect(FakeServer.killed.size).toBe(kills);
  });

  it('a call queued behind a long one and answered just after it: the server, answering within the grace, is left alone', async () => {
    // The long call (1 s) answers while the queued one is past its bound (20 ms + 900 ms); the queued
    // one is answered 300 ms later. A give-up check in between (every 250 ms) must see a server
    // that has just answered, not a stuck one (seen once under load before lastAnswerAt). The
    // 600 ms between the late answer and the grace is room for a loaded machine's late timers.
    const pool = new EnginePool(1, (handlers) => FakeServer.start(handlers, { hangBoots: false, lateMs: 300 }), { limits: { callGraceMs: 900 } });
    await pool.warm();
    const def = pool.define('quickjs', await bundle());
    const [long, queued] = [await pool.boot(def, OPTIONS), await pool.boot(def, OPTIONS)];
    const kills = FakeServer.killed.size;
    const running = long.call(invokeMessage(3, 30_000), 30_000);
    const behind = queued.call(invokeMessage(4, 20), 20);
    expect(await running).toMatchObject({ done: true, ok: true });
    expect(await behind).toMatchObject({ done: true, ok: true });
    expect(FakeServer.killed.size).toBe(kills);
  });

  it('a boot that never answers is given up after workMs; every server tried is killed and the boot fails naming the bound', async () => {
    const pool = new EnginePool(1, (handlers) => FakeServer.start(handlers, { hangBoots: true, lateMs: 0 }), { limits: { workMs: 200 } });
    await pool.warm();
    const kills = FakeServer.killed.size;
    await expect(pool.boot(pool.define('quickjs', await bundle()), OPTIONS)).rejects.toThrow(
      'The sandbox could not start: the engine server did not finish starting a sandbox within 200 ms and was killed',
    );
    // START_ATTEMPTS servers (3), each given up in turn.
    expect(FakeServer.killed.size).toBe(kills + 3);
  });
});

describe('process isolation: a stopped child (SIGSTOP) is given up at the deadline + grace', () => {
  const pools: EnginePool[] = [];
  const stopped: number[] = [];
  afterAll(() => {
    for (const pid of stopped) if (alive(pid)) process.kill(pid, 'SIGKILL');
  });

  /** A pool of one child, and the process ids of the children it started (in order). */
  const childPool = (limits: { callGraceMs?: number; workMs?: number }): { pool: EnginePool; pids: number[] } => {
    const pids: number[] = [];
    const pool = new EnginePool(
      1,
      async (handlers) => {
        const host = await ProcessHost.start({ worker: { quickjs: {}, precompileQuickJS: false }, maxServers: 1 }, handlers);
        pids.push(host.pid);
        return host;
      },
      { limits },
    );
    pools.push(pool);
    return { pool, pids };
  };
  const stop = (pids: number[]): void => {
    for (const pid of pids) {
      process.kill(pid, 'SIGSTOP');
      stopped.push(pid);
    }
  };

  it("through the runtime: a warm invoke whose child is stopped ends as Lambda's Sandbox.Timedout; the next invoke answers from a new child", async () => {
    // First in this file to start children, so every new child is this runtime's.
    const before = new Set(engineProcessIds());
    const logs = captureLogs();
    // One child, in a pool of its own here (pools are shared by configuration): the stopped one is known.
    const rt = await createRuntime({ isolation: 'process', engineProcesses: 1, logSink: logs });
    try {
      await rt.deploy({ name: 'ok', timeoutMs: 1000, code: { files: { 'index.mjs': OK } } });
      expect((await rt.invoke('ok', { n: 1 })).payload).toEqual({ ok: true, n: 1 });
      const mine = engineProcessIds().filter((pid) => !before.has(pid));
      expect(mine).toHaveLength(1);
      stop(mine);
      const res = await rt.invoke('ok', { n: 2 });
      expect(res.functionError).toBe('Unhandled');
      expect(res.payload).toMatchObject({ errorType: 'Sandbox.Timedout', errorMessage: `RequestId: ${res.requestId} Error: Task timed out after 1.00 seconds` });
      const again = await rt.invoke('ok', { n: 3 });
      expect(again.payload).toEqual({ ok: true, n: 3 });
      expect(again.coldStart).toBe(true);
      expect(engineProcessIds()).not.toContain(mine[0]);
      // Lambda's platform line for the timeout (environment.ts #faultError).
      expect(logs.forRequest(res.requestId).some((line) => line.endsWith(`${res.requestId} Task timed out after 1.00 seconds`))).toBe(true);
    } finally {
      await rt.close();
    }
  }, 60_000);

  it('a call to a sandbox in a stopped child: a timeout, the child killed (SIGKILL ends a stopped process) and replaced', async () => {
    const { pool, pids } = childPool({ callGraceMs: 300 });
    await pool.warm();
    const def = pool.define('v8', await bundle());
    const sandbox = await pool.boot(def, OPTIONS);
    expect(await phase(sandbox, INIT)).toMatchObject({ done: true, ok: true });
    const mine = [...pids];
    expect(mine).toHaveLength(1);
    stop(mine);
    const error = await sandbox.call(invokeMessage(1, 200), 200).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect((error as SandboxFault).kind).toBe('timeout');
    await eventually(() => expect(alive(mine[0]!)).toBe(false));
    // INIT in a new sandbox, on the replacement child.
    const next = await pool.boot(def, OPTIONS);
    expect(await phase(next, INIT)).toMatchObject({ done: true, ok: true });
    expect(engineProcessIds()).not.toContain(mine[0]);
  }, 60_000);

  it('INIT in a stopped child is bounded the same way (its deadline is the INIT limit)', async () => {
    const { pool, pids } = childPool({ callGraceMs: 300 });
    await pool.warm();
    const sandbox = await pool.boot(pool.define('v8', await bundle()), OPTIONS);
    const mine = [...pids];
    stop(mine);
    const error = await sandbox.call(INIT, 300).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect((error as SandboxFault).kind).toBe('timeout');
    await eventually(() => expect(alive(mine[0]!)).toBe(false));
  }, 60_000);

  it('a boot sent to a stopped child is given up after workMs and starts on the replacement instead', async () => {
    const { pool, pids } = childPool({ workMs: 5000 });
    await pool.warm();
    const def = pool.define('v8', await bundle());
    const mine = [...pids];
    expect(mine).toHaveLength(1);
    stop(mine);
    const sandbox = await pool.boot(def, OPTIONS);
    expect(await phase(sandbox, INIT)).toMatchObject({ done: true, ok: true });
    await eventually(() => expect(alive(mine[0]!)).toBe(false));
    expect(pids).toHaveLength(2); // the sandbox started on the replacement
    // A hang limit: workMs, then a replacement child's start and a boot there took past 60 s at
    // load ~25 (a full suite beside other runs).
  }, SLOW_CASE_LIMIT_MS);

});
