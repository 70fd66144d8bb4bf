/**
 * The first import of the library's entries (index.ts, testing/index.ts): on a Node older than 24,
 * importing lambdalet stops here with the one line the command and the npm scripts print
 * (bin/require-node.js), instead of failing to link on what Node 20 lacks (`No such built-in module:
 * node:sqlite`, zlib's zstd functions) or further on (issue #12). ES modules evaluate their
 * imports in order, so this runs before any other module of the library; the modules that use what
 * an old Node lacks take it through a namespace or process.getBuiltinModule, so the graph links there.
 */
import { nodeVersionProblem } from '../bin/require-node.js';

/** Importing lambdalet on a Node.js it does not run on. */
export class NodeVersionError extends Error {
  override readonly name = 'NodeVersionError';
  readonly code = 'LAMBDALET_NODE_VERSION';
}

const problem = nodeVersionProblem(process.version, process.execPath);
if (problem !== undefined) throw new NodeVersionError(problem);
