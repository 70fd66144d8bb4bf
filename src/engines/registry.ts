/**
 * Engines by name. Each is created on first use, so a runtime whose functions never ask for an
 * engine never loads it: isolated-vm (a native addon, optional) is loaded by the v8 engine only
 * when a function deploys with it; the QuickJS WebAssembly module is compiled on first use; jco
 * (the wasm engine) is loaded when a component is first deployed.
 */
import type { EngineName } from '../config/index.ts';
import type { Engine } from './engine.ts';
import { QuickJSEngine, type QuickJSEngineOptions } from './quickjs/quickjs-engine.ts';
import { V8Engine } from './v8/v8-engine.ts';
import { WasmEngine, type WasmEngineOptions } from './wasm/wasm-engine.ts';

/** Per-engine options, from the runtime's options. */
export interface EngineRegistryOptions {
  readonly quickjs?: QuickJSEngineOptions;
  readonly wasm?: WasmEngineOptions;
}

export class EngineRegistry {
  readonly #engines = new Map<EngineName, Engine>();
  readonly #factories: Record<EngineName, () => Engine>;

  constructor(options: EngineRegistryOptions = {}) {
    this.#factories = {
      v8: () => new V8Engine(),
      quickjs: () => new QuickJSEngine(options.quickjs),
      wasm: () => new WasmEngine(options.wasm),
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
