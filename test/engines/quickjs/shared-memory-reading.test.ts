/**
 * Shared isolation measures a sandbox's memory by walking its runtime's heap (QuickJS's
 * JS_ComputeMemoryUsage, ~35 µs for the guest runtime alone), and the engine server asks after
 * every call: the reading is taken again only once the last one is SHARED_MEMORY_READ_MS old, as
 * the v8 engine reads its heap statistics (docs/architecture.md). Tested on a manual clock at, just
 * under and just over the interval, then on a real shared sandbox: the first reading is a measure.
 */
import { describe, expect, it } from 'vitest';
import { bundleFunction } from '../../../src/code/index.ts';
import { InThreadQuickJS, SHARED_MEMORY_READ_MS, throttledReading } from '../../../src/engines/quickjs/in-thread.ts';
import { INIT, phase } from '../../helpers/sandbox.ts';

describe('shared isolation: the memory reading', () => {
  it('is measured again at SHARED_MEMORY_READ_MS after the last measure, not just under it', () => {
    let clock = 1000;
    let measures = 0;
    const read = throttledReading(() => ++measures * 100, () => clock);
    expect(read()).toBe(100); // the first reading measures
    clock += SHARED_MEMORY_READ_MS - 0.001;
    expect(read()).toBe(100); // just under: the last reading
    clock += 0.001;
    expect(read()).toBe(200); // at: measured again
    clock += SHARED_MEMORY_READ_MS + 0.001;
    expect(read()).toBe(300); // over
    expect(measures).toBe(3);
  });

  it('a shared sandbox answers its own runtime\'s figure from the first reading', async () => {
    const outcome = await bundleFunction({ files: { 'index.mjs': 'export const handler = async () => 1' } }, 'index.handler');
    if (!outcome.ok) throw new Error(outcome.failure.errorMessage);
    const blueprint = await new InThreadQuickJS({ isolation: 'shared' }).prepare(outcome.bundle);
    const sandbox = await blueprint.boot({ memoryMb: 128, onLog: () => {}, hostCall: () => 'o{}' });
    try {
      expect(await phase(sandbox, INIT)).toMatchObject({ done: true, ok: true });
      const bytes = sandbox.memoryUsedBytes();
      // The guest runtime alone holds hundreds of KiB; a shared instance's whole memory is far more.
      expect(bytes).toBeGreaterThan(64 * 1024);
      expect(bytes).toBeLessThan(16 * 1024 * 1024);
    } finally {
      sandbox.dispose();
    }
  });
});
