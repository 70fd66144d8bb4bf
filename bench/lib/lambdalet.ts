/** lambdalet set-ups shared by the cases: runtimes per engine variant, cold-start rigs. */
import { setTimeout as sleep } from 'node:timers/promises';
import { createRuntime, silentSink, type FunctionConfigInput, type Runtime, type RuntimeOptionsInput } from '../../src/index.ts';
import { TRIVIAL_EVENT, type HandlerCode } from './handlers.ts';
import { summariseSamples, type CaseResult } from './stats.ts';

/** The engine variants measured: the last part of a lambdalet case name. */
export const VARIANTS = ['v8', 'quickjs', 'quickjs-shared'] as const;
export type Variant = (typeof VARIANTS)[number];

export function engineOf(variant: Variant): 'v8' | 'quickjs' {
  return variant === 'v8' ? 'v8' : 'quickjs';
}

/** A runtime for one variant (`quickjs-shared` = `quickjsIsolation: 'shared'`), logs discarded. */
export function runtimeFor(variant: Variant, options: RuntimeOptionsInput = {}): Promise<Runtime> {
  return createRuntime({ logSink: silentSink, ...options, ...(variant === 'quickjs-shared' ? { quickjsIsolation: 'shared' } : {}) });
}

/**
 * Deploys a function with `count` provisioned environments, booted and through INIT, the way Lambda
 * has it: deploy, publish version 1, PutProvisionedConcurrencyConfig on it, then wait until
 * GetProvisionedConcurrencyConfig says READY. Returns the name to invoke (`name:1`).
 */
export async function deployProvisioned(rt: Runtime, input: FunctionConfigInput, count: number): Promise<string> {
  await rt.deploy(input);
  const { version } = await rt.publishVersion(input.name);
  await rt.putProvisionedConcurrencyConfig(input.name, version, { provisionedConcurrentExecutions: count });
  for (;;) {
    const { status, statusReason } = rt.getProvisionedConcurrencyConfig(input.name, version);
    if (status === 'READY') return `${input.name}:${version}`;
    if (status === 'FAILED') throw new Error(`provisioned concurrency of ${input.name}:${version} failed: ${statusReason}`);
    await sleep(5);
  }
}

export interface ColdRigOptions {
  /** Deploy with SnapStart: every sample restores the snapshot. */
  readonly snapStart?: boolean;
  readonly memoryMb?: number;
}

/**
 * Cold starts of one deployed function, end to end through `rt.invoke`. The function is deployed
 * once (bundling is never timed). The runtime's `idleTtlMs` is 1 ms: after each sample the
 * environment goes idle and the reaper disposes it; `beforeEach` (untimed) waits until no
 * environment is left, so every sample boots a new one — checked with `result.coldStart` — and no
 * disposal runs inside the timing.
 */
export class ColdRig {
  readonly #variant: Variant;
  readonly #code: HandlerCode;
  readonly #options: ColdRigOptions;
  readonly #restoreSamples: number[] = [];
  #rt: Runtime | undefined;
  #checked = false;

  constructor(variant: Variant, code: HandlerCode, options: ColdRigOptions = {}) {
    this.#variant = variant;
    this.#code = code;
    this.#options = options;
  }

  /** The case's name: `cold/<handler>/<variant>[-snapstart]`. */
  get name(): string {
    return `cold/${this.#code.name}/${this.#variant}${this.#options.snapStart ? '-snapstart' : ''}`;
  }

  /** With snapStart: the Restore Duration each sample's REPORT gave (restore + after-restore phase). */
  restoreDurations(): CaseResult {
    return summariseSamples(this.#restoreSamples);
  }

  async setup(): Promise<void> {
    // No scale-up limit: the bench starts hundreds of environments a second on purpose.
    this.#rt = await runtimeFor(this.#variant, { idleTtlMs: 1, scaleUpRate: 100_000, scaleUpBurst: 100_000 });
    const info = await this.#rt.deploy({
      name: 'cold',
      engine: engineOf(this.#variant),
      code: { files: { 'index.mjs': this.#code.module } },
      ...(this.#options.memoryMb ? { memoryMb: this.#options.memoryMb } : {}),
      ...(this.#options.snapStart ? { snapStart: true } : {}),
    });
    if (this.#options.snapStart && info.snapStart?.path !== 'snapshot') {
      throw new Error(`${this.name}: no snapshot (${info.snapStart?.fallbackReason ?? 'no SnapStart info'})`);
    }
  }

  /**
   * Untimed: waits for the previous sample's environment to be reaped; with snapStart also for the
   * engine's pool to refill (it waits 5 ms, then makes one blank or deserialised isolate), so each
   * sample is a cold start with the pool warm. The pool's own cost is `restore-unpooled/*`.
   */
  readonly beforeEach = async (): Promise<void> => {
    const rt = this.#rt!;
    for (let i = 0; rt.metrics().environments > 0; i++) {
      if (i > 5000) throw new Error('cold rig: the idle environment was never reaped');
      await sleep(1);
    }
    if (this.#options.snapStart) await sleep(this.#code.name === 'table-init' ? 300 : 20);
  };

  readonly run = async (): Promise<void> => {
    const result = await this.#rt!.invoke('cold', TRIVIAL_EVENT);
    if (!result.coldStart) throw new Error(`${this.name}: not a cold start`);
    if (result.restoreDurationMs !== undefined) this.#restoreSamples.push(result.restoreDurationMs);
    if (!this.#checked) {
      this.#checked = true;
      if (result.functionError) throw new Error(`${this.name}: ${JSON.stringify(result.payload)}`);
      if (this.#options.snapStart && result.restoreDurationMs === undefined) throw new Error(`${this.name}: not restored from the snapshot`);
    }
  };

  async close(): Promise<void> {
    await this.#rt?.close();
  }
}
