/**
 * Issue #15 (red team, 6-tmp-host-memory) through rt.invoke: a memory-backed /tmp counts against
 * memoryBudgetMb with the function's memoryMb, so a write that would take the environments past the
 * budget fails as a full disk does on Lambda (ENOSPC, "no space left on device") when nothing idle
 * can be evicted. memoryBudgetMb 130, one environment of 128 MB: /tmp may hold 2 MiB (the rule
 * does not depend on the size; with memoryBudgetMb 256 the case wrote 384 MiB, 1.2 CPU-s).
 */
import { describe, expect, it } from 'vitest';
import { deployFiles, SLOW_CASE_LIMIT_MS, withRuntime } from '../helpers/runtime.ts';

const MIB = 1024 * 1024;
const WRITER = `
  import fs from 'node:fs';
  export const handler = async (event) => {
    const chunk = Buffer.alloc(512 * 1024, 1);
    const fd = fs.openSync('/tmp/f', 'w');
    try {
      for (let left = event.bytes; left > 0; left -= chunk.length) fs.writeSync(fd, chunk, 0, Math.min(left, chunk.length));
      return { size: fs.fstatSync(fd).size };
    } catch (e) {
      return { code: e.code, syscall: e.syscall, size: fs.fstatSync(fd).size };
    } finally {
      fs.closeSync(fd);
    }
  };`;

describe('/tmp in host memory counts against memoryBudgetMb', () => {
  it('under and at the budget the write lands; one byte over is ENOSPC and nothing past it is written', { timeout: SLOW_CASE_LIMIT_MS }, () =>
    withRuntime(
      async ({ rt }) => {
        await deployFiles(rt, 'writer', WRITER, { memoryMb: 128, timeoutMs: 120_000 });
        expect((await rt.invoke('writer', { bytes: 2 * MIB - 1 })).payload).toEqual({ size: 2 * MIB - 1 });
        expect((await rt.invoke('writer', { bytes: 2 * MIB })).payload).toEqual({ size: 2 * MIB });
        const over = await rt.invoke('writer', { bytes: 2 * MIB + 1 });
        expect(over.payload).toEqual({ code: 'ENOSPC', syscall: 'write', size: 2 * MIB });
      },
      'v8',
      { memoryBudgetMb: 130 },
    ));
});
