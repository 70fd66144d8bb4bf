/**
 * The guest runtime's image across the engine servers of a process (worker-host.ts, issue 21): the
 * first QuickJS server makes it before it says it is up (so no cold start pays for it) and reports
 * it; every server started after it is given that image (its bytes are shared memory) instead of
 * parsing and running the guest script again, and boots sandboxes from it as the first does.
 */
import { describe, expect, it } from 'vitest';
import { bundleFunction } from '../../../src/code/index.ts';
import { decodeReply, type GuestReply } from '../../../src/engines/guest/protocol.ts';
import type { ServerEvent } from '../../../src/engines/remote/protocol.ts';
import { runtimeImagesMade, WorkerHost } from '../../../src/engines/remote/worker-host.ts';
import { GENEROUS_TIMEOUT_MS } from '../../helpers/runtime.ts';
import { INIT } from '../../helpers/sandbox.ts';

const SOURCE = 'let calls = 0; export const handler = async (event) => ({ calls: ++calls, twice: event.n * 2, version: process.version.slice(0, 4) });';

/** A server and the replies it sends, by request id. */
async function startServer(): Promise<{ host: WorkerHost; reply: (id: number) => Promise<Extract<ServerEvent, { t: 'reply' | 'ready' }>> }> {
  const answers = new Map<number, Extract<ServerEvent, { t: 'reply' | 'ready' }>>();
  const waiting = new Map<number, () => void>();
  const host = await WorkerHost.start(
    { quickjs: {} },
    {
      onEvent: (event) => {
        if (event.t !== 'reply' && event.t !== 'ready') return;
        answers.set(event.id, event);
        waiting.get(event.id)?.();
      },
      onExit: () => {},
    },
  );
  host.ref(true);
  const reply = async (id: number): Promise<Extract<ServerEvent, { t: 'reply' | 'ready' }>> => {
    while (!answers.has(id)) await new Promise<void>((resolve) => waiting.set(id, resolve));
    return answers.get(id)!;
  };
  return { host, reply };
}

/** Boots the function in `server`, runs INIT and one invoke; the invoke's payload. */
/** A reply event's phase outcome: its status (read after a call not done) or its reply, both in the guest's reply format. */
function phaseOutcome(event: ServerEvent): GuestReply {
  const text = event.t === 'reply' ? (event.status ?? event.reply) : undefined;
  if (typeof text !== 'string') throw new Error(`no reply: ${JSON.stringify(event)}`);
  return decodeReply(text);
}

async function bootAndInvoke(server: Awaited<ReturnType<typeof startServer>>): Promise<unknown> {
  const outcome = await bundleFunction({ files: { 'index.mjs': SOURCE } }, 'index.handler');
  if (!outcome.ok) throw new Error(outcome.failure.errorMessage);
  const { script, filename, hash } = outcome.bundle;
  server.host.send({ t: 'define', bp: 1, engine: 'quickjs', script, filename, hash });
  server.host.send({ t: 'boot', id: 2, sb: 3, bp: 1, memoryMb: 128 });
  expect(await server.reply(2)).toEqual({ t: 'ready', id: 2 });
  const deadline = Date.now() + GENEROUS_TIMEOUT_MS;
  server.host.send({ t: 'call', id: 4, sb: 3, message: INIT, deadline });
  const init = await server.reply(4);
  expect(phaseOutcome(init), JSON.stringify(init)).toMatchObject({ done: true, ok: true });
  server.host.send({ t: 'call', id: 5, sb: 3, message: { type: 'invoke', requestId: 'r', deadlineMs: deadline, extras: '', event: '{"n":21}' }, deadline });
  const invoked = await server.reply(5);
  const result = phaseOutcome(invoked);
  expect(result, JSON.stringify(invoked)).toMatchObject({ done: true, ok: true });
  return JSON.parse(result.payload!) as unknown;
}

describe('the guest runtime image across engine servers', () => {
  it('made once, by the first server before it is up; the servers after it are given it and boot from it alike', async () => {
    expect(runtimeImagesMade()).toBe(0);
    const first = await startServer();
    expect(runtimeImagesMade()).toBe(1); // reported with `up`: made before it
    const later = [await startServer(), await startServer()];
    expect(runtimeImagesMade()).toBe(1); // given, not made again
    const expected = { calls: 1, twice: 42, version: 'v22.' };
    expect(await bootAndInvoke(first)).toEqual(expected);
    for (const server of later) expect(await bootAndInvoke(server)).toEqual(expected);
    for (const server of [first, ...later]) server.host.kill();
  });
});
