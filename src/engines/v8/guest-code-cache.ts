/**
 * A V8 code cache for the guest runtime that holds its functions' bytecode, not just its top level.
 *
 * V8 compiles functions lazily, and a code cache made right after compiling (isolated-vm's
 * `produceCachedData`) holds only what was compiled eagerly: every new isolate then compiles the
 * guest's dispatch, invoke and reply paths again on its first invocation (~0.9 ms of a cold start
 * here). So the guest runs once, in a scratch isolate, through INIT and an invocation of a
 * lambdalet-owned module (never user code); compiling the same source again in that isolate hits
 * V8's compilation cache and returns the now-compiled script, whose cache holds those functions too.
 */
import type ivm from 'isolated-vm';
import { encodeMessage, type HostMessage } from '../guest/protocol.ts';

/** A module that walks the guest's common paths: console formatting, context, timers, JSON. */
const WARMUP_MODULE = `(async function () { "use strict";
  const handler = async (event, context) => {
    console.log('warm-up', { event, arn: context.invokedFunctionArn }, [1, 'two']);
    setTimeout(() => {}, 0);
    return { echoed: event, remaining: context.getRemainingTimeInMillis() > 0 };
  };
  return { handler };
})`;

/** INIT of the warm-up module, an invocation, and the event loop's status, tick and drain (also snapshot.ts snapshotWarmUp's). */
export function warmupMessages(): HostMessage[] {
  return [
    {
      type: 'init',
      env: { WARM: '1' },
      handler: 'index.handler',
      handlerPath: ['handler'],
      runtime: 'nodejs22.x',
      context: {
        functionName: 'warm-up',
        functionVersion: '$LATEST',
        invokedFunctionArn: 'arn:aws:lambda:us-east-1:123456789012:function:warm-up',
        memoryLimitInMB: '128',
        logGroupName: '/aws/lambda/warm-up',
        logStreamName: 'warm-up',
      },
    },
    { type: 'status' },
    { type: 'invoke', requestId: 'warm-up', deadlineMs: Date.now() + 10_000, extras: '', event: '{"name":"warm-up"}' },
    { type: 'status' },
    { type: 'tick' },
    { type: 'drain' },
    { type: 'status' },
  ];
}

/**
 * Returns a code cache of `code` (the guest runtime) made after a warm-up run, or the plain
 * compile-time cache if the warm-up fails for any reason (the cache is only an optimisation).
 */
export function warmGuestCodeCache(
  ivmModule: typeof ivm,
  code: string,
  filename: string,
): ivm.ExternalCopy<ArrayBuffer> | undefined {
  const scratch = new ivmModule.Isolate({ memoryLimit: 64 });
  try {
    const produce = (): ivm.ExternalCopy<ArrayBuffer> | undefined =>
      (scratch.compileScriptSync(code, { filename, produceCachedData: true }) as ivm.Script & ivm.CachedDataResult)
        .cachedData;
    try {
      const context = scratch.createContextSync();
      const install = scratch.compileScriptSync(code, { filename }).runSync(context, { reference: true, timeout: 5000 }) as ivm.Reference<
        (log: unknown, userModule: unknown) => unknown
      >;
      const userModule = scratch.compileScriptSync(WARMUP_MODULE).runSync(context, { reference: true, timeout: 5000 }) as ivm.Reference<
        () => Promise<unknown>
      >;
      const dispatch = install.applySync(undefined, [new ivmModule.Callback(() => {}, { ignored: true }), userModule.derefInto()], {
        result: { reference: true },
      }) as unknown as ivm.Reference<(type: string, body: string) => string>;
      for (const message of warmupMessages()) dispatch.applySync(undefined, encodeMessage(message), { timeout: 5000 });
    } catch {
      // Fall through: the cache made now still holds whatever was compiled.
    }
    return produce();
  } catch {
    return undefined;
  } finally {
    scratch.dispose();
  }
}
