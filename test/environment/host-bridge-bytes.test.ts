/**
 * HostBridge.callBytes (issue 21, /tmp on v8): the fs calls whose payload is file contents take
 * and give bytes directly, and every call answers exactly what the text channel answers through
 * engines/binary-host-call.ts (`binaryAnswer(call(op, textRequest(args, bytes)))`): the same
 * contents, the same errors (Node's codes, e.g. ENOENT / EBADF, as the vfs raises them), byte 0
 * included (the text wire writes it as U+0100).
 */
import { describe, expect, it } from 'vitest';
import { binaryAnswer, textRequest } from '../../src/engines/binary-host-call.ts';
import { HostBridge } from '../../src/environment/host-bridge.ts';
import { LazyVfs } from '../../src/vfs/lazy.ts';

function bridges(): [HostBridge, HostBridge] {
  const make = (): HostBridge =>
    new HostBridge({ vfs: new LazyVfs({ ephemeralStorageMb: 512, tmpBackend: 'memory', code: { files: { 'index.mjs': '' } } }), egress: { allowHosts: [] }, maxResponseBytes: 1 << 20 });
  return [make(), make()];
}

/** Runs the same call on both channels (each bridge its own vfs) and returns the two answers. */
function both(text: HostBridge, bytes: HostBridge, op: string, args: unknown[], payload?: Uint8Array): [unknown, unknown] {
  const json = JSON.stringify(args);
  return [binaryAnswer(text.call(op, textRequest(json, payload))), bytes.callBytes(op, json, payload)];
}

const asBytes = (answer: unknown): unknown => (Array.isArray(answer) ? [answer[0], [...new Uint8Array(answer[1] as ArrayBuffer)]] : answer);

describe('HostBridge.callBytes', () => {
  it('writeFile, readFile, open, write, read and close answer as the text channel does, zero bytes included', () => {
    const [text, bytes] = bridges();
    const data = new Uint8Array([0, 1, 2, 0, 255, 7, 0]);
    const steps: [string, unknown[], Uint8Array?][] = [
      ['fs', ['writeFile', '/tmp/a.bin', 'w'], data],
      ['fs', ['readFile', '/tmp/a.bin']],
      ['fs', ['writeFile', '/tmp/a.bin', 'a'], new Uint8Array([9])],
      ['fs', ['readFile', '/tmp/a.bin']],
      ['fs', ['open', '/tmp/a.bin', 'r+']],
    ];
    for (const [op, args, payload] of steps) {
      const [a, b] = both(text, bytes, op, args, payload);
      expect(asBytes(b)).toEqual(asBytes(a));
    }
    const fd = JSON.parse(String(bytes.call('fs', JSON.stringify(['open', '/tmp/a.bin', 'r+']))).slice(1)) as number;
    JSON.parse(String(text.call('fs', JSON.stringify(['open', '/tmp/a.bin', 'r+']))).slice(1));
    for (const [args, payload] of [
      [['write', fd, 2], new Uint8Array([0, 0, 5])],
      [['read', fd, 4, 1]],
      [['read', fd, 100, null]],
      [['read', fd, 0, 0]],
    ] as [unknown[], Uint8Array?][]) {
      const [a, b] = both(text, bytes, 'fs', args, payload);
      expect(asBytes(b)).toEqual(asBytes(a));
    }
    expect(asBytes(bytes.callBytes('fs', JSON.stringify(['readFile', '/tmp/a.bin']), undefined))).toEqual(['o0', [0, 1, 0, 0, 5, 7, 0, 9]]);
  });

  it('errors are the text channel\'s: a missing file (ENOENT), a closed descriptor (EBADF), bad arguments', () => {
    const [text, bytes] = bridges();
    for (const [args, payload] of [
      [['readFile', '/tmp/missing']],
      [['read', 99, 4, 0]],
      [['write', 99, null], new Uint8Array([1])],
      [['writeFile', '/nope/x', 'w'], new Uint8Array([1])],
    ] as [unknown[], Uint8Array?][]) {
      const [a, b] = both(text, bytes, 'fs', args, payload);
      expect(typeof b).toBe('string');
      expect(b).toBe(a);
      expect(String(b)[0]).toBe('e');
    }
    expect(bytes.callBytes('fs', 'not json', undefined)).toBe(text.call('fs', 'not json'));
  });

  it('every other call goes through the text channel unchanged (stat, random, an unknown op)', () => {
    // One bridge for both channels here: stat reads the folder's own times, which differ between two vfs.
    const [bytes] = bridges();
    const text = bytes;
    expect(bytes.callBytes('fs', JSON.stringify(['stat', '/tmp', true]), undefined)).toBe(text.call('fs', JSON.stringify(['stat', '/tmp', true])));
    const random = bytes.callBytes('random', JSON.stringify([16]), undefined);
    expect(Array.isArray(random) && random[0] === 'o0' && random[1].byteLength === 16).toBe(true);
    expect(bytes.callBytes('nope', '[]', undefined)).toBe(text.call('nope', '[]'));
  });
});
