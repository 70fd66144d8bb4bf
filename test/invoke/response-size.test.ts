/**
 * The synchronous response limit and the environment behind it. Lambda refuses a response over
 * 6 MiB + 100 B (6,291,556 bytes, RIE interop/model.go) with `Function.ResponseSizeTooLarge`
 * "Response payload size exceeded maximum allowed payload size (6291556 bytes)." (LocalStack's
 * AWS-validated snapshots; lambda-compat.md "Function-error payloads"), and the runtime goes on
 * serving: the environment is reused. Here an oversized outcome used to leave its environment
 * marked busy, so it was thrown away on release and the next invocation paid a cold start.
 */
import { describe, expect, it } from 'vitest';
import { RESPONSE_PAYLOAD_MAX_BYTES } from '../../src/config/limits.ts';
import type { Runtime } from '../../src/index.ts';
import { ENGINES, errorOf, withRuntime } from '../helpers/runtime.ts';

/** Returns a string of `event.n` characters: its JSON payload is n + 2 bytes (the quotes). */
const CODE = "export const handler = async (event) => 'x'.repeat(event.n)";
const QUOTES = 2;

function liveEnvironments(rt: Runtime, name: string): number {
  const figures = rt.metrics().functions.find((f) => f.functionName === name && f.version === '$LATEST');
  if (!figures) throw new Error(`no metrics for ${name}`);
  const { idle, busy, provisioned, starting } = figures.environments;
  return idle + busy + provisioned + starting;
}

describe.each(ENGINES)('Response size limit [%s]', (engine) => {
  it('Response size: limit-1 and limit bytes answer; limit+1 is Function.ResponseSizeTooLarge; the environment serves on, warm', () =>
    withRuntime(async ({ rt }) => {
      await rt.deploy({ name: 'big', engine, memoryMb: 1024, timeoutMs: 60_000, code: { files: { 'index.mjs': CODE } } });
      for (const bytes of [RESPONSE_PAYLOAD_MAX_BYTES - 1, RESPONSE_PAYLOAD_MAX_BYTES]) {
        const result = await rt.invoke('big', { n: bytes - QUOTES });
        expect(result.functionError, `${bytes} bytes`).toBeUndefined();
        expect((result.payload as string).length, `${bytes} bytes`).toBe(bytes - QUOTES);
        expect((await rt.invoke('big', { n: 1 })).coldStart).toBe(false);
      }
      for (let i = 0; i < 3; i++) {
        const over = await rt.invoke('big', { n: RESPONSE_PAYLOAD_MAX_BYTES + 1 - QUOTES + i });
        expect(over.functionError).toBe('Unhandled');
        expect(errorOf(over)).toEqual({
          errorType: 'Function.ResponseSizeTooLarge',
          errorMessage: `Response payload size exceeded maximum allowed payload size (${RESPONSE_PAYLOAD_MAX_BYTES} bytes).`,
        });
        // The same environment answers next (sequential invocations: nothing else could have taken it).
        const next = await rt.invoke('big', { n: 2 });
        expect(next.payload).toBe('xx');
        expect(next.coldStart, 'the environment that sent the oversized response serves the next invocation').toBe(false);
      }
      expect(liveEnvironments(rt, 'big')).toBe(1);
      // cpuHeavyNice 0: making a 6 MiB string is CPU-heavy, and a CPU-heavy function's environment is
      // retired on purpose to move it to a lower priority (engines/remote/engine-pool.ts), not the case here.
    }, engine, { cpuHeavyNice: 0 }));
});
