/**
 * SnapStart's `restore` message sent with the restore (issue 21, Restore Duration): Blueprint.restore's
 * `resume` goes to the engine server right behind the restore request, before the host has the
 * restore's answer, and the server runs it once the sandbox is made (server.ts `#starting`); the
 * sandbox's first call with that message object takes its answer, and any other message is sent as
 * usual. Checked on the order of the messages a real quickjs server exchanged (an invariant, no
 * timing), the restored guest's identity (it ran this message, once), and a restore that fails.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { bundleFunction } from '../../../src/code/index.ts';
import { parseFunctionConfig } from '../../../src/config/function-config.ts';
import { ExecutionEnvironment } from '../../../src/environment/environment.ts';
import { functionIdentity } from '../../../src/environment/lambda-env.ts';
import { silentSink } from '../../../src/observability/log-sink.ts';
import type { Blueprint, SandboxImage, SandboxOptions } from '../../../src/engines/engine.ts';
import { encodeReply, type HostMessage } from '../../../src/engines/guest/protocol.ts';
import { EnginePool } from '../../../src/engines/remote/engine-pool.ts';
import type { ServerEvent } from '../../../src/engines/remote/protocol.ts';
import { RemoteEngine } from '../../../src/engines/remote/remote-engine.ts';
import { RemoteSandbox, type SandboxLink } from '../../../src/engines/remote/remote-sandbox.ts';
import { WorkerHost } from '../../../src/engines/remote/worker-host.ts';
import { GENEROUS_TIMEOUT_MS, SLOW_CASE_LIMIT_MS } from '../../helpers/runtime.ts';
import { CONTEXT, invoke, phase, snapshotTemplate } from '../../helpers/sandbox.ts';

const SOURCE = `export const handler = async (event, context) => ({ stream: context.logStreamName, random: Math.random() });`;

describe('quickjs engine server: the restore message sent with the restore', () => {
  /** What crossed between the pool and its server, in order: `send:<t>[:<message type>]`, `event:<t>[:<fault kind>]`. */
  const trace: string[] = [];
  const pool = new EnginePool(1, async (handlers) => {
    const host = await WorkerHost.start(
      { quickjs: {} },
      {
        ...handlers,
        onEvent: (event: ServerEvent) => {
          if (event.t === 'ready' || event.t === 'reply') trace.push(`event:${event.t}${event.t === 'reply' && event.fault ? `:${event.fault.kind}` : ''}`);
          handlers.onEvent(event);
        },
      },
    );
    const send = host.send.bind(host);
    host.send = (request) => {
      trace.push(`send:${request.t}${request.t === 'call' ? `:${request.message.type}` : ''}`);
      send(request);
    };
    return host;
  });
  const options: SandboxOptions = { memoryMb: 128, onLog: () => {}, hostCall: () => 'e{}' };
  let blueprint: Blueprint;
  let image: SandboxImage;
  let templateRandom: number;

  beforeAll(async () => {
    const outcome = await bundleFunction({ files: { 'index.mjs': SOURCE } }, 'index.handler');
    if (!outcome.ok) throw new Error(outcome.failure.errorMessage);
    blueprint = await new RemoteEngine('quickjs', () => pool).prepare(outcome.bundle);
    const template = await snapshotTemplate(blueprint, options);
    image = await template.snapshot!();
    template.dispose();
    // What Math.random would give in every restore that was not reseeded: the template's next value.
    const probe = await blueprint.restore!(image, options);
    templateRandom = (JSON.parse((await invoke(probe, {}, GENEROUS_TIMEOUT_MS)).payload!) as { random: number }).random;
    probe.dispose();
  }, SLOW_CASE_LIMIT_MS);

  afterAll(() => image.dispose());

  it('goes right behind the restore request, before its answer; the first call with it takes that reply, and it runs once', async () => {
    const message: HostMessage = { type: 'restore', seed: '5a'.repeat(32), context: { ...CONTEXT, logStreamName: 'ahead-stream' } };
    trace.length = 0;
    const sandbox = await blueprint.restore!(image, options, { message, timeoutMs: GENEROUS_TIMEOUT_MS });
    expect(trace.slice(0, 3)).toEqual(['send:restore', 'send:call:restore', 'event:ready']);
    expect(await phase(sandbox, message, GENEROUS_TIMEOUT_MS)).toMatchObject({ done: true, ok: true });
    const payload = JSON.parse((await invoke(sandbox, {}, GENEROUS_TIMEOUT_MS)).payload!) as { stream: string; random: number };
    // The guest ran this message (its identity, reseeded randomness: SnapStart's semantics kept).
    expect(payload.stream).toBe('ahead-stream');
    expect(payload.random).not.toBe(templateRandom);
    // Sent once: the call above took the answer of the one sent ahead.
    expect(trace.filter((t) => t === 'send:call:restore')).toHaveLength(1);
    sandbox.dispose();
  }, SLOW_CASE_LIMIT_MS);

  it('without it, the restore answers first and the message is sent by the call, as before', async () => {
    trace.length = 0;
    const sandbox = await blueprint.restore!(image, options);
    expect(trace).toEqual(['send:restore', 'event:ready']);
    expect(await phase(sandbox, { type: 'restore', seed: 'a1'.repeat(32), context: CONTEXT }, GENEROUS_TIMEOUT_MS)).toMatchObject({ done: true, ok: true });
    expect(trace.slice(2)).toEqual(['send:call:restore', 'event:reply']);
    sandbox.dispose();
  }, SLOW_CASE_LIMIT_MS);

  it('a restore that fails rejects with its own error; the message behind it finds no sandbox and runs nowhere', async () => {
    const message: HostMessage = { type: 'restore', seed: '5a'.repeat(32), context: CONTEXT };
    trace.length = 0;
    // An image is restored only under the memory cap it was made under.
    await expect(blueprint.restore!(image, { ...options, memoryMb: 256 }, { message, timeoutMs: GENEROUS_TIMEOUT_MS })).rejects.toThrow(/memoryMb|memory/);
    await expect.poll(() => trace.filter((t) => t.startsWith('event:')), { timeout: GENEROUS_TIMEOUT_MS }).toEqual(['event:ready', 'event:reply:disposed']);
    expect(trace.slice(0, 2)).toEqual(['send:restore', 'send:call:restore']);
  }, SLOW_CASE_LIMIT_MS);
});

describe('RemoteSandbox.sendAhead', () => {
  function fakeLink(): { link: SandboxLink; sent: HostMessage[] } {
    const sent: HostMessage[] = [];
    const link: SandboxLink = {
      call: (message) => {
        sent.push(message);
        return Promise.resolve({ t: 'reply', id: sent.length, reply: encodeReply({ done: true, ok: true, payload: String(sent.length), logCount: 0, nextTimerInMs: -1 }), memoryBytes: 0 });
      },
      snapshot: () => Promise.reject(new Error('not used')),
      dispose: () => {},
    };
    return { link, sent };
  }

  it('answers the first call with that same message object from the call sent ahead; an equal but other object, or a later call, is sent', async () => {
    const { link, sent } = fakeLink();
    const sandbox = new RemoteSandbox({ memoryMb: 128, onLog: () => {}, hostCall: () => '' }, link);
    const ahead: HostMessage = { type: 'restore', seed: '00', context: CONTEXT };
    sandbox.sendAhead(ahead, 1000);
    expect(sent).toEqual([ahead]);
    // A structurally equal message is not the one sent ahead: it goes out, and the ahead answer is dropped.
    expect(await sandbox.call({ ...ahead }, 1000)).toMatchObject({ payload: '2' });
    expect(await sandbox.call(ahead, 1000)).toMatchObject({ payload: '3' });
    expect(sent).toHaveLength(3);
  });

  it('the first call with the ahead message does not send it again', async () => {
    const { link, sent } = fakeLink();
    const sandbox = new RemoteSandbox({ memoryMb: 128, onLog: () => {}, hostCall: () => '' }, link);
    const ahead: HostMessage = { type: 'restore', seed: '00', context: CONTEXT };
    sandbox.sendAhead(ahead, 1000);
    expect(await sandbox.call(ahead, 1000)).toMatchObject({ payload: '1' });
    expect(sent).toHaveLength(1);
  });
});

/**
 * Lambda's restore limit (10 s) counts the snapshot's restore and the after-restore hooks, not the
 * provisioning of the execution environment. Here, as after process isolation's children were all
 * killed (test/engines/process/process-isolation.test.ts "SnapStart images survive their child",
 * which once failed with a 10 s RESTORE timeout on a loaded machine), the restore must wait for a
 * new engine server to start: an injected start-up longer than the whole limit. Before, the call sent
 * behind the restore carried a deadline counted from the request, so it had timed out before the
 * server existed (Sandbox.Timedout, SnapStartTimeoutException at the environment).
 */
describe('the restore limit counts the restore, not the start of the server it waits for', () => {
  /** The injected start-up of every server after the first: longer than the restore limit below. */
  const SLOW_START_MS = 4_000;
  const RESTORE_LIMIT_MS = 3_000;
  const options: SandboxOptions = { memoryMb: 128, onLog: () => {}, hostCall: () => 'e{}' };

  // An after-restore hook with work enough for QuickJS's interrupt handler to look at the deadline.
  const HOOKED = `import { registerAfterRestore } from 'lambdalet/snapstart';
registerAfterRestore(() => { let x = 0; for (let i = 0; i < 2e6; i++) x += i; globalThis.spun = x; });
${SOURCE}`;

  /**
   * A quickjs pool whose first server starts as usual and every later one {@link SLOW_START_MS}
   * later; the function's SnapStart image made on the first, which is then killed: the next restore
   * waits for a slow start, as after process isolation's children were killed.
   */
  async function afterTheServerDied() {
    const hosts: { kill(): void }[] = [];
    const slowStart = { endedAt: 0 };
    const pool = new EnginePool(1, async (handlers) => {
      if (hosts.length > 0) {
        await new Promise((resolve) => setTimeout(resolve, SLOW_START_MS));
        slowStart.endedAt = performance.timeOrigin + performance.now();
      }
      const host = await WorkerHost.start({ quickjs: {} }, handlers);
      hosts.push(host);
      return host;
    });
    const outcome = await bundleFunction({ files: { 'index.mjs': HOOKED } }, 'index.handler');
    if (!outcome.ok) throw new Error(outcome.failure.errorMessage);
    const blueprint = await new RemoteEngine('quickjs', () => pool).prepare(outcome.bundle);
    const template = await snapshotTemplate(blueprint, options);
    const image = await template.snapshot!();
    template.dispose();
    // The only server goes; the image (its bytes in shared memory) outlives it, as SnapStart's do.
    hosts[0]!.kill();
    return { hosts, slowStart, bundle: outcome.bundle, blueprint, image, close: () => { image.dispose(); for (const host of hosts) host.kill(); } };
  }

  it('an environment restored there: resume() runs the hooks within restoreTimeoutMs counted from the restore (before: SnapStartTimeout at once)', async () => {
    const { hosts, slowStart, bundle, blueprint, image, close } = await afterTheServerDied();
    try {
      const config = parseFunctionConfig({ name: 'f', engine: 'quickjs', snapStart: true, code: { files: { 'index.mjs': HOOKED } } });
      const deps = { config, bundle, blueprint, identity: functionIdentity('us-east-1', '123456789012', 'f'), sink: silentSink, phaseLimits: { initMs: 10_000, restoreMs: RESTORE_LIMIT_MS } };
      const requestedAt = performance.timeOrigin + performance.now();
      const env = await ExecutionEnvironment.restore(deps, { image, tmp: undefined });
      expect(hosts).toHaveLength(2);
      expect(slowStart.endedAt - requestedAt).toBeGreaterThan(RESTORE_LIMIT_MS);
      const resumed = await env.resume();
      expect(resumed, JSON.stringify(resumed)).toMatchObject({ ok: true });
      env.dispose();
    } finally {
      close();
    }
  }, SLOW_CASE_LIMIT_MS);

  it('a restore on a server that starts for it: its message runs within the limit counted from the restore, and the caller is told when that was', async () => {
    const { hosts, slowStart, blueprint, image, close } = await afterTheServerDied();
    const slowStartEndedAt = (): number => slowStart.endedAt;
    try {
      const message: HostMessage = { type: 'restore', seed: '5a'.repeat(32), context: { ...CONTEXT, logStreamName: 'after-a-slow-start' } };
      const requestedAt = performance.timeOrigin + performance.now();
      const began: number[] = [];
      const sandbox = await blueprint.restore!(image, options, { message, timeoutMs: RESTORE_LIMIT_MS, began: (at) => began.push(at) });
      // The server started for this restore (the injected start ran, longer than the limit)...
      expect(hosts).toHaveLength(2);
      expect(slowStartEndedAt() - requestedAt).toBeGreaterThan(RESTORE_LIMIT_MS);
      // ...and the restore message ran within the limit all the same (before: Sandbox.Timedout)...
      expect(await phase(sandbox, message, RESTORE_LIMIT_MS)).toMatchObject({ done: true, ok: true });
      // ...counted from when the restore began, after the start, which the caller was told.
      expect(began).toHaveLength(1);
      expect(began[0]).toBeGreaterThanOrEqual(slowStartEndedAt());
      const payload = JSON.parse((await invoke(sandbox, {}, GENEROUS_TIMEOUT_MS)).payload!) as { stream: string };
      expect(payload.stream).toBe('after-a-slow-start');
      sandbox.dispose();
    } finally {
      close();
    }
  }, SLOW_CASE_LIMIT_MS);
});
