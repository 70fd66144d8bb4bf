/**
 * Where a function's code comes from, and what bundling makes of it.
 * The bundle is host-made (never accepted from a user) and engine-neutral: every JS engine runs it.
 */
import type { RemapBudget } from './stack-remap.ts';

/** A function's code package, in one of five forms. */
export type CodeSource =
  /** In-memory files, keyed by their path inside the package (`index.mjs`, `lib/util.js`). */
  | { readonly files: Readonly<Record<string, string | Uint8Array>> }
  /** A directory on disk holding the package (its node_modules included). */
  | { readonly dir: string }
  /** A Lambda deployment zip: a path to a .zip file or its bytes. */
  | { readonly zip: string | Uint8Array }
  /** One source file (TypeScript accepted); its imports, node_modules included, are bundled. */
  | { readonly entry: string }
  /** engine 'wasm' only: a WebAssembly component of lambdalet:function@0.1.0 (docs/wasm.md), a path or its bytes. */
  | { readonly component: string | Uint8Array };

/**
 * A function's code as the guest runs it.
 *
 * `script` is ONE JavaScript expression, `(async function () { "use strict"; ... })`, with no
 * import or export statements left. Calling the function runs the user module's top level
 * (top-level await included) and resolves with the handler's export root: the module namespace
 * for ESM, `module.exports` for CommonJS.
 */
export interface FunctionBundle {
  readonly script: string;
  /** Name given to the script for stack traces, e.g. `/var/task/index.mjs`. */
  readonly filename: string;
  /** The property path walked on the export root: `index.nested.handler` → `['nested', 'handler']`. */
  readonly handlerPath: readonly string[];
  /** The handler string as configured, for error messages (`index.handler is undefined or not exported`). */
  readonly handler: string;
  /** sha256 (hex) of `script`: the key for code caches and snapshots. */
  readonly hash: string;
  /**
   * Present when the handler's module is an ES module; `typeModulePackageJson` is the package.json
   * (as `/var/task/...`) that made a `.js` file one. Node's messages about CommonJS globals say so.
   */
  readonly moduleScope?: { readonly typeModulePackageJson?: string };
  /**
   * Rewrites the stack frames in `lines` that point into the bundle so they point at the user's own
   * files (code/stack-remap.ts); with a budget, at most its count of positions (a phase's, counted down).
   */
  remapStack(lines: readonly string[], budget?: RemapBudget): string[];
  /** engine 'wasm' with `code.component`: the component's bytes (`script` is then empty). */
  readonly component?: Uint8Array;
}

/**
 * A user-code problem found while bundling: Lambda reports it at INIT, so the runtime keeps it and
 * answers every invoke with it (deploy still succeeds, as CreateFunction does on AWS).
 */
export interface InitFailure {
  readonly errorType:
    | 'Runtime.MalformedHandlerName'
    | 'Runtime.ImportModuleError'
    | 'Runtime.UserCodeSyntaxError'
    /** Node's ESM loader errors (ERR_MODULE_NOT_FOUND) are not wrapped by the runtime client. */
    | 'Error';
  readonly errorMessage: string;
  readonly trace: readonly string[];
  /** Node's error code, when the error has one (`ERR_MODULE_NOT_FOUND`): the log line shows it. */
  readonly code?: string;
}

export type BundleOutcome =
  | { readonly ok: true; readonly bundle: FunctionBundle }
  | { readonly ok: false; readonly failure: InitFailure };
