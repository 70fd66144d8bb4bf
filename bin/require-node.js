#!/usr/bin/env node
// lambdalet needs Node.js >= 24 (type stripping for the checkout's .ts files, isolated-vm 7's ABI,
// `Map.groupBy` and friends in vitest). On an older Node everything fails late and obscurely
// (`ERR_UNKNOWN_FILE_EXTENSION ".ts"`, vitest crashing after minutes), so the CLI and the npm scripts
// (`start`, `test`, `bench`, `prepare`) check first and stop at once with one line.
//
// Plain JavaScript that parses on any Node still in use: it must run where the rest cannot.
//   node bin/require-node.js            exits 1 with the line on stderr when Node is too old
//   import { requireNode } from './require-node.js'   the same, for the bin
import { realpathSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

/** The oldest Node.js major lambdalet runs on (package.json `engines.node`). */
export const MIN_NODE_MAJOR = 24;

/**
 * The one line printed on an older Node, or undefined when `version` (e.g. 'v20.20.2') is new enough.
 * @param {string} version
 * @param {string} execPath
 * @returns {string | undefined}
 */
export function nodeVersionProblem(version, execPath) {
  const major = Number(/^v(\d+)\./.exec(version)?.[1]);
  if (major >= MIN_NODE_MAJOR) return undefined;
  return (
    `lambdalet needs Node.js >= ${MIN_NODE_MAJOR}, this is ${version} (${execPath}): ` +
    `install it (\`nvm install ${MIN_NODE_MAJOR}\`, or https://nodejs.org) ` +
    `or run one command on it with \`npx -y -p node@${MIN_NODE_MAJOR} <command>\` (e.g. \`npx -y -p node@${MIN_NODE_MAJOR} npm test\`)`
  );
}

/** Exits the process with status 1 and the one line on stderr when this Node is too old. */
export function requireNode() {
  const problem = nodeVersionProblem(process.version, process.execPath);
  if (problem === undefined) return;
  process.stderr.write(`${problem}\n`);
  process.exit(1);
}

const self = fileURLToPath(import.meta.url);
/** Whether Node was started on this file (`node bin/require-node.js`), not importing it. */
function runDirectly() {
  try {
    return process.argv[1] !== undefined && realpathSync(process.argv[1]) === realpathSync(self);
  } catch {
    // argv[1] is not a file (a runner's virtual path): the library is importing this module.
    return false;
  }
}
if (runDirectly()) requireNode();
