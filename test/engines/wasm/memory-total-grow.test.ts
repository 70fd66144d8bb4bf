/**
 * The sum of a component's memories never exceeds memoryMb, at any instant (issue #15): each core
 * memory was capped at memoryMb alone and their total checked only after a call, so a component
 * with N memories held N × memoryMb of the host during one call (4 memories at memoryMb 128: the
 * host's peak RSS up 606-642 MB in one invocation, then Runtime.OutOfMemory). Now the maxima are
 * planned for the whole component (memory-cap.ts planMemories) so that their sum is the cap, a
 * component whose memories cannot fit is refused at deploy, and an instantiation past the plan is
 * refused when it happens. The hostile components (fixtures/many-memories.ts) grow every memory
 * greedily and report the pages held in all.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse } from '@bytecodealliance/jco-transpile/wasm-tools';
import { describe, expect, it } from 'vitest';
import { SandboxFault } from '../../../src/engines/engine.ts';
import { InThreadWasm } from '../../../src/engines/wasm/in-thread.ts';
import { planMemories, SMALL_MEMORY_SLACK_PAGES, type DeclaredMemory } from '../../../src/engines/wasm/memory-cap.ts';
import { compileCapped, compilePlanned, transpileComponent } from '../../../src/engines/wasm/transpile.ts';
import { InvalidParameterValueException } from '../../../src/errors.ts';
import { withRuntime } from '../../helpers/runtime.ts';
import { INIT, phase } from '../../helpers/sandbox.ts';
import { manyMemories } from './fixtures/many-memories.ts';

const MIB = 1024 * 1024;
/** memoryMb 128 in 64 KiB pages. */
const CAP_PAGES = 2048;
const HELLO = join(import.meta.dirname, '../../../native/components/hello.wasm');

const sumOf = (plan: ReturnType<typeof planMemories>, counts: ReadonlyMap<string, number>): number =>
  [...plan.maxima].reduce((sum, [name, maxima]) => sum + maxima.reduce((a, b) => a + b, 0) * (counts.get(name) ?? 0), 0);

/** The pages the hostile component reported holding. */
const pagesHeld = (payload: unknown): number => Number((payload as { pages: string }).pages);

/** This process's peak resident set since the last reset, in MiB (Linux: VmHWM, reset through clear_refs). */
function peakRssMb(): number {
  return Number(/VmHWM:\s+(\d+)/.exec(readFileSync('/proc/self/status', 'utf8'))![1]) / 1024;
}

describe('planMemories: maxima whose sum over every core instance is the cap', () => {
  const plan = (modules: Record<string, DeclaredMemory[]>, counts: Record<string, number>) => {
    const countMap = new Map(Object.entries(counts));
    const result = planMemories(new Map(Object.entries(modules)), countMap, CAP_PAGES);
    return { ...result, total: sumOf(result, countMap) };
  };

  it("one memory (a C or Rust component) gets the whole cap; a lower declared maximum is kept", () => {
    expect(plan({ main: [{ min: 17 }] }, { main: 1 })).toMatchObject({ maxima: new Map([['main', [CAP_PAGES]]]), total: CAP_PAGES });
    expect(plan({ main: [{ min: 17, max: 100 }] }, { main: 1 }).maxima.get('main')).toEqual([100]);
  });

  it('a componentize-qjs layout (a 23-page heap, a 0-page stub, memoryless adapters): the stub gets the slack, the heap the rest', () => {
    const { maxima, total } = plan({ core: [{ min: 23 }], adapter: [], stub: [{ min: 0 }] }, { core: 1, adapter: 1, stub: 1 });
    expect(maxima.get('core')).toEqual([CAP_PAGES - SMALL_MEMORY_SLACK_PAGES]);
    expect(maxima.get('stub')).toEqual([SMALL_MEMORY_SLACK_PAGES]);
    expect(total).toBe(CAP_PAGES);
  });

  it('a module instantiated K times reserves K times; the heap is the main module, not the repeated one', () => {
    const { maxima, total } = plan({ mem: [{ min: 1 }], main: [{ min: 1 }] }, { mem: 8, main: 1 });
    expect(maxima.get('mem')).toEqual([1 + SMALL_MEMORY_SLACK_PAGES]);
    expect(maxima.get('main')).toEqual([CAP_PAGES - 8 * (1 + SMALL_MEMORY_SLACK_PAGES)]);
    expect(total).toBe(CAP_PAGES);
    // A module defining several memories (multi-memory) counts each; one never instantiated reserves nothing.
    const multi = plan({ mem: [{ min: 0 }, { min: 2, max: 3 }], main: [{ min: 5 }], unused: [{ min: 2000 }] }, { mem: 3, main: 1, unused: 0 });
    expect(multi.maxima.get('mem')).toEqual([SMALL_MEMORY_SLACK_PAGES, 3]);
    expect(multi.total).toBe(CAP_PAGES);
  });

  it('at, just under and just over the bound: the minimums and the slack fit, or MemoryCapError names the count and the cap', () => {
    // 2 memories of 500 pages (each + the slack) and the heap's minimum: 2 × 516 + 1016 = 2048.
    const layout = (heapMin: number) => plan({ mem: [{ min: 500 }], main: [{ min: heapMin }] }, { mem: 2, main: 1 });
    expect(layout(1015).maxima.get('main')).toEqual([1016]);
    expect(layout(1016).maxima.get('main')).toEqual([1016]);
    expect(() => layout(1017)).toThrow(/the component's 3 memories need 131136 KiB at least .* more than the cap of 131072 KiB/);
  });
});

describe('a hostile component with many memories is held to memoryMb in total (issue #15)', { timeout: 180_000 }, () => {
  it('jco glue: each core instance counted, a module instantiated 4 times 4 times', async () => {
    const component = await transpileComponent(await parse(manyMemories({ memories: 4, sameModule: true })));
    expect([...component.instantiations.values()].sort()).toEqual([1, 4]);
    const distinct = await transpileComponent(await parse(manyMemories({ memories: 4, sameModule: false })));
    expect([...distinct.instantiations.values()]).toEqual([1, 1, 1, 1, 1]);
  });

  it('deploy: at and just under the bound the component runs; just over it is refused, naming the count and the cap', () =>
    withRuntime(async ({ rt }) => {
      for (const mainMinPages of [1015, 1016]) {
        const name = `fits-${mainMinPages}`;
        await rt.deploy({ name, engine: 'wasm', memoryMb: 128, timeoutMs: 60_000, code: { component: await parse(manyMemories({ memories: 2, sameModule: false, minPages: 500, mainMinPages })) } });
        const result = await rt.invoke(name, {});
        expect(result.functionError).toBeUndefined();
        expect(pagesHeld(result.payload)).toBe(CAP_PAGES);
      }
      const over = await rt
        .deploy({ name: 'over', engine: 'wasm', memoryMb: 128, code: { component: await parse(manyMemories({ memories: 2, sameModule: false, minPages: 500, mainMinPages: 1017 })) } })
        .then(() => undefined, (error: unknown) => error);
      expect(over).toBeInstanceOf(InvalidParameterValueException);
      expect((over as InvalidParameterValueException).field).toBe('memoryMb');
      expect((over as Error).message).toMatch(/^the component's 3 memories need 131136 KiB at least .* more than the cap of 131072 KiB \(memoryMb 128\)$/);
    }));

  it.each([
    ['one module instantiated 4 times', true],
    ['4 distinct modules', false],
  ])('%s, every memory grown greedily in one call: exactly memoryMb in all, the host bounded, a neighbour answering', (_, sameModule) =>
    withRuntime(async ({ rt }) => {
      await rt.deploy({ name: 'neighbour', engine: 'wasm', memoryMb: 128, timeoutMs: 60_000, code: { component: await parse(manyMemories({ memories: 0, sameModule: true })) } });
      await rt.deploy({ name: 'hostile', engine: 'wasm', memoryMb: 128, timeoutMs: 60_000, code: { component: await parse(manyMemories({ memories: 4, sameModule })) } });
      expect(pagesHeld((await rt.invoke('neighbour', {})).payload)).toBe(CAP_PAGES);
      writeFileSync('/proc/self/clear_refs', '5'); // the peak RSS starts again from the current RSS
      const before = peakRssMb();
      // Before the plan: 5 memories of up to 2048 pages each, 10,240 pages (640 MiB) in one call.
      const hostile = await rt.invoke('hostile', {});
      const rise = peakRssMb() - before;
      expect(hostile.functionError).toBeUndefined();
      expect(pagesHeld(hostile.payload)).toBe(CAP_PAGES);
      // The memories' pages, all written: 128 MiB, and then some for the process's own churn (not 640).
      expect(rise).toBeLessThan(2 * 128);
      // Warm again: every memory is at its maximum, nothing more to take.
      expect(pagesHeld((await rt.invoke('hostile', {})).payload)).toBe(CAP_PAGES);
      expect(pagesHeld((await rt.invoke('neighbour', {})).payload)).toBe(CAP_PAGES);
    }));

  it('an instantiation past the plan is refused when it is made: out of memory at INIT, before its memory exists', async () => {
    const component = await transpileComponent(await parse(manyMemories({ memories: 2, sameModule: true })));
    // Without the plan's reservations each memory counts as the whole cap: the second is one too many.
    const modules = await compileCapped(component, 128);
    const unplanned = await new InThreadWasm().prepare({ hash: 'unplanned', glue: component.glue, modules, memoryCapBytes: 128 * MIB });
    const refused = await phase(await unplanned.boot({ memoryMb: 128, onLog: () => {} }), INIT).then(
      () => undefined,
      (error: unknown) => error,
    );
    expect(refused).toBeInstanceOf(SandboxFault);
    expect(refused).toMatchObject({ kind: 'out-of-memory', message: expect.stringMatching(/would reserve 262144 KiB of linear memory, more than the cap of 131072 KiB/) });
    // With the plan the same component initialises; so does a one-memory component without one.
    const planned = await compilePlanned(component, 128);
    const withPlan = await new InThreadWasm().prepare({ hash: 'planned', glue: component.glue, ...planned, memoryCapBytes: 128 * MIB });
    expect(await phase(await withPlan.boot({ memoryMb: 128, onLog: () => {} }), INIT)).toMatchObject({ done: true, ok: true });
    const hello = await transpileComponent(readFileSync(HELLO));
    const helloAlone = await new InThreadWasm().prepare({ hash: 'hello', glue: hello.glue, modules: await compileCapped(hello, 128), memoryCapBytes: 128 * MIB });
    expect(await phase(await helloAlone.boot({ memoryMb: 128, onLog: () => {} }), INIT)).toMatchObject({ done: true, ok: true });
  });
});
