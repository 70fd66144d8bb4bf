/**
 * The `wasm` engine: WebAssembly components of lambdalet:function@0.1.0 (native/wit/), run through
 * jco. Per code version: transpiled once per process (transpile.ts, cached by sha256), core modules
 * compiled once per process and memory size with the cap written in. Per environment: one instance, living in one of a
 * shared pool of engine servers (worker threads, remote/): many environments share each thread, so
 * an idle environment costs its instance, not a thread. A code version is sent to a server once
 * (`define`: the glue and the compiled WebAssembly.Module objects, shared, never recompiled there).
 *
 * The deadline: a component in a tight loop cannot be interrupted from its own thread, so the host
 * terminates the server at the deadline (WorkerHost `exactDeadlines`): that invocation times out,
 * the server's other environments fail (`crashed`) and are replaced by cold starts, as the quickjs
 * pool does with a stuck worker; the host's thread never blocks.
 */
import { availableParallelism } from 'node:os';
import type { FunctionBundle } from '../../code/types.ts';
import { InvalidParameterValueException } from '../../errors.ts';
import type { Blueprint, Engine, Sandbox, SandboxOptions } from '../engine.ts';
import { EnginePool, type BlueprintDef } from '../remote/engine-pool.ts';
import { WorkerHost } from '../remote/worker-host.ts';
import { compilePlanned, transpileComponent, type CompiledComponent, type TranspiledComponent } from './transpile.ts';

export interface WasmEngineOptions {
  /** Worker threads hosting the component instances, shared by every runtime of the process asking for as many. Default: the host's available parallelism. */
  readonly threads?: number;
}

/** Code versions whose transpiled form is kept by the process (least recently used dropped first). */
const TRANSPILED_CACHE_SIZE = 32;
/** (code version, memory size) pairs whose compiled core modules are kept by the process. */
const COMPILED_CACHE_SIZE = 32;
const MIB = 1024 * 1024;

/**
 * Transpiled components by sha256 and compiled core modules by sha256 + memory size, shared by every
 * wasm engine (and runtime) of the process: a code version is transpiled, and compiled per memory
 * size, once per process. WebAssembly.Module objects are immutable and shared with the servers.
 */
const transpiled = new Map<string, Promise<TranspiledComponent>>();
const compiled = new Map<string, Promise<CompiledComponent>>();

/** `make()`'s promise under `key`, made once and kept while among the `size` most recently used; a rejection is not kept. */
function cachedIn<T>(cache: Map<string, Promise<T>>, size: number, key: string, make: () => Promise<T>): Promise<T> {
  let value = cache.get(key);
  if (value) cache.delete(key);
  else {
    const made = make();
    made.catch(() => {
      if (cache.get(key) === made) cache.delete(key);
    });
    value = made;
  }
  cache.set(key, value);
  while (cache.size > size) cache.delete(cache.keys().next().value!);
  return value;
}

/** Worker pools by thread count, shared by every wasm engine (and runtime) of the process. */
const pools = new Map<number, EnginePool>();

/** The process's pool of wasm engine servers with `threads` workers (created on first use). */
export function wasmWorkerPool(threads: number = availableParallelism()): EnginePool {
  let pool = pools.get(threads);
  if (!pool) {
    pool = new EnginePool(threads, (handlers) =>
      // No background servers: no call is weighed, so replies need not carry the guest's CPU time.
      WorkerHost.start({ quickjs: {}, precompileQuickJS: false, guestRuntime: false, exactDeadlines: true, guestCpuTime: false }, handlers),
    );
    pools.set(threads, pool);
  }
  return pool;
}

export class WasmEngine implements Engine {
  readonly name = 'wasm' as const;
  readonly pool: EnginePool;

  constructor(options: WasmEngineOptions = {}) {
    this.pool = wasmWorkerPool(options.threads);
  }

  assertAvailable(): void {
    // Plain WebAssembly and worker_threads: always available on Node >= 24.
  }

  /**
   * Transpiles the component once per code version (cached by its sha256) and, given the memory
   * size, compiles its core modules and hands them to the servers before returning.
   * @throws InvalidParameterValueException for bytes that are not a component of the world.
   */
  async prepare(bundle: FunctionBundle, hints?: { readonly memoryMb?: number }): Promise<Blueprint> {
    const bytes = bundle.component;
    if (bytes === undefined) throw new InvalidParameterValueException('code', "engine 'wasm' runs code.component or code.entry");
    const blueprint = new WasmBlueprint(await this.#transpile(bundle.hash, bytes), bundle, this.pool);
    if (hints?.memoryMb !== undefined) await blueprint.warm(hints.memoryMb);
    return blueprint;
  }

  #transpile(hash: string, bytes: Uint8Array): Promise<TranspiledComponent> {
    return cachedIn(transpiled, TRANSPILED_CACHE_SIZE, hash, () => transpileComponent(bytes));
  }
}

/** Servers forget a code version once nobody holds its blueprint. */
const forget = new FinalizationRegistry<{ pool: EnginePool; bps: number[] }>(({ pool, bps }) => {
  for (const bp of bps) pool.forget(bp);
});

export class WasmBlueprint implements Blueprint {
  readonly engine = 'wasm' as const;
  readonly component: TranspiledComponent;
  readonly #bundle: FunctionBundle;
  readonly #pool: EnginePool;
  /** Per memory size: the code version as the servers know it (compiled modules defined once). */
  readonly #defs = new Map<number, Promise<BlueprintDef>>();
  readonly #bps: number[] = [];

  constructor(component: TranspiledComponent, bundle: FunctionBundle, pool: EnginePool) {
    this.component = component;
    this.#bundle = bundle;
    this.#pool = pool;
    forget.register(this, { pool, bps: this.#bps });
  }

  /** Compiles for `memoryMb` and defines the code version in the running servers (at least one started). */
  async warm(memoryMb: number): Promise<void> {
    await this.#def(memoryMb);
  }

  #def(memoryMb: number): Promise<BlueprintDef> {
    let def = this.#defs.get(memoryMb);
    if (!def) {
      def = (async () => {
        const modules = cachedIn(compiled, COMPILED_CACHE_SIZE, `${this.#bundle.hash}:${memoryMb}`, () => compilePlanned(this.component, memoryMb));
        const [ready] = await Promise.all([modules, this.#pool.warm()]);
        const defined = this.#pool.define('wasm', this.#bundle, {
          hash: this.#bundle.hash,
          glue: this.component.glue,
          modules: ready.modules,
          memoryMaxPages: ready.memoryMaxPages,
          memoryCapBytes: memoryMb * MIB,
        });
        this.#bps.push(defined.bp);
        return defined;
      })();
      def.catch(() => this.#defs.delete(memoryMb));
      this.#defs.set(memoryMb, def);
    }
    return def;
  }

  async boot(options: SandboxOptions): Promise<Sandbox> {
    return this.#pool.boot(await this.#def(options.memoryMb), options);
  }

  /** Makes the servers forget this code version now (environments already booted keep their instances). */
  close(): void {
    for (const bp of this.#bps.splice(0)) this.#pool.forget(bp);
    this.#defs.clear();
  }
}
