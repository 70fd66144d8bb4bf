/**
 * Component instances of many environments share a pool of engine servers (worker threads,
 * src/engines/remote/), and the timeout rule still holds there: a component still running at its
 * deadline gets its server terminated (the host's thread never blocks), that invocation times out
 * (Lambda: Sandbox.Timedout), the server's other environments fail and later invocations cold-start
 * on a replacement. Asserts invariants only, never how long anything took.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { compileFunction } from 'node:vm';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { SandboxFault, type Sandbox } from '../../../src/engines/engine.ts';
import { componentBundle } from '../../../src/engines/wasm/component-bundle.ts';
import { InThreadWasm } from '../../../src/engines/wasm/in-thread.ts';
import { compileCapped, glueBody, transpileComponent } from '../../../src/engines/wasm/transpile.ts';
import { WasmEngine, type WasmBlueprint } from '../../../src/engines/wasm/wasm-engine.ts';
import { INIT, invoke, phase } from '../../helpers/sandbox.ts';
import { withRuntime } from '../../helpers/runtime.ts';

const PROBE = join(import.meta.dirname, '../../../native/components/probe.wasm');
const HELLO = join(import.meta.dirname, '../../../native/components/hello.wasm');
const options = { memoryMb: 128, onLog: () => {} };

async function probeBlueprint(threads: number) {
  const engine = new WasmEngine({ threads });
  return { engine, blueprint: await engine.prepare(await componentBundle(PROBE, 'index.handler'), { memoryMb: 128 }) };
}

describe('wasm: environments share the pool of engine servers', { timeout: 120_000 }, () => {
  it('12 environments live in 3 threads, each instance with its own state', async () => {
    const { engine, blueprint } = await probeBlueprint(3);
    const sandboxes: Sandbox[] = [];
    try {
      for (let i = 0; i < 12; i++) sandboxes.push(await blueprint.boot(options));
      for (const sandbox of sandboxes) expect(await phase(sandbox, INIT)).toMatchObject({ done: true, ok: true });
      for (const sandbox of sandboxes) expect(JSON.parse((await invoke(sandbox, 'count')).payload!)).toEqual({ count: 1 });
      for (const sandbox of sandboxes) expect(JSON.parse((await invoke(sandbox, 'count')).payload!)).toEqual({ count: 2 });
      expect(engine.pool.servers).toBe(3);
      expect(sandboxes[0]!.memoryUsedBytes()).toBeGreaterThan(0);
    } finally {
      for (const sandbox of sandboxes) sandbox.dispose();
    }
  });

  it('a component looping past its deadline: it times out, its server is terminated, its neighbour fails, a new boot works', async () => {
    const { engine, blueprint } = await probeBlueprint(1);
    const stuck = await blueprint.boot(options);
    const neighbour = await blueprint.boot(options);
    expect(await phase(stuck, INIT)).toMatchObject({ ok: true });
    expect(await phase(neighbour, INIT)).toMatchObject({ ok: true });
    let turns = 0;
    const ticker = setInterval(() => turns++, 1);
    try {
      const fault = await invoke(stuck, 'loop', 300).then(
        () => undefined,
        (error: unknown) => error,
      );
      expect(fault).toBeInstanceOf(SandboxFault);
      expect((fault as SandboxFault).kind).toBe('timeout');
    } finally {
      clearInterval(ticker);
    }
    expect(turns).toBeGreaterThan(0); // the host's event loop kept turning while the guest looped
    const failed = await invoke(neighbour, 'count').then(
      () => undefined,
      (error: unknown) => error,
    );
    expect(failed).toBeInstanceOf(SandboxFault);
    expect((failed as SandboxFault).kind).toBe('crashed');
    expect((failed as SandboxFault).message).toBe('the engine worker was still running a call at its deadline and was terminated');
    const fresh = await blueprint.boot(options);
    expect(await phase(fresh, INIT)).toMatchObject({ ok: true });
    expect(JSON.parse((await invoke(fresh, 'count')).payload!)).toEqual({ count: 1 });
    expect(engine.pool.servers).toBe(1);
    fresh.dispose();
  });

  it("through the runtime: a neighbour's environment in the terminated server cold-starts on its next invoke", () =>
    withRuntime(
      async ({ rt }) => {
        await rt.deploy({ name: 'looper', engine: 'wasm', code: { component: PROBE }, timeoutMs: 300 });
        await rt.deploy({ name: 'hello', engine: 'wasm', code: { component: HELLO } });
        expect(await rt.invoke('hello', { n: 1 })).toMatchObject({ coldStart: true, payload: { count: 1 } });
        const timedOut = await rt.invoke('looper', 'loop');
        expect(timedOut.payload).toMatchObject({ errorType: 'Sandbox.Timedout', errorMessage: expect.stringMatching(/Task timed out after 0\.30 seconds$/) });
        const after = await rt.invoke('hello', { n: 2 });
        expect(after).toMatchObject({ coldStart: true, payload: { hello: { n: 2 }, count: 1 } });
      },
      undefined,
      { engineThreads: 1 },
    ));
});

describe('wasm: a code version is transpiled once per process', () => {
  it('two engines (two runtimes) preparing the same component share its transpiled form; other bytes do not', async () => {
    const bundle = await componentBundle(HELLO, 'index.handler');
    const first = (await new WasmEngine({ threads: 3 }).prepare(bundle, { memoryMb: 128 })) as WasmBlueprint;
    const second = (await new WasmEngine({ threads: 3 }).prepare(bundle, { memoryMb: 256 })) as WasmBlueprint;
    expect(second.component).toBe(first.component);
    const other = (await new WasmEngine({ threads: 3 }).prepare(await componentBundle(PROBE, 'index.handler'), { memoryMb: 128 })) as WasmBlueprint;
    expect(other.component).not.toBe(first.component);
    for (const blueprint of [first, second, other]) blueprint.close();
  });
});

describe('wasm: a call that returns after its deadline is a timeout (the boundary)', () => {
  afterEach(() => vi.restoreAllMocks());

  /** A sandbox in this (test) thread, whose call is seen to take `elapsedMs` of performance.now(). */
  async function callTaking(elapsedMs: number, timeoutMs: number) {
    const component = await transpileComponent(readFileSync(HELLO));
    const modules = await compileCapped(component, 128);
    const blueprint = await new InThreadWasm().prepare({ hash: 'h', glue: component.glue, modules, memoryCapBytes: 128 * 1024 * 1024 });
    const sandbox = await blueprint.boot(options);
    await sandbox.call(INIT, 10_000);
    let first: number | undefined;
    vi.spyOn(performance, 'now').mockImplementation(() => (first === undefined ? (first = 1000) : 1000 + elapsedMs));
    const message = { type: 'invoke' as const, requestId: 'r', deadlineMs: Date.now() + timeoutMs, extras: '', event: '{}' };
    return sandbox.call(message, timeoutMs);
  }

  it('just under and at the timeout: the reply stands', async () => {
    await expect(callTaking(99, 100)).resolves.toMatchObject({ done: true, ok: true });
    await expect(callTaking(100, 100)).resolves.toMatchObject({ done: true, ok: true });
  });

  it('just over: SandboxFault timeout, and the sandbox is gone', async () => {
    const error = await callTaking(101, 100).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(error).toBeInstanceOf(SandboxFault);
    expect((error as SandboxFault).kind).toBe('timeout');
  });
});

describe('glueBody (jco glue evaluated as a function, not a module)', () => {
  it("turns jco's module into a body returning instantiate", () => {
    const body = glueBody('"use components";\nexport function instantiate(a) {\n  const u = import.meta.url;\n  return a + u;\n}\nexport const _util = {};\n');
    const instantiate = (compileFunction(body) as () => (a: string) => string)();
    expect(instantiate('x')).toBe('xlambdalet:no-module-url/');
  });

  it('refuses glue that imports (a lambdalet bug, named)', () => {
    expect(() => glueBody('import x from "y";\nexport function instantiate() {}')).toThrow("lambdalet bug: jco's glue is not one exported instantiate() without imports");
    expect(() => glueBody('export function other() {}')).toThrow(/lambdalet bug/);
  });
});
