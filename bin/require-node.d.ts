/** The oldest Node.js major lambdalet runs on (package.json `engines.node`). */
export declare const MIN_NODE_MAJOR: number;
/** The one line printed on an older Node, or undefined when `version` (e.g. 'v20.20.2') is new enough. */
export declare function nodeVersionProblem(version: string, execPath: string): string | undefined;
/** Exits the process with status 1 and the one line on stderr when this Node is too old. */
export declare function requireNode(): void;
