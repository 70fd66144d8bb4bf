/**
 * Parsing of Lambda's handler string (`index.handler`, `src/api/users.list`), as the Node.js
 * runtime interface client does it (RIC v3 UserFunction.js, unchanged in v4).
 */

import type { InitFailure } from './types.ts';

/** A handler string split into where the module lives and what to read from it. */
export interface ParsedHandler {
  /** Directory of the module inside the package, `''` for the root (`src/api` for `src/api/users.list`). */
  readonly moduleRoot: string;
  /** The module's name without extension (`users`). */
  readonly moduleName: string;
  /** Property path walked on the export root (`['list']`; `['nested', 'handler']`). */
  readonly handlerPath: readonly string[];
}

// The RIC splits on the FIRST dot of the basename: module names cannot contain dots, and the
// property path may (`index.nested.somethingComplex.handler`).
const FUNCTION_EXPR = /^([^.]*)\.(.*)$/;

/**
 * Parses a handler string, or returns the `Runtime.MalformedHandlerName` failure Lambda reports
 * at init for it.
 */
export function parseHandler(handler: string): ParsedHandler | InitFailure {
  // The RIC refuses any `..`, not only `../` segments: `index..handler` fails here too.
  if (handler.includes('..')) {
    return malformed(
      `'${handler}' is not a valid handler name. Use absolute paths when specifying root directories in handler names.`,
    );
  }
  // path.basename/dirname semantics on '/' (the RIC runs on Linux): the root is everything up to
  // the last slash.
  const slash = handler.lastIndexOf('/');
  const moduleRoot = slash === -1 ? '' : handler.slice(0, slash);
  const base = slash === -1 ? handler : handler.slice(slash + 1);
  const match = FUNCTION_EXPR.exec(base);
  if (match === null || match[1] === undefined || match[2] === undefined) return malformed('Bad handler');
  return { moduleRoot, moduleName: match[1], handlerPath: match[2].split('.') };
}

function malformed(errorMessage: string): InitFailure {
  return {
    errorType: 'Runtime.MalformedHandlerName',
    errorMessage,
    trace: [`Runtime.MalformedHandlerName: ${errorMessage}`],
  };
}

/** Tells a parse result from a failure. */
export function isInitFailure(value: ParsedHandler | InitFailure): value is InitFailure {
  return 'errorType' in value;
}
