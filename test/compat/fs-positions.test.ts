/**
 * node:fs positions and lengths that are not plain byte offsets, as plain Node answers them (the
 * handler runs in Node first, the same code in each engine must give the same result):
 * - writeSync / FileHandle.write: any position that is not a safe integer ≥ 0 (1.5, -2, 'x', 2^53)
 *   writes at the descriptor's own position (lib/fs.js writeSync passes non-numbers as null;
 *   src/node_file.cc GetOffset makes every non-safe-integer -1; libuv writes at the descriptor's
 *   position for a negative offset) — never an error;
 * - readSync / FileHandle.read: validatePosition (lib/internal/fs/utils.js): an integer from -1 to
 *   MAX_SAFE_INTEGER or a bigint from -1n to 2^63 - 1 - length, else ERR_OUT_OF_RANGE or
 *   ERR_INVALID_ARG_TYPE in Node's words (numbers past 2^32 with `_` separators);
 * - ftruncateSync / truncateSync / FileHandle.truncate: validateInteger(len, 'len'), a negative
 *   length truncates to 0; truncateSync opens first, so a missing file is ENOENT before a bad length.
 * The /tmp quota's side of these (a write at -1 is counted) is test/vfs/vfs.test.ts.
 */
import { expect, it } from 'vitest';
import { deployAndInvoke, forEachEngine } from '../helpers/runtime.ts';
import { runInNode } from './node-baseline.ts';

const HANDLER = `
const fs = require('fs');
const outcome = (f) => { try { return ['ok', f()]; } catch (e) { return [e.name, e.code, e.message]; } };
exports.handler = async () => {
  const out = {};
  const file = '/tmp/lambdalet-fs-positions';
  const fd = fs.openSync(file, 'w+');
  out.writes = [1.5, -1, -2, 'x', 2 ** 53, null, undefined, -1e12, 2 ** 40 + 0.5, NaN]
    .map((p) => [String(p), outcome(() => fs.writeSync(fd, Buffer.from('ab'), 0, 2, p)), fs.fstatSync(fd).size]);
  out.stringWrites = [1.5, -2].map((p) => [String(p), outcome(() => fs.writeSync(fd, 'cd', p)), fs.fstatSync(fd).size]);
  out.reads = [1.5, -1, -2, 'x', 2 ** 53, 2 ** 40 + 0.5, NaN, Infinity, 0, 3, 5_000_000_000, -1n, -2n, 2n ** 63n, 2n ** 63n - 3n, 4n]
    .map((p) => [String(p), outcome(() => fs.readSync(fd, Buffer.alloc(2), 0, 2, p))]);
  out.ftruncates = [-1, 1.5, -1e9, 'x', 2 ** 53, NaN, -(2 ** 53), 3]
    .map((l) => [String(l), outcome(() => fs.ftruncateSync(fd, l)), fs.fstatSync(fd).size]);
  out.truncates = [[file, 1.5], [file, -5], ['/tmp/lambdalet-no-such-dir/x', 1.5], [file, 2]]
    .map(([p, l]) => [String(l), outcome(() => fs.truncateSync(p, l)), fs.fstatSync(fd).size]);
  // Descriptor numbers differ between Node and the sandbox: the message names it, as '(fd)'.
  out.truncateByFd = outcome(() => fs.truncateSync(fd, 0)).map((part) => String(part).replace('(' + fd + ')', '(fd)'));
  fs.closeSync(fd);
  const handle = await fs.promises.open(file, 'r+');
  const settle = (p) => p.then((r) => ['ok', r.bytesRead ?? r.bytesWritten], (e) => [e.name, e.code, e.message]);
  out.handle = {
    truncate: [await handle.truncate(1.5).then(() => 'ok', (e) => e.message), await handle.truncate(-1).then(() => 'ok', (e) => e.message)],
    read: [await settle(handle.read(Buffer.alloc(2), 0, 2, 1.5)), await settle(handle.read(Buffer.alloc(2), 0, 2, -2))],
    write: [await settle(handle.write(Buffer.from('zz'), 0, 2, 1.5)), await settle(handle.write(Buffer.from('zz'), 0, 2, -2))],
  };
  await handle.close();
  fs.unlinkSync(file);
  return out;
};`;

const node = runInNode(HANDLER);

forEachEngine(({ withRuntime }) => {
  it('fs positions and lengths that are not byte offsets: the same results and errors as plain Node', () =>
    withRuntime(async ({ rt }) => {
      const expected = (await node) as Record<string, unknown[][]>;
      // Node's own answers, pinned where they are easy to get wrong.
      expect(expected.writes![0]).toEqual(['1.5', ['ok', 2], 2]);
      expect(expected.reads![4]).toEqual([
        '9007199254740992',
        ['RangeError', 'ERR_OUT_OF_RANGE', 'The value of "position" is out of range. It must be >= -1 && <= 9007199254740991. Received 9_007_199_254_740_992'],
      ]);
      expect(expected.reads![3]).toEqual(['x', ['TypeError', 'ERR_INVALID_ARG_TYPE', 'The "position" argument must be of type bigint or integer. Received type string (\'x\')']]);
      expect(expected.ftruncates![1]).toEqual(['1.5', ['RangeError', 'ERR_OUT_OF_RANGE', 'The value of "len" is out of range. It must be an integer. Received 1.5'], 0]);
      expect(expected.truncates![2]![1]).toEqual(['Error', 'ENOENT', "ENOENT: no such file or directory, open '/tmp/lambdalet-no-such-dir/x'"]);
      expect(expected.truncateByFd).toEqual(['TypeError', 'ERR_INVALID_ARG_TYPE', 'The "path" argument must be of type string or an instance of Buffer or URL. Received type number (fd)']);
      const result = await deployAndInvoke(rt, HANDLER, {}, { file: 'index.js' });
      expect(result.functionError, JSON.stringify(result.payload)).toBeUndefined();
      expect(result.payload).toEqual(expected);
    }));
});
