/**
 * process.memoryUsage() (and .rss()), process.cpuUsage() and process.resourceUsage() in the guest
 * (issue #12: all zeros before; Powertools, prom-client and pino read them): Node's shapes exactly
 * (names, order, types), the environment's own figures — its memory, its CPU time — never the host
 * process's, bounded by what it holds, CPU time monotone. Nothing here is timed: CPU work is counted
 * in loop iterations and its figure compared only with itself.
 */
import { expect, it } from 'vitest';
import { deployFiles, forEachEngine, GENEROUS_TIMEOUT_MS, SLOW_CASE_LIMIT_MS } from '../helpers/runtime.ts';

const MIB = 1024 * 1024;

const PROGRAM = `let keep = [];
  const types = (o) => Object.entries(o).map(([k, v]) => k + ':' + (Number.isSafeInteger(v) ? 'int' : typeof v));
  export const handler = async (event) => {
    const first = process.cpuUsage();
    if (event.holdMb) keep.push(new Uint8Array(event.holdMb * ${MIB}).fill(1));
    let x = 0;
    for (let i = 0; i < (event.work ?? 0); i++) x = (x + Math.sqrt(i)) % 1e9;
    const memory = process.memoryUsage();
    const resources = process.resourceUsage();
    const cpu = process.cpuUsage();
    const errors = [];
    for (const previous of [5, { user: -1, system: 0 }, { user: 'x' }, { user: 1, system: -1 }, { user: 1 }]) {
      try { process.cpuUsage(previous); errors.push('none'); } catch (e) { errors.push(e.code + ' ' + e.name + ': ' + e.message); }
    }
    return {
      shapes: { memory: types(memory), cpu: types(cpu), resources: types(resources), rss: typeof process.memoryUsage.rss() },
      memory, rss: process.memoryUsage.rss(), first, cpu, since: process.cpuUsage(first), resources, errors, x: x > -1,
    };
  };`;

interface Answer {
  shapes: { memory: string[]; cpu: string[]; resources: string[]; rss: string };
  memory: NodeJS.MemoryUsage;
  rss: number;
  first: NodeJS.CpuUsage;
  cpu: NodeJS.CpuUsage;
  since: NodeJS.CpuUsage;
  resources: NodeJS.ResourceUsage;
  errors: string[];
}

/** What the host's own Node answers for the same calls (the shapes and the errors: its figures differ). */
function nodeAnswer(): Pick<Answer, 'shapes' | 'errors'> {
  const types = (o: object): string[] => Object.entries(o).map(([k, v]) => `${k}:${Number.isSafeInteger(v) ? 'int' : typeof v}`);
  const errors: string[] = [];
  for (const previous of [5, { user: -1, system: 0 }, { user: 'x' }, { user: 1, system: -1 }, { user: 1 }]) {
    try {
      process.cpuUsage(previous as NodeJS.CpuUsage);
      errors.push('none');
    } catch (e) {
      const error = e as Error & { code: string };
      errors.push(`${error.code} ${error.name}: ${error.message}`);
    }
  }
  return {
    shapes: { memory: types(process.memoryUsage()), cpu: types(process.cpuUsage()), resources: types(process.resourceUsage()), rss: typeof process.memoryUsage.rss() },
    errors,
  };
}

forEachEngine(({ engine, withRuntime }) => {
  it("process.memoryUsage, cpuUsage and resourceUsage have Node's shapes and errors, and the environment's own figures: bounded, growing with what it holds, CPU monotone", () =>
    withRuntime(async ({ rt }) => {
      await deployFiles(rt, 'usage', PROGRAM, { memoryMb: 256, timeoutMs: GENEROUS_TIMEOUT_MS });
      const cold = (await rt.invoke('usage', {})).payload as Answer;
      const node = nodeAnswer();
      expect(cold.shapes).toEqual(node.shapes);
      expect(cold.errors).toEqual(node.errors);

      // Real figures, the environment's own: a fresh one holds a few MB, never the host process's
      // hundreds (the test process's own rss, read now, is far above); heapUsed within heapTotal.
      const hostRss = process.memoryUsage().rss;
      expect(cold.memory.rss).toBeGreaterThan(0);
      expect(cold.memory.heapUsed).toBeGreaterThan(0);
      expect(cold.memory.heapUsed).toBeLessThanOrEqual(cold.memory.heapTotal);
      expect(cold.memory.heapTotal).toBeLessThanOrEqual(cold.memory.rss);
      expect(cold.memory.rss).toBeLessThan(48 * MIB);
      expect(cold.memory.rss).toBeLessThan(hostRss);
      expect(cold.rss).toBeGreaterThan(0);
      expect(cold.resources.maxRSS).toBeGreaterThanOrEqual(Math.floor(cold.memory.rss / 1024));
      // CPU: the environment's own (INIT and this invoke), under the host process's, which ran it and everything else.
      expect(cold.cpu.user).toBeGreaterThan(0);
      expect(cold.cpu.user).toBeLessThan(process.cpuUsage().user);
      expect(cold.cpu.user).toBeGreaterThanOrEqual(cold.first.user);
      expect(cold.cpu.user).toBeGreaterThanOrEqual(cold.resources.userCPUTime); // read in that order

      // Holding 64 MiB more: rss (what the environment is charged) counts it; still under memoryMb.
      const held = (await rt.invoke('usage', { holdMb: 64 })).payload as Answer;
      // (QuickJS's figure is its linear memory, whose free part took some of it: measured against the heap used before.)
      expect(held.memory.rss).toBeGreaterThanOrEqual(cold.memory.heapUsed + 64 * MIB);
      expect(held.memory.rss).toBeLessThanOrEqual(256 * MIB);
      if (engine === 'v8') expect(held.memory.arrayBuffers).toBeGreaterThanOrEqual(64 * MIB);
      else expect(held.memory.heapUsed).toBeGreaterThanOrEqual(64 * MIB); // QuickJS counts its buffers in its heap
      expect(held.resources.maxRSS).toBeGreaterThanOrEqual(Math.floor(held.memory.rss / 1024));

      // CPU work (counted in iterations): the figure grows, and never goes back.
      const worked = (await rt.invoke('usage', { work: 3_000_000 })).payload as Answer;
      expect(worked.cpu.user).toBeGreaterThan(worked.first.user);
      expect(worked.first.user).toBeGreaterThanOrEqual(held.cpu.user);
      expect(worked.since.user).toBeGreaterThan(0);
    }), SLOW_CASE_LIMIT_MS);
});
