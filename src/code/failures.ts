/**
 * Turning what went wrong while bundling into the init failure Lambda would report for the same
 * package: a missing module or package is `Runtime.ImportModuleError` with Node's wording, a parse
 * error is `Runtime.UserCodeSyntaxError` pointing at the user's file and line.
 */

import { readFile } from 'node:fs/promises';
import { extname, resolve } from 'node:path';
import { transform, type Message, type Metafile } from 'esbuild';
import { LOADERS, taskPath } from './plugins.ts';
import type { InitFailure } from './types.ts';

/** The require stack Lambda's messages end with: the runtime itself loaded the handler. */
const RUNTIME_LOADER = '/var/runtime/index.mjs';

/** Builds an init failure whose trace starts with `<type>: <message>` as the RIC's does. */
export function initFailure(errorType: InitFailure['errorType'], errorMessage: string, at?: string): InitFailure {
  const trace = `${errorType}: ${errorMessage}`.split('\n');
  if (at !== undefined) trace.push(`    at ${at}`);
  return { errorType, errorMessage, trace };
}

/** Lambda's failure for a handler whose module file does not exist. */
export function moduleNotFound(modulePath: string): InitFailure {
  return initFailure(
    'Runtime.ImportModuleError',
    `Error: Cannot find module '${modulePath}'\nRequire stack:\n- ${RUNTIME_LOADER}`,
  );
}

/**
 * Explains a failed esbuild build. `root` is the package root (esbuild's working directory, so the
 * paths in its messages are relative to it).
 */
export async function failureFromBuild(errors: readonly Message[], root: string): Promise<InitFailure> {
  const first = errors[0];
  if (first === undefined) return initFailure('Runtime.ImportModuleError', 'Error: bundling failed');
  const location = first.location;
  const file = location && (location.namespace === '' || location.namespace === 'file') && location.file !== ''
    ? resolve(root, location.file)
    : undefined;
  // esbuild stops at the first parse error of a file but reports it after plugin processing; a
  // parse of the file as written tells a syntax error apart from everything else and gives its
  // exact position.
  if (file !== undefined) {
    const syntax = await syntaxError(root, file);
    if (syntax !== undefined) return syntax;
  }
  const importer = file === undefined ? RUNTIME_LOADER : taskPath(root, file);
  const unresolved = /^Could not resolve "(.*)"$/.exec(first.text);
  if (unresolved?.[1] !== undefined) {
    const byRequire = first.notes.some((note) => note.text.includes('"require" call'));
    return initFailure('Runtime.ImportModuleError', cannotFind(unresolved[1], importer, byRequire, root, file));
  }
  const at = location && file !== undefined ? `${importer}:${location.line}:${location.column + 1}` : undefined;
  return initFailure('Runtime.ImportModuleError', `Error: ${first.text}${at === undefined ? '' : ` (${at})`}`, at);
}

// Node's own wording: CommonJS `require` lists the require stack; ESM names the importer, and calls
// a bare specifier a package (`left-pad`, `@scope/pkg`), a relative one a module (resolved path).
function cannotFind(specifier: string, importer: string, byRequire: boolean, root: string, file: string | undefined): string {
  if (byRequire) {
    return `Error: Cannot find module '${specifier}'\nRequire stack:\n- ${importer}\n- ${RUNTIME_LOADER}`;
  }
  if (/^\.{0,2}\//.test(specifier) && file !== undefined) {
    return `Error: Cannot find module '${taskPath(root, resolve(file, '..', specifier))}' imported from ${importer}`;
  }
  const parts = specifier.split('/');
  const name = specifier.startsWith('@') ? parts.slice(0, 2).join('/') : parts[0];
  return `Error: Cannot find package '${name}' imported from ${importer}`;
}

async function syntaxError(root: string, file: string): Promise<InitFailure | undefined> {
  const loader = LOADERS[extname(file)];
  if (loader === undefined) return undefined;
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch {
    return undefined;
  }
  try {
    await transform(text, { loader, sourcefile: file, logLevel: 'silent' });
    return undefined;
  } catch (error) {
    const parse = (error as { errors?: Message[] }).errors?.[0];
    if (parse === undefined) return undefined;
    const where = `${taskPath(root, file)}${parse.location ? `:${parse.location.line}:${parse.location.column + 1}` : ''}`;
    return initFailure('Runtime.UserCodeSyntaxError', `SyntaxError: ${where}: ${parse.text}`, where);
  }
}

/**
 * Finds a `require()` of an ES module whose graph has top-level await. Node refuses it
 * (ERR_REQUIRE_ASYNC_MODULE), but esbuild bundles it silently into code that returns the exports
 * before they are set. esbuild wraps such modules in `__esm({ async "<path>"() { ... } })`; the
 * metafile says which inputs are required.
 */
export function requiredAsyncModule(code: string, metafile: Metafile, root: string): InitFailure | undefined {
  const asyncModules = new Set<string>();
  for (const match of code.matchAll(/^\s*async "((?:[^"\\]|\\.)*)"\(\) \{$/gm)) {
    if (match[1] !== undefined) asyncModules.add(match[1]);
  }
  if (asyncModules.size === 0) return undefined;
  for (const [importer, input] of Object.entries(metafile.inputs)) {
    const required = input.imports.find((entry) => entry.kind === 'require-call' && asyncModules.has(entry.path));
    if (required === undefined) continue;
    return initFailure(
      'Runtime.ImportModuleError',
      'Error: require() cannot be used on an ESM graph with top-level await. Use import() instead.\n' +
        `  From ${taskPath(root, resolve(root, importer))}\n  Requiring ${taskPath(root, resolve(root, required.path))}`,
    );
  }
  return undefined;
}
