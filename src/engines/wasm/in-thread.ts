/**
 * The wasm engine as an engine server (remote/server.ts) runs it, inside a worker thread: a code
 * version arrives once per server as a {@link WasmDefinition} (its glue's source and its core
 * modules, compiled by the host thread once per memory size and shared by postMessage, never
 * recompiled here); every environment of it is then one more instance in this thread.
 *
 * The glue is evaluated (vm.compileFunction) once per component (by sha256) per thread and kept for the
 * {@link GLUE_CACHE_SIZE} most recently defined components.
 */
import { compileFunction } from 'node:vm';
import type { Blueprint, SandboxOptions } from '../engine.ts';
import type { Instantiate } from './component-instance.ts';
import { MEMORY_EXPORT_PREFIX, WASM_PAGE_BYTES } from './memory-cap.ts';
import { WasmSandbox } from './wasm-sandbox.ts';
import { loadShim } from './worker/wasi-imports.ts';

/** What the host sends a server for one code version at one memory size (remote/protocol.ts `define`). */
export interface WasmDefinition {
  /** The component's sha256: the glue cache's key. */
  readonly hash: string;
  /** jco's glue as a function body returning `instantiate` (transpile.ts glueBody). */
  readonly glue: string;
  /** Core modules by the name the glue asks for, compiled with memory maxima summing to `memoryCapBytes` at most (transpile.ts compilePlanned). */
  readonly modules: Readonly<Record<string, WebAssembly.Module>>;
  /**
   * Per core module, each defined memory's maximum in pages (compilePlanned). Without it (a
   * definition made by hand) each memory a module exports to the host counts as the whole cap.
   */
  readonly memoryMaxPages?: Readonly<Record<string, readonly number[]>>;
  readonly memoryCapBytes: number;
}

/** Maxima for a definition made without them: each memory a module exports to the host as the whole cap. */
function wholeCapPerMemory(definition: WasmDefinition): Record<string, number[]> {
  const capPages = definition.memoryCapBytes / WASM_PAGE_BYTES;
  const memories = (module: WebAssembly.Module): number => WebAssembly.Module.exports(module).filter(({ name }) => name.startsWith(MEMORY_EXPORT_PREFIX)).length;
  return Object.fromEntries(Object.entries(definition.modules).map(([name, module]) => [name, new Array<number>(memories(module)).fill(capPages)]));
}

/** Components whose evaluated glue a server keeps (least recently defined dropped first). */
export const GLUE_CACHE_SIZE = 32;

export class InThreadWasm {
  readonly #glues = new Map<string, Instantiate>();

  /** A blueprint whose boots make sandboxes in this thread. */
  async prepare(definition: WasmDefinition): Promise<Blueprint> {
    const shim = await loadShim();
    const code = {
      instantiate: this.#glue(definition),
      modules: definition.modules,
      memoryMaxPages: definition.memoryMaxPages ?? wholeCapPerMemory(definition),
      memoryCapBytes: definition.memoryCapBytes,
      shim,
    };
    return {
      engine: 'wasm',
      boot: (options: SandboxOptions) => Promise.resolve(new WasmSandbox(code, options)),
    };
  }

  #glue(definition: WasmDefinition): Instantiate {
    let instantiate = this.#glues.get(definition.hash);
    if (instantiate) this.#glues.delete(definition.hash);
    // jco's output, made by the host (transpile.ts); named in stack traces by the component's hash.
    else instantiate = (compileFunction(definition.glue, [], { filename: `lambdalet:wasm-glue/${definition.hash}` }) as () => Instantiate)();
    this.#glues.set(definition.hash, instantiate);
    while (this.#glues.size > GLUE_CACHE_SIZE) this.#glues.delete(this.#glues.keys().next().value!);
    return instantiate;
  }
}
