/**
 * A component made runnable in JavaScript, once per code version: jco transpiles it (instantiation
 * mode, so every environment instantiates it with its own imports) into an ES module of glue plus
 * the core modules, which are compiled here — with the memory cap written in — once per memory
 * size. Cold starts only instantiate.
 *
 * What a deploy is refused for (InvalidParameterValueException, field `code`): bytes that are not a
 * component, a component that does not export lambdalet:function/handler@0.1.0 or whose handler
 * and types interfaces are not the world's (handle's parameters, the context and function-error
 * records: compared as jco types them, against the typings jco generates from native/wit), or one
 * importing an interface the host does not provide (sockets, HTTP...).
 */
import { InvalidParameterValueException } from '../../errors.ts';
import { exposeCoreHandle } from './core-handle.ts';
import { declaredMemories, exportMemories, limitMemories, MemoryCapError, planMemories, WASM_PAGE_BYTES } from './memory-cap.ts';
import { transpileOffThread, type TranspileOutput } from './transpile-thread.ts';
import { PROVIDED_IMPORTS } from './worker/wasi-imports.ts';

/** The interface a function component must export (native/wit/function.wit). */
export const HANDLER_INTERFACE = 'lambdalet:function/handler@0.1.0';
const MIB = 1024 * 1024;

export interface TranspiledComponent {
  /**
   * jco's glue as the body of a function returning its `instantiate` (see {@link glueBody}): an
   * engine server evaluates it once per code version (glue.ts) and instantiates every environment
   * of that version with it.
   */
  readonly glue: string;
  /** Core modules' bytes by the name the glue asks for. */
  readonly cores: ReadonlyMap<string, Uint8Array>;
  /** How many times the glue instantiates each core module, by name (see {@link coreInstantiations}). */
  readonly instantiations: ReadonlyMap<string, number>;
  /** How long jco took, in ms (for deploy figures). */
  readonly transpileMs: number;
}

/** A component's preamble: \0asm, version 0x0d, layer 1. */
export function isComponent(bytes: Uint8Array): boolean {
  const preamble = [0x00, 0x61, 0x73, 0x6d, 0x0d, 0x00, 0x01, 0x00];
  return bytes.length >= 8 && preamble.every((byte, i) => bytes[i] === byte);
}

const oneLine = (text: string): string => text.replaceAll('\n', ' ');

function refuse(message: string): InvalidParameterValueException {
  return new InvalidParameterValueException('code', message);
}

/** Transpiles `bytes`; throws InvalidParameterValueException for what a deploy must refuse. */
export async function transpileComponent(bytes: Uint8Array): Promise<TranspiledComponent> {
  if (!isComponent(bytes)) {
    const core = bytes.length >= 8 && bytes[4] === 1 && bytes[0] === 0;
    throw refuse(
      core
        ? 'code.component is a core WebAssembly module, not a component: adapt it with `wasm-tools component new --adapt` (see docs/wasm.md)'
        : 'code.component is not a WebAssembly component (expected the preamble \\0asm 0d 00 01 00)',
    );
  }
  const started = performance.now();
  let result: TranspileOutput;
  try {
    result = await transpileOffThread(bytes);
  } catch (error) {
    throw refuse(`code.component could not be transpiled: ${(error as Error).message}`);
  }
  const unsupported = result.imports.filter((name) => !PROVIDED_IMPORTS.includes(name.replace(/@[^@/]*$/, '')));
  if (unsupported.length > 0) throw refuse(`code.component imports what the wasm engine does not provide: ${unsupported.join(', ')}`);
  const exported = result.exports.map(([name]) => name);
  if (!exported.includes(HANDLER_INTERFACE)) {
    throw refuse(
      `code.component does not implement the world lambdalet:function/function@0.1.0: it exports ${exported.length ? exported.join(', ') : 'nothing'}, not ${HANDLER_INTERFACE}`,
    );
  }
  // The export's name is not enough: its functions and records must be the world's (a component
  // exporting handler@0.1.0 with `handle: func(event: string) -> string` ran, and answered, before).
  if (result.typings !== result.worldTypings) {
    throw refuse(
      `code.component does not implement the world lambdalet:function/function@0.1.0: its ${HANDLER_INTERFACE} differs from the world's. ` +
        `The component's, as TypeScript: ${oneLine(result.typings)}. The world's: ${oneLine(result.worldTypings)}`,
    );
  }
  const cores = new Map<string, Uint8Array>();
  let glue: string | undefined;
  for (const [name, file] of Object.entries(result.files)) {
    if (name.endsWith('.wasm')) cores.set(name, file);
    else if (name === 'component.js') glue = Buffer.from(file).toString('utf8');
  }
  if (glue === undefined) throw new Error('lambdalet bug: jco produced no component.js');
  // jco's debug logging reads process.env.JCO_DEBUG on every call into and out of the component
  // (a native property lookup each time); the worker never sets it, so the check is dropped.
  glue = glue.replace('if (!globalThis?.process?.env?.JCO_DEBUG) { return; }', 'return;');
  return { glue: glueBody(exposeCoreHandle(glue)), cores, instantiations: coreInstantiations(glue, [...cores.keys()]), transpileMs: performance.now() - started };
}

/**
 * How many times jco's glue instantiates each core module: it names each module once
 * (`const module3 = getCoreModule('component.core4.wasm')`) and instantiates the component's core
 * instances one statement each (`instantiateCore(yield module3, ...)`, nested components flattened,
 * no loops), so a module instantiated K times appears K times. The memory plan reserves memory for
 * every one of them (memory-cap.ts planMemories); the instance also refuses an instantiation past
 * the cap when it happens (component-instance.ts), so a miscount cannot let memories exceed it.
 * @throws Error (a lambdalet bug) when jco's output no longer has that shape.
 */
export function coreInstantiations(glue: string, names: readonly string[]): Map<string, number> {
  const moduleNames = new Map<string, string>();
  for (const [, variable, name] of glue.matchAll(/\bconst (module\d+) = getCoreModule\('([^'\\]+)'\)/g)) moduleNames.set(variable!, name!);
  const counts = new Map(names.map((name) => [name, 0]));
  const calls = glue.match(/\binstantiateCore\(/g)?.length ?? 0;
  let counted = 0;
  for (const [, variable] of glue.matchAll(/\binstantiateCore\((?:yield|await) (module\d+)\b/g)) {
    const name = moduleNames.get(variable!);
    if (name === undefined || !counts.has(name)) throw new Error(`lambdalet bug: jco's glue instantiates ${variable}, which names no core module`);
    counts.set(name, counts.get(name)! + 1);
    counted++;
  }
  if (counted !== calls) throw new Error(`lambdalet bug: jco's glue instantiates core modules in a way not understood (${calls} calls, ${counted} read)`);
  return counts;
}

/**
 * jco's glue module (`export function instantiate(...)`, `export const _util`, no imports) as a
 * function body returning `instantiate`. Evaluated with `vm.compileFunction` instead of imported as a
 * `data:` module: a module stays in the ES loader's cache for the life of the thread, and an engine
 * server lives as long as the process, across every code version it ever ran.
 * @throws Error (a lambdalet bug) when jco's output no longer has that shape.
 */
export function glueBody(module: string): string {
  const body = module
    .replace(/^export function instantiate\(/m, 'function instantiate(')
    .replace(/^export const _util\b/m, 'const _util')
    // Only read when instantiate() is given no getCoreModule (to fetch the core modules beside the
    // glue); the servers always give one.
    .replaceAll('import.meta.url', "'lambdalet:no-module-url/'");
  if (/^(export|import)\b|import\.meta|\bimport\(/m.test(body) || !body.includes('function instantiate(')) {
    throw new Error("lambdalet bug: jco's glue is not one exported instantiate() without imports");
  }
  return `'use strict';\n${body}\nreturn instantiate;`;
}

/**
 * The core modules compiled with maxima whose sum over every memory of every core instance is
 * `memoryMb` at most (memory-cap.ts planMemories), and those maxima.
 * @throws InvalidParameterValueException when the component's memories cannot fit in the cap.
 */
export async function compilePlanned(component: TranspiledComponent, memoryMb: number): Promise<CompiledComponent> {
  const capPages = (memoryMb * MIB) / WASM_PAGE_BYTES;
  const capped = (() => {
    try {
      // The largest module first: between equally large minimums, the heap is the program's memory.
      const bySize = [...component.cores].sort(([, a], [, b]) => b.length - a.length);
      const plan = planMemories(new Map(bySize.map(([name, bytes]) => [name, declaredMemories(bytes)])), component.instantiations, capPages);
      const modules = [...component.cores].map(([name, bytes]) => {
        const maxima = plan.maxima.get(name)!;
        return { name, module: exportMemories(limitMemories(bytes, maxima), maxima.length) };
      });
      return { modules, memoryMaxPages: Object.fromEntries(plan.maxima) };
    } catch (error) {
      if (error instanceof MemoryCapError) throw new InvalidParameterValueException('memoryMb', `${error.message} (memoryMb ${memoryMb})`);
      throw error;
    }
  })();
  // Each defined memory is also exported, so that the instance sees every one and reports their
  // total (Max Memory Used) and checks it after every call (component-instance.ts).
  const entries = await Promise.all(
    capped.modules.map(async ({ name, module }) => {
      try {
        return [name, await WebAssembly.compile(module)] as const;
      } catch (error) {
        throw refuse(`code.component's core module ${name} does not compile: ${(error as Error).message}`);
      }
    }),
  );
  return { modules: Object.fromEntries(entries), memoryMaxPages: capped.memoryMaxPages };
}

/** {@link compilePlanned}'s modules alone. */
export async function compileCapped(component: TranspiledComponent, memoryMb: number): Promise<Record<string, WebAssembly.Module>> {
  return (await compilePlanned(component, memoryMb)).modules;
}

/** A component's core modules compiled for one memory size ({@link compilePlanned}). */
export interface CompiledComponent {
  readonly modules: Record<string, WebAssembly.Module>;
  /** Per core module: each defined memory's maximum, in pages (memory-cap.ts MemoryPlan). */
  readonly memoryMaxPages: Record<string, readonly number[]>;
}
