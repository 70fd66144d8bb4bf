/**
 * isolated-vm on Node >= 20 needs `--no-node-snapshot`: V8's shared read-only heap crashes the
 * process when isolates use different snapshots (isolated-vm #420, #424, #472). It is a start-up
 * flag a library cannot set, so we detect it and say exactly how to fix it.
 */
import { EngineUnavailableError } from '../../errors.ts';

export const NO_NODE_SNAPSHOT = '--no-node-snapshot';

export function hasNoNodeSnapshotFlag(
  execArgv: readonly string[] = process.execArgv,
  nodeOptions: string | undefined = process.env.NODE_OPTIONS,
): boolean {
  if (execArgv.includes(NO_NODE_SNAPSHOT)) return true;
  return (nodeOptions ?? '').split(/\s+/).includes(NO_NODE_SNAPSHOT);
}

export function missingFlagError(): EngineUnavailableError {
  return new EngineUnavailableError(
    [
      `The v8 engine (isolated-vm) needs Node started with ${NO_NODE_SNAPSHOT}, and this process was not.`,
      `Fix: run \`node ${NO_NODE_SNAPSHOT} your-app.js\` (or NODE_OPTIONS=${NO_NODE_SNAPSHOT} for tools that spawn Node);`,
      `with vitest use \`pool: 'forks'\` and \`execArgv: ['${NO_NODE_SNAPSHOT}']\` in vitest.config.`,
      `Or deploy the function with \`engine: 'quickjs'\` (QuickJS compiled to WebAssembly), which needs no flag.`,
    ].join('\n'),
  );
}
