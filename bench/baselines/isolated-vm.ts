/** Raw isolated-vm: new Isolate + createContext + eval of the handler; warm = Reference.apply. */
import ivm from 'isolated-vm';
import { MEMORY_MB, type HandlerCode } from '../lib/handlers.ts';
import type { Baseline, BaselineEnv } from './baseline.ts';

const COPY_IN_OUT = { arguments: { copy: true }, result: { copy: true, promise: true } } as const;

export const rawIsolatedVm: Baseline = {
  name: 'raw-isolated-vm',
  async boot(code: HandlerCode): Promise<BaselineEnv> {
    const isolate = new ivm.Isolate({ memoryLimit: MEMORY_MB });
    const context = await isolate.createContext();
    const fn = (await context.eval(code.script, { reference: true })) as ivm.Reference<(e: unknown) => Promise<unknown>>;
    return {
      // The event is copied in (structured clone) and the answer copied out, promise awaited.
      call: (event) => fn.apply(undefined, [event], COPY_IN_OUT),
      dispose: () => {
        if (!isolate.isDisposed) isolate.dispose();
      },
    };
  },
};

/** One bare host → isolate call of `function () {}`: the floor for any warm invoke. */
export async function rawApplyNoop(): Promise<{ call: () => Promise<unknown>; dispose: () => void }> {
  const isolate = new ivm.Isolate({ memoryLimit: MEMORY_MB });
  const context = await isolate.createContext();
  const noop = (await context.eval('(function () {})', { reference: true })) as ivm.Reference<() => void>;
  return { call: () => noop.apply(), dispose: () => isolate.dispose() };
}
