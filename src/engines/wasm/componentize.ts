/**
 * `code: { entry }` with engine 'wasm': a JavaScript (or TypeScript) module implementing the WIT
 * world (it exports `handler = { handle(event, context) }` and may import
 * `lambdalet:function/logging@0.1.0`), bundled with esbuild into one ES module and componentized
 * with componentize-qjs (QuickJS + Wizer: the module's top level runs at build time and is
 * snapshotted into the component). Once per code version: cached by the bundle's sha256.
 *
 * Backend choice (measured, docs/wasm.md): componentize-qjs over StarlingMonkey (componentize-js):
 * ~1.6 MB components against ~12 MB, seconds to build against tens of seconds, and StarlingMonkey's
 * path through jco's own preview2-shim fails with "failed to get path metadata".
 */
import { createHash } from 'node:crypto';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';
import { EngineUnavailableError, InvalidParameterValueException } from '../../errors.ts';

/** The WIT package the components implement (native/wit/, shipped in the package's files). */
export const WIT_DIR = fileURLToPath(new URL('../../../native/wit', import.meta.url));
/** Bundles componentized this process (least recently used dropped first). */
const CACHE_SIZE = 16;
const cache = new Map<string, Promise<Uint8Array>>();

interface ComponentizeQjs {
  componentize(options: { witPath: string; jsSource: string; world?: string; sync?: boolean }): Promise<{ component: Uint8Array }>;
}

async function loadComponentizeQjs(): Promise<ComponentizeQjs> {
  try {
    return await import('componentize-qjs');
  } catch (error) {
    throw new EngineUnavailableError(
      `engine 'wasm' with code.entry needs componentize-qjs (an optional dependency with prebuilt binaries), which did not load: ${(error as Error).message}`,
    );
  }
}

/** The entry file bundled into one ES module; imports of the WIT world's interfaces stay imports. */
export async function bundleEntry(entry: string): Promise<string> {
  try {
    const result = await build({
      entryPoints: [entry],
      bundle: true,
      format: 'esm',
      platform: 'neutral',
      mainFields: ['module', 'main'],
      external: ['lambdalet:*', 'wasi:*'],
      target: 'es2023',
      write: false,
      logLevel: 'silent',
    });
    return result.outputFiles[0]!.text;
  } catch (error) {
    const errors = (error as { errors?: { text: string; location?: { file: string; line: number } }[] }).errors;
    const first = errors?.[0];
    const where = first?.location ? ` (${first.location.file}:${first.location.line})` : '';
    throw new InvalidParameterValueException('code.entry', `cannot bundle ${entry}: ${first ? first.text + where : (error as Error).message}`);
  }
}

/**
 * The component for `source` (a bundled ES module), built once per source.
 * @throws InvalidParameterValueException when componentize-qjs refuses the module.
 */
export function componentizeSource(source: string): Promise<Uint8Array> {
  const key = createHash('sha256').update(source).digest('hex');
  let built = cache.get(key);
  if (built) {
    cache.delete(key);
  } else {
    built = (async () => {
      const qjs = await loadComponentizeQjs();
      try {
        const { component } = await qjs.componentize({ witPath: WIT_DIR, jsSource: source, world: 'function', sync: true });
        return new Uint8Array(component);
      } catch (error) {
        throw new InvalidParameterValueException('code.entry', `componentize-qjs could not build the component: ${(error as Error).message}`);
      }
    })();
    built.catch(() => cache.delete(key));
  }
  cache.set(key, built);
  while (cache.size > CACHE_SIZE) cache.delete(cache.keys().next().value!);
  return built;
}
