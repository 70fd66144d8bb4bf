/**
 * Turning what went wrong while bundling into the init failure Lambda would report for the same
 * package: a missing module or package is `Runtime.ImportModuleError` with Node's wording, a parse
 * error is `Runtime.UserCodeSyntaxError` pointing at the user's file and line.
 */

import { readFile } from 'node:fs/promises';
import { extname, resolve } from 'node:path';
import { transform, type Message, type Metafile } from 'esbuild';
import { declaredPackageType } from './locate-module.ts';
import { nodeSyntaxError, type NodeSyntaxError } from './node-check.ts';
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
    // lambdalet's own explanation after Node's words (containment.ts: a link out of the package).
    const note = first.notes.find((n) => n.text.startsWith('(lambdalet: '))?.text;
    const after = note === undefined ? '' : `\n${note}`;
    if (byRequire) return initFailure('Runtime.ImportModuleError', cannotRequire(unresolved[1], importer) + after);
    return moduleNotFoundByImport(cannotImport(unresolved[1], importer, root, file) + after);
  }
  // Node links an ES module's imports before running it: a missing export is its SyntaxError.
  const noExport = /^No matching export in "(.*)" for import "(.*)"$/.exec(first.text);
  if (noExport?.[2] !== undefined && file !== undefined && location) {
    const specifier = await specifierAt(file, location.line, location.column);
    if (specifier !== undefined) {
      return initFailure(
        'Runtime.UserCodeSyntaxError',
        `SyntaxError: The requested module '${specifier}' does not provide an export named '${noExport[2]}'`,
        `${importer}:${location.line}:${location.column + 1}`,
      );
    }
  }
  const at = location && file !== undefined ? `${importer}:${location.line}:${location.column + 1}` : undefined;
  return initFailure('Runtime.ImportModuleError', `Error: ${first.text}${at === undefined ? '' : ` (${at})`}`, at);
}

// Node's own wording: CommonJS `require` lists the require stack (MODULE_NOT_FOUND, which the
// runtime client wraps in Runtime.ImportModuleError).
function cannotRequire(specifier: string, importer: string): string {
  return `Error: Cannot find module '${specifier}'\nRequire stack:\n- ${importer}\n- ${RUNTIME_LOADER}`;
}

// ESM names the importer, and calls a bare specifier a package (`left-pad`, `@scope/pkg`), a
// relative one a module (resolved path).
function cannotImport(specifier: string, importer: string, root: string, file: string | undefined): string {
  if (/^\.{0,2}\//.test(specifier) && file !== undefined) {
    return `Cannot find module '${taskPath(root, resolve(file, '..', specifier))}' imported from ${importer}`;
  }
  const parts = specifier.split('/');
  const name = specifier.startsWith('@') ? parts.slice(0, 2).join('/') : parts[0];
  return `Cannot find package '${name}' imported from ${importer}`;
}

/**
 * ERR_MODULE_NOT_FOUND: the runtime client wraps only MODULE_NOT_FOUND, so an import that does not
 * resolve is a plain `Error` (Node's stack header names the code).
 */
function moduleNotFoundByImport(message: string): InitFailure {
  return {
    errorType: 'Error',
    errorMessage: message,
    trace: [`Error [ERR_MODULE_NOT_FOUND]: ${message}`, `    at ${RUNTIME_LOADER}`],
    code: 'ERR_MODULE_NOT_FOUND',
  };
}

/** The module specifier of the import statement whose imported name is at `line`:`column` (1-based line). */
async function specifierAt(file: string, line: number, column: number): Promise<string | undefined> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch {
    return undefined;
  }
  const lines = text.split('\n');
  const offset = lines.slice(0, line - 1).reduce((sum, l) => sum + l.length + 1, 0) + column;
  return /^[^;]*?\bfrom\s*(['"])(.*?)\1/s.exec(text.slice(offset))?.[2];
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
  let parse: Message | undefined;
  try {
    await transform(text, { loader, sourcefile: file, logLevel: 'silent' });
    return undefined;
  } catch (error) {
    parse = (error as { errors?: Message[] }).errors?.[0];
    if (parse === undefined) return undefined;
  }
  // V8's words, from the Node binary that runs this host (`node --check`): what Lambda's Node says.
  const node = loader === 'js' ? await nodeSyntaxError(file) : undefined;
  if (node !== undefined) {
    return initFailure('Runtime.UserCodeSyntaxError', `SyntaxError: ${node.message}`, nodePosition(root, file, node));
  }
  // TypeScript (Node would not run it) or no answer from Node: the parser's words, without its position.
  const where = `${taskPath(root, file)}${parse.location ? `:${parse.location.line}:${parse.location.column + 1}` : ''}`;
  return initFailure('Runtime.UserCodeSyntaxError', `SyntaxError: ${parse.text}`, where);
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

/**
 * The bundle's inputs in the order Node meets them: the handler's file first, then each import in
 * source order, depth first (a CommonJS file fails to compile before any module it requires loads).
 * esbuild's metafile lists a file's dependencies before the file, so a CommonJS handler with an
 * `import` of a CommonJS-declared ES module was reported as the dependency's `Unexpected token
 * 'export'` where Node says the handler's `Cannot use import statement outside a module` (issue #12).
 * Inputs the walk does not reach keep their metafile order, after it.
 */
function inLoadOrder(metafile: Metafile, root: string, entry: string | undefined): [string, Metafile['inputs'][string]][] {
  const inputs = Object.entries(metafile.inputs);
  const start = entry === undefined ? undefined : inputs.find(([path]) => resolve(root, path) === entry)?.[0];
  if (start === undefined) return inputs;
  const ordered = new Map<string, Metafile['inputs'][string]>();
  const stack = [start];
  while (stack.length > 0) {
    const path = stack.pop()!;
    const input = metafile.inputs[path];
    if (input === undefined || ordered.has(path)) continue;
    ordered.set(path, input);
    const next = input.imports.filter((entry) => entry.external !== true).map((entry) => entry.path);
    for (let i = next.length - 1; i >= 0; i--) stack.push(next[i]!);
  }
  for (const [path, input] of inputs) if (!ordered.has(path)) ordered.set(path, input);
  return [...ordered];
}

/**
 * Finds ES module syntax in a file Node loads as CommonJS: a `.cjs` or `.cts` file, or a `.js` or
 * `.ts` file whose package.json says `"type": "commonjs"` (Node detects the format only where
 * nothing declares it). TypeScript follows JavaScript's rule: Node's docs, "Modules: TypeScript",
 * "Determining module system": `.ts` files have their module system determined the same way as
 * `.js` files, `.mts` always run as ES modules and `.cts` always as CommonJS; Node never converts
 * one module system to the other. esbuild bundles such a file happily; Node refuses it with a
 * SyntaxError (`Unexpected token 'export'`, `Cannot use import statement outside a module`), which
 * the runtime client reports as Runtime.UserCodeSyntaxError. esbuild's metafile says which inputs
 * have ESM syntax, so a sound package costs nothing here; Node itself words the error.
 */
export async function esmSyntaxInCommonJs(metafile: Metafile, root: string, entry?: string): Promise<InitFailure | undefined> {
  for (const [path, input] of inLoadOrder(metafile, root, entry)) {
    const moduleSyntax = input.format === 'esm' || input.imports.some((entry) => entry.kind === 'import-statement');
    if (!moduleSyntax || /^[a-z-]+:/.test(path)) continue;
    const file = resolve(root, path);
    const extension = extname(file);
    const commonJs =
      extension === '.cjs' ||
      extension === '.cts' ||
      ((extension === '.js' || extension === '.ts') && (await declaredPackageType(file, undefined)) === 'commonjs');
    if (!commonJs) continue;
    const node = await nodeSyntaxError(file, { typescript: extension === '.ts' || extension === '.cts' });
    if (node !== undefined) {
      return initFailure('Runtime.UserCodeSyntaxError', `SyntaxError: ${node.message}`, nodePosition(root, file, node));
    }
  }
  return undefined;
}

function nodePosition(root: string, file: string, node: NodeSyntaxError): string {
  return `${taskPath(root, file)}:${node.line}${node.column === undefined ? '' : `:${node.column}`}`;
}
