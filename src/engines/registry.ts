/**
 * Engines by name. Each is created on first use, so a runtime whose functions never ask for an
 * engine never loads it: isolated-vm (a native addon, optional) is loaded by the v8 engine only
 * when a function deploys with it; the QuickJS WebAssembly module is compiled on first use.
 */
import type { EngineName } from '../config/index.ts';
import type { Engine } from './engine.ts';
import { QuickJSEngine, type QuickJSEngineOptions } from './quickjs/quickjs-engine.ts';
import { V8Engine } from './v8/v8-engine.ts';

/** Per-engine options, from the runtime's options. */
export interface EngineRegistryOptions {
  readonly quickjs?: QuickJSEngineOptions;
}

export class EngineRegistry {
  readonly #engines = new Map<EngineName, Engine>();
  readonly #factories: Record<EngineName, () => Engine>;

  constructor(options: EngineRegistryOptions = {}) {
    this.#factories = {
      v8: () => new V8Engine(),
      quickjs: () => new QuickJSEngine(options.quickjs),
    };
  }

  get(name: EngineName): Engine {
    let engine = this.#engines.get(name);
    if (!engine) {
      engine = this.#factories[name]();
      this.#engines.set(name, engine);
    }
    return engine;
  }
}
