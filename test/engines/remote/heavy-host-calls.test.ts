/**
 * Heavy host calls off the host's thread (issue #15, red team 1-host-thread-brotli and
 * 3-sync-host-call-flood: Brotli at quality 11 on 8 MiB held the host's event loop 110 s, pbkdf2
 * at lambdalet's maximum 4-12 s). A guest in an engine server waits for its host call in the
 * handshake (host-answer.ts), so the host answers those calls when their work, done in libuv's
 * thread pool, is over (SandboxOptions.hostCallAsync, environment/heavy-work.ts).
 *
 * Below the runtime: a real engine pool and QuickJS server, the environment's side stood in for by
 * a host-call handler whose asynchronous answer the test holds. Then HostBridge.callAsync answers
 * exactly what its synchronous form would, and the thread-pool gate at, under and over its bound.
 */
import { Buffer } from 'node:buffer';
import { brotliCompressSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { bundleFunction } from '../../../src/code/index.ts';
import type { SandboxOptions } from '../../../src/engines/engine.ts';
import { EnginePool } from '../../../src/engines/remote/engine-pool.ts';
import { WorkerHost } from '../../../src/engines/remote/worker-host.ts';
import { encodePayload } from '../../../src/engines/guest/protocol.ts';
import { HostBridge } from '../../../src/environment/host-bridge.ts';
import { HEAVY_WORK_MAX_IN_FLIGHT, HeavyWorkAbortedError, WorkGate } from '../../../src/environment/heavy-work.ts';
import type { LazyVfs } from '../../../src/vfs/index.ts';
import { INIT, invoke, phase } from '../../helpers/sandbox.ts';

const HANDLER = `
import zlib from 'node:zlib';
export const handler = async () => {
  try { return zlib.brotliCompressSync(Buffer.from('hello hello hello')).toString('base64'); }
  catch (e) { return 'threw ' + e.message; }
};`;

interface Deferred {
  readonly op: string;
  readonly signal: AbortSignal | undefined;
  resolve(text: string): void;
}

async function poolWithHeldAnswers(): Promise<{ pool: EnginePool; options: SandboxOptions; held: Deferred[]; sync: string[]; def: ReturnType<EnginePool['define']> }> {
  const outcome = await bundleFunction({ files: { 'index.mjs': HANDLER } }, 'index.handler');
  if (!outcome.ok) throw new Error(outcome.failure.errorMessage);
  const pool = new EnginePool(1, (handlers) => WorkerHost.start({ quickjs: {} }, handlers));
  await pool.warm();
  const def = pool.define('quickjs', outcome.bundle);
  const held: Deferred[] = [];
  const sync: string[] = [];
  const options: SandboxOptions = {
    memoryMb: 128,
    onLog: () => {},
    hostCall: (op) => {
      sync.push(op);
      return `e${JSON.stringify({ name: 'Error', message: `${op} answered on the host's thread` })}`;
    },
    hostCallAsync: (op, _args, _bytes, signal) => {
      if (op !== 'zlib.brotli') return undefined;
      return new Promise<string>((resolve) => held.push({ op, signal, resolve }));
    },
  };
  return { pool, options, held, sync, def };
}

const until = async (check: () => boolean): Promise<void> => {
  while (!check()) await new Promise((resolve) => setTimeout(resolve, 5));
};

describe('heavy host calls are answered off the host thread', () => {
  it("the guest waits for the asynchronous answer, the host's event loop runs meanwhile, and the guest gets exactly that answer", async () => {
    const { pool, options, held, sync, def } = await poolWithHeldAnswers();
    const sandbox = await pool.boot(def, options);
    expect(await phase(sandbox, INIT)).toMatchObject({ done: true, ok: true });
    const reply = invoke(sandbox, {}, 20_000);
    await until(() => held.length === 1);
    // The host's thread is free while the guest waits: timers and I/O callbacks run.
    for (let i = 0; i < 3; i++) await new Promise((resolve) => setImmediate(resolve));
    const compressed = brotliCompressSync(Buffer.from('hello hello hello'));
    held[0]!.resolve(`o0\n${encodePayload(compressed)}`);
    expect(await reply).toMatchObject({ done: true, ok: true, payload: JSON.stringify(compressed.toString('base64')) });
    expect(sync).not.toContain('zlib.brotli');
    expect(held[0]!.signal?.aborted).toBe(false);
    sandbox.dispose();
  }, 60_000);

  it("work not done by the call's deadline: the guest's call throws at the deadline, the work's signal aborts, a late answer goes nowhere, the server lives on", async () => {
    const { pool, options, held, def } = await poolWithHeldAnswers();
    const sandbox = await pool.boot(def, options);
    expect(await phase(sandbox, INIT)).toMatchObject({ done: true, ok: true });
    const reply = await invoke(sandbox, {}, 1000).catch((error: unknown) => error);
    // The guest's call threw at the deadline (the runtime's own timer ends such an invocation as Sandbox.Timedout).
    expect(reply).toMatchObject({ done: true, payload: expect.stringContaining("zlib.brotli did not finish before the invocation's deadline") });
    expect(held).toHaveLength(1);
    expect(held[0]!.signal?.aborted).toBe(true);
    // An answer after the deadline goes nowhere (the call was answered once, at the deadline).
    held[0]!.resolve('oSTALE');
    expect(JSON.stringify(reply)).not.toContain('STALE');
    // The server was not terminated as stuck: a new sandbox there answers, its held call answered in time.
    const next = await pool.boot(def, options);
    expect(await phase(next, INIT)).toMatchObject({ done: true, ok: true });
    const second = invoke(next, {}, 20_000);
    await until(() => held.length === 2);
    held[1]!.resolve(`o0\n${encodePayload(Buffer.from('ok'))}`);
    expect(await second).toMatchObject({ done: true, ok: true, payload: JSON.stringify(Buffer.from('ok').toString('base64')) });
    next.dispose();
  }, 60_000);
});

describe('HostBridge.callAsync answers what call answers', () => {
  const bridge = (): HostBridge => new HostBridge({ vfs: {} as LazyVfs, egress: { allowHosts: [] }, maxResponseBytes: 128 * 1024 * 1024 });

  it('Brotli compress and decompress, with their bounds (same text, same errors)', async () => {
    const b = bridge();
    const input = Buffer.from('lambdalet '.repeat(1000));
    const cases: [string, Buffer][] = [
      [JSON.stringify(['compress', { 1: 5 }, 0]), input],
      [JSON.stringify(['decompress', {}, 0]), brotliCompressSync(input)],
      [JSON.stringify(['decompress', {}, 100]), brotliCompressSync(input)], // output past its cap: Node's ERR_BUFFER_TOO_LARGE
      [JSON.stringify(['squash', {}, 0]), input], // bad mode
      [JSON.stringify(['compress', { 99: 1 }, 0]), input], // unknown parameter
    ];
    for (const [args, payload] of cases) {
      const text = `${args}\n${encodePayload(payload)}`;
      expect(await b.callAsync('zlib.brotli', args, new Uint8Array(payload))).toBe(b.call('zlib.brotli', text));
    }
    const over = await b.callAsync('zlib.brotli', JSON.stringify(['decompress', {}, 100]), new Uint8Array(brotliCompressSync(input)));
    expect(over).toMatch(/^e.*ERR_BUFFER_TOO_LARGE/);
    b.dispose();
  });

  it('pbkdf2 and scrypt (the same key), their bounds at and over; key generation (the same shape); other calls stay synchronous', async () => {
    const b = bridge();
    const password = Buffer.from('pw');
    const salt = Buffer.from('salt');
    for (const [method, params] of [
      ['pbkdf2', { iterations: 1000, keylen: 32, digest: 'sha256' }],
      ['pbkdf2', { iterations: 2_000_001, keylen: 64, digest: 'sha512' }], // over PBKDF2_MAX_WORK
      ['pbkdf2', { iterations: 10, keylen: 32, digest: 'nope' }],
      ['scrypt', { keylen: 32, N: 1024, r: 8, p: 1 }],
      ['scrypt', { keylen: 32, N: 1 << 20, r: 8, p: 1 }], // over SCRYPT_MAX_WORK
    ] as const) {
      const json = JSON.stringify([method, params, [password.length, salt.length]]);
      const bytes = Buffer.concat([password, salt]);
      expect(await b.callAsync('crypto', json, new Uint8Array(bytes)), `${method} ${JSON.stringify(params)}`).toBe(b.call('crypto', `${json}\n${encodePayload(bytes)}`));
    }
    const generate = JSON.stringify(['key.generate', { type: 'ed25519', options: {} }, []]);
    const asyncHead = JSON.parse((await b.callAsync('crypto', generate, undefined))!.slice(1).split('\n')[0]!) as { v: unknown; l: number[] };
    const syncHead = JSON.parse(b.call('crypto', generate).slice(1).split('\n')[0]!) as { v: unknown; l: number[] };
    expect(asyncHead).toEqual(syncHead);
    // Not heavy: answered by call (callAsync declines).
    expect(b.callAsync('crypto', JSON.stringify(['hkdf', { digest: 'sha256', keylen: 16 }, [2, 4, 0]]), new Uint8Array(Buffer.from('pwsalt')))).toBeUndefined();
    expect(b.callAsync('fs', JSON.stringify(['exists', '/tmp']), undefined)).toBeUndefined();
    expect(b.callAsync('random', JSON.stringify([16]), undefined)).toBeUndefined();
    b.dispose();
  });

  it('a call whose signal aborted before it started answers an error and does no work', async () => {
    const b = bridge();
    const controller = new AbortController();
    controller.abort();
    const answer = await b.callAsync('zlib.brotli', JSON.stringify(['compress', {}, 0]), new Uint8Array(8), controller.signal);
    expect(answer).toBe(`e${JSON.stringify({ name: 'Error', message: new HeavyWorkAbortedError().message })}`);
    b.dispose();
  });
});

describe('WorkGate: heavy work in a share of the thread pool', () => {
  it(`the process's share leaves the host two of libuv's threads, at least one (here ${HEAVY_WORK_MAX_IN_FLIGHT})`, () => {
    expect(HEAVY_WORK_MAX_IN_FLIGHT).toBe(Math.max(1, (Number(process.env.UV_THREADPOOL_SIZE) || 4) - 2));
    for (const bad of [0, -1, 1.5, Number.NaN]) expect(() => new WorkGate(bad)).toThrow(/limit must be a positive integer/);
  });

  it("under and at the limit work starts at once; over it, it waits its turn, each owner's calls first come first served; an abort while waiting drops it unrun", async () => {
    const gate = new WorkGate(2);
    const started: string[] = [];
    const finish = new Map<string, () => void>();
    const job = (name: string) => () => {
      started.push(name);
      return new Promise<string>((resolve) => finish.set(name, () => resolve(name)));
    };
    const a = gate.run('f', job('a'));
    expect(gate.running).toBe(1); // under
    const b = gate.run('f', job('b'));
    expect(gate.running).toBe(2); // at
    const controller = new AbortController();
    const c = gate.run('f', job('c'), controller.signal); // over: waits
    const d = gate.run('f', job('d'));
    await Promise.resolve();
    expect(started).toEqual(['a', 'b']);
    expect(gate.waiting).toBe(2);
    controller.abort();
    await expect(c).rejects.toBeInstanceOf(HeavyWorkAbortedError);
    expect(gate.waiting).toBe(1);
    finish.get('a')!();
    expect(await a).toBe('a');
    await until(() => started.length === 3);
    expect(started).toEqual(['a', 'b', 'd']); // c never ran
    expect(gate.running).toBe(2);
    finish.get('b')!();
    finish.get('d')!();
    expect([await b, await d]).toEqual(['b', 'd']);
    expect(gate.running).toBe(0);
    // A signal already aborted: refused before running.
    await expect(gate.run('f', job('e'), controller.signal)).rejects.toBeInstanceOf(HeavyWorkAbortedError);
    expect(started).not.toContain('e');
    expect(gate.owners).toBe(0); // forgotten once nothing runs or waits
  });

  /** A gate whose jobs record their start and end when the test says. */
  function recordingGate(limit: number) {
    const gate = new WorkGate(limit);
    const started: string[] = [];
    const finish = new Map<string, () => void>();
    const run = (owner: string, name: string, signal?: AbortSignal) =>
      gate.run(owner, () => {
        started.push(name);
        return new Promise<string>((resolve) => finish.set(name, () => resolve(name)));
      }, signal);
    /** Ends `name`'s work and waits for the gate to hand its slot on. */
    const end = async (name: string): Promise<void> => {
      finish.get(name)!();
      const before = started.length;
      await until(() => started.length > before || gate.waiting === 0);
    };
    return { gate, started, run, end };
  }

  it('turns go round the owners: a hog holding every slot with a long queue yields the next free slot to another owner', async () => {
    const { gate, started, run, end } = recordingGate(2);
    const calls = [run('hog', 'h0'), run('hog', 'h1')];
    for (let i = 2; i < 100; i++) calls.push(run('hog', `h${i}`));
    calls.push(run('victim', 'v0'), run('victim', 'v1'), run('third', 't0'));
    expect(gate.running).toBe(2);
    expect(gate.waiting).toBe(101);
    await end('h0'); // the first slot freed goes to an owner that has not started yet, in arrival order
    expect(started).toEqual(['h0', 'h1', 'v0']);
    await end('h1');
    expect(started.at(-1)).toBe('t0');
    await end('v0'); // the hog started least recently now
    expect(started.at(-1)).toBe('h2');
    await end('t0'); // third has nothing waiting: the victim's turn
    expect(started.at(-1)).toBe('v1');
    await end('h2');
    await end('v1');
    expect(started.slice(-2)).toEqual(['h3', 'h4']); // the hog alone: its own calls in order
    for (let i = 3; i < 100; i++) await end(`h${i}`);
    expect(started).toHaveLength(103);
    expect(await Promise.all(calls)).toHaveLength(103);
    expect([gate.running, gate.waiting, gate.owners]).toEqual([0, 0, 0]);
  });

  it('one slot: a victim arriving behind any hog queue starts next; an aborted wait leaves the turn order intact', async () => {
    const { gate, started, run, end } = recordingGate(1);
    const hog = [run('hog', 'h0'), run('hog', 'h1'), run('hog', 'h2')];
    const controller = new AbortController();
    const aborted = run('victim', 'v0', controller.signal);
    const later = run('victim', 'v1');
    controller.abort();
    await expect(aborted).rejects.toBeInstanceOf(HeavyWorkAbortedError);
    expect(gate.waiting).toBe(3);
    await end('h0');
    expect(started).toEqual(['h0', 'v1']); // v0 never ran; the victim kept its place
    await end('v1');
    await end('h1');
    await end('h2');
    expect(started).toEqual(['h0', 'v1', 'h1', 'h2']);
    expect(await Promise.all(hog)).toEqual(['h0', 'h1', 'h2']);
    expect(await later).toBe('v1');
    expect([gate.running, gate.waiting, gate.owners]).toEqual([0, 0, 0]);
  });
});
