/**
 * SnapStart in the v8 engine, below the runtime: V8 startup snapshots taken in a child process,
 * verified, and restored. (End-to-end behaviour is in test/conformance/snapstart.test.ts.)
 */
import { createRequire } from 'node:module';
import { setTimeout as sleep } from 'node:timers/promises';
import { describe, expect, it } from 'vitest';
import { bundleFunction } from '../../../src/code/index.ts';
import { SnapshotUnsupportedError, type Blueprint, type SandboxImage, type SandboxOptions } from '../../../src/engines/engine.ts';
import { guestRuntime } from '../../../src/engines/guest-bundle.ts';
import { snapshotScripts, snapshotWarmUp } from '../../../src/engines/v8/snapshot.ts';
import { V8Engine } from '../../../src/engines/v8/v8-engine.ts';
import { GENEROUS_TIMEOUT_MS, SLOW_CASE_LIMIT_MS } from '../../helpers/runtime.ts';
import { INIT, invoke, phase, restoreFrom, snapshotTemplate } from '../../helpers/sandbox.ts';


const STATEFUL = `
  const table = new Map();
  for (let i = 0; i < 5000; i++) table.set('k' + i, { i });
  const bytes = new Uint8Array(1024).fill(7); // typed arrays at INIT (isolated-vm #103's crash)
  let counter = 0;
  export const handler = async (event) => {
    counter += 1;
    if (event.log) console.log('line from', event.log);
    if (event.loop) for (;;) {}
    // Flat 1 MiB strings: slice(1) flattens the rope V8's repeat builds (the cap in ~128 pushes, not millions of small objects).
    if (event.bomb) { const a = []; for (;;) a.push('x'.repeat((1 << 20) + 1).slice(1) + a.length); }
    return { counter, size: table.size, k42: table.get('k42').i, byte: bytes[1023] };
  };`;

async function blueprintOf(source: string, engine = new V8Engine()): Promise<Blueprint> {
  const outcome = await bundleFunction({ files: { 'index.mjs': source } }, 'index.handler');
  if (!outcome.ok) throw new Error(outcome.failure.errorMessage);
  return engine.prepare(outcome.bundle);
}

function options(memoryMb = 128, lines: string[] = []): SandboxOptions {
  return { memoryMb, onLog: (_level, message) => lines.push(message) };
}

describe('v8 snapshots', () => {
  it('restored sandboxes hold INIT state (typed arrays included) and change independently; logs reach their own options', async () => {
    const blueprint = await blueprintOf(STATEFUL);
    const base = await snapshotTemplate(blueprint, options());
    const image = await base.snapshot!();
    expect(image).toMatchObject({ engine: 'v8', kind: 'v8-startup-snapshot', memoryMb: 128 });
    base.dispose();
    const mine: string[] = [];
    const theirs: string[] = [];
    const a = await restoreFrom(blueprint, image, options(128, mine));
    const b = await restoreFrom(blueprint, image, options(128, theirs));
    expect((await invoke(a, { log: 'a' })).payload).toBe('{"counter":1,"size":5000,"k42":42,"byte":7}');
    expect((await invoke(a, {})).payload).toBe('{"counter":2,"size":5000,"k42":42,"byte":7}');
    expect((await invoke(b, { log: 'b' })).payload).toBe('{"counter":1,"size":5000,"k42":42,"byte":7}');
    expect(mine).toEqual(['line from a']);
    expect(theirs).toEqual(['line from b']);
    // The hidden global the driver left for the host is gone before user code runs.
    expect((await invoke(a, {})).ok).toBe(true);
    a.dispose();
    b.dispose();
    image.dispose();
  });

  it('a restored sandbox keeps the timeout and the memory cap', async () => {
    const blueprint = await blueprintOf(STATEFUL);
    const base = await snapshotTemplate(blueprint, options());
    const image = await base.snapshot!();
    base.dispose();
    await expect(invoke(await restoreFrom(blueprint, image, options()), { loop: true }, 200)).rejects.toMatchObject({ kind: 'timeout' });
    // The bomb's outcome must be the memory cap, so its deadline must never come first: with two
    // suites at once (load ~35, issue #12) 30 s did on Node 26. test/README.md's rule.
    await expect(invoke(await restoreFrom(blueprint, image, options()), { bomb: true }, GENEROUS_TIMEOUT_MS)).rejects.toMatchObject({ kind: 'out-of-memory' });
    expect((await invoke(await restoreFrom(blueprint, image, options()), {})).ok).toBe(true);
    image.dispose();
  }, SLOW_CASE_LIMIT_MS);

  it('an INIT that used the host cannot be snapshotted: SnapshotUnsupportedError names the operations', async () => {
    const blueprint = await blueprintOf(`
      import { existsSync } from 'node:fs';
      const here = existsSync('/tmp');
      const id = crypto.randomUUID();
      export const handler = async () => ({ here, id });`);
    // A stand-in for the host bridge (guest/protocol.ts's wire format).
    const hostCall = (op: string, args: string): string => (op === 'random' ? `o0\n${'a'.repeat(Number(JSON.parse(args)[0]))}` : 'otrue');
    const base = await blueprint.boot({ ...options(), hostCall });
    expect(await phase(base, INIT)).toMatchObject({ done: true, ok: true });
    expect(await phase(base, { type: 'snapshot' })).toMatchObject({ done: true, ok: true });
    await expect(base.snapshot!()).rejects.toThrow(new SnapshotUnsupportedError('INIT used the host (fs, random), which a V8 snapshot cannot hold'));
    expect((await invoke(base, {})).ok).toBe(true); // the template is unharmed
    base.dispose();
  });

  it('hostile code that loops only while snapshotted is stopped at the deadline; the host keeps working', async () => {
    // The snapshot process replays INIT later than the template ran it: code can tell by the clock.
    const blueprint = await blueprintOf(
      `if (Date.now() > Number(process.env.LOOP_AFTER)) for (;;) {}
      export const handler = async () => 'fine';`,
      new V8Engine({ snapshotTimeoutMs: 1500 }),
    );
    const base = await blueprint.boot(options());
    expect(await phase(base, { ...INIT, env: { LOOP_AFTER: String(Date.now() + 200) } })).toMatchObject({ done: true, ok: true });
    expect(await phase(base, { type: 'snapshot' })).toMatchObject({ done: true, ok: true });
    await sleep(400);
    // The message says the deadline stopped it; the test's own limit catches a loop that never stops.
    const error = await base.snapshot!().catch((e: unknown) => e);
    expect(error).toBeInstanceOf(SnapshotUnsupportedError);
    expect((error as Error).message).toBe('taking the V8 snapshot timed out after 1500 ms');
    expect((await invoke(base, {})).payload).toBe('"fine"');
    base.dispose();
  }, 20_000);

  it("the snapshot's warm-up walks the guest's invoke path with its own module: never the user's handler nor its after-restore hooks", async () => {
    // In a plain context (createSnapshot runs it in its discarded one): the same scripts, then the warm-up.
    const outcome = await bundleFunction(
      {
        files: {
          'index.mjs': `import { registerAfterRestore } from 'lambdalet/snapstart';
            globalThis.inits = (globalThis.inits ?? 0) + 1;
            registerAfterRestore(() => { globalThis.hookRan = true; });
            export const handler = async () => { globalThis.handlerRan = true; return 'user'; };`,
        },
      },
      'index.handler',
    );
    if (!outcome.ok) throw new Error(outcome.failure.errorMessage);
    const { script, stdlib } = await guestRuntime();
    const ivm = createRequire(import.meta.url)('isolated-vm') as typeof import('isolated-vm');
    const isolate = new ivm.Isolate({ memoryLimit: 128 });
    try {
      const context = isolate.createContextSync();
      for (const { code, filename } of snapshotScripts({ code: script, filename: 'guest.js' }, stdlib, outcome.bundle, INIT)) {
        isolate.compileScriptSync(code, filename === undefined ? {} : { filename }).runSync(context, { timeout: 5000 });
      }
      isolate.compileScriptSync(snapshotWarmUp()).runSync(context, { timeout: 5000 });
      await sleep(50); // the warm-up's later messages run in its microtasks
      // The guest's phase (module state the warm-up's install shares) holds the warm-up's invocation.
      const status = context.evalSync(`globalThis.__lambdalet_restore__.dispatch('status', '')`) as string;
      expect(status).toMatch(/^o.*"echoed":\{"name":"warm-up"\}/);
      expect(context.evalSync('JSON.stringify([globalThis.inits, globalThis.handlerRan, globalThis.hookRan])')).toBe('[1,null,null]');
    } finally {
      isolate.dispose();
    }
  });

  it('refuses an image for another memory size, and a disposed image', async () => {
    const blueprint = await blueprintOf('export const handler = async () => 1;');
    const base = await snapshotTemplate(blueprint, options());
    const image = await base.snapshot!();
    base.dispose();
    await expect(blueprint.restore!(image, options(256))).rejects.toThrow('v8: an image made under memoryMb 128 cannot be restored under 256');
    image.dispose();
    await expect(blueprint.restore!(image, options(128))).rejects.toThrow('v8: the image was disposed');
  });

  it('the pool of deserialised isolates follows demand: 2 ready at rest, a burst of 5 keeps 5 ready, none after dispose (issue 21)', async () => {
    // The pool runs on this engine's thread here; the runtime's in-process engine runs it in the
    // restore servers' workers (v8-restore-servers.test.ts). The depth's own limits are PoolDemand's
    // (test/engines/pool-demand.test.ts).
    const blueprint = await blueprintOf('export const handler = async () => 1;');
    const base = await snapshotTemplate(blueprint, options());
    const image = (await base.snapshot!()) as SandboxImage & { readonly readyCount: number };
    base.dispose();
    const settle = async (count: number): Promise<number> => {
      for (let i = 0; i < 400 && image.readyCount !== count; i++) await sleep(10);
      return image.readyCount;
    };
    expect(await settle(2)).toBe(2);
    const burst = await Promise.all(Array.from({ length: 5 }, () => blueprint.restore!(image, options())));
    expect(await settle(5)).toBe(5);
    for (const sandbox of burst) expect((await invoke(sandbox, {})).payload).toBe('1');
    for (const sandbox of burst) sandbox.dispose();
    image.dispose();
    expect(image.readyCount).toBe(0);
  }, 30_000);
});
