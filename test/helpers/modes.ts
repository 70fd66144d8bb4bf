/**
 * The four ways a Node.js handler runs: each JS engine in the host's process, and each under
 * process isolation (`createRuntime({ isolation: 'process' })`). One table for the tests that run
 * a case in every mode (test/invoke/timeout-fidelity.test.ts, test/invoke/response-stream.test.ts,
 * test/adversarial/harness.ts, which adds `quickjsIsolation: 'shared'`) and the fairness bench
 * (bench/cases/fairness.ts). It imports no vitest, so the bench can load it.
 */
import type { RuntimeOptionsInput } from '../../src/index.ts';

export interface RuntimeMode {
  /** `<engine>` or `<engine>-<isolation>`. */
  readonly name: string;
  readonly engine: 'v8' | 'quickjs';
  readonly options: RuntimeOptionsInput;
}

export const RUNTIME_MODES: readonly RuntimeMode[] = [
  { name: 'v8', engine: 'v8', options: {} },
  { name: 'quickjs', engine: 'quickjs', options: {} },
  { name: 'v8-process', engine: 'v8', options: { isolation: 'process' } },
  { name: 'quickjs-process', engine: 'quickjs', options: { isolation: 'process' } },
];
