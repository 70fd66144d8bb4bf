/**
 * context.invokedFunctionArn on every engine: "The Amazon Resource Name (ARN) that's used to invoke
 * the function. Indicates if the invoker specified a version number or alias." (Lambda developer
 * guide, "Using the Lambda context object to retrieve Node.js function information"). An
 * unqualified invoke sees the unqualified ARN; `name:1` and `name:live` see the qualified one.
 * The wasm engine reads it from the probe component's `context` action (native/c/probe.c).
 */
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { Runtime } from '../../src/index.ts';
import { ARN, taggedCode, withRt } from '../registry/helpers.ts';

const PROBE = join(import.meta.dirname, '../../native/components/probe.wasm');

const ENGINES = ['v8', 'quickjs', 'wasm'] as const;

async function seenArn(rt: Runtime, engine: (typeof ENGINES)[number], name: string): Promise<unknown> {
  const result = await rt.invoke(name, engine === 'wasm' ? 'context' : {});
  const payload = result.payload as { invokedFunctionArn?: string; arn?: string };
  return engine === 'wasm' ? payload.arn : payload.invokedFunctionArn;
}

describe('context.invokedFunctionArn', () => {
  for (const engine of ENGINES) {
    it(`${engine}: unqualified, version, alias and $LATEST invokes each see the ARN they were invoked by`, async () => {
      await withRt(async (rt) => {
        const code = engine === 'wasm' ? { component: PROBE } : taggedCode('v1');
        await rt.deploy({ name: 'f', engine, code });
        await rt.publishVersion('f');
        await rt.createAlias('f', 'live', { functionVersion: '1' });
        // The same warm environment serves `f:1` and `f:live` (one version, one pool): the ARN is per invocation.
        expect(await seenArn(rt, engine, 'f:1')).toBe(`${ARN}:f:1`);
        expect(await seenArn(rt, engine, 'f:live')).toBe(`${ARN}:f:live`);
        expect(await seenArn(rt, engine, 'f:1')).toBe(`${ARN}:f:1`);
        expect(await seenArn(rt, engine, 'f')).toBe(`${ARN}:f`);
        expect(await seenArn(rt, engine, 'f:$LATEST')).toBe(`${ARN}:f:$LATEST`);
        expect(await seenArn(rt, engine, 'f')).toBe(`${ARN}:f`);
      });
    });
  }
});
