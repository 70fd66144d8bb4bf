/**
 * One component instance: instantiated from a code version's evaluated glue and compiled core
 * modules with its environment's WASI capabilities, then `handler.handle` per invocation. Runs
 * inside an engine server's worker thread (remote/server.ts), never on the host's thread.
 *
 * Every outcome is classified here: the `err` case of handle's result (the environment lives on),
 * a malformed ok value, or a fault (a trap, out of memory, a throw from the glue) that makes the
 * instance unusable.
 */
import { RESPONSE_PAYLOAD_MAX_BYTES } from '../../config/limits.ts';
import { malformedResponse } from '../../invoke/malformed-response.ts';
import { callCoreHandle, CORE_HANDLE, type CorePieces, type HandleContext } from './core-handle.ts';
import { memoryExportName, WASM_PAGE_BYTES } from './memory-cap.ts';
import { componentImports, type BrowserShim, type ComponentImports } from './worker/wasi-imports.ts';

const HANDLER = 'lambdalet:function/handler@0.1.0';
const MIB = 1024 * 1024;

/** jco's `instantiate` (instantiation mode; synchronous with a synchronous `instantiateCore`). */
export type Instantiate = (
  getCoreModule: (name: string) => WebAssembly.Module,
  imports: Record<string, object>,
  instantiateCore: (module: WebAssembly.Module, imports?: WebAssembly.Imports) => WebAssembly.Instance,
) => Promise<Record<string, unknown>> | Record<string, unknown>;


/** A finished call. */
export type Outcome =
  | { readonly t: 'ok'; readonly payload: string }
  /** The guest's own error (`err` of handle's result, or a malformed ok value): the instance lives on. */
  | { readonly t: 'error'; readonly errorType: string; readonly errorMessage: string }
  /** The instance is unusable (a trap, out of memory, instantiation failed): discard it. */
  | { readonly t: 'fault'; readonly kind: 'crashed' | 'out-of-memory'; readonly message: string };

interface Handler {
  handle(event: string, context: object): string;
  /** Added by core-handle.ts's glue patch: the core pieces, for a direct call. */
  readonly [CORE_HANDLE]?: () => CorePieces;
}

export interface InstanceOptions {
  readonly instantiate: Instantiate;
  readonly modules: Readonly<Record<string, WebAssembly.Module>>;
  /** Per core module (by name), each defined memory's maximum in pages: one instantiation may hold their sum. */
  readonly memoryMaxPages: Readonly<Record<string, readonly number[]>>;
  /** The memories' maxima sum to this at most (transpile.ts compilePlanned); an instantiation that would pass it is refused. */
  readonly memoryCapBytes: number;
  readonly shim: BrowserShim;
  readonly env: Readonly<Record<string, string>>;
  readonly hostCall: (op: string, args: string) => string;
  readonly log: (level: string, message: string) => void;
}

export class ComponentInstance {
  readonly #capBytes: number;
  readonly #memories = new Set<WebAssembly.Memory>();
  /** Each memory the instance defines that can grow: its maximum and its size at instantiation, in bytes. */
  readonly #growable = new Map<WebAssembly.Memory, { readonly max: number; readonly initial: number }>();
  #handler: Handler | undefined;
  #core: CorePieces | undefined;
  #io: ComponentImports | undefined;

  private constructor(capBytes: number) {
    this.#capBytes = capBytes;
  }

  /** INIT: instantiates (a reactor's constructors, a JS component's top level run here). */
  static async create(options: InstanceOptions): Promise<{ readonly instance: ComponentInstance; readonly outcome: Outcome }> {
    const instance = new ComponentInstance(options.memoryCapBytes);
    return { instance, outcome: await instance.#instantiate(options) };
  }

  async #instantiate(options: InstanceOptions): Promise<Outcome> {
    const io = componentImports(options.shim, options.env, options.hostCall, options.log, options.memoryCapBytes);
    this.#io = io;
    const maxima = new Map(Object.entries(options.modules).map(([name, module]) => [module, options.memoryMaxPages[name]]));
    const capPages = options.memoryCapBytes / WASM_PAGE_BYTES;
    let reserved = 0;
    try {
      const exports = await options.instantiate(
        (name) => {
          const module = options.modules[name];
          if (!module) throw new Error(`the component has no core module ${name}`);
          return module;
        },
        io.imports,
        (module, imports) => {
          // The plan counted this instantiation (jco's glue, transpile.ts coreInstantiations); if the
          // glue instantiates more than it said, the memories' maxima could sum past the cap.
          const moduleMaxima = maxima.get(module);
          if (moduleMaxima === undefined) throw new Error('lambdalet bug: the glue instantiates a core module it was not given');
          reserved += moduleMaxima.reduce((sum, pages) => sum + pages, 0);
          if (reserved > capPages) throw new MemoryPlanExceeded(reserved, capPages);
          const core = new WebAssembly.Instance(module, imports);
          moduleMaxima.forEach((pages, index) => {
            const memory = core.exports[memoryExportName(index)];
            if (!(memory instanceof WebAssembly.Memory)) return;
            const initial = memory.buffer.byteLength;
            if (pages * WASM_PAGE_BYTES > initial) this.#growable.set(memory, { max: pages * WASM_PAGE_BYTES, initial });
          });
          for (const value of Object.values(core.exports)) if (value instanceof WebAssembly.Memory) this.#memories.add(value); // once, however many names it has
          return core;
        },
      );
      const exported = (exports[HANDLER] ?? exports.handler) as Handler | undefined;
      if (typeof exported?.handle !== 'function') return { t: 'fault', kind: 'crashed', message: `the component does not export ${HANDLER}` };
      this.#handler = exported;
      this.#core = exported[CORE_HANDLE]?.();
      return { t: 'ok', payload: 'null' };
    } catch (error) {
      return this.#fault(error);
    } finally {
      this.#flush();
    }
  }

  /** Whether calls go to the core export directly (core-handle.ts), not through jco's glue. */
  get direct(): boolean {
    return this.#core !== undefined;
  }

  /** Linear memory held now, in bytes (every memory of the instance). */
  memoryBytes(): number {
    let sum = 0;
    for (const memory of this.#memories) sum += memory.buffer.byteLength;
    return sum;
  }

  /** One invocation: `handler.handle(event, context)`. */
  handle(event: string, context: HandleContext): Outcome {
    const handler = this.#handler;
    if (!handler) return { t: 'fault', kind: 'crashed', message: 'the component was not initialised' };
    let payload: string;
    try {
      if (this.#core) {
        const result = callCoreHandle(this.#core, event, context);
        if (!result.ok) return { t: 'error', errorType: result.errorType, errorMessage: result.errorMessage };
        payload = result.value;
      } else {
        payload = handler.handle(event, {
          requestId: context.requestId,
          functionName: context.functionName,
          functionVersion: context.functionVersion,
          invokedFunctionArn: context.invokedFunctionArn,
          memoryLimitMb: context.memoryLimitMb,
          deadlineMs: BigInt(context.deadlineMs),
        });
      }
    } catch (error) {
      return functionError(error) ?? this.#fault(error);
    } finally {
      this.#flush();
    }
    if (this.memoryBytes() > this.#capBytes) return { t: 'fault', kind: 'out-of-memory', message: 'out of memory' };
    // Longer than Lambda's response limit in UTF-16 units is longer in UTF-8 bytes too: only enough
    // of it crosses to the host for the environment to answer Function.ResponseSizeTooLarge.
    if (payload.length > RESPONSE_PAYLOAD_MAX_BYTES) return { t: 'ok', payload: payload.slice(0, RESPONSE_PAYLOAD_MAX_BYTES + 1) };
    try {
      JSON.parse(payload);
    } catch (error) {
      return { t: 'error', ...malformedResponse(payload, error as Error) };
    }
    return { t: 'ok', payload };
  }

  /** Whether a memory that could grow has grown to within 1 MiB of its maximum. */
  #nearMaximum(): boolean {
    for (const [memory, { max, initial }] of this.#growable) if (memory.buffer.byteLength > initial && memory.buffer.byteLength + MIB > max) return true;
    return false;
  }

  #flush(): void {
    this.#io?.stdout.flush();
    this.#io?.stderr.flush();
  }

  /** A trap or an unexpected throw: the instance is unusable. At the memory cap it is out of memory. */
  #fault(error: unknown): Outcome {
    if (error instanceof MemoryPlanExceeded) return { t: 'fault', kind: 'out-of-memory', message: error.message };
    // malloc fails once memory.grow is refused at a memory's maximum; C then aborts (an
    // `unreachable` trap). The maxima sum to the cap, so a full heap is out of memory even while
    // the other memories leave the total short of it.
    if (this.memoryBytes() + MIB > this.#capBytes || this.#nearMaximum() || (error instanceof RangeError && /memory/i.test(error.message))) {
      return { t: 'fault', kind: 'out-of-memory', message: 'out of memory' };
    }
    if (error instanceof WebAssembly.RuntimeError) {
      return { t: 'fault', kind: 'crashed', message: error.message.startsWith('wasm trap') ? error.message : `wasm trap: ${error.message}` };
    }
    const text = error instanceof Error ? `${error.name}: ${error.message}` : String(error);
    return { t: 'fault', kind: 'crashed', message: text };
  }
}

/** An instantiation refused: its memories' maxima would take the instance's total past the cap. */
class MemoryPlanExceeded extends Error {
  constructor(reservedPages: number, capPages: number) {
    super(`out of memory: the component's core instances would reserve ${reservedPages * 64} KiB of linear memory, more than the cap of ${capPages * 64} KiB`);
    this.name = 'MemoryPlanExceeded';
  }
}

/**
 * The `err` case of handle's result, as jco throws it: the record itself, or (older jco, or with
 * error wrapping) a ComponentError whose `payload` is the record. Anything else is a fault.
 */
function functionError(error: unknown): Outcome | undefined {
  if (error instanceof WebAssembly.RuntimeError) return undefined;
  const record = error instanceof Error ? (error as { payload?: unknown }).payload : error;
  if (typeof record !== 'object' || record === null || !('errorType' in record) || !('errorMessage' in record)) return undefined;
  return { t: 'error', errorType: String(record.errorType), errorMessage: String(record.errorMessage) };
}
