/**
 * CPU-heavy functions go to background servers (engine-pool.ts `background`, issue #15 fairness):
 * a call whose guest CPU time reaches `heavyCallCpuMs` marks its function heavy; that sandbox is
 * retired (its environment ends when next idle) and the function's sandboxes start in background
 * servers from then on. First on stand-in servers (the pool's decisions), then through `rt.invoke`
 * under process isolation, where background servers are children at a lower OS priority, and
 * in-process for QuickJS, where they are worker threads that lower their own priority.
 */
import { readFileSync } from 'node:fs';
import { getPriority } from 'node:os';
import { describe, expect, it } from 'vitest';
import type { FunctionBundle } from '../../../src/code/types.ts';
import type { SandboxOptions } from '../../../src/engines/engine.ts';
import { EnginePool, HEAVY_CALL_MIN_CPU_FRACTION, HEAVY_CALLS_IN_A_ROW } from '../../../src/engines/remote/engine-pool.ts';
import { BACKGROUND_NICE, engineProcessIds, HEAVY_CALL_CPU_MS } from '../../../src/engines/remote/process-host.ts';
import type { ServerEvent, ServerRequest } from '../../../src/engines/remote/protocol.ts';
import { BACKGROUND_THREAD_NAME, threadsNamed } from '../../../src/engines/remote/thread-priority.ts';
import type { EngineHost, HostFactory, HostHandlers } from '../../../src/engines/remote/worker-host.ts';
import { createRuntime } from '../../../src/index.ts';
import { SLOW_CASE_LIMIT_MS } from '../../helpers/runtime.ts';

const OPTIONS: SandboxOptions = { memoryMb: 128, onLog: () => {}, hostCall: () => 'n' };
const BUNDLE = { script: '', filename: 'f.js', hash: 'h' } as unknown as FunctionBundle;
const MESSAGE = { type: 'invoke' } as never;
const INIT = { type: 'init' } as never;

interface Started {
  readonly background: boolean;
  readonly boots: number[];
}

/** Stand-in servers answering boots at once and calls with the guest CPU (and busy) time `cpu` (`busy`) gives the sandbox. */
function fakes(cpu: Map<number, number>, busy = new Map<number, number>()): { started: Started[]; normal: HostFactory; background: HostFactory } {
  const started: Started[] = [];
  const make =
    (background: boolean) =>
    async (handlers: HostHandlers): Promise<EngineHost> => {
      const entry: Started = { background, boots: [] };
      started.push(entry);
      return {
        send: (request: ServerRequest) => {
          let event: ServerEvent | undefined;
          if (request.t === 'boot') {
            entry.boots.push(request.sb);
            event = { t: 'ready', id: request.id };
          } else if (request.t === 'call') {
            const busyMs = busy.get(request.sb);
            event = { t: 'reply', id: request.id, reply: 'o--1,0,null', memoryBytes: 0, cpuMs: cpu.get(request.sb) ?? 0, ...(busyMs === undefined ? {} : { busyMs }) };
          }
          if (event) queueMicrotask(() => handlers.onEvent(event));
        },
        answer: () => {},
        ref: () => {},
        kill: () => {},
      };
    };
  return { started, normal: make(false), background: make(true) };
}

describe('EnginePool: CPU-heavy functions in background servers', () => {
  it('refuses a heavyCallCpuMs that is not a positive number', () => {
    const { normal, background } = fakes(new Map());
    for (const bad of [0, -1, Number.NaN, Number.POSITIVE_INFINITY]) {
      expect(() => new EnginePool(1, normal, { background: { factory: background, heavyCallCpuMs: bad } })).toThrow(/heavyCallCpuMs must be a positive number/);
    }
  });

  it("an INIT call or an invocation's call just under the bar changes nothing; one at it retires its sandbox and sends the function to background servers (at most size of them)", async () => {
    const cpu = new Map<number, number>();
    const { started, normal, background } = fakes(cpu);
    const pool = new EnginePool(1, normal, { background: { factory: background, heavyCallCpuMs: 10 } });
    await pool.warm();
    const heavy = pool.define('quickjs', BUNDLE);
    const light = pool.define('quickjs', BUNDLE);
    const first = await pool.boot(heavy, OPTIONS);
    const neighbour = await pool.boot(light, OPTIONS);
    const sbOf = (n: number): number => started[0]!.boots[n]!;
    // INIT may be heavy once: it does not count.
    cpu.set(sbOf(0), 500);
    await first.call(INIT, 1000);
    expect(first.retired).toBe(false);
    cpu.set(sbOf(0), 9.99);
    cpu.set(sbOf(1), 0.1);
    for (let i = 0; i < HEAVY_CALLS_IN_A_ROW; i++) await first.call(MESSAGE, 1000);
    await neighbour.call(MESSAGE, 1000);
    expect(first.retired).toBe(false);
    expect(pool.isHeavy(heavy.bp)).toBe(false);
    // At the bar: one call short of the run, then a light call breaks the run.
    cpu.set(sbOf(0), 10);
    for (let i = 0; i < HEAVY_CALLS_IN_A_ROW - 1; i++) await first.call(MESSAGE, 1000);
    cpu.set(sbOf(0), 1);
    await first.call(MESSAGE, 1000);
    cpu.set(sbOf(0), 10);
    for (let i = 0; i < HEAVY_CALLS_IN_A_ROW - 1; i++) await first.call(MESSAGE, 1000);
    expect(first.retired).toBe(false);
    expect(pool.isHeavy(heavy.bp)).toBe(false);
    await first.call(MESSAGE, 1000); // the run is complete
    expect(first.retired).toBe(true);
    expect(first.disposed).toBe(false); // still usable: it ends when its environment is next idle
    expect(pool.isHeavy(heavy.bp)).toBe(true);
    expect(pool.isHeavy(light.bp)).toBe(false);
    expect(neighbour.retired).toBe(false);
    // The heavy function's next sandboxes start in background servers; the light one's do not.
    await pool.boot(heavy, OPTIONS);
    await pool.boot(light, OPTIONS);
    expect(started.map((s) => [s.background, s.boots.length])).toEqual([
      [false, 3],
      [true, 1],
    ]);
    // A busy background server and size 1: the next heavy sandbox shares it (no second one).
    await pool.boot(heavy, OPTIONS);
    expect(started.filter((s) => s.background)).toHaveLength(1);
    // A heavy call in a background server retires nothing.
    const inBackground = await pool.boot(heavy, OPTIONS);
    cpu.set(started[1]!.boots.at(-1)!, 50);
    for (let i = 0; i < HEAVY_CALLS_IN_A_ROW; i++) await inBackground.call(MESSAGE, 1000);
    expect(inBackground.retired).toBe(false);
  });

  it(`a call with little CPU counts as heavy when it was busy (runnable) for the bar and used at least ${HEAVY_CALL_MIN_CPU_FRACTION} of the bar in CPU: a spinner on a loaded machine`, async () => {
    const bar = 10;
    const floor = bar * HEAVY_CALL_MIN_CPU_FRACTION;
    // [cpuMs, busyMs, counts]: at, just under and just over each bound.
    const cases: [number, number, boolean][] = [
      [floor, bar, true],
      [floor, bar + 40, true],
      [floor - 0.01, bar + 40, false], // a light call preempted for long: under the CPU floor
      [floor, bar - 0.01, false], // busy just under the bar
      [bar - 0.01, bar - 0.01, false],
    ];
    for (const [cpuMs, busyMs, counts] of cases) {
      const cpu = new Map<number, number>();
      const busy = new Map<number, number>();
      const { started, normal, background } = fakes(cpu, busy);
      const pool = new EnginePool(1, normal, { background: { factory: background, heavyCallCpuMs: bar } });
      await pool.warm();
      const def = pool.define('quickjs', BUNDLE);
      const sandbox = await pool.boot(def, OPTIONS);
      const sb = started[0]!.boots[0]!;
      cpu.set(sb, cpuMs);
      busy.set(sb, busyMs);
      for (let i = 0; i < HEAVY_CALLS_IN_A_ROW; i++) await sandbox.call(MESSAGE, 1000);
      expect([cpuMs, busyMs, sandbox.retired, pool.isHeavy(def.bp)]).toEqual([cpuMs, busyMs, counts, counts]);
    }
  });

  it('without a background option, heavy calls change nothing', async () => {
    const cpu = new Map<number, number>();
    const { started, normal } = fakes(cpu);
    const pool = new EnginePool(1, normal);
    await pool.warm();
    const def = pool.define('quickjs', BUNDLE);
    const sandbox = await pool.boot(def, OPTIONS);
    cpu.set(started[0]!.boots[0]!, 1000);
    for (let i = 0; i < HEAVY_CALLS_IN_A_ROW; i++) await sandbox.call(MESSAGE, 1000);
    expect(sandbox.retired).toBe(false);
    expect(pool.isHeavy(def.bp)).toBe(false);
  });
});

/** The nice value of a process (Linux /proc/<pid>/stat, field 19). */
function niceOf(pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  return Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[16]);
}

/**
 * A handler that burns a fixed amount of work, not wall time, so the guest's CPU passes the bar
 * ({@link HEAVY_CALL_CPU_MS}, 10 ms) however loaded the machine is. Rounds of JSON.stringify over a
 * fixed value: the serializer is native code in both engines, so a round costs the same whatever
 * tier the guest's JIT has reached. Measured per call (load 12, Node 24): v8 5,000 rounds 41-46 ms,
 * quickjs 400 rounds 49-73 ms; the rounds below give ~6x the bar, room for a machine twice as fast.
 * (It was an integer loop of 200 M iterations on v8: ~900 ms a call, ~13 CPU-s over this file.)
 */
const ROUNDS: Record<'v8' | 'quickjs', number> = { v8: 8_000, quickjs: 500 };
const heavyHandler = (engine: 'v8' | 'quickjs'): string =>
  `export const handler = async () => { const o = Array.from({ length: 100 }, (_, i) => ({ i, s: "v" + i, a: [i, i + 1] })); let n = 0; for (let r = 0; r < ${ROUNDS[engine]}; r++) n += JSON.stringify(o).length; return n; }`;

describe.skipIf(process.platform !== 'linux')('process isolation: a CPU-heavy function moves to a background child', () => {
  for (const engine of ['v8', 'quickjs'] as const) {
    it(
      `${engine}: after ${HEAVY_CALLS_IN_A_ROW} calls of >= ${HEAVY_CALL_CPU_MS} ms of CPU its next invoke cold-starts in a child at nice ${BACKGROUND_NICE}, then stays warm; a light neighbour stays warm at nice 0`,
      async () => {
        const rt = await createRuntime({ isolation: 'process', engineProcesses: 1, logSink: { write: () => {} } });
        try {
          const spin = heavyHandler(engine);
          await rt.deploy({ name: 'heavy', engine, timeoutMs: 120_000, code: { files: { 'index.mjs': spin } } });
          await rt.deploy({ name: 'light', engine, code: { files: { 'index.mjs': 'export const handler = async () => "ok"' } } });
          expect((await rt.invoke('light')).coldStart).toBe(true);
          // The pool is the process's (shared by runtimes of one configuration): a background child
          // of an earlier case may be up already, and is reused.
          const normal = (): number => engineProcessIds().filter((pid) => niceOf(pid) === 0).length;
          expect(normal()).toBe(1);
          expect((await rt.invoke('heavy')).coldStart).toBe(true);
          for (let i = 1; i < HEAVY_CALLS_IN_A_ROW; i++) expect((await rt.invoke('heavy')).coldStart).toBe(false);
          const moved = await rt.invoke('heavy');
          expect(moved.functionError).toBeUndefined();
          expect(moved.coldStart).toBe(true);
          expect(engineProcessIds().map(niceOf).sort()).toEqual([0, BACKGROUND_NICE]);
          expect((await rt.invoke('heavy')).coldStart).toBe(false);
          const neighbour = await rt.invoke('light');
          expect(neighbour.coldStart).toBe(false);
          expect(neighbour.payload).toBe('ok');
        } finally {
          await rt.close();
        }
      },
      SLOW_CASE_LIMIT_MS,
    );
  }
});

/** A thread's time on a CPU so far, in ms (/proc/self/task/<tid>/schedstat, first field: ns). */
function threadCpuMsOf(tid: number): number {
  return Number(readFileSync(`/proc/self/task/${tid}/schedstat`, 'utf8').split(' ')[0]) / 1e6;
}

describe.skipIf(process.platform !== 'linux')('in-process quickjs: a CPU-heavy function moves to background worker threads', () => {
  it(
    `after ${HEAVY_CALLS_IN_A_ROW} calls of >= ${HEAVY_CALL_CPU_MS} ms of CPU its next invoke cold-starts in a worker thread at nice ${BACKGROUND_NICE} (named ${BACKGROUND_THREAD_NAME}), which runs its calls; the host's thread and a light neighbour's stay at nice 0`,
    async () => {
      const mainNice = getPriority();
      const rt = await createRuntime({ logSink: { write: () => {} } });
      try {
        const spin = heavyHandler('quickjs');
        await rt.deploy({ name: 'heavy', engine: 'quickjs', timeoutMs: 120_000, code: { files: { 'index.mjs': spin } } });
        await rt.deploy({ name: 'light', engine: 'quickjs', code: { files: { 'index.mjs': 'export const handler = async () => "ok"' } } });
        expect((await rt.invoke('light')).coldStart).toBe(true);
        expect((await rt.invoke('heavy')).coldStart).toBe(true);
        for (let i = 1; i < HEAVY_CALLS_IN_A_ROW; i++) expect((await rt.invoke('heavy')).coldStart).toBe(false);
        const moved = await rt.invoke('heavy');
        expect(moved.functionError).toBeUndefined();
        expect(moved.coldStart).toBe(true);
        const background = threadsNamed(BACKGROUND_THREAD_NAME);
        expect(background.length).toBeGreaterThanOrEqual(1);
        for (const thread of background) expect(thread.nice).toBe(BACKGROUND_NICE);
        // The heavy function's calls run there: its fixed work (tens of ms of CPU, past the bar)
        // shows up in those threads' CPU time, whatever the machine's load.
        const cpuBefore = background.reduce((sum, t) => sum + threadCpuMsOf(t.tid), 0);
        const warm = await rt.invoke('heavy');
        expect(warm.coldStart).toBe(false);
        expect(background.reduce((sum, t) => sum + threadCpuMsOf(t.tid), 0) - cpuBefore).toBeGreaterThanOrEqual(HEAVY_CALL_CPU_MS);
        const neighbour = await rt.invoke('light');
        expect(neighbour.coldStart).toBe(false);
        expect(neighbour.payload).toBe('ok');
        expect(getPriority()).toBe(mainNice);
        expect(threadsNamed('WorkerThread').every((t) => t.nice === mainNice)).toBe(true);
      } finally {
        await rt.close();
      }
    },
    SLOW_CASE_LIMIT_MS,
  );
});

/** A process's user + system CPU time so far, in ms (/proc/<pid>/stat fields 14 and 15, in USER_HZ = 100 ticks a second). */
function processCpuMsOf(pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return (Number(fields[11]) + Number(fields[12])) * 10;
}

describe.skipIf(process.platform !== 'linux')('in-process v8: a CPU-heavy function moves to a background child', () => {
  it(
    `after ${HEAVY_CALLS_IN_A_ROW} calls of >= ${HEAVY_CALL_CPU_MS} ms of cpuTime its next invoke cold-starts in a child at nice ${BACKGROUND_NICE}, which runs its calls; a light neighbour stays in this process, warm`,
    async () => {
      const mainNice = getPriority();
      const rt = await createRuntime({ logSink: { write: () => {} } });
      try {
        const spin = heavyHandler('v8');
        await rt.deploy({ name: 'heavy', engine: 'v8', timeoutMs: 120_000, code: { files: { 'index.mjs': spin } } });
        await rt.deploy({ name: 'light', engine: 'v8', code: { files: { 'index.mjs': 'export const handler = async () => "ok"' } } });
        expect((await rt.invoke('light')).coldStart).toBe(true);
        // Children of the process-isolation cases above live on (their pools are the process's).
        const earlier = new Set(engineProcessIds());
        const started = (): number[] => engineProcessIds().filter((pid) => !earlier.has(pid));
        // No child yet: in-process v8 starts one only when a function turns heavy.
        expect((await rt.invoke('heavy')).coldStart).toBe(true);
        for (let i = 1; i < HEAVY_CALLS_IN_A_ROW; i++) expect((await rt.invoke('heavy')).coldStart).toBe(false);
        expect(started()).toEqual([]);
        const moved = await rt.invoke('heavy');
        expect(moved.functionError).toBeUndefined();
        expect(moved.coldStart).toBe(true);
        const children = started();
        expect(children).toHaveLength(1);
        expect(niceOf(children[0]!)).toBe(BACKGROUND_NICE);
        // Its fixed work (tens of ms of CPU, past the bar) shows up in the child's CPU time, whatever the load.
        const cpuBefore = processCpuMsOf(children[0]!);
        const warm = await rt.invoke('heavy');
        expect(warm.coldStart).toBe(false);
        expect(processCpuMsOf(children[0]!) - cpuBefore).toBeGreaterThanOrEqual(HEAVY_CALL_CPU_MS);
        const neighbour = await rt.invoke('light');
        expect(neighbour.coldStart).toBe(false);
        expect(neighbour.payload).toBe('ok');
        expect(getPriority()).toBe(mainNice);
      } finally {
        await rt.close();
      }
    },
    SLOW_CASE_LIMIT_MS,
  );

  it('cpuHeavyNice 0: a CPU-heavy function stays where it is (in-process v8 and quickjs, warm)', async () => {
    const rt = await createRuntime({ logSink: { write: () => {} }, cpuHeavyNice: 0 });
    const earlier = new Set(engineProcessIds());
    const bgThreads = threadsNamed(BACKGROUND_THREAD_NAME).length;
    try {
      for (const engine of ['v8', 'quickjs'] as const) {
        const spin = heavyHandler(engine);
        await rt.deploy({ name: `heavy-${engine}`, engine, timeoutMs: 120_000, code: { files: { 'index.mjs': spin } } });
        expect((await rt.invoke(`heavy-${engine}`)).coldStart).toBe(true);
        for (let i = 0; i < HEAVY_CALLS_IN_A_ROW + 1; i++) expect((await rt.invoke(`heavy-${engine}`)).coldStart).toBe(false);
      }
      expect(engineProcessIds().filter((pid) => !earlier.has(pid))).toEqual([]);
      expect(threadsNamed(BACKGROUND_THREAD_NAME)).toHaveLength(bgThreads);
    } finally {
      await rt.close();
    }
  }, SLOW_CASE_LIMIT_MS);
});
