import { describe, expect, it } from 'vitest';
import { createRuntime } from '../../src/index.ts';
import { deployFiles } from '../helpers/runtime.ts';

describe('rt.close() deadline', () => {
  it('close: an invocation waiting on a guest timer past closeTimeoutMs ends when its environment is disposed', async () => {
    const rt = await createRuntime({ logSink: { write() {} }, closeTimeoutMs: 50 });
    // The timer (60 s) and the function timeout (120 s) are both far beyond the test's own 20 s limit:
    // only the disposal at close can end this invocation in time.
    await deployFiles(rt, 'sleepy', 'export const handler = async () => { await new Promise((r) => setTimeout(r, 60_000)); return "late"; };', {
      timeoutMs: 120_000,
    });
    const pending = rt.invoke('sleepy');
    await new Promise((r) => setTimeout(r, 100)); // let it start and park on its timer
    await rt.close();
    const result = await pending;
    expect(result.functionError).toBe('Unhandled');
    expect(result.payload).toMatchObject({ errorType: 'Runtime.ExitError' });
    expect(JSON.stringify(result.payload)).toContain('disposed');
  });
});
