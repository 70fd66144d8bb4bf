/**
 * Error.captureStackTrace, Error.stackTraceLimit and Error.prepareStackTrace's CallSites on every
 * engine (QuickJS has none natively: engines/guest/error-stack.ts), and depd and http-errors —
 * which express and body-parser load — running unchanged, each fact compared with plain Node.
 */
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { forEachEngine } from '../helpers/runtime.ts';
import { runInNode } from './node-baseline.ts';

const fixture = fileURLToPath(new URL('./fixtures/error-stack/stack.cjs', import.meta.url));
const baseline = runInNode(`module.exports = require(${JSON.stringify(fixture)});`);

forEachEngine(({ withRuntime }) => {
  describe('stack-trace API', () => {
    it('captureStackTrace (header, constructorOpt, stackTraceLimit, CallSites), depd and http-errors behave as in Node', () =>
      withRuntime(async ({ rt }) => {
        await rt.deploy({ name: 'stack', code: { entry: fixture }, handler: 'stack.handler' });
        const result = await rt.invoke('stack', {});
        expect(result.functionError, JSON.stringify(result.payload)).toBeUndefined();
        const node = (await baseline) as Record<string, unknown>;
        expect(node.api).toEqual(['function', 10]);
        expect(result.payload).toEqual(node);
      }));
  });
});
