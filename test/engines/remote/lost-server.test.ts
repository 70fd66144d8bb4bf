/**
 * Issue #15, "nothing may be lost": one engine server (worker thread) of a process-isolation child
 * that ends — its watchdog terminated it (a QuickJS call stuck past its deadline in an
 * uninterruptible built-in, or starved on a loaded machine), it crashed, or it could not start —
 * ends only the sandboxes that lived in it (child-servers.ts `lost`, engine-pool.ts `#lose`).
 *
 * Found under load (~16-30 on 2 cores, test/adversarial's uninterruptible built-ins beside cold
 * starts of trivial QuickJS functions in quickjs-process): the watchdog terminated one worker, the
 * child then SIGKILLed itself (process-child.ts), and the parent read the child's exit ("signal:
 * killed") before its 250 ms grace for the child's `unhealthy` report: every cold start in the
 * child's other workers failed an attempt (three such deaths: the caller got the error thrown), and
 * a neighbour's call in flight answered Runtime.ExitError "signal: killed".
 *
 * Here the pool drives a real ChildServers (the child's routing) through a stand-in child process,
 * whose workers are stand-ins that answer when the test says: no clock, no real threads.
 */
import { describe, expect, it, vi } from 'vitest';
import type { FunctionBundle } from '../../../src/code/types.ts';
import { SandboxFault, type SandboxOptions } from '../../../src/engines/engine.ts';
import { ChildServers } from '../../../src/engines/remote/child-servers.ts';
import { EnginePool } from '../../../src/engines/remote/engine-pool.ts';
import type { ServerEvent, ServerRequest } from '../../../src/engines/remote/protocol.ts';
import type { EngineHost, HostHandlers } from '../../../src/engines/remote/worker-host.ts';

const OPTIONS: SandboxOptions = { memoryMb: 128, onLog: () => {}, hostCall: () => 'n' };
const BUNDLE = { script: '', filename: 'f.js', hash: 'h' } as unknown as FunctionBundle;
const INVOKE = { type: 'invoke' } as never;
const REPLY = 'o--1,0,null';
const STUCK = 'the engine worker was stuck 1000 ms past a deadline and was terminated';

/** A stand-in worker: answers boots and calls at once unless `stuck`, or holds them in `held`. */
interface FakeWorker {
  readonly handlers: HostHandlers;
  /** The highest call id it started (its signal's [2]): a stuck worker starts the first call it gets. */
  startedUpTo: number;
  readonly sent: ServerRequest[];
  readonly held: ServerRequest[];
  stuck: boolean;
  killed: boolean;
}

function answer(worker: FakeWorker, request: ServerRequest): void {
  let event: ServerEvent | undefined;
  if (request.t === 'boot') event = { t: 'ready', id: request.id };
  else if (request.t === 'call') event = { t: 'reply', id: request.id, reply: REPLY, memoryBytes: 0 };
  if (event) queueMicrotask(() => worker.handlers.onEvent(event));
}

/** Stand-in child processes, each a real ChildServers over stand-in workers (`maxServers` at most). */
function fakeChildren(stuckFromStart = false, maxServers = 2): { factory: (handlers: HostHandlers) => Promise<EngineHost>; workers: FakeWorker[]; childExits: string[]; killed: number[] } {
  const workers: FakeWorker[] = [];
  const childExits: string[] = [];
  const killed: number[] = [];
  let children = 0;
  const factory = async (handlers: HostHandlers): Promise<EngineHost> => {
    const index = children++;
    const child = new ChildServers({
      maxServers,
      start: async (workerHandlers) => {
        const worker: FakeWorker = { handlers: workerHandlers, startedUpTo: 0, sent: [], held: [], stuck: stuckFromStart, killed: false };
        workers.push(worker);
        return {
          mayHaveStarted: (id) => id <= worker.startedUpTo,
          send: (request) => {
            worker.sent.push(request);
            if (worker.stuck && request.t === 'call' && !worker.held.some((r) => r.t === 'call')) worker.startedUpTo = request.id;
            if (worker.stuck || (request.t === 'call' && worker.held.length > 0)) worker.held.push(request);
            else answer(worker, request);
          },
          answer: () => {},
          ref: () => {},
          kill: () => {
            worker.killed = true;
          },
        };
      },
      onEvent: (event) => handlers.onEvent(event),
      // As process-child.ts: the child ends (SIGKILL), which its parent reads as this.
      onExit: (reason) => {
        childExits.push(reason);
        handlers.onExit('signal: killed');
      },
    });
    await child.start();
    return {
      send: (request) => child.handle(request),
      answer: (call, text) => child.answer(call, text),
      ref: () => {},
      kill: () => {
        killed.push(index);
        child.kill();
        handlers.onExit('signal: killed');
      },
    };
  };
  return { factory, workers, childExits, killed };
}

const settle = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

describe('process isolation: one engine server of a child ends', () => {
  it("only its sandboxes end: a cold start on it starts again elsewhere, the neighbour's call in flight in the child's other server is answered, nothing is killed", async () => {
    const { factory, workers, childExits, killed } = fakeChildren();
    const pool = new EnginePool(1, factory);
    await pool.warm();
    const def = pool.define('quickjs', BUNDLE);
    // A on worker 0, B on worker 1 (the child grows for a second QuickJS sandbox).
    const a = await pool.boot(def, OPTIONS);
    const b = await pool.boot(def, OPTIONS);
    expect(workers).toHaveLength(2);
    // A's call gets stuck (an uninterruptible built-in); B's call is in flight, answered later.
    workers[0]!.stuck = true;
    const aCall = a.call(INVOKE, 600_000);
    workers[1]!.held.push({ t: 'forget', bp: 0 }); // from now on worker 1 holds its calls
    const bCall = b.call(INVOKE, 600_000);
    await settle();
    // A cold start in flight on the stuck worker (both workers are as busy: the child takes the first).
    const c = pool.boot(def, OPTIONS);
    await settle();
    expect(workers[0]!.sent.filter((r) => r.t === 'boot')).toHaveLength(2);

    // The watchdog terminates worker 0.
    workers[0]!.handlers.onExit(STUCK);

    // A's call ends as its own server's end; A is gone.
    const aFault = await aCall.then(
      () => undefined,
      (error: unknown) => error,
    );
    expect(aFault).toBeInstanceOf(SandboxFault);
    expect(aFault).toMatchObject({ kind: 'crashed', message: STUCK });
    await expect(a.call(INVOKE, 600_000)).rejects.toMatchObject({ kind: 'crashed', message: STUCK });
    // C started again, on a new server of the same child.
    const started = await c;
    expect(workers).toHaveLength(3);
    expect(workers[2]!.sent.filter((r) => r.t === 'boot')).toHaveLength(1);
    await expect(started.call(INVOKE, 600_000)).resolves.toMatchObject({ done: true, ok: true });
    // B's call, in flight all along in the child's other server, is answered; B goes on.
    workers[1]!.held.shift();
    for (const request of workers[1]!.held.splice(0)) answer(workers[1]!, request);
    await expect(bCall).resolves.toMatchObject({ done: true, ok: true });
    await expect(b.call(INVOKE, 600_000)).resolves.toMatchObject({ done: true, ok: true });
    // Neither the child nor anything else was ended.
    expect(childExits).toEqual([]);
    expect(killed).toEqual([]);
    expect(pool.servers).toBe(1);
    expect(workers.map((w) => w.killed)).toEqual([true, false, false]);
  });

  it("a fresh neighbour whose INIT call was queued behind the stuck call is moved and answered: the caller never sees the loss", async () => {
    const { factory, workers, childExits } = fakeChildren(false, 1);
    const pool = new EnginePool(1, factory);
    await pool.warm();
    const def = pool.define('quickjs', BUNDLE);
    // A child of one server: A and the neighbour X share it (as a child at its 4 servers does).
    const a = await pool.boot(def, OPTIONS);
    const x = await pool.boot(def, OPTIONS);
    workers[0]!.stuck = true;
    const aCall = a.call(INVOKE, 600_000); // starts, and gets stuck
    const init = x.call(INVOKE, 600_000); // X's first call, queued behind it
    await settle();
    workers[0]!.handlers.onExit(STUCK);
    await expect(aCall).rejects.toMatchObject({ kind: 'crashed', message: STUCK });
    await expect(init).resolves.toMatchObject({ done: true, ok: true });
    await expect(x.call(INVOKE, 600_000)).resolves.toMatchObject({ done: true, ok: true });
    expect(workers).toHaveLength(2);
    expect(workers[1]!.sent.map((r) => r.t)).toEqual(['define', 'boot', 'call', 'call']);
    expect(childExits).toEqual([]);
  });

  it("a warm neighbour's call queued behind the stuck call fails `not-started` (its caller runs it again elsewhere: invoke/run.ts); the stuck call, which began, `crashed`", async () => {
    const { factory, workers } = fakeChildren(false, 1);
    const pool = new EnginePool(1, factory);
    await pool.warm();
    const def = pool.define('quickjs', BUNDLE);
    const a = await pool.boot(def, OPTIONS);
    const x = await pool.boot(def, OPTIONS);
    await expect(x.call(INVOKE, 600_000)).resolves.toMatchObject({ done: true }); // X ran guest code: not moved
    workers[0]!.stuck = true;
    const aCall = a.call(INVOKE, 600_000); // begins, and gets stuck
    const xCall = x.call(INVOKE, 600_000); // queued behind it
    await settle();
    workers[0]!.handlers.onExit(STUCK);
    await expect(aCall).rejects.toMatchObject({ kind: 'crashed', message: STUCK });
    await expect(xCall).rejects.toMatchObject({ kind: 'not-started', message: STUCK });
    expect(x.disposed).toBe(true);
  });

  it('a lost start is tried on at most three servers (the third loss is the caller’s error)', async () => {
    const { factory, workers } = fakeChildren(true);
    const pool = new EnginePool(1, factory);
    await pool.warm();
    const def = pool.define('quickjs', BUNDLE);
    const start = pool.boot(def, OPTIONS).then(
      () => 'started',
      (error: unknown) => (error as Error).message,
    );
    // Each attempt lands on a server that then ends; the child starts a new one each time and moves
    // the boot twice (child-servers.ts MOVES_MAX) before it reports it lost: 3 attempts x 3 ends.
    let settled = false;
    void start.then(() => (settled = true));
    let ends = 0;
    for (; ends < 20 && !settled; ends++) {
      await settle();
      const worker = workers.at(-1)!;
      expect(worker.sent.filter((r) => r.t === 'boot')).toHaveLength(1);
      worker.handlers.onExit(`exit status ${ends + 1}`);
      await settle();
    }
    expect(await start).toBe('The sandbox could not start: exit status 9');
    expect(ends).toBe(9);
    expect(workers).toHaveLength(10); // the child still has a server, and was never ended
  });
});

/** Stand-in worker threads of the in-process pool (quickjs in-process, wasm): no child between. */
function fakeThreads(): { factory: (handlers: HostHandlers) => Promise<EngineHost>; workers: FakeWorker[] } {
  const workers: FakeWorker[] = [];
  const factory = async (handlers: HostHandlers): Promise<EngineHost> => {
    const worker: FakeWorker = { handlers, startedUpTo: 0, sent: [], held: [], stuck: false, killed: false };
    workers.push(worker);
    return {
      mayHaveStarted: (id) => id <= worker.startedUpTo,
      send: (request) => {
        worker.sent.push(request);
        if (worker.stuck && request.t === 'call') worker.held.push(request);
        else answer(worker, request);
      },
      answer: () => {},
      ref: () => {},
      kill: () => {
        worker.killed = true;
      },
    };
  };
  return { factory, workers };
}

describe('in-process worker pool: a worker that ends', () => {
  it("its calls the worker never began fail `not-started` (the boundary: the recorded id began, the next did not); v8's calls, unrecorded, `crashed`; a call past its deadline `timeout`", async () => {
    const { factory, workers } = fakeThreads();
    const pool = new EnginePool(1, factory);
    await pool.warm();
    const quickjs = pool.define('quickjs', BUNDLE);
    const v8 = pool.define('v8', BUNDLE);
    const [a, b, c, v] = [await pool.boot(quickjs, OPTIONS), await pool.boot(quickjs, OPTIONS), await pool.boot(quickjs, OPTIONS), await pool.boot(v8, OPTIONS)];
    workers[0]!.stuck = true;
    const calls = [a.call(INVOKE, 600_000), b.call(INVOKE, 600_000), c.call(INVOKE, 0), v.call(INVOKE, 600_000)];
    const ids = workers[0]!.held.map((r) => (r.t === 'call' ? r.id : 0));
    workers[0]!.startedUpTo = ids[0]!; // a's call began; b's is the next id
    await settle();
    workers[0]!.handlers.onExit(STUCK);
    const faults = await Promise.all(calls.map((call) => call.then(() => undefined, (error: unknown) => error as SandboxFault)));
    expect(faults.map((f) => f?.kind)).toEqual(['crashed', 'not-started', 'timeout', 'crashed']);
    expect(faults[1]!.message).toBe(STUCK);
  });
});

describe("the pool's bound and the worker watchdog's `overdue` (issue #15: a starved worker is not ended)", () => {
  // The watchdog counts its grace in the worker thread's CPU time (stuck-watch.ts), so a starved
  // worker may hold a call past its deadline for longer than the pool's callGraceMs; while it does,
  // it says `overdue` at each look, and the pool leaves the server alone. The pool's clock and
  // timer are faked (its setInterval and performance): each bound at, and one look past.
  for (const mode of ['in-process', 'process'] as const) {
    it(`${mode}: kept while \`overdue\` comes (10 s past the deadline, callGraceMs 1 s); given up callGraceMs after the last one, not before`, async () => {
      vi.useFakeTimers({ toFake: ['setInterval', 'clearInterval', 'performance'] });
      try {
        const threads = mode === 'in-process' ? fakeThreads() : undefined;
        const children = mode === 'process' ? fakeChildren() : undefined;
        const { factory, workers } = threads ?? children!;
        const given = (): boolean => (threads ? workers[0]!.killed : children!.killed.length > 0);
        const pool = new EnginePool(1, factory, { limits: { callGraceMs: 1000 } });
        await pool.warm();
        const sandbox = await pool.boot(pool.define('quickjs', BUNDLE), OPTIONS);
        workers[0]!.stuck = true;
        const call = sandbox.call(INVOKE, 100).then(
          () => undefined,
          (error: unknown) => error as SandboxFault,
        );
        await settle();
        for (let look = 0; look < 40; look++) {
          workers[0]!.handlers.onEvent({ t: 'overdue' });
          vi.advanceTimersByTime(250);
          await settle();
        }
        expect(given()).toBe(false);
        // The pool looks every 250 ms: the last `overdue` was 250 ms ago; at 1000 ms still kept, at 1250 given up.
        vi.advanceTimersByTime(750);
        await settle();
        expect(given()).toBe(false);
        vi.advanceTimersByTime(250);
        await settle();
        expect(given()).toBe(true);
        expect((await call)?.kind).toBe('timeout');
      } finally {
        vi.useRealTimers();
      }
    });
  }

  it('without `overdue`, the same call is given up callGraceMs past its deadline (the bound the events hold off)', async () => {
    vi.useFakeTimers({ toFake: ['setInterval', 'clearInterval', 'performance'] });
    try {
      const { factory, workers } = fakeThreads();
      const pool = new EnginePool(1, factory, { limits: { callGraceMs: 1000 } });
      await pool.warm();
      const sandbox = await pool.boot(pool.define('quickjs', BUNDLE), OPTIONS);
      workers[0]!.stuck = true;
      const call = sandbox.call(INVOKE, 100).then(
        () => undefined,
        (error: unknown) => error as SandboxFault,
      );
      await settle();
      vi.advanceTimersByTime(1000);
      await settle();
      expect(workers[0]!.killed).toBe(false);
      vi.advanceTimersByTime(250);
      await settle();
      expect(workers[0]!.killed).toBe(true);
      expect((await call)?.kind).toBe('timeout');
    } finally {
      vi.useRealTimers();
    }
  });
});
