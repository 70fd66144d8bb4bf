/**
 * The guest runtime as one script, shared by every JS engine. A published build ships it prebuilt
 * (scripts/build-guest.ts writes guest-runtime.js beside this module); from source it is bundled
 * with esbuild on first use, once per process.
 */
import { readFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';

let cached: Promise<string> | undefined;

/** Script source whose completion value is the guest's `install(log, userModule) → dispatch`. */
export function guestRuntimeSource(): Promise<string> {
  cached ??= load();
  return cached;
}

async function load(): Promise<string> {
  try {
    return await readFile(new URL('./guest-runtime.js', import.meta.url), 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
    return buildGuestRuntime();
  }
}

/** Bundles engines/guest/index.ts into one script (used by the build and when running from source). */
export async function buildGuestRuntime(): Promise<string> {
  const { build } = await import('esbuild');
  const result = await build({
    entryPoints: [fileURLToPath(new URL('./guest/index.ts', import.meta.url))],
    bundle: true,
    write: false,
    format: 'cjs',
    platform: 'neutral',
    target: 'es2023',
    // Readable names: guest frames appear in users' stack traces (`at startInvocation`).
    minifyWhitespace: true,
    minifySyntax: true,
    legalComments: 'none',
  });
  const code = result.outputFiles[0]?.text;
  if (code === undefined) throw new Error('esbuild produced no guest runtime');
  return `(function(){var module={exports:{}},exports=module.exports;${code}\nreturn module.exports.default;})()`;
}
