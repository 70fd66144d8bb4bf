/**
 * An engine whose sandboxes live in a pool of engine servers (engine-pool.ts): the same seam as an
 * in-thread engine, every call already asynchronous. `prepare` registers the function's code with
 * the pool; the servers prepare it themselves (compiling, code caches) before their first boot.
 */
import type { FunctionBundle } from '../../code/types.ts';
import type { EngineName } from '../../config/index.ts';
import type { Blueprint, Engine } from '../engine.ts';
import type { EnginePool } from './engine-pool.ts';

export class RemoteEngine implements Engine {
  readonly name: EngineName;
  readonly #pool: () => EnginePool;
  readonly #check: () => void;
  /** A blueprint nobody holds any more is forgotten by the servers too. */
  readonly #forget = new FinalizationRegistry<{ pool: EnginePool; bp: number }>(({ pool, bp }) => pool.forget(bp));

  /**
   * @param pool the pool, created on first use
   * @param check throws EngineUnavailableError when the engine cannot run (asked before every prepare)
   */
  constructor(name: EngineName, pool: () => EnginePool, check: () => void = () => {}) {
    this.name = name;
    this.#pool = pool;
    this.#check = check;
  }

  assertAvailable(): void {
    this.#check();
  }

  async prepare(bundle: FunctionBundle): Promise<Blueprint> {
    this.#check();
    const pool = this.#pool();
    await pool.warm();
    const def = pool.define(this.name, bundle);
    const blueprint: Blueprint = {
      engine: this.name,
      boot: (options) => pool.boot(def, options),
      restore: (image, options, resume) => pool.restore(def, image, options, resume),
    };
    this.#forget.register(blueprint, { pool, bp: def.bp });
    return blueprint;
  }
}
