/**
 * ChildServers (src/engines/remote/child-servers.ts, issue #15 fairness): a process-isolation
 * child's engine servers and the routing of the parent's requests among them. The servers here are
 * stand-ins that record what they are sent; the routing is the child's, whatever runs in a server.
 * Then the same through `rt.invoke`: a QuickJS neighbour in a child whose other sandbox spins.
 */
import { afterEach, describe, expect, it, vi } from 'vitest';
import { ChildServers } from '../../../src/engines/remote/child-servers.ts';
import { engineProcessIds } from '../../../src/engines/remote/process-host.ts';
import type { ServerEvent, ServerRequest } from '../../../src/engines/remote/protocol.ts';
import type { EngineHost, HostHandlers } from '../../../src/engines/remote/worker-host.ts';
import { createRuntime } from '../../../src/index.ts';
import { SLOW_CASE_LIMIT_MS } from '../../helpers/runtime.ts';

interface FakeServer {
  readonly sent: ServerRequest[];
  /** The highest call id it started (its signal's [2]); undefined: it cannot say (no mayHaveStarted). */
  startedUpTo?: number;
  readonly answers: { readonly sb: number; readonly hc: number; readonly text: string }[];
  readonly handlers: HostHandlers;
  killed: boolean;
}

function fakeChild(maxServers: number, canSay = false): { child: ChildServers; servers: FakeServer[]; events: ServerEvent[]; exits: string[] } {
  const servers: FakeServer[] = [];
  const events: ServerEvent[] = [];
  const exits: string[] = [];
  const child = new ChildServers({
    maxServers,
    start: async (handlers): Promise<EngineHost> => {
      const server: FakeServer = { sent: [], answers: [], handlers, killed: false, ...(canSay ? { startedUpTo: 0 } : {}) };
      servers.push(server);
      return {
        ...(canSay ? { mayHaveStarted: (id: number) => id <= server.startedUpTo! } : {}),
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

  it('kill() ends every server', async () => {
    const { child, servers, exits } = fakeChild(2);
    await twoQuickjsSandboxes(child);
    child.kill();
    expect(servers.every((s) => s.killed)).toBe(true);
    expect(exits).toEqual([]);
  });
});

/**
 * A server that ends ends only its own sandboxes (issue #15, "nothing may be lost"): before, it
 * ended the whole child, whose self-SIGKILL reached the parent as "signal: killed" for every
 * neighbour's cold start and call in the child's other servers (reproduced at load ~16: one
 * worker terminated by its watchdog during a QuickJS spin in Array.prototype.join cost a trivial
 * neighbour's invocation Runtime.ExitError "signal: killed" and four cold starts an attempt each).
 */
describe('ChildServers: a server that ends', () => {
  it("is reported lost with its sandboxes and unanswered requests, once; the child goes on and its other server keeps its sandbox and requests", async () => {
    const { child, servers, events, exits } = fakeChild(2);
    await twoQuickjsSandboxes(child);
    child.handle({ t: 'call', id: 20, sb: 100, message: { type: 'invoke' } as never, deadline: 1 });
    child.handle({ t: 'call', id: 21, sb: 101, message: { type: 'invoke' } as never, deadline: 1 });
    servers[0]!.handlers.onEvent({ t: 'host', sb: 100, hc: 1, op: 'fs', args: '' });
    servers[0]!.handlers.onExit('the engine worker was stuck 1000 ms past a deadline and was terminated');
    servers[0]!.handlers.onExit('exit status 1'); // its thread's own exit, later: nothing more
    expect(events.filter((e) => e.t === 'lost')).toEqual([
      { t: 'lost', reason: 'the engine worker was stuck 1000 ms past a deadline and was terminated', sandboxes: [100], ids: [10, 20] },
    ]);
    expect(exits).toEqual([]);
    expect(servers[0]!.killed).toBe(true);
    expect(child.servers).toBe(1);
    // The answer to the lost server's host call goes nowhere; the other server's sandbox is served as before.
    child.answer({ sb: 100, hc: 1 }, 'late');
    expect(servers[0]!.answers).toEqual([]);
    child.handle({ t: 'call', id: 22, sb: 101, message: { type: 'invoke' } as never, deadline: 1 });
    expect(kinds(servers[1]!)).toEqual(['define', 'boot:101', 'call:101', 'call:101']);
    // A new QuickJS sandbox: the child grows back to maxServers (a new server learns the function first).
    child.handle(boot(12, 102, 1));
    await settle();
    expect(child.servers).toBe(2);
    expect(kinds(servers[2]!)).toEqual(['define', 'boot:102']);
  });

  it('the last one: a new server starts, which takes later requests; a sandbox not called yet moves there, unnoticed', async () => {
    const { child, servers, events, exits } = fakeChild(1);
    await child.start();
    child.handle(define(1, 'quickjs'));
    child.handle(boot(10, 100, 1));
    servers[0]!.handlers.onExit('exit status 1');
    await settle();
    expect(events.filter((e) => e.t === 'lost')).toEqual([{ t: 'lost', reason: 'exit status 1', sandboxes: [], ids: [] }]);
    expect(exits).toEqual([]);
    expect(child.servers).toBe(1);
    child.handle(boot(11, 101, 1));
    await settle();
    expect(kinds(servers[1]!)).toEqual(['define', 'boot:100', 'boot:101']);
  });

  it('a fresh sandbox none of whose calls started moves with its calls (in order); one called before, one whose call started, a v8 one, and any on a server that cannot say are lost', async () => {
    const { child, servers, events, exits } = fakeChild(1, true);
    await child.start();
    child.handle(define(1, 'quickjs'));
    child.handle(define(2, 'v8'));
    for (const [id, sb] of [[10, 100], [11, 101], [12, 102]] as const) child.handle(boot(id, sb, 1));
    child.handle(boot(13, 103, 2));
    const call = (id: number, sb: number): ServerRequest => ({ t: 'call', id, sb, message: { type: 'invoke' } as never, deadline: 1 });
    for (const id of [10, 11, 12, 13]) servers[0]!.handlers.onEvent({ t: 'ready', id });
    child.handle(call(20, 100));
    servers[0]!.handlers.onEvent({ t: 'reply', id: 20, reply: 'o--1,0,null', memoryBytes: 0 }); // 100 ran guest code
    child.handle(call(21, 100)); // not started, but 100 is not fresh
    child.handle(call(22, 101)); // started: stuck in it
    child.handle(call(23, 102)); // 102: fresh, its first call queued behind 22
    child.handle(call(24, 102));
    child.handle(call(25, 103)); // v8: its calls do not hold the server, no signal for them
    servers[0]!.startedUpTo = 22;
    servers[0]!.handlers.onExit('the engine worker was stuck 1000 ms past a deadline and was terminated');
    await settle();
    expect(events.filter((e) => e.t === 'lost')).toEqual([
      { t: 'lost', reason: 'the engine worker was stuck 1000 ms past a deadline and was terminated', sandboxes: [100, 101, 103], ids: [21, 22, 25] },
    ]);
    expect(kinds(servers[1]!)).toEqual(['define', 'define', 'boot:102', 'call:102', 'call:102']);
    // Its answers reach the parent as usual (the second `ready` for boot 12 is one the parent no longer waits for).
    servers[1]!.handlers.onEvent({ t: 'ready', id: 12 });
    servers[1]!.handlers.onEvent({ t: 'reply', id: 23, reply: 'o--1,0,null', memoryBytes: 0 });
    expect(events.slice(-2)).toEqual([{ t: 'ready', id: 12 }, { t: 'reply', id: 23, reply: 'o--1,0,null', memoryBytes: 0 }]);
    expect(exits).toEqual([]);
  });

  it('the boundary: a server whose signal says call 23 started loses the sandbox of call 23; 22 moves it', async () => {
    for (const [upTo, moved] of [[22, true], [23, false]] as const) {
      const { child, servers, events } = fakeChild(1, true);
      await child.start();
      child.handle(define(1, 'quickjs'));
      child.handle(boot(10, 100, 1));
      servers[0]!.handlers.onEvent({ t: 'ready', id: 10 });
      child.handle({ t: 'call', id: 23, sb: 100, message: { type: 'invoke' } as never, deadline: 1 });
      servers[0]!.startedUpTo = upTo;
      servers[0]!.handlers.onExit('exit status 1');
      await settle();
      expect(events.at(-1)).toEqual({ t: 'lost', reason: 'exit status 1', sandboxes: moved ? [] : [100], ids: moved ? [] : [23] });
      expect(kinds(servers[1]!)).toEqual(moved ? ['define', 'boot:100', 'call:100'] : ['define']);
    }
  });

  it("a sandbox that ran guest code is lost, and its calls the server never began are reported unstarted (the boundary: 22 began, 23 did not); v8's never are", async () => {
    for (const [upTo, unstarted] of [[22, [23]], [23, undefined]] as const) {
      const { child, servers, events } = fakeChild(1, true);
      await child.start();
      child.handle(define(1, 'quickjs'));
      child.handle(define(2, 'v8'));
      child.handle(boot(10, 100, 1));
      child.handle(boot(11, 101, 2));
      servers[0]!.handlers.onEvent({ t: 'ready', id: 10 });
      servers[0]!.handlers.onEvent({ t: 'ready', id: 11 });
      child.handle({ t: 'call', id: 20, sb: 100, message: { type: 'init' } as never, deadline: 1 });
      servers[0]!.handlers.onEvent({ t: 'reply', id: 20, reply: 'o--1,0,null', memoryBytes: 0 }); // 100 ran INIT
      child.handle({ t: 'call', id: 23, sb: 100, message: { type: 'invoke' } as never, deadline: 1 });
      child.handle({ t: 'call', id: 24, sb: 101, message: { type: 'invoke' } as never, deadline: 1 }); // v8: unrecorded
      servers[0]!.startedUpTo = upTo;
      servers[0]!.handlers.onExit('exit status 1');
      await settle();
      expect(events.at(-1)).toEqual({ t: 'lost', reason: 'exit status 1', sandboxes: [100, 101], ids: [23, 24], ...(unstarted ? { unstarted } : {}) });
    }
  });

  it('nothing a lost server says afterwards reaches the parent (its termination may not have taken yet)', async () => {
    const { child, servers, events } = fakeChild(1, true);
    await child.start();
    child.handle(define(1, 'quickjs'));
    child.handle(boot(10, 100, 1));
    child.handle({ t: 'call', id: 20, sb: 100, message: { type: 'init' } as never, deadline: 1 });
    servers[0]!.handlers.onExit('the engine worker was stuck 1000 ms past a deadline and was terminated');
    const before = events.length;
    // The call moved elsewhere, begun and answered by the dying thread anyway: dropped.
    servers[0]!.handlers.onEvent({ t: 'ready', id: 10 });
    servers[0]!.handlers.onEvent({ t: 'log', sb: 100, level: 'INFO', message: 'twice' });
    servers[0]!.handlers.onEvent({ t: 'host', sb: 100, hc: 1, op: 'fs', args: '' });
    servers[0]!.handlers.onEvent({ t: 'reply', id: 20, reply: 'o--1,0,null', memoryBytes: 0 });
    expect(events.length).toBe(before);
    await settle();
    expect(kinds(servers[1]!)).toEqual(['define', 'boot:100', 'call:100']);
  });

  it('a fresh sandbox is moved at most twice; the third end reports it lost', async () => {
    const { child, servers, events } = fakeChild(1, true);
    await child.start();
    child.handle(define(1, 'quickjs'));
    child.handle(boot(10, 100, 1));
    for (let end = 0; end < 3; end++) {
      await settle();
      servers.at(-1)!.handlers.onExit(`exit status ${end + 1}`);
    }
    expect(events.filter((e) => e.t === 'lost').map((e) => e.t === 'lost' && e.sandboxes)).toEqual([[], [], [100]]);
    expect(events.at(-1)).toEqual({ t: 'lost', reason: 'exit status 3', sandboxes: [100], ids: [10] });
  });

  it('the first failing to start ends the child; a later one failing to start is lost, the sandbox queued for it moving on', async () => {
    let starts = 0;
    const exits: string[] = [];
    const events: ServerEvent[] = [];
    const failing = (failAt: number): ChildServers =>
      new ChildServers({
        maxServers: 2,
        start: async () => {
          if (starts++ === failAt) throw new Error('no memory for a thread');
          return { send: () => {}, answer: () => {}, ref: () => {}, kill: () => {} };
        },
        onEvent: (event) => events.push(event),
        onExit: (reason) => exits.push(reason),
      });
    await expect(failing(0).start()).rejects.toThrow('no memory for a thread');
    expect(exits).toEqual(['an engine worker could not start: no memory for a thread']);
    exits.length = 0;
    starts = 0;
    const child = failing(1);
    await child.start();
    child.handle(define(1, 'quickjs'));
    child.handle(boot(10, 100, 1));
    child.handle(boot(11, 101, 1)); // a second server, which fails to start
    await settle();
    expect(exits).toEqual([]);
    // The sandbox never reached a server: it moves to a third one (which starts).
    expect(events).toEqual([{ t: 'lost', reason: 'an engine worker could not start: no memory for a thread', sandboxes: [], ids: [] }]);
    expect(child.servers).toBe(2);
    expect(starts).toBe(3);
  });

  describe('whose thread does not end', () => {
    afterEach(() => {
      vi.useRealTimers();
    });

    /** A child of two servers whose first is lost; `ends` settles its thread's exit. */
    async function lostOne(): Promise<{ exits: string[]; ends: () => void }> {
      vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout'] });
      const exits: string[] = [];
      const threads: Array<() => void> = [];
      const child = new ChildServers({
        maxServers: 2,
        goneMs: 1000,
        start: async (handlers) => {
          let ended!: () => void;
          const gone = new Promise<void>((resolve) => (ended = resolve));
          threads.push(ended);
          hosts.push(handlers);
          return { send: () => {}, answer: () => {}, ref: () => {}, kill: () => {}, gone };
        },
        onEvent: () => {},
        onExit: (reason) => exits.push(reason),
      });
      const hosts: HostHandlers[] = [];
      await child.start();
      child.handle(define(1, 'quickjs'));
      child.handle(boot(10, 100, 1));
      child.handle(boot(11, 101, 1));
      await settle();
      hosts[0]!.onExit('the engine worker was stuck 1000 ms past a deadline and was terminated');
      return { exits, ends: threads[0]! };
    }

    it('ends the child goneMs after it was lost (not 1 ms before), once', async () => {
      const { exits } = await lostOne();
      vi.advanceTimersByTime(999);
      expect(exits).toEqual([]);
      vi.advanceTimersByTime(1);
      expect(exits).toEqual(['the engine worker was stuck 1000 ms past a deadline and was terminated, and its thread was still running 1000 ms later']);
      vi.advanceTimersByTime(5000);
      expect(exits).toHaveLength(1);
    });

    it('a thread that ends in time (here 1 ms before goneMs) leaves the child alone', async () => {
      const { exits, ends } = await lostOne();
      vi.advanceTimersByTime(999);
      ends();
      await Promise.resolve();
      await Promise.resolve();
      vi.advanceTimersByTime(10_000);
      expect(exits).toEqual([]);
    });
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
