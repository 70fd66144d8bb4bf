/**
 * EnginePool over hosts with `exactDeadlines` (the wasm engine's pools): a sandbox disposed while its call is still
 * out at its deadline ends its server at once, so the server's other sandboxes fail before the
 * disposing environment's Sandbox.Timedout reaches its caller. An environment answers at its
 * deadline itself (environment/event-loop.ts answerByDeadline) while the server's host ends the
 * server a moment later; a neighbour invoked in between landed in the dying server and failed as
 * Runtime.ExitError instead of cold-starting elsewhere (CI, test/engines/wasm/shared-pool.test.ts,
 * load ~12). Servers here are in-process fakes that start sandboxes at once and never answer a call
 * (a guest still running it); the real wasm servers run in shared-pool.test.ts.
 */
import { describe, expect, it } from 'vitest';
import { bundleFunction } from '../../../src/code/index.ts';
import type { SandboxOptions } from '../../../src/engines/engine.ts';
import type { HostMessage } from '../../../src/engines/guest/protocol.ts';
import { EnginePool } from '../../../src/engines/remote/engine-pool.ts';
import type { EngineHost, HostHandlers } from '../../../src/engines/remote/worker-host.ts';

const OPTIONS: SandboxOptions = { memoryMb: 128, onLog: () => {}, hostCall: () => 'n' };
const MESSAGE = { type: 'invoke' } as unknown as HostMessage;

/**
 * One fake server: boots answer at once, calls never; `killed` counts its kills, `disposes` its
 * dispose requests. With `exactDeadlines` its host says it ends a call still running at its deadline.
 */
function fakeServer(exactDeadlines: boolean): { factory: (handlers: HostHandlers) => Promise<EngineHost>; killed: number; disposes: number } {
  const state = { killed: 0, disposes: 0, factory: undefined as unknown as (handlers: HostHandlers) => Promise<EngineHost> };
  state.factory = async (handlers) => ({
    exactDeadlines,
    send: (request) => {
      if (request.t === 'boot') queueMicrotask(() => handlers.onEvent({ t: 'ready', id: request.id }));
      if (request.t === 'dispose') state.disposes++;
    },
    answer: () => {},
    ref: () => {},
    kill: () => {
      state.killed++;
    },
  });
  return state;
}

async function twoSandboxes(exactDeadlines: boolean) {
  const server = fakeServer(exactDeadlines);
  const pool = new EnginePool(1, server.factory);
  await pool.warm();
  const outcome = await bundleFunction({ files: { 'index.mjs': 'export const handler = async () => 1' } }, 'index.handler');
  if (!outcome.ok) throw new Error(outcome.failure.errorMessage);
  const def = pool.define('wasm', outcome.bundle);
  const looping = await pool.boot(def, OPTIONS);
  const neighbour = await pool.boot(def, OPTIONS);
  return { server, pool, looping, neighbour };
}

const pastDeadline = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

describe('engine pool with exactDeadlines', () => {
  it('a sandbox disposed with its call out past the deadline ends the server at once: the neighbour has failed when dispose returns', async () => {
    const { server, looping, neighbour } = await twoSandboxes(true);
    const call = looping.call(MESSAGE, 5).catch((error: unknown) => error);
    await pastDeadline(30);
    expect(neighbour.disposed).toBe(false);
    looping.dispose();
    expect(neighbour.disposed).toBe(true);
    expect(server.killed).toBe(1);
    expect(await neighbour.call(MESSAGE, 1000).catch((error: unknown) => (error as Error).message)).toBe(
      'the engine worker was still running a call at its deadline and was terminated',
    );
    expect(await call).toBeInstanceOf(Error);
  });

  it('well before the deadline (a runtime closing), dispose only disposes: the server and the neighbour live on', async () => {
    const { server, looping, neighbour } = await twoSandboxes(true);
    void looping.call(MESSAGE, 60_000).catch(() => {});
    looping.dispose();
    expect(neighbour.disposed).toBe(false);
    expect(server.killed).toBe(0);
    expect(server.disposes).toBe(1);
  });

  it('without exactDeadlines (the other engines: their servers interrupt the call), dispose past the deadline only disposes', async () => {
    const { server, looping, neighbour } = await twoSandboxes(false);
    void looping.call(MESSAGE, 5).catch(() => {});
    await pastDeadline(30);
    looping.dispose();
    expect(neighbour.disposed).toBe(false);
    expect(server.killed).toBe(0);
    expect(server.disposes).toBe(1);
  });
});
