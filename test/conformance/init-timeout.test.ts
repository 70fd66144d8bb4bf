// In a file of its own: INIT's 10 s limit is fixed, so this test takes 10 s and runs beside the others.
import { describe, expect, it } from 'vitest';
import { deployAndInvoke, errorOf, forEachEngine } from '../helpers/runtime.ts';

forEachEngine(({ withRuntime }) => {
  describe('INIT timeout', () => {
    it('Timeout: an infinite loop at the top level fails INIT', { timeout: 30_000 }, () =>
      withRuntime(async ({ rt }) => {
        // INIT has its own 10 s limit, independent of timeoutMs.
        const result = await deployAndInvoke(rt, 'while (true) {}\nexport const handler = async () => 1;', {}, { timeoutMs: 100 });
        expect(result.functionError).toBe('Unhandled');
        expect(errorOf(result).errorType).toBe('Sandbox.Timedout');
        expect(errorOf(result).errorMessage).toContain('INIT phase timed out after 10.00 seconds');
      }));
  });
});
