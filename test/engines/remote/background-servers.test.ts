/**
 * CPU-heavy functions go to background servers (engine-pool.ts `background`, issue #15 fairness):
 * a call whose guest CPU time reaches `heavyCallCpuMs` marks its function heavy; that sandbox is
 * retired (its environment ends when next idle) and the function's sandboxes start in background
 * servers from then on. First on stand-in servers (the pool's decisions), then through `rt.invoke`
 * under process isolation, where background servers are children at a lower OS priority.
 */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import type { FunctionBundle } from '../../../src/code/types.ts';
import type { SandboxOptions } from '../../../src/engines/engine.ts';
import { EnginePool, HEAVY_CALLS_IN_A_ROW } from '../../../src/engines/remote/engine-pool.ts';
import { BACKGROUND_NICE, engineProcessIds, HEAVY_CALL_CPU_MS } from '../../../src/engines/remote/process-host.ts';
import type { ServerEvent, ServerRequest } from '../../../src/engines/remote/protocol.ts';
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

/** Stand-in servers answering boots at once and calls with the guest CPU time `cpu` gives the sandbox. */
function fakes(cpu: Map<number, number>): { started: Started[]; normal: HostFactory; background: HostFactory } {
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
            event = { t: 'reply', id: request.id, reply: { done: true } as never, memoryBytes: 0, cpuMs: cpu.get(request.sb) ?? 0 };
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

// Work, not wall time, so the guest's CPU passes the bar however loaded the machine is.
const WORK: Record<'v8' | 'quickjs', number> = { v8: 200_000_000, quickjs: 2_000_000 };

describe.skipIf(process.platform !== 'linux')('process isolation: a CPU-heavy function moves to a background child', () => {
  for (const engine of ['v8', 'quickjs'] as const) {
    it(
      `${engine}: after ${HEAVY_CALLS_IN_A_ROW} calls of >= ${HEAVY_CALL_CPU_MS} ms of CPU its next invoke cold-starts in a child at nice ${BACKGROUND_NICE}, then stays warm; a light neighbour stays warm at nice 0`,
      async () => {
        const rt = await createRuntime({ isolation: 'process', engineProcesses: 1, logSink: { write: () => {} } });
        try {
          const spin = `export const handler = async () => { let n = 0; for (let i = 0; i < ${WORK[engine]}; i++) n = (n + i) | 0; return n; }`;
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
