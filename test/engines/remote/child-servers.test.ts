/**
 * ChildServers (src/engines/remote/child-servers.ts, issue #15 fairness): a process-isolation
 * child's engine servers and the routing of the parent's requests among them. The servers here are
 * stand-ins that record what they are sent; the routing is the child's, whatever runs in a server.
 * Then the same through `rt.invoke`: a QuickJS neighbour in a child whose other sandbox spins.
 */
import { describe, expect, it } from 'vitest';
import { ChildServers } from '../../../src/engines/remote/child-servers.ts';
import { engineProcessIds } from '../../../src/engines/remote/process-host.ts';
import type { ServerEvent, ServerRequest } from '../../../src/engines/remote/protocol.ts';
import type { EngineHost, HostHandlers } from '../../../src/engines/remote/worker-host.ts';
import { createRuntime } from '../../../src/index.ts';
import { SLOW_CASE_LIMIT_MS } from '../../helpers/runtime.ts';

interface FakeServer {
  readonly sent: ServerRequest[];
  readonly answers: { readonly sb: number; readonly hc: number; readonly text: string }[];
  readonly handlers: HostHandlers;
  killed: boolean;
}

function fakeChild(maxServers: number): { child: ChildServers; servers: FakeServer[]; events: ServerEvent[]; exits: string[] } {
  const servers: FakeServer[] = [];
  const events: ServerEvent[] = [];
  const exits: string[] = [];
  const child = new ChildServers({
    maxServers,
    start: async (handlers): Promise<EngineHost> => {
      const server: FakeServer = { sent: [], answers: [], handlers, killed: false };
      servers.push(server);
      return {
        send: (request) => server.sent.push(request),
        answer: (call, text) => server.answers.push({ sb: call.sb, hc: call.hc, text }),
        ref: () => {},
        kill: () => {
          server.killed = true;
        },
      };
    },
    onEvent: (event) => events.push(event),
    onExit: (reason) => exits.push(reason),
  });
  return { child, servers, events, exits };
}

const settle = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

const define = (bp: number, engine: 'quickjs' | 'v8'): ServerRequest => ({ t: 'define', bp, engine, script: '', filename: 'f.js', hash: `h${bp}` });
const boot = (id: number, sb: number, bp: number): ServerRequest => ({ t: 'boot', id, sb, bp, memoryMb: 128 });
/** Starts the child and boots QuickJS sandboxes 100 and 101 (of blueprint 1): two servers. */
async function twoQuickjsSandboxes(child: ChildServers): Promise<void> {
  await child.start();
  child.handle(define(1, 'quickjs'));
  child.handle(boot(10, 100, 1));
  child.handle(boot(11, 101, 1));
  await settle();
}

const kinds = (server: FakeServer): string[] => server.sent.map((r) => `${r.t}${'sb' in r ? `:${r.sb}` : ''}${'img' in r ? `:img${r.img}` : ''}`);

describe('ChildServers: which server a request goes to', () => {
  it('refuses a maxServers that is not a positive integer', () => {
    for (const bad of [0, -1, 1.5, Number.NaN]) expect(() => fakeChild(bad)).toThrow(/maxServers must be a positive integer/);
  });

  it('a QuickJS sandbox starts on a server without QuickJS sandboxes, the child grows to maxServers (at, under, over), then the least busy takes it', async () => {
    const { child, servers } = fakeChild(3);
    await child.start();
    child.handle(define(1, 'quickjs'));
    child.handle(boot(10, 100, 1));
    await settle();
    expect(child.servers).toBe(1);
    child.handle(boot(11, 101, 1)); // under the bound: a second server
    child.handle(boot(12, 102, 1)); // at the bound: a third
    await settle();
    expect(child.servers).toBe(3);
    // The new servers learnt the function before their boot.
    expect(kinds(servers[1]!)).toEqual(['define', 'boot:101']);
    expect(kinds(servers[2]!)).toEqual(['define', 'boot:102']);
    // Over the bound: no fourth server; the boots still in flight make servers 1..3 busy alike,
    // so the answers decide: server 1 answers its boot and is the least busy.
    servers[0]!.handlers.onEvent({ t: 'ready', id: 10 });
    child.handle(boot(13, 103, 1));
    await settle();
    expect(child.servers).toBe(3);
    expect(kinds(servers[0]!)).toEqual(['define', 'boot:100', 'boot:103']);
    // A sandbox disposed frees its server for the next QuickJS sandbox.
    child.handle({ t: 'dispose', sb: 102 });
    child.handle(boot(14, 104, 1));
    await settle();
    expect(kinds(servers[2]!)).toEqual(['define', 'boot:102', 'dispose:102', 'boot:104']);
  });

  it('v8 sandboxes never make the child grow (their calls do not hold a server)', async () => {
    const { child } = fakeChild(4);
    await child.start();
    child.handle(define(1, 'v8'));
    for (let i = 0; i < 5; i++) child.handle(boot(10 + i, 100 + i, 1));
    await settle();
    expect(child.servers).toBe(1);
  });

  it("calls, snapshots and disposals go to their sandbox's server; code and adopted images reach every server, new ones included", async () => {
    const { child, servers, events } = fakeChild(2);
    await child.start();
    child.handle(define(1, 'quickjs'));
    child.handle({ t: 'adopt', id: 5, img: 50, engine: 'quickjs', parts: { bytes: 1 } });
    child.handle(boot(10, 100, 1));
    child.handle(boot(11, 101, 1));
    await settle();
    // One server answers the adoption for the child; the new one adopts it without an answer.
    expect(servers[0]!.sent.find((r) => r.t === 'adopt')).toMatchObject({ id: 5 });
    expect(servers[1]!.sent.find((r) => r.t === 'adopt')).not.toHaveProperty('id');
    const message = { type: 'invoke' } as unknown as Extract<ServerRequest, { t: 'call' }>['message'];
    child.handle({ t: 'call', id: 20, sb: 101, message, deadline: 0 });
    child.handle({ t: 'call', id: 21, sb: 100, message, deadline: 0 });
    child.handle({ t: 'forget', bp: 1 });
    expect(kinds(servers[0]!)).toEqual(['define', 'adopt:img50', 'boot:100', 'call:100', 'forget']);
    expect(kinds(servers[1]!)).toEqual(['define', 'adopt:img50', 'boot:101', 'call:101', 'forget']);
    // The servers' answers reach the parent as they are.
    servers[1]!.handlers.onEvent({ t: 'reply', id: 20, memoryBytes: 1 });
    expect(events).toEqual([{ t: 'reply', id: 20, memoryBytes: 1 }]);
  });

  it("a shareable snapshot made in one server is adopted by the child's others; one that is not is restored only where it was made", async () => {
    const { child, servers } = fakeChild(2);
    await twoQuickjsSandboxes(child);
    child.handle({ t: 'snapshot', id: 30, sb: 101, img: 60 });
    servers[1]!.handlers.onEvent({ t: 'ready', id: 30, image: { kind: 'wasm-memory', memoryMb: 128, sizeBytes: 1, parts: { shared: true } } });
    expect(servers[0]!.sent.at(-1)).toEqual({ t: 'adopt', img: 60, engine: 'quickjs', parts: { shared: true } });
    expect(servers[1]!.sent.some((r) => r.t === 'adopt')).toBe(false);
    child.handle({ t: 'snapshot', id: 31, sb: 101, img: 61 });
    servers[1]!.handlers.onEvent({ t: 'ready', id: 31, image: { kind: 'wasm-memory', memoryMb: 128, sizeBytes: 1 } });
    // Server 2 is the busier one, yet the pinned image's restore goes there.
    child.handle({ t: 'call', id: 32, sb: 101, message: {} as never, deadline: 0 });
    child.handle({ t: 'restore', id: 33, sb: 102, bp: 1, img: 61, memoryMb: 128 });
    expect(kinds(servers[1]!).at(-1)).toBe('restore:102:img61');
    child.handle({ t: 'drop', img: 61 });
    expect(kinds(servers[0]!).at(-1)).toBe('drop:img61');
    expect(kinds(servers[1]!).at(-1)).toBe('drop:img61');
  });

  it('a host-call answer goes to the server whose call it names, in any order; one naming no waiting call goes nowhere', async () => {
    const { child, servers, events } = fakeChild(2);
    await twoQuickjsSandboxes(child);
    // Both servers number their host calls from 1: the sandbox tells the calls apart.
    servers[1]!.handlers.onEvent({ t: 'host', sb: 101, hc: 1, op: 'a', args: '' });
    servers[0]!.handlers.onEvent({ t: 'host', sb: 100, hc: 1, op: 'b', args: '' });
    expect(events.map((e) => (e.t === 'host' ? e.op : e.t))).toEqual(['a', 'b']);
    // Answered in the other order (the parent may finish an asynchronous host call later).
    child.answer({ sb: 100, hc: 1 }, 'for b');
    child.answer({ sb: 101, hc: 1 }, 'for a');
    expect(servers[1]!.answers).toEqual([{ sb: 101, hc: 1, text: 'for a' }]);
    expect(servers[0]!.answers).toEqual([{ sb: 100, hc: 1, text: 'for b' }]);
    // Answered already, or never asked: dropped, not handed to a server.
    child.answer({ sb: 100, hc: 1 }, 'again');
    child.answer({ sb: 100, hc: 2 }, 'unasked');
    expect(servers.flatMap((server) => server.answers)).toHaveLength(2);
  });

  it('a server that ends ends the child once; kill() ends every server', async () => {
    const { child, servers, exits } = fakeChild(2);
    await twoQuickjsSandboxes(child);
    servers[1]!.handlers.onExit('exit status 1');
    servers[0]!.handlers.onExit('exit status 1');
    expect(exits).toEqual(['exit status 1']);
    child.kill();
    expect(servers.every((s) => s.killed)).toBe(true);
  });
});

describe('process isolation: a QuickJS neighbour beside a spinning sandbox in one child', () => {
  it(
    "answers while the spinner's call still holds its own server (before: it waited for the whole spin)",
    async () => {
      const lines: string[] = [];
      const rt = await createRuntime({ isolation: 'process', engineProcesses: 1, logSink: { write: (line) => lines.push(line) } });
      try {
        const SPIN = 'export const handler = async () => { console.log("spinning"); const end = Date.now() + 8000; while (Date.now() < end); return "spun"; }';
        await rt.deploy({ name: 'spin', engine: 'quickjs', timeoutMs: 60_000, code: { files: { 'index.mjs': SPIN } } });
        await rt.deploy({ name: 'ok', engine: 'quickjs', code: { files: { 'index.mjs': 'export const handler = async () => "ok"' } } });
        expect((await rt.invoke('ok')).payload).toBe('ok');
        let spinDone = false;
        const spinning = rt.invoke('spin').then((res) => {
          spinDone = true;
          return res;
        });
        for (let i = 0; i < 4000 && !lines.some((line) => line.includes('spinning')); i++) await new Promise((resolve) => setTimeout(resolve, 5));
        expect(lines.some((line) => line.includes('spinning'))).toBe(true);
        expect(engineProcessIds()).toHaveLength(1);
        // The neighbour's environment was placed before the spinner's: they share the one child.
        const neighbour = await rt.invoke('ok');
        expect(neighbour.payload).toBe('ok');
        expect(spinDone).toBe(false);
        expect((await spinning).payload).toBe('spun');
      } finally {
        await rt.close();
      }
    },
    SLOW_CASE_LIMIT_MS,
  );
});
