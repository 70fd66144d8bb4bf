/**
 * Issue #15 red team: under `isolation: 'process'` a v8 guest's heavy host call (pbkdf2, Brotli)
 * blocked its engine server's thread in the host-call handshake until the host answered, so two
 * pbkdf2 loops in one child froze a trivial v8 neighbour in the same child for 5.4-16.8 s (INIT
 * timeouts). v8 sandboxes in a server now wait for heavy calls on their own isolate's thread
 * (server.ts #heavyCall, a `heavy` event answered by a `heavyAnswer` naming the call) and the
 * server keeps serving. Asserted: the invariants — every neighbour call answered, every heavy
 * answer right and the caller's own, a call abandoned at its deadline never answers a later one —
 * not how fast.
 */
import { pbkdf2Sync } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { createRuntime, silentSink } from '../../../src/index.ts';
import { SLOW_CASE_LIMIT_MS } from '../../helpers/runtime.ts';

const HOG = `
import crypto from 'node:crypto';
export const handler = async (event) => {
  const keys = new Set();
  for (let i = 0; i < event.calls; i++) keys.add(crypto.pbkdf2Sync('pw-' + event.n, 'salt', 100000, 32, 'sha512').toString('hex'));
  return { keys: [...keys] };
};`;

const NEIGHBOUR = `
import zlib from 'node:zlib';
export const handler = async (event) => {
  if (event.brotli) {
    const input = Buffer.alloc(64 * 1024, 'n-' + event.round);
    return { same: zlib.brotliDecompressSync(zlib.brotliCompressSync(input)).equals(input) };
  }
  return { round: event.round };
};`;

const SLOW = `
import crypto from 'node:crypto';
export const handler = async (event) => {
  // lambdalet's bound (crypto-limits.ts): seconds per call, past the 1 s timeout.
  if (event.slow) for (;;) crypto.pbkdf2Sync('pw', 'salt', 2000000, 64, 'sha512');
  return { key: crypto.pbkdf2Sync('pw', event.salt, 1000, 16, 'sha256').toString('hex') };
};`;

describe('v8 heavy host calls under process isolation do not block the engine server (issue #15)', () => {
  it('two pbkdf2 hogs and a neighbour in one child: every neighbour call answered, every key right', async () => {
    const rt = await createRuntime({ logSink: silentSink, isolation: 'process', engineProcesses: 1 });
    try {
      await rt.deploy({ name: 'hog', engine: 'v8', timeoutMs: 120_000, code: { files: { 'index.mjs': HOG } } });
      await rt.deploy({ name: 'neighbour', engine: 'v8', timeoutMs: 120_000, code: { files: { 'index.mjs': NEIGHBOUR } } });
      let hogging = true;
      const hogs = Promise.all([1, 2].map((n) => rt.invoke('hog', { n, calls: 12 }))).finally(() => (hogging = false));
      const answers: { functionError?: string; payload: unknown }[] = [];
      let round = 0;
      do {
        round++;
        const result = await rt.invoke('neighbour', { round, brotli: round % 2 === 0 });
        answers.push({ functionError: result.functionError, payload: result.payload });
      } while (hogging);
      const results = await hogs;
      results.forEach((result, i) => {
        expect(result.functionError).toBeUndefined();
        expect(result.payload).toEqual({ keys: [pbkdf2Sync(`pw-${i + 1}`, 'salt', 100000, 32, 'sha512').toString('hex')] });
      });
      answers.forEach((answer, i) =>
        expect(answer).toEqual({ functionError: undefined, payload: (i + 1) % 2 === 0 ? { same: true } : { round: i + 1 } }),
      );
    } finally {
      await rt.close();
    }
  }, SLOW_CASE_LIMIT_MS);

  it('a heavy call out when its invocation times out: the next invocation gets its own answer, never the stale one', async () => {
    const rt = await createRuntime({ logSink: silentSink, isolation: 'process', engineProcesses: 1 });
    try {
      await rt.deploy({ name: 'slow', engine: 'v8', timeoutMs: 1000, code: { files: { 'index.mjs': SLOW } } });
      const timedOut = await rt.invoke('slow', { slow: true, salt: 'a' });
      expect(timedOut.functionError).toBe('Unhandled');
      expect(timedOut.payload).toMatchObject({ errorType: 'Sandbox.Timedout' });
      for (const salt of ['b', 'c', 'd']) {
        const result = await rt.invoke('slow', { salt });
        expect(result.functionError).toBeUndefined();
        expect(result.payload).toEqual({ key: pbkdf2Sync('pw', salt, 1000, 16, 'sha256').toString('hex') });
      }
    } finally {
      await rt.close();
    }
  }, SLOW_CASE_LIMIT_MS);
});
