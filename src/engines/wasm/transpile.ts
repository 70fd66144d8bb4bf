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
import { capMemories, exportMemories, MemoryCapError, WASM_PAGE_BYTES } from './memory-cap.ts';
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
  return { glue: glueBody(exposeCoreHandle(glue)), cores, transpileMs: performance.now() - started };
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
 * The core modules compiled with every defined memory capped at `memoryMb`.
 * @throws InvalidParameterValueException when the component needs more memory at start than the cap.
 */
export async function compileCapped(component: TranspiledComponent, memoryMb: number): Promise<Record<string, WebAssembly.Module>> {
  const maxPages = (memoryMb * MIB) / WASM_PAGE_BYTES;
  const capped = [...component.cores].map(([name, bytes]) => {
    try {
      const { module, memories } = capMemories(bytes, maxPages);
      return { name, module: exportMemories(module, memories) };
    } catch (error) {
      if (error instanceof MemoryCapError) throw new InvalidParameterValueException('memoryMb', `${error.message} (memoryMb ${memoryMb})`);
      throw error;
    }
  });
  // Each defined memory is capped at memoryMb (componentize-qjs components define two) and
  // exported, so that the instance sees every one and checks their total against memoryMb after
  // every call (component-instance.ts).
  const entries = await Promise.all(
    capped.map(async ({ name, module }) => {
      try {
        return [name, await WebAssembly.compile(module)] as const;
      } catch (error) {
        throw refuse(`code.component's core module ${name} does not compile: ${(error as Error).message}`);
      }
    }),
  );
  return Object.fromEntries(entries);
}
