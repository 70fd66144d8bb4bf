/**
 * The quickjs engine's booted-runtime image (src/engines/quickjs/runtime-image.ts): instance-mode
 * sandboxes boot from one image of the guest runtime instead of parsing it. What must hold is
 * everything a parsed boot gave: the same behaviour, a random sequence and a process clock of its
 * own per environment, the memory cap and QuickJS's allocation limit of the sandbox's own memoryMb,
 * and nothing of one function in another's sandbox. Run on the test's thread (InThreadQuickJS:
 * the engine proper, as each worker thread runs it) so the image can be switched off to compare.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { describe, expect, it } from 'vitest';
import { bundleFunction, type FunctionBundle } from '../../../src/code/index.ts';
import type { Blueprint, Sandbox } from '../../../src/engines/engine.ts';
import { InThreadQuickJS } from '../../../src/engines/quickjs/in-thread.ts';
import { INIT, invoke, phase } from '../../helpers/sandbox.ts';

const MIB = 1024 * 1024;

async function bundle(source: string): Promise<FunctionBundle> {
  const outcome = await bundleFunction({ files: { 'index.mjs': source } }, 'index.handler');
  if (!outcome.ok) throw new Error(outcome.failure.errorMessage);
  return outcome.bundle;
}

async function ready(blueprint: Blueprint, memoryMb = 128): Promise<Sandbox> {
  const sandbox = await blueprint.boot({ memoryMb, onLog: () => {} });
  expect(await phase(sandbox, INIT)).toMatchObject({ done: true, ok: true });
  return sandbox;
}

async function payload(sandbox: Sandbox, event: unknown = {}): Promise<unknown> {
  const reply = await invoke(sandbox, event);
  expect(reply).toMatchObject({ done: true, ok: true });
  return JSON.parse(reply.payload!) as unknown;
}

const PROBE = `
  const atInit = Math.random();
  const keptRandom = Math.random;
  export const handler = async (event) => {
    const leak = globalThis.leak ?? null;
    if (event.set) globalThis.leak = event.set;
    if (event.allocateMb) { const b = new ArrayBuffer(event.allocateMb * 1024 * 1024); return { allocated: b.byteLength }; }
    return { atInit, random: Math.random(), kept: keptRandom(), uptime: process.uptime(), leak,
      globals: typeof Buffer + typeof setTimeout + typeof process.env + process.version.slice(0, 4) };
  };`;

describe('quickjs booted-runtime image', () => {
  it('a sandbox booted from the image behaves as one booted by parsing the guest script', async () => {
    const code = await bundle(PROBE);
    const imaged = await ready(await new InThreadQuickJS().prepare(code));
    const parsed = await ready(await new InThreadQuickJS({ runtimeImage: false }).prepare(code));
    const a = (await payload(imaged)) as Record<string, unknown>;
    const b = (await payload(parsed)) as Record<string, unknown>;
    expect(a.globals).toBe('functionfunctionobjectv22.');
    expect(a.globals).toBe(b.globals);
    expect(a.leak).toBeNull();
    imaged.dispose();
    parsed.dispose();
  });

  it('every sandbox from the image draws its own random sequence (Math.random, a reference kept at INIT, at INIT itself)', async () => {
    const blueprint = await new InThreadQuickJS().prepare(await bundle(PROBE));
    const sandboxes = await Promise.all(Array.from({ length: 20 }, () => ready(blueprint)));
    const payloads = (await Promise.all(sandboxes.map((s) => payload(s)))) as Record<string, unknown>[];
    for (const key of ['atInit', 'random', 'kept']) expect(new Set(payloads.map((p) => p[key])).size, key).toBe(20);
    for (const sandbox of sandboxes) sandbox.dispose();
  });

  it("process.uptime() counts from the sandbox's own boot, not from when the image was made", async () => {
    const engine = new InThreadQuickJS();
    const blueprint = await engine.prepare(await bundle(PROBE)); // the image is made here
    const imageMadeBy = performance.now();
    await sleep(1500);
    const bootStarted = performance.now();
    const sandbox = await ready(blueprint);
    const { uptime } = (await payload(sandbox)) as { uptime: number };
    const sinceBoot = (performance.now() - bootStarted) / 1000;
    // The image is at least 1.5 s old; the guest's clock started within this boot.
    expect(uptime).toBeLessThanOrEqual(sinceBoot + 0.01);
    expect(uptime).toBeLessThan((performance.now() - imageMadeBy) / 1000 - 1);
    sandbox.dispose();
  });

  it("one function's globals never reach another function's sandbox: both come from the same image", async () => {
    const engine = new InThreadQuickJS();
    const first = await ready(await engine.prepare(await bundle(PROBE)));
    expect(await payload(first, { set: 'secret of the first function' })).toMatchObject({ leak: null });
    expect(await payload(first)).toMatchObject({ leak: 'secret of the first function' });
    const second = await ready(await engine.prepare(await bundle(`${PROBE}\nexport const other = 1;`)));
    expect(await payload(second)).toMatchObject({ leak: null });
    first.dispose();
    second.dispose();
  });

  // QuickJS's malloc limit (runtime.setMemoryLimit, a single allocation's bound under Emscripten)
  // lives in the image as the template's 128 MB; each boot sets its own memoryMb again.
  it.each([128, 256])("memoryMb %i: QuickJS's allocation limit is the sandbox's own, not the image's (just under passes, just over fails)", async (memoryMb) => {
    const blueprint = await new InThreadQuickJS().prepare(await bundle(PROBE));
    const under = await ready(blueprint, memoryMb);
    // The heap already holds ~1 MB: an allocation of memoryMb - 8 fits the limit and the memory.
    expect(await payload(under, { allocateMb: memoryMb - 8 })).toEqual({ allocated: (memoryMb - 8) * MIB });
    under.dispose();
    const over = await ready(blueprint, memoryMb);
    const reply = await invoke(over, { allocateMb: memoryMb + 1 }).catch((error: unknown) => error);
    // Refused inside the guest (QuickJS's RangeError / out of memory) or as the sandbox's fault: never allocated.
    expect(JSON.stringify(reply)).toMatch(/out of memory|out-of-memory|RangeError|invalid array buffer length/i);
    over.dispose();
  }, 30_000);

  it('shared isolation does not use the image (it would overwrite the instance\'s other runtimes) and still boots', async () => {
    const blueprint = await new InThreadQuickJS({ isolation: 'shared' }).prepare(await bundle(PROBE));
    const [a, b] = [await ready(blueprint), await ready(blueprint)];
    expect(await payload(a, { set: 'a' })).toMatchObject({ leak: null });
    expect(await payload(b)).toMatchObject({ leak: null });
    a.dispose();
    b.dispose();
  });
});
