/**
 * The parts of the WebAssembly JS API the wasm engine uses. TypeScript ships them only in its DOM
 * and webworker libs, which this Node project does not load; Node provides them at run time.
 */
/* eslint-disable no-var, @typescript-eslint/no-empty-object-type -- ambient declarations in lib.dom's shape */
declare global {
  namespace WebAssembly {
    interface Module {}
    var Module: { prototype: Module; new (bytes: BufferSource): Module; exports(module: Module): { readonly name: string; readonly kind: string }[] };
    type ImportValue = unknown;
    type Imports = Record<string, Record<string, ImportValue>>;
    interface Instance {
      readonly exports: Record<string, unknown>;
    }
    var Instance: { prototype: Instance; new (module: Module, imports?: Imports): Instance };
    interface Memory {
      readonly buffer: ArrayBuffer;
      grow(delta: number): number;
    }
    var Memory: { prototype: Memory; new (descriptor: { initial: number; maximum?: number }): Memory };
    interface RuntimeError extends Error {}
    var RuntimeError: { prototype: RuntimeError; new (message?: string): RuntimeError };
    function compile(bytes: BufferSource): Promise<Module>;
  }
}

export {};
