/**
 * `code: { component }` as the runtime's FunctionBundle: the component's bytes (read once, at
 * deploy, and copied so later edits by the caller change nothing) and their sha256 as the code
 * version's key. There is no script: the wasm engine transpiles the bytes.
 */
import { createHash } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import type { FunctionBundle } from '../../code/types.ts';
import type { CodeSource } from '../../code/types.ts';
import { InvalidParameterValueException } from '../../errors.ts';
import { bundleEntry, componentizeSource } from './componentize.ts';

/** Lambda's largest unzipped deployment package; a component is held to it too. */
export const MAX_COMPONENT_BYTES = 250 * 1024 * 1024;

/**
 * @throws InvalidParameterValueException (field `code.component`) for an unreadable file or one over
 *   {@link MAX_COMPONENT_BYTES}.
 */
export async function componentBundle(source: string | Uint8Array, handler: string): Promise<FunctionBundle> {
  let bytes: Uint8Array;
  if (typeof source === 'string') {
    try {
      bytes = await readFile(source);
    } catch (error) {
      throw new InvalidParameterValueException('code.component', `cannot read the component ${source}: ${(error as Error).message}`);
    }
  } else {
    bytes = Uint8Array.prototype.slice.call(source);
  }
  if (bytes.byteLength > MAX_COMPONENT_BYTES) {
    throw new InvalidParameterValueException('code.component', `the component is ${bytes.byteLength} bytes, over ${MAX_COMPONENT_BYTES} (Lambda's unzipped package limit)`);
  }
  return {
    script: '',
    filename: typeof source === 'string' ? source : '<component>',
    handlerPath: [],
    handler,
    hash: createHash('sha256').update(bytes).digest('hex'),
    remapStack: (lines) => [...lines],
    component: bytes,
  };
}

/**
 * The bundle for a function on engine 'wasm': `code.component` as given, or `code.entry` (a JS/TS
 * module implementing the world) bundled and componentized (componentize.ts).
 */
export async function wasmBundle(code: CodeSource, handler: string): Promise<FunctionBundle> {
  if ('component' in code) return componentBundle(code.component, handler);
  if ('entry' in code) {
    const bundle = await componentBundle(await componentizeSource(await bundleEntry(code.entry), code.entry), handler);
    return { ...bundle, filename: code.entry };
  }
  throw new InvalidParameterValueException('code', "engine 'wasm' runs code.component or code.entry");
}
