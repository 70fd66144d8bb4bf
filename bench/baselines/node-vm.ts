/**
 * node:vm: createContext + runInContext of the handler, called directly. NOT a security boundary
 * (Node's own documentation says so): the handler shares the host's heap, event loop and process,
 * objects cross by reference, and escaping the context is a one-liner. It is here as the floor of
 * "run code in another global scope", not as an alternative.
 */
import vm from 'node:vm';
import type { HandlerCode } from '../lib/handlers.ts';
import type { Baseline, BaselineEnv } from './baseline.ts';

export const NODE_VM_WARNING = 'node-vm baselines use node:vm, which is NOT a security boundary: fast because nothing is isolated.';

export const nodeVm: Baseline = {
  name: 'node-vm',
  async boot(code: HandlerCode): Promise<BaselineEnv> {
    const context = vm.createContext({});
    const fn = vm.runInContext(code.script, context) as (e: unknown) => Promise<unknown>;
    return { call: (event) => fn(event), dispose: () => {} };
  },
};
