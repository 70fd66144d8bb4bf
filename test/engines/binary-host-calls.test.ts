/**
 * Binary payloads of the guest's host calls (issue 21): on quickjs they cross as bytes (an
 * ArrayBuffer each way, src/engines/quickjs/in-thread.ts hostCallFunction) and on to the
 * environment as bytes over the worker's MessagePort (remote/server.ts), or as latin1 text from a
 * process-isolation child; in-process v8 hands file contents to the environment as bytes.
 * Whatever the path, every byte value must survive — zero bytes (the text wire's U+0100) and
 * 0x80–0xFF included — in /tmp files, partial reads at offsets, empty files, Brotli and randomness.
 * The guest compares what it reads back with what it wrote, byte for byte (Buffer#equals); that the
 * bytes it wrote are the pattern (every byte value) is checked on the host with a checksum over the
 * same bytes. (A sha256 of each 1 MiB copy in the guest — pure-JS @noble/hashes, interpreted on
 * quickjs — was most of this file's time: 4 digests per engine, ~20 s of one core each at load 18.)
 */
import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { binaryAnswer, textAnswer, textRequest } from '../../src/engines/binary-host-call.ts';
import { createRuntime, silentSink } from '../../src/index.ts';
import { GENEROUS_TIMEOUT_MS, SLOW_CASE_LIMIT_MS } from '../helpers/runtime.ts';

const SIZE = 1024 * 1024 + 1; // just over 1 MiB: the guest reads fds in 1 MiB chunks
const pattern = (n: number): Buffer => Buffer.from(Array.from({ length: n }, (_, i) => (i * 7 + (i >> 8)) & 0xff));

/**
 * FNV-1a (32-bit) over bytes, for the host's check of the pattern the guest wrote. The guest's copy
 * (in HANDLER) is the same function; a difference between the two shows as a mismatch, never a pass.
 */
function fnv1a32(bytes: Uint8Array): number {
  let h = 0x811c9dc5;
  for (const byte of bytes) h = Math.imul(h ^ byte, 16777619);
  return h >>> 0;
}

const HANDLER = `
import fs from 'node:fs';
import zlib from 'node:zlib';
import crypto from 'node:crypto';
// The host's pattern, built cheaply: it repeats every 65,536 bytes ((i + 65536) * 7 + ((i + 65536) >> 8)
// adds 7 × 65,536 + 256, a multiple of 256), so one period is computed and copied (natively) onward —
// on quickjs, Array.from's million callbacks were a third of this handler's time. The host checks the
// result against its own formula (written).
const pattern = (n) => {
  const b = Buffer.alloc(n);
  for (let i = 0; i < Math.min(n, 65536); i++) b[i] = (i * 7 + (i >> 8)) & 0xff;
  for (let at = 65536; at < n; at *= 2) b.copyWithin(at, 0, Math.min(at, n - at));
  return b;
};
const sha = (b) => crypto.createHash('sha256').update(b).digest('hex');
const fnv1a32 = (bytes) => {
  let h = 0x811c9dc5;
  for (let i = 0; i < bytes.length; i++) h = Math.imul(h ^ bytes[i], 16777619);
  return h >>> 0;
};
export const handler = async ({ size }) => {
  const data = pattern(size);
  fs.writeFileSync('/tmp/bin', data);
  const whole = fs.readFileSync('/tmp/bin');
  const fd = fs.openSync('/tmp/bin', 'r');
  const part = Buffer.alloc(300);
  const got = fs.readSync(fd, part, 10, 256, 1000); // 256 bytes from position 1000 into offset 10
  const chunked = fs.readFileSync(fd); // by fd: 1 MiB chunks from the current position (0: readSync used a position)
  fs.closeSync(fd);
  fs.writeFileSync('/tmp/empty', Buffer.alloc(0));
  const zeros = Buffer.alloc(4096);
  fs.writeFileSync('/tmp/zeros', zeros);
  // Quality 5, not the default 11: the bytes cross the same host calls either way, and 11 costs
  // ~0.19 CPU-s of the host's per MiB (5: under 0.01).
  const brotli = zlib.brotliDecompressSync(zlib.brotliCompressSync(data, { params: { [zlib.constants.BROTLI_PARAM_QUALITY]: 5 } }));
  const random = crypto.randomBytes(65536);
  const altered = Buffer.from(data);
  altered[size - 1] ^= 1; // a control: equals() tells a one-bit difference in the last byte apart
  return {
    written: fnv1a32(data), whole: whole.equals(data), length: whole.length, part: sha(part.subarray(10, 10 + got)), got, untouched: part[9] + part[266],
    chunked: chunked.equals(data), chunkedLength: chunked.length, empty: fs.readFileSync('/tmp/empty').length,
    zeros: fs.readFileSync('/tmp/zeros').every((b) => b === 0), brotli: brotli.equals(data), alteredEquals: altered.equals(data), random: random.length, distinct: new Set(random).size,
  };
};`;

describe.each([
  ['v8', 'in-process'],
  ['quickjs', 'in-process'],
  ['quickjs', 'process'],
] as const)('binary host-call payloads, %s, %s', (engine, isolation) => {
  it('every byte value survives /tmp writes and reads (whole, at an offset, by fd in chunks), empty files, Brotli and randomBytes', async () => {
    const rt = await createRuntime({ logSink: silentSink, isolation });
    try {
      await rt.deploy({ name: 'bin', engine, memoryMb: 512, timeoutMs: GENEROUS_TIMEOUT_MS, code: { files: { 'index.mjs': HANDLER } } });
      const res = await rt.invoke('bin', { size: SIZE });
      expect(res.functionError, JSON.stringify(res.payload)).toBeUndefined();
      const data = pattern(SIZE);
      const sha = (b: Uint8Array): string => createHash('sha256').update(b).digest('hex');
      expect(res.payload).toEqual({
        written: fnv1a32(data),
        whole: true,
        length: SIZE,
        part: sha(data.subarray(1000, 1256)),
        got: 256,
        untouched: 0,
        chunked: true,
        chunkedLength: SIZE,
        empty: 0,
        zeros: true,
        brotli: true,
        alteredEquals: false,
        random: 65536,
        distinct: 256,
      });
    } finally {
      await rt.close();
    }
  }, SLOW_CASE_LIMIT_MS);
});

describe('engines/binary-host-call.ts (the host side of binary payloads)', () => {
  it('keeps text answers without a payload and error answers as they are', () => {
    expect(binaryAnswer('o{"a":1}')).toBe('o{"a":1}');
    expect(binaryAnswer('e{"name":"Error","message":"x\\ny"}')).toBe('e{"name":"Error","message":"x\\ny"}');
  });

  it("turns a payload into bytes, the wire's U+0100 back into a zero byte, an empty payload into 0 bytes", () => {
    const [head, bytes] = binaryAnswer('o0\n\u0100\u00ff\u0080a') as [string, ArrayBuffer];
    expect(head).toBe('o0');
    expect([...new Uint8Array(bytes)]).toEqual([0, 255, 128, 97]);
    const [, none] = binaryAnswer('o0\n') as [string, ArrayBuffer];
    expect(none.byteLength).toBe(0);
  });

  it("turns a binary answer back into the text wire (zero bytes as U+0100): binaryAnswer's inverse", () => {
    const bytes = new Uint8Array([0, 255, 128, 97, 10]).buffer;
    expect(textAnswer(['o0', bytes])).toBe('o0\n\u0100\u00ff\u0080a\n');
    expect([...new Uint8Array((binaryAnswer(textAnswer(['o0', bytes])) as [string, ArrayBuffer])[1])]).toEqual([0, 255, 128, 97, 10]);
    expect(textAnswer(['o0', new ArrayBuffer(0)])).toBe('o0\n');
  });

  it('writes a request payload as latin1 after a newline (absent: the args alone)', () => {
    expect(textRequest('["x"]', undefined)).toBe('["x"]');
    expect(textRequest('["x"]', new Uint8Array([0, 255, 10]))).toBe('["x"]\n\u0000\u00ff\n');
    expect(textRequest('["x"]', new Uint8Array(0))).toBe('["x"]\n');
  });
});
