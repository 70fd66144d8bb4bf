/**
 * A baseline: the same handler code run by something other than lambdalet. `boot` makes one
 * environment (evaluates the handler script, so top-level work runs there); `call` invokes the
 * handler with an event and resolves to its answer as plain data; `dispose` ends the environment.
 * Cold cases time boot + first call; dispose always runs outside the timing, as lambdalet's does.
 */
import type { HandlerCode } from '../lib/handlers.ts';

export interface BaselineEnv {
  call(event: unknown): Promise<unknown>;
  dispose(): Promise<void> | void;
}

export interface Baseline {
  /** The last part of the case name: `raw-isolated-vm`, `node-vm`, ... */
  readonly name: string;
  boot(code: HandlerCode): Promise<BaselineEnv>;
}
