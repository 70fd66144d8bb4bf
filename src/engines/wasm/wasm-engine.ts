/**
 * The `wasm` engine: WebAssembly components of lambdalet:function@0.1.0 (native/wit/), run through
 * jco. Per code version: transpiled once (transpile.ts), core modules compiled once per memory size
 * with the cap written in, and a pool of worker threads already holding them (worker-host.ts). Per
 * environment: one worker and one instance, its own WASI capabilities (/tmp from the environment's
 * vfs, its env vars, its log), terminated at the deadline.
 */
import type { FunctionBundle } from '../../code/types.ts';
import { InvalidParameterValueException } from '../../errors.ts';
import type { Blueprint, Engine, Sandbox, SandboxOptions } from '../engine.ts';
import { compileCapped, transpileComponent, type TranspiledComponent } from './transpile.ts';
import { WasmSandbox } from './wasm-sandbox.ts';
import { WorkerPool } from './worker-host.ts';

export interface WasmEngineOptions {
  /**
   * Workers kept loaded (glue imported, modules received) per code version and memory size, so a
   * cold start only instantiates. Each idle one costs a Node worker's memory. Default 1; 0 spawns a
   * worker per cold start (tens of ms).
   */
  readonly spares?: number;
}

/** Code versions whose transpiled form is kept (least recently deployed dropped first). */
const TRANSPILED_CACHE_SIZE = 32;
const MIB = 1024 * 1024;

export class WasmEngine implements Engine {
  readonly name = 'wasm' as const;
  readonly #spares: number;
  readonly #transpiled = new Map<string, Promise<TranspiledComponent>>();

  constructor(options: WasmEngineOptions = {}) {
    this.#spares = options.spares ?? 1;
  }

  assertAvailable(): void {
    // Plain WebAssembly and worker_threads: always available on Node >= 24.
  }

  /**
   * Transpiles the component once per code version (cached by its sha256) and, given the memory
   * size, compiles its core modules and loads the spare workers before returning.
   * @throws InvalidParameterValueException for bytes that are not a component of the world.
   */
  async prepare(bundle: FunctionBundle, hints?: { readonly memoryMb?: number }): Promise<Blueprint> {
    const bytes = bundle.component;
    if (bytes === undefined) throw new InvalidParameterValueException('code', "engine 'wasm' runs code.component or code.entry");
    const blueprint = new WasmBlueprint(await this.#transpile(bundle.hash, bytes), this.#spares);
    if (hints?.memoryMb !== undefined) await blueprint.warm(hints.memoryMb);
    return blueprint;
  }

  #transpile(hash: string, bytes: Uint8Array): Promise<TranspiledComponent> {
    let cached = this.#transpiled.get(hash);
    if (cached) {
      this.#transpiled.delete(hash);
    } else {
      cached = transpileComponent(bytes);
      cached.catch(() => this.#transpiled.delete(hash));
    }
    this.#transpiled.set(hash, cached);
    while (this.#transpiled.size > TRANSPILED_CACHE_SIZE) this.#transpiled.delete(this.#transpiled.keys().next().value!);
    return cached;
  }
}

export class WasmBlueprint implements Blueprint {
  readonly engine = 'wasm' as const;
  readonly component: TranspiledComponent;
  readonly #spares: number;
  readonly #pools = new Map<number, Promise<WorkerPool>>();

  constructor(component: TranspiledComponent, spares: number) {
    this.component = component;
    this.#spares = spares;
  }

  /** Compiles for `memoryMb` and starts the spare workers; resolves once the first is loaded. */
  async warm(memoryMb: number): Promise<void> {
    await (await this.#pool(memoryMb)).ready();
  }

  #pool(memoryMb: number): Promise<WorkerPool> {
    let pool = this.#pools.get(memoryMb);
    if (!pool) {
      pool = compileCapped(this.component, memoryMb).then(
        (modules) => new WorkerPool({ glue: this.component.glue, modules, memoryCapBytes: memoryMb * MIB }, this.#spares),
      );
      pool.catch(() => this.#pools.delete(memoryMb));
      this.#pools.set(memoryMb, pool);
    }
    return pool;
  }

  async boot(options: SandboxOptions): Promise<Sandbox> {
    const pool = await this.#pool(options.memoryMb);
    return new WasmSandbox(await pool.take(), options);
  }

  /** Terminates the spare workers (environments already booted keep theirs). */
  async close(): Promise<void> {
    for (const pool of this.#pools.values()) (await pool.catch(() => undefined))?.close();
    this.#pools.clear();
  }
}
