/**
 * Engines by name. Each is created on first use, so a runtime whose functions never ask for an
 * engine never loads it (isolated-vm is a native addon; later engines bring WASM blobs).
 */
import type { EngineName } from '../config/index.ts';
import type { Engine } from './engine.ts';
import { V8Engine } from './v8/v8-engine.ts';

const factories: Record<EngineName, () => Engine> = {
  v8: () => new V8Engine(),
};

export class EngineRegistry {
  readonly #engines = new Map<EngineName, Engine>();

  get(name: EngineName): Engine {
    let engine = this.#engines.get(name);
    if (!engine) {
      engine = factories[name]();
      this.#engines.set(name, engine);
    }
    return engine;
  }
}
