/**
 * SnapStart for one deployed function: INIT runs once at deploy in a template environment, which is
 * then snapshotted; each cold start restores the snapshot instead of running INIT.
 *
 *   deploy:     boot → INIT → before-snapshot hooks → snapshot (sandbox image + /tmp) → template disposed
 *   cold start: restore the image → `restore` message (reseed, identity, after-restore hooks)
 *
 * When the engine cannot snapshot what INIT built (V8: INIT used the file system, fetch or host
 * randomness, or V8's snapshot failed its verification), the function falls back to
 * pre-initialised environments: environments booted and taken through INIT and the
 * before-snapshot hooks ahead of time, like Lambda's provisioned concurrency, kept at
 * {@link SNAPSTART_SPARE_ENVIRONMENTS} and refilled in the background. A cold start takes one and
 * sends it the same `restore` message, so user code sees one lifecycle on either path. With no
 * spare ready, a cold start runs INIT itself (and reports Init Duration).
 */
import { SnapshotUnsupportedError } from '../engines/engine.ts';
import { SnapStartException } from '../errors.ts';
import { ExecutionEnvironment, type EnvironmentDeps, type EnvironmentSnapshot, type PhaseResult } from './environment.ts';

/** Pre-initialised environments a function keeps ready when it cannot use a snapshot. */
export const SNAPSTART_SPARE_ENVIRONMENTS = 2;

/** How a snapStart function's environments start, as deploy reports it. */
export interface SnapStartInfo {
  /** `snapshot`: restored from an image; `pre-initialised`: the fallback (see `fallbackReason`). */
  readonly path: 'snapshot' | 'pre-initialised';
  /** With `snapshot`: the engine's image kind and its size in the host's memory. */
  readonly imageKind?: 'wasm-memory' | 'v8-startup-snapshot';
  readonly imageBytes?: number;
  /** With `pre-initialised`: why the engine could not snapshot this function. */
  readonly fallbackReason?: string;
  /** The template's INIT (boot included), at deploy. */
  readonly initDurationMs: number;
  /** Before-snapshot hooks + taking the snapshot, at deploy. */
  readonly snapshotDurationMs: number;
}

/** A cold start's environment and what its start cost. */
export interface ColdStart {
  readonly env: ExecutionEnvironment;
  /**
   * Set when the environment could not be made ready, with the phase that failed: `init` (the
   * fallback path ran INIT or the before-snapshot hooks itself) or `restore` (the restore message
   * and its after-restore hooks).
   */
  readonly failure?: { readonly phase: 'init' | 'restore'; readonly result: PhaseResult & { ok: false } };
  /** Restore (or hand-over of a pre-initialised environment) + after-restore hooks. */
  readonly restoreDurationMs?: number;
  /** Boot + INIT, when no pre-initialised environment was ready. */
  readonly initDurationMs?: number;
}

export class FunctionSnapStart {
  readonly info: SnapStartInfo;
  readonly #deps: EnvironmentDeps;
  readonly #initLimitMs: number;
  readonly #snapshot: EnvironmentSnapshot | undefined;
  readonly #spares: ExecutionEnvironment[] = [];
  #refilling = 0;
  #disposed = false;

  private constructor(deps: EnvironmentDeps, initLimitMs: number, info: SnapStartInfo, snapshot: EnvironmentSnapshot | undefined) {
    this.#deps = deps;
    this.#initLimitMs = initLimitMs;
    this.info = info;
    this.#snapshot = snapshot;
  }

  /**
   * Runs the template at deploy. Throws SnapStartException when INIT or the before-snapshot hooks
   * fail (their error, timeout or out-of-memory), so the deploy fails, not the first invoke.
   */
  static async create(deps: EnvironmentDeps, initLimitMs: number): Promise<FunctionSnapStart> {
    const templateDeps: EnvironmentDeps = { ...deps, initializationType: 'snap-start' };
    const started = performance.now();
    const template = await prepareEnvironment(templateDeps, initLimitMs);
    const initDurationMs = performance.now() - started;
    template.logs.platformLine(`INIT_REPORT Init Duration: ${initDurationMs.toFixed(2)} ms\tPhase: init\tStatus: success\t`);
    const snapshotStarted = performance.now();
    let snapshot: EnvironmentSnapshot;
    try {
      snapshot = await template.snapshot();
    } catch (error) {
      if (!(error instanceof SnapshotUnsupportedError)) {
        template.dispose();
        throw error;
      }
      const info: SnapStartInfo = {
        path: 'pre-initialised',
        fallbackReason: error.message,
        initDurationMs,
        snapshotDurationMs: performance.now() - snapshotStarted,
      };
      const fallback = new FunctionSnapStart(templateDeps, initLimitMs, info, undefined);
      // The template is ready and went through the hooks: it is the first spare.
      fallback.#spares.push(template);
      fallback.#refill();
      return fallback;
    }
    template.dispose();
    const info: SnapStartInfo = {
      path: 'snapshot',
      imageKind: snapshot.image.kind,
      imageBytes: snapshot.image.sizeBytes + (snapshot.tmp?.files.reduce((sum, [, data]) => sum + data.length, 0) ?? 0),
      initDurationMs,
      snapshotDurationMs: performance.now() - snapshotStarted,
    };
    return new FunctionSnapStart(templateDeps, initLimitMs, info, snapshot);
  }

  /**
   * A new environment for a cold start. `onEnvironment` gets it as soon as it exists (before any
   * guest code runs), so the caller can track and dispose it.
   */
  async start(onEnvironment: (env: ExecutionEnvironment) => void): Promise<ColdStart> {
    const started = performance.now();
    if (this.#snapshot && !this.#disposed) {
      let env: ExecutionEnvironment | undefined;
      try {
        env = await ExecutionEnvironment.restore(this.#deps, this.#snapshot);
      } catch (error) {
        // Redeployed while this cold start was on its way (the image is gone): INIT below.
        if (!this.#disposed) throw error;
      }
      if (env) {
        onEnvironment(env);
        return this.#resume(env, started);
      }
    }
    const spare = this.#spares.shift();
    this.#refill();
    if (spare) {
      onEnvironment(spare);
      return this.#resume(spare, started);
    }
    // No spare ready (a burst), or this deployment was replaced while its invoke waited: INIT
    // here, as an on-demand cold start would.
    const env = await ExecutionEnvironment.boot(this.#deps);
    onEnvironment(env);
    const init = await env.init();
    const initDurationMs = performance.now() - started;
    if (!init.ok) return { env, failure: { phase: 'init', result: init }, initDurationMs };
    const hooks = await env.beforeSnapshot(this.#initLimitMs);
    if (!hooks.ok) return { env, failure: { phase: 'init', result: hooks }, initDurationMs };
    const resumed = await env.resume();
    return resumed.ok ? { env, initDurationMs } : { env, failure: { phase: 'restore', result: resumed }, initDurationMs };
  }

  /**
   * Frees the image and the spares. Cold starts already admitted for this deployment still get an
   * environment (they run INIT): nothing admitted is lost to a redeploy. Idempotent.
   */
  dispose(): void {
    if (this.#disposed) return;
    this.#disposed = true;
    this.#snapshot?.image.dispose();
    for (const spare of this.#spares.splice(0)) spare.dispose();
  }

  async #resume(env: ExecutionEnvironment, started: number): Promise<ColdStart> {
    const resumed = await env.resume();
    const restoreDurationMs = performance.now() - started;
    return resumed.ok ? { env, restoreDurationMs } : { env, failure: { phase: 'restore', result: resumed }, restoreDurationMs };
  }

  /** Boots spares in the background until {@link SNAPSTART_SPARE_ENVIRONMENTS} are ready or coming. */
  #refill(): void {
    while (!this.#disposed && this.#spares.length + this.#refilling < SNAPSTART_SPARE_ENVIRONMENTS) {
      this.#refilling++;
      void prepareEnvironment(this.#deps, this.#initLimitMs).then(
        (env) => {
          this.#refilling--;
          if (this.#disposed) env.dispose();
          else this.#spares.push(env);
        },
        () => {
          // INIT succeeded in the template; a spare failing now (a flaky dependency) is not
          // retried here: the next cold start refills, or runs INIT itself.
          this.#refilling--;
        },
      );
    }
  }
}

/** Boot → INIT → before-snapshot hooks; a failure disposes the environment and throws SnapStartException. */
async function prepareEnvironment(deps: EnvironmentDeps, limitMs: number): Promise<ExecutionEnvironment> {
  const env = await ExecutionEnvironment.boot(deps);
  const init = await env.init(limitMs);
  if (!init.ok) {
    env.dispose();
    throw new SnapStartException(`SnapStart: INIT of ${deps.config.name} failed at deploy`, init.error);
  }
  const hooks = await env.beforeSnapshot(limitMs);
  if (!hooks.ok) {
    env.dispose();
    throw new SnapStartException(`SnapStart: the before-snapshot hooks of ${deps.config.name} failed at deploy`, hooks.error);
  }
  return env;
}
