/**
 * Wrapping esbuild's ESM output into the one-expression script the guest evaluates, and proving
 * the result is what the contract says.
 */

import { Script } from 'node:vm';
import type { Metafile } from 'esbuild';

/** The variable the synthetic entry assigns the export root to; the wrapper declares and returns it. */
export const ROOT_IDENTIFIER = '__lambdalet$root';

/** Opening of the wrapper, on a line of its own: the bundle starts on line 2, column 1. */
const OPENING = `(async function () { "use strict"; let ${ROOT_IDENTIFIER};\n`;

/** Lines the wrapper adds before the bundle, for mapping stack positions. */
export const WRAPPER_LINE_OFFSET = 1;

/**
 * Encloses `code` in `(async function () { "use strict"; ...; return <root>; })`. The body runs the
 * modules' top levels in order (top-level `await` is legal in an async function body) and resolves
 * with the export root.
 *
 * @throws Error if the bundle still has import or export statements, or is not a valid script: a
 *   lambdalet bug, never the user's, so it is thrown rather than reported as an init failure.
 */
export function wrapBundle(code: string, metafile: Metafile, filename: string): string {
  for (const [name, output] of Object.entries(metafile.outputs)) {
    if (name.endsWith('.map')) continue;
    if (output.exports.length > 0 || output.imports.some((entry) => entry.external && entry.kind === 'import-statement')) {
      throw new Error(`lambdalet: the bundle of ${filename} kept module syntax (imports: ${JSON.stringify(output.imports)}, exports: ${JSON.stringify(output.exports)})`);
    }
  }
  // The bundle's last line may be a `//` comment: `return` goes on a line of its own.
  const script = `${OPENING}${code}\nreturn ${ROOT_IDENTIFIER};\n})`;
  try {
    // Compiling, not running: an `import`/`export` statement or `import.meta` left anywhere is a
    // SyntaxError in a classic script, so this catches what the metafile could miss.
    new Script(script, { filename });
  } catch (error) {
    throw new Error(`lambdalet: the bundle of ${filename} is not a valid script: ${(error as Error).message}`, { cause: error });
  }
  return script;
}
