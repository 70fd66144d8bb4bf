/**
 * Heavy host calls of an in-process v8 guest, answered off the host's thread (issue #15, red team
 * 1-host-thread-brotli and 3-sync-host-call-flood: `zlib.brotliCompressSync` of 8 MiB at quality 11
 * held the host's event loop 110 s, pbkdf2 at lambdalet's bound 4-12 s per call). The guest's call
 * stays synchronous, as Node's is: the host starts the work (SandboxOptions.hostCallAsync, libuv's
 * thread pool) and answers "deferred"; the guest blocks its own isolate thread in Atomics.wait on a
 * SharedArrayBuffer of its own until the host marks the answer ready, then takes it
 * (src/engines/v8/deferred-host-calls.ts, guest/protocol.ts "Host calls"). The guest holds no host
 * Reference.
 *
 * Below the runtime: DeferredHostCalls alone (the host's record, which never trusts the slot), then
 * a real V8 engine with a host-call handler whose asynchronous answer the test holds, then the
 * runtime end to end.
 */
import { Buffer } from 'node:buffer';
import { pbkdf2Sync } from 'node:crypto';
import { brotliCompressSync, brotliDecompressSync, constants as zlibConstants } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { bundleFunction } from '../../../src/code/index.ts';
import { binaryAnswer } from '../../../src/engines/binary-host-call.ts';
import { SandboxFault, type Blueprint, type SandboxOptions } from '../../../src/engines/engine.ts';
import { encodePayload } from '../../../src/engines/guest/protocol.ts';
import { DeferredHostCalls, heavyCallStarter } from '../../../src/engines/v8/deferred-host-calls.ts';
import { V8Engine } from '../../../src/engines/v8/v8-engine.ts';
import { HostBridge } from '../../../src/environment/host-bridge.ts';
import type { LazyVfs } from '../../../src/vfs/index.ts';
import { GENEROUS_TIMEOUT_MS, SLOW_CASE_LIMIT_MS, deployFiles, expectTimedOut, withRuntime } from '../../helpers/runtime.ts';
import { INIT, invoke, phase, restoreFrom, snapshotTemplate } from '../../helpers/sandbox.ts';

interface Held {
  readonly op: string;
  readonly args: string;
  readonly signal: AbortSignal | undefined;
  resolve(text: string): void;
}

/** A DeferredHostCalls whose `zlib.brotli` work the test answers by hand (as text: heavyCallStarter makes it bytes). */
function heldCalls(): { calls: DeferredHostCalls; held: Held[]; slot: Int32Array } {
  const held: Held[] = [];
  const start = heavyCallStarter({
    hostCallAsync: (op, args, _bytes, signal) => {
      if (op !== 'zlib.brotli') return undefined;
      return new Promise<string>((resolve) => held.push({ op, args, signal, resolve }));
    },
  });
  const calls = new DeferredHostCalls(start!);
  return { calls, held, slot: new Int32Array(calls.buffer) };
}

const settle = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

describe('DeferredHostCalls: the host trusts its own record, never the shared slot', () => {
  it('a heavy call is deferred under a number; its answer is taken once, after the host marked it ready', async () => {
    const { calls, held, slot } = heldCalls();
    expect(calls.answer('fs', '["exists","/tmp"]', undefined)).toBeUndefined(); // not heavy: the synchronous path answers it
    expect(calls.answer('zlib.brotli', '["compress",{},0]', undefined)).toBe('w1');
    expect(held).toHaveLength(1);
    // Before the work is done a take answers the deferral again (the guest waits once more).
    expect(calls.answer('answer', '[1]', undefined)).toBe('w1');
    expect(Atomics.load(slot, 0)).toBe(0);
    held[0]!.resolve(`o0\n${encodePayload(Buffer.from([0, 1, 2, 255]))}`);
    await settle();
    expect(Atomics.load(slot, 0)).toBe(1);
    // The guest is binary (v8): a payload answer comes back as [head, bytes].
    const answer = calls.answer('answer', '[1]', undefined);
    expect(answer).toEqual(binaryAnswer(`o0\n${encodePayload(Buffer.from([0, 1, 2, 255]))}`));
    expect(Buffer.from((answer as [string, ArrayBuffer])[1])).toEqual(Buffer.from([0, 1, 2, 255]));
    // Taken once: a second take is refused.
    expect(calls.answer('answer', '[1]', undefined)).toMatch(/^e.*no deferred host call 1 is waiting/);
    // The next heavy call gets the next number.
    expect(calls.answer('zlib.brotli', '["compress",{},0]', undefined)).toBe('w2');
  });

  it('a slot the guest forged never yields an answer: the host answers the deferral until its own work is done', async () => {
    const { calls, held, slot } = heldCalls();
    expect(calls.answer('zlib.brotli', '[]', undefined)).toBe('w1');
    Atomics.store(slot, 0, 1); // the guest writes "ready" itself
    expect(calls.answer('answer', '[1]', undefined)).toBe('w1');
    held[0]!.resolve('oDONE');
    await settle();
    expect(calls.answer('answer', '[1]', undefined)).toBe('oDONE');
  });

  it('takes that name another number, or nothing, are refused and leave the waiting call alone', async () => {
    const { calls, held } = heldCalls();
    expect(calls.answer('answer', '[1]', undefined)).toMatch(/^e.*no deferred host call 1 is waiting/); // nothing deferred yet
    expect(calls.answer('zlib.brotli', '[]', undefined)).toBe('w1');
    held[0]!.resolve('oMINE');
    await settle();
    for (const args of ['[2]', '[0]', '["1"]', '[]', 'not json', 'null', '[1.5]']) {
      expect(calls.answer('answer', args, undefined), args).toMatch(/^e.*no deferred host call .* is waiting/);
    }
    expect(calls.answer('answer', '[1]', undefined)).toBe('oMINE');
  });

  it('one deferred call per sandbox: another call while one is pending is refused, its work never started', () => {
    const { calls, held } = heldCalls();
    expect(calls.answer('zlib.brotli', '[]', undefined)).toBe('w1');
    expect(calls.answer('zlib.brotli', '[]', undefined)).toMatch(/^e.*host call 1 has not been answered yet; zlib.brotli was refused/);
    expect(calls.answer('fs', '["exists","/tmp"]', undefined)).toMatch(/^e.*host call 1 has not been answered yet; fs was refused/);
    expect(held).toHaveLength(1);
  });

  it('abandoned (the call ended): the work is aborted, a late answer is dropped and never marked ready', async () => {
    const { calls, held, slot } = heldCalls();
    expect(calls.answer('zlib.brotli', '[]', undefined)).toBe('w1');
    calls.abandon();
    expect(held[0]!.signal?.aborted).toBe(true);
    held[0]!.resolve('oLATE');
    await settle();
    expect(Atomics.load(slot, 0)).toBe(0);
    expect(calls.answer('answer', '[1]', undefined)).toMatch(/^e/);
    // The sandbox defers again (a new number), and abandoning with nothing pending is harmless.
    expect(calls.answer('zlib.brotli', '[]', undefined)).toBe('w2');
    expect(held[1]!.signal?.aborted).toBe(false); // a fresh signal, not the abandoned call's
    held[1]!.resolve('oNEXT');
    await settle();
    expect(calls.answer('answer', '[2]', undefined)).toBe('oNEXT');
    calls.abandon();
  });
});

const HEAVY = `
import zlib from 'node:zlib';
export const handler = async (event) => {
  if (event.tamper) {
    // A handler that replaces what the runtime waits with: the runtime took its own at load.
    globalThis.Atomics = { wait() { throw new Error('tampered wait'); }, load() { return -1; } };
    globalThis.SharedArrayBuffer = function () {};
    globalThis.Int32Array = function () {};
  }
  const out = zlib.brotliCompressSync(Buffer.from(event.text));
  return { base64: out.toString('base64') };
};`;

async function v8Blueprint(source: string): Promise<Blueprint> {
  const outcome = await bundleFunction({ files: { 'index.mjs': source } }, 'index.handler');
  if (!outcome.ok) throw new Error(outcome.failure.errorMessage);
  return new V8Engine().prepare(outcome.bundle);
}

/** Sandbox options whose Brotli answers the test holds; every other call answers "not here". */
function heldOptions(): { options: SandboxOptions; held: Held[]; sync: string[] } {
  const held: Held[] = [];
  const sync: string[] = [];
  const options: SandboxOptions = {
    memoryMb: 128,
    onLog: () => {},
    hostCall: (op) => {
      if (op !== 'stdlib') sync.push(op);
      return `e${JSON.stringify({ name: 'Error', message: `${op} answered on the host's thread` })}`;
    },
    hostCallAsync: (op, args, _bytes, signal) => {
      if (op !== 'zlib.brotli') return undefined;
      return new Promise<string>((resolve) => held.push({ op, args, signal, resolve }));
    },
  };
  return { options, held, sync };
}

const until = async (check: () => boolean): Promise<void> => {
  for (let i = 0; i < 20_000 && !check(); i++) await new Promise((resolve) => setTimeout(resolve, 5));
  expect(check()).toBe(true);
};

describe('in-process v8: a heavy host call waits on the guest’s thread, not the host’s', () => {
  it("the guest waits for the held answer, the host's timers fire meanwhile, the guest gets exactly that answer", async () => {
    const blueprint = await v8Blueprint(HEAVY);
    const { options, held, sync } = heldOptions();
    const sandbox = await blueprint.boot(options);
    expect(await phase(sandbox, INIT)).toMatchObject({ done: true, ok: true });
    const reply = invoke(sandbox, { text: 'hello hello hello' }, 60_000);
    await until(() => held.length === 1);
    // The invariant: with the guest blocked in its call, the host's event loop turns.
    let ticks = 0;
    const ticker = setInterval(() => ticks++, 1);
    await until(() => ticks >= 3);
    clearInterval(ticker);
    const compressed = brotliCompressSync(Buffer.from('hello hello hello'));
    held[0]!.resolve(`o0\n${encodePayload(compressed)}`);
    expect(await reply).toMatchObject({ done: true, ok: true, payload: JSON.stringify({ base64: compressed.toString('base64') }) });
    expect(sync).toEqual([]); // the synchronous path was never asked
    expect(held[0]!.signal?.aborted).toBe(false);
    sandbox.dispose();
  }, 60_000);

  it('a handler that replaced Atomics, SharedArrayBuffer and Int32Array still gets its answer (the runtime took its own at load)', async () => {
    const blueprint = await v8Blueprint(HEAVY);
    const { options, held } = heldOptions();
    const sandbox = await blueprint.boot(options);
    expect(await phase(sandbox, INIT)).toMatchObject({ done: true, ok: true });
    const reply = invoke(sandbox, { text: 'x', tamper: true }, 60_000);
    await until(() => held.length === 1);
    held[0]!.resolve(`o0\n${encodePayload(Buffer.from('ok'))}`);
    expect(await reply).toMatchObject({ done: true, ok: true, payload: JSON.stringify({ base64: Buffer.from('ok').toString('base64') }) });
    sandbox.dispose();
  }, 60_000);

  it("the invocation's timeout ends a guest blocked in the call: a timeout fault, the work's signal aborted, a late answer goes nowhere", async () => {
    const blueprint = await v8Blueprint(HEAVY);
    const { options, held } = heldOptions();
    const sandbox = await blueprint.boot(options);
    expect(await phase(sandbox, INIT)).toMatchObject({ done: true, ok: true });
    // Never answered: V8 interrupts Atomics.wait for isolated-vm's TerminateExecution.
    const outcome = await invoke(sandbox, { text: 'never answered' }, 300).catch((error: unknown) => error);
    expect(outcome).toBeInstanceOf(SandboxFault);
    expect((outcome as SandboxFault).kind).toBe('timeout');
    expect(held).toHaveLength(1);
    expect(held[0]!.signal?.aborted).toBe(true);
    held[0]!.resolve('oSTALE');
    await settle();
    expect(sandbox.disposed).toBe(true);
    // A new sandbox of the same blueprint defers and is answered as usual.
    const next = await blueprint.boot(options);
    expect(await phase(next, INIT)).toMatchObject({ done: true, ok: true });
    const reply = invoke(next, { text: 'again' }, 60_000);
    await until(() => held.length === 2);
    held[1]!.resolve(`o0\n${encodePayload(Buffer.from('fresh'))}`);
    expect(await reply).toMatchObject({ done: true, ok: true, payload: JSON.stringify({ base64: Buffer.from('fresh').toString('base64') }) });
    next.dispose();
  }, 60_000);

  it('disposing the sandbox ends a guest blocked in the call and aborts the work', async () => {
    const blueprint = await v8Blueprint(HEAVY);
    const { options, held } = heldOptions();
    const sandbox = await blueprint.boot(options);
    expect(await phase(sandbox, INIT)).toMatchObject({ done: true, ok: true });
    const outcome = invoke(sandbox, { text: 'disposed under it' }, 60_000).catch((error: unknown) => error);
    await until(() => held.length === 1);
    sandbox.dispose();
    expect(await outcome).toBeInstanceOf(SandboxFault);
    expect(held[0]!.signal?.aborted).toBe(true);
  }, 60_000);

  it('a sandbox restored from a SnapStart image gets its own answer slot', async () => {
    const blueprint = await v8Blueprint(HEAVY);
    const base = await snapshotTemplate(blueprint, { memoryMb: 128, onLog: () => {} });
    const image = await base.snapshot!();
    base.dispose();
    const { options, held, sync } = heldOptions();
    const restored = await restoreFrom(blueprint, image, options);
    const reply = invoke(restored, { text: 'restored' }, 60_000);
    await until(() => held.length === 1);
    held[0]!.resolve(`o0\n${encodePayload(Buffer.from('from the restored guest'))}`);
    expect(await reply).toMatchObject({ done: true, ok: true, payload: JSON.stringify({ base64: Buffer.from('from the restored guest').toString('base64') }) });
    expect(sync).toEqual([]);
    restored.dispose();
    image.dispose();
  }, SLOW_CASE_LIMIT_MS);

  it("with the environment's real bridge: Brotli at quality 11 runs in libuv's pool while the host's timers fire, the bytes are Node's", async () => {
    const blueprint = await v8Blueprint(`
      import zlib from 'node:zlib';
      export const handler = async (event) => {
        const out = zlib.brotliCompressSync(Buffer.from(event.text), { params: { [zlib.constants.BROTLI_PARAM_QUALITY]: 11 } });
        return { base64: out.toString('base64') };
      };`);
    const bridge = new HostBridge({ vfs: {} as LazyVfs, egress: { allowHosts: [] }, maxResponseBytes: 128 * 1024 * 1024 });
    let inFlight = 0;
    let ticksDuringWork = 0;
    const ticker = setInterval(() => {
      if (inFlight > 0) ticksDuringWork++;
    }, 1);
    const sandbox = await blueprint.boot({
      memoryMb: 256,
      onLog: () => {},
      hostCall: bridge.call,
      hostCallBytes: bridge.callBytes,
      // The environment's form (bytes answers); the held-answer cases above use the text form.
      hostCallAsyncBytes: (op, args, bytes, signal) => {
        const work = bridge.callAsyncBytes(op, args, bytes, signal);
        if (!work) return undefined;
        inFlight++;
        // Held until the host's timer has fired during the work: proof the host's loop turned while the guest waited.
        return work.then(async (answer) => {
          await until(() => ticksDuringWork > 0);
          inFlight--;
          return answer;
        });
      },
    });
    expect(await phase(sandbox, INIT)).toMatchObject({ done: true, ok: true });
    const text = 'lambdalet '.repeat(20_000) + Array.from({ length: 2000 }, (_, i) => i * 7919).join(',');
    const reply = await invoke(sandbox, { text }, 120_000);
    clearInterval(ticker);
    expect(ticksDuringWork).toBeGreaterThan(0);
    const expected = brotliCompressSync(Buffer.from(text), { params: { [zlibConstants.BROTLI_PARAM_QUALITY]: 11 } });
    expect(reply).toMatchObject({ done: true, ok: true, payload: JSON.stringify({ base64: expected.toString('base64') }) });
    sandbox.dispose();
    bridge.dispose();
  }, 120_000);
});

describe('HostBridge.callAsyncBytes answers what binaryAnswer of callAsync answers, without the text', () => {
  const bridge = (): HostBridge => new HostBridge({ vfs: {} as LazyVfs, egress: { allowHosts: [] }, maxResponseBytes: 128 * 1024 * 1024 });

  it('Brotli both ways, an empty output, its bounds and bad input; pbkdf2 and scrypt in and over their bounds; the light calls declined', async () => {
    const b = bridge();
    const input = Buffer.from('lambdalet '.repeat(1000));
    const password = Buffer.from('pw');
    const salt = Buffer.from('salt');
    const cases: [string, string, Buffer | undefined][] = [
      ['zlib.brotli', JSON.stringify(['compress', { 1: 5 }, 0]), input],
      ['zlib.brotli', JSON.stringify(['decompress', {}, 0]), brotliCompressSync(input)],
      ['zlib.brotli', JSON.stringify(['decompress', {}, 0]), brotliCompressSync(Buffer.alloc(0))], // an empty output: [head, 0 bytes]
      ['zlib.brotli', JSON.stringify(['decompress', {}, 100]), brotliCompressSync(input)], // ERR_BUFFER_TOO_LARGE
      ['zlib.brotli', JSON.stringify(['squash', {}, 0]), input],
      ['zlib.brotli', 'not json', input],
      ['crypto', JSON.stringify(['pbkdf2', { iterations: 1000, keylen: 32, digest: 'sha256' }, [2, 4]]), Buffer.concat([password, salt])],
      ['crypto', JSON.stringify(['pbkdf2', { iterations: 2_000_001, keylen: 64, digest: 'sha512' }, [2, 4]]), Buffer.concat([password, salt])],
      ['crypto', JSON.stringify(['scrypt', { keylen: 32, N: 1024, r: 8, p: 1 }, [2, 4]]), Buffer.concat([password, salt])],
      ['crypto', JSON.stringify(['scrypt', { keylen: 32, N: 1 << 20, r: 8, p: 1 }, [2, 4]]), Buffer.concat([password, salt])],
    ];
    for (const [op, args, payload] of cases) {
      const bytes = payload ? new Uint8Array(payload) : undefined;
      const text = await b.callAsync(op, args, bytes);
      expect(text, `${op} ${args}`).toBeDefined();
      expect(await b.callAsyncBytes(op, args, bytes), `${op} ${args}`).toEqual(binaryAnswer(text!));
    }
    // Key generation: the same shape (a fresh key each time).
    const generate = JSON.stringify(['key.generate', { type: 'ed25519', options: {} }, []]);
    const [head] = (await b.callAsyncBytes('crypto', generate, undefined)) as [string, ArrayBuffer];
    expect(JSON.parse(head.slice(1))).toEqual(JSON.parse((await b.callAsync('crypto', generate, undefined))!.slice(1).split('\n')[0]!));
    // Not heavy: declined by both.
    for (const [op, args] of [['crypto', JSON.stringify(['hkdf', { digest: 'sha256', keylen: 16 }, [2, 4, 0]])], ['fs', JSON.stringify(['exists', '/tmp'])]] as const) {
      expect(b.callAsyncBytes(op, args, undefined)).toBeUndefined();
      expect(b.callAsync(op, args, undefined)).toBeUndefined();
    }
    b.dispose();
  });
});

describe('in-process v8 through the runtime: heavy calls stay Node-exact, tenants never get each other’s answers, timeouts hold', () => {
  it("tenants' concurrent Brotli and pbkdf2 calls each get their own answer (byte for byte Node's)", () =>
    withRuntime(async ({ rt }) => {
      const source = `
        import zlib from 'node:zlib';
        import crypto from 'node:crypto';
        export const handler = async (event) => {
          const packed = zlib.brotliCompressSync(Buffer.from(event.text), { params: { [zlib.constants.BROTLI_PARAM_QUALITY]: 9 } });
          const key = crypto.pbkdf2Sync(event.text, 'salt', 2000, 32, 'sha256');
          return { packed: packed.toString('base64'), key: key.toString('hex') };
        };`;
      const tenants = ['alpha', 'bravo', 'charlie'];
      for (const name of tenants) await deployFiles(rt, name, source, { engine: 'v8', timeoutMs: GENEROUS_TIMEOUT_MS });
      const cases = tenants.flatMap((name) => [0, 1, 2, 3].map((i) => ({ name, text: `${name}-${i}-`.repeat(5000 + i * 100) })));
      const results = await Promise.all(cases.map(({ name, text }) => rt.invoke(name, { text })));
      results.forEach((result, i) => {
        const { text } = cases[i]!;
        const payload = result.payload as { packed: string; key: string };
        expect(result.functionError, JSON.stringify(result.payload).slice(0, 300)).toBeUndefined();
        expect(brotliDecompressSync(Buffer.from(payload.packed, 'base64')).toString()).toBe(text);
        expect(payload.key).toBe(pbkdf2Sync(text, 'salt', 2000, 32, 'sha256').toString('hex'));
      });
    }), SLOW_CASE_LIMIT_MS);

  it('a pbkdf2 loop at the bound ends at its timeout as Sandbox.Timedout, and a neighbour answers', () =>
    withRuntime(async ({ rt }) => {
      await deployFiles(rt, 'loop', `
        import crypto from 'node:crypto';
        export const handler = async () => { for (;;) crypto.pbkdf2Sync('pw', 'salt', 2000000, 64, 'sha512'); };`, { engine: 'v8', timeoutMs: 300 });
      await deployFiles(rt, 'neighbour', 'export const handler = async (e) => ({ n: e.n })', { engine: 'v8' });
      expectTimedOut(await rt.invoke('loop', {}));
      expect((await rt.invoke('neighbour', { n: 7 })).payload).toEqual({ n: 7 });
      // The function's next invocation starts a fresh environment and is contained the same way.
      expectTimedOut(await rt.invoke('loop', {}));
    }), SLOW_CASE_LIMIT_MS);
});
