/** Reading a bundle's modules that are not there (src/code/containment.ts `missingModule`). */
import { runInThisContext } from 'node:vm';
import { MISSING_MODULE_PREFIX } from '../../src/code/containment.ts';

/** The errors the bundle's modules that are not there describe, in the bundle's order. */
export function missingModules(script: string): unknown[] {
  return [...script.matchAll(/__require\(('(?:\\.|[^'\\])*'|"(?:\\.|[^"\\])*")\)/g)]
    .map((match) => runInThisContext(match[1]!) as string)
    .filter((name) => name.startsWith(MISSING_MODULE_PREFIX))
    .map((name) => JSON.parse(name.slice(MISSING_MODULE_PREFIX.length)) as unknown);
}
