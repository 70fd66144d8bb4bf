// INIT's limit: Lambda's is a fixed 10 s ("The Init phase is limited to 10 seconds", Lambda developer
// guide, "Understanding the Lambda execution environment lifecycle" > Init phase). The loop cases run
// with `initTimeoutMs` shortened (test/helpers/runtime.ts SHORT_PHASE_LIMITS) so they neither wait
// nor spin 10 real seconds; the 10 s default itself is checked without waiting.
import { describe, expect, it } from 'vitest';
import { INIT_TIMEOUT_MS, parseRuntimeOptions, PHASE_TIMEOUT_MS_MAX } from '../../src/config/index.ts';
import { createRuntime, InvalidParameterValueException } from '../../src/index.ts';
import { captureLogs, deployAndInvoke, deployFiles, errorOf, forEachEngine, SHORT_PHASE_LIMITS } from '../helpers/runtime.ts';

forEachEngine(({ withRuntime }) => {
  describe('INIT timeout', () => {
    it('Timeout: an infinite loop at the top level fails INIT with Sandbox.Timedout, whatever the function timeout', () =>
      withRuntime(async ({ rt }) => {
        // INIT has its own limit, independent of timeoutMs (here far longer than the INIT limit).
        await deployFiles(rt, 'loop', 'while (true) {}\nexport const handler = async () => 1;', { timeoutMs: 60_000 });
        const result = await rt.invoke('loop');
        expect(result.functionError).toBe('Unhandled');
        expect(result.coldStart).toBe(true);
        expect(errorOf(result).errorType).toBe('Sandbox.Timedout');
        expect(errorOf(result).errorMessage).toBe('INIT phase timed out after 0.30 seconds');
        // The environment is discarded: the next invoke runs INIT again and times out again.
        const again = await rt.invoke('loop');
        expect(again.coldStart).toBe(true);
        expect(errorOf(again).errorMessage).toBe('INIT phase timed out after 0.30 seconds');
      }, SHORT_PHASE_LIMITS));

    it('a top level that finishes inside the limit is not cut short by it', () =>
      withRuntime(async ({ rt }) => {
        // A top-level await of a 20 ms timer: far inside the default 10 s on any machine.
        const result = await deployAndInvoke(rt, 'await new Promise((r) => setTimeout(r, 20));\nexport const handler = async () => "ready";');
        expect(result.payload).toBe('ready');
      }));
  });
});

describe('initTimeoutMs and restoreTimeoutMs (runtime options)', () => {
  it("default to Lambda's 10 s", () => {
    expect(INIT_TIMEOUT_MS).toBe(10_000);
    expect(parseRuntimeOptions({}).initTimeoutMs).toBe(10_000);
    expect(parseRuntimeOptions({}).restoreTimeoutMs).toBe(10_000);
    expect(parseRuntimeOptions(undefined).initTimeoutMs).toBe(10_000);
    expect(parseRuntimeOptions(undefined).restoreTimeoutMs).toBe(10_000);
  });

  for (const field of ['initTimeoutMs', 'restoreTimeoutMs'] as const) {
    it(`${field}: 1 to ${PHASE_TIMEOUT_MS_MAX} ms, at, under and over each bound; refused with the field named`, async () => {
      for (const ok of [1, 2, PHASE_TIMEOUT_MS_MAX - 1, PHASE_TIMEOUT_MS_MAX]) expect(parseRuntimeOptions({ [field]: ok })[field]).toBe(ok);
      for (const bad of [0, PHASE_TIMEOUT_MS_MAX + 1, 1.5, '500']) {
        expect(() => parseRuntimeOptions({ [field]: bad })).toThrow(InvalidParameterValueException);
        await expect(createRuntime({ logSink: captureLogs(), [field]: bad })).rejects.toMatchObject({ field });
      }
      expect(() => parseRuntimeOptions({ [field]: 0 })).toThrow(`Expected \`${field}\` to be an integer from 1 to 900000, got \`0\` (number)`);
    });
  }
});
