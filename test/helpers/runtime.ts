/** Shared helpers for the runtime behaviour tests: a runtime per test, a log capture, deploy shorthands. */

import { afterEach, beforeEach, describe, expect, TestRunner, vi } from 'vitest';
import { ENGINE_NAMES, type EngineName } from '../../src/config/index.ts';
import { STUCK_WORDS } from '../../src/engines/remote/worker-host.ts';
import { createRuntime, Runtime, type FunctionConfigInput, type FunctionInfo, type InvokeResult, type RuntimeOptionsInput } from '../../src/index.ts';

/** Every engine the conformance suite runs against: the engines that run Node.js handlers. */
export const ENGINES: readonly EngineName[] = ENGINE_NAMES.filter((engine) => engine !== 'wasm');

/**
 * Why a JavaScript conformance case does not run on `wasm`: it deploys a Node.js handler
 * (`code.<form>`), which the wasm engine does not take — it runs components of lambdalet's WIT world,
 * whose guests have no Node.js runtime. Its conformance to the same Lambda behaviours, with C, Rust
 * and JS components, is test/engines/wasm/runtime.test.ts.
 */
export function wasmConformanceSkip(form: string): string {
  return `deploys a Node.js handler as code.${form}; the wasm engine runs WIT components (its Lambda behaviours: test/engines/wasm/runtime.test.ts)`;
}

/**
 * On the `wasm` row, a case runs until it deploys code the engine cannot take, and is skipped there
 * with {@link wasmConformanceSkip} (vitest's `context.skip(note)`): the cases that never deploy a
 * Node.js handler (service errors, option checks, closing) run for real. The note is kept even when
 * the case catches the skip's error (a case awaiting a refusal): vitest marks the test pending first.
 */
function skipNodeHandlersOnWasm(): void {
  const deploy = Runtime.prototype.deploy;
  beforeEach(() => {
    vi.spyOn(Runtime.prototype, 'deploy').mockImplementation(function (this: Runtime, input: FunctionConfigInput) {
      if (input.engine === 'wasm' && !('component' in input.code)) {
        const test = TestRunner.getCurrentTest();
        if (!test) throw new Error('lambdalet test bug: a wasm conformance deploy outside a test');
        const note = wasmConformanceSkip(Object.keys(input.code)[0] ?? 'unknown');
        try {
          test.context.skip(note);
        } catch (pending) {
          (test.result as { note?: string } | undefined)!.note = note;
          throw pending;
        }
      }
      return deploy.call(this, input);
    });
  });
  afterEach(() => {
    vi.mocked(Runtime.prototype.deploy).mockRestore();
  });
}

/** A log sink that keeps every line, in order. */
export interface CapturedLogs {
  readonly lines: string[];
  write(line: string): void;
  /** Lines whose request id column (or platform line) mentions `requestId`. */
  forRequest(requestId: string): string[];
  /** Every line, joined with '\n'. */
  text(): string;
}

export function captureLogs(): CapturedLogs {
  const lines: string[] = [];
  return {
    lines,
    write(line: string) {
      lines.push(line);
    },
    forRequest(requestId: string) {
      return lines.filter((l) => l.includes(requestId));
    },
    text() {
      return lines.join('\n');
    },
  };
}

export interface RuntimeFixture {
  readonly rt: Runtime;
  readonly logs: CapturedLogs;
}

/**
 * Runtime options for a test that expects INIT or a SnapStart restore to time out: Lambda's fixed
 * 10 s limits (the defaults) shortened so the test does not wait (or spin) 10 real seconds. Use them
 * only where the phase is meant to time out whatever the machine's speed (an infinite loop, a hook
 * that never settles): a phase that must finish keeps the 10 s default. test/README.md says more.
 */
export const SHORT_PHASE_LIMITS = { initTimeoutMs: 300, restoreTimeoutMs: 300 } as const satisfies RuntimeOptionsInput;

/**
 * The function deadline (`timeoutMs`) of work that must finish, or of a memory bomb whose outcome
 * must be the memory cap: far beyond the work even on a saturated 2-core machine (two suites at
 * once took a 128 MB bomb past 30 s and past 60 s), so the outcome never depends on which of
 * deadline and work wins. Cases that must time out use a short deadline instead.
 */
export const GENEROUS_TIMEOUT_MS = 300_000;
/** vitest's limit (a hang detector, never a measure) for a case that runs to a GENEROUS_TIMEOUT_MS deadline. */
export const SLOW_CASE_LIMIT_MS = 400_000;

/**
 * The quickjs worker pool's most threads for runtimes {@link withRuntime} creates (unless the case
 * sets its own): the pool never goes below `engineThreads` (the host's parallelism), so on a 2-core
 * machine it stays at 2 workers instead of growing to 8 (QUICKJS_THREAD_GROWTH), each ~0.17 CPU-s
 * to start, in every test process. No case of withRuntime tests the pool's growth
 * (test/engines/remote/pool-growth.test.ts does, with its own options).
 */
export const TEST_QUICKJS_THREADS_MAX = 2;

/**
 * Creates a runtime with a capturing sink (and `options`), runs `body`, and closes the runtime
 * whatever happens. With `engine`, every deploy that names no engine uses it.
 */
export async function withRuntime<T>(body: (fixture: RuntimeFixture) => Promise<T>, engine?: EngineName, options: RuntimeOptionsInput = {}): Promise<T> {
  const logs = captureLogs();
  const rt = await createRuntime({ quickjsThreadsMax: TEST_QUICKJS_THREADS_MAX, ...options, logSink: logs });
  try {
    return await body({ rt: engine ? withDefaultEngine(rt, engine) : rt, logs });
  } finally {
    await rt.close();
  }
}

/** The runtime, with `engine` as the default of `deploy`. */
export function withDefaultEngine(rt: Runtime, engine: EngineName): Runtime {
  return new Proxy(rt, {
    get(target, property) {
      if (property === 'deploy') return (input: FunctionConfigInput) => target.deploy({ engine, ...input });
      const value: unknown = Reflect.get(target, property, target);
      return typeof value === 'function' ? (value as (...args: unknown[]) => unknown).bind(target) : value;
    },
  });
}

/** What a conformance file's cases get for one engine. */
export interface EngineFixture {
  readonly engine: EngineName;
  /** {@link withRuntime} with this engine as the default (and runtime `options`, if given). */
  readonly withRuntime: <T>(body: (fixture: RuntimeFixture) => Promise<T>, options?: RuntimeOptionsInput) => Promise<T>;
  /**
   * Why this engine cannot support a case, or undefined when it can. Use as
   * `it.skipIf(reason)(title + (reason ? ` [${engine} cannot: ${reason}]` : ''), ...)` via {@link EngineFixture.title}.
   */
  readonly unsupported: (reasons: Partial<Record<EngineName, string>>) => string | undefined;
  /** The case's title, with the reason this engine skips it appended (visible in the report). */
  readonly title: (title: string, reasons: Partial<Record<EngineName, string>>) => string;
}

/** Runs the same cases once per engine, each in a `describe` named after the engine. */
export function forEachEngine(cases: (fixture: EngineFixture) => void): void {
  for (const engine of ENGINES) {
    describe(`engine ${engine}`, () => {
      const unsupported = (reasons: Partial<Record<EngineName, string>>): string | undefined => reasons[engine];
      cases({
        engine,
        withRuntime: (body, options) => withRuntime(body, engine, options),
        unsupported,
        title: (title, reasons) => {
          const reason = unsupported(reasons);
          return reason === undefined ? title : `${title} [not on ${engine}: ${reason}]`;
        },
      });
    });
  }
  describe('engine wasm', () => {
    skipNodeHandlersOnWasm();
    const unsupported = (reasons: Partial<Record<EngineName, string>>): string | undefined => reasons.wasm;
    cases({
      engine: 'wasm',
      withRuntime: (body, options) => withRuntime(body, 'wasm', options),
      unsupported,
      title: (title, reasons) => {
        const reason = unsupported(reasons);
        return reason === undefined ? title : `${title} [not on wasm: ${reason}]`;
      },
    });
  });
}

/** Deploys `source` as `index.mjs` (or `extra.file`), handler `index.handler` unless given. */
export function deployFiles(
  rt: Runtime,
  name: string,
  source: string,
  extra: Partial<Omit<FunctionConfigInput, 'name' | 'code'>> & { readonly file?: string; readonly files?: Record<string, string> } = {},
): Promise<FunctionInfo> {
  const { file = 'index.mjs', files = {}, ...config } = extra;
  return rt.deploy({ name, code: { files: { [file]: source, ...files } }, ...config });
}

/** Deploys and invokes once. */
export async function deployAndInvoke(
  rt: Runtime,
  source: string,
  event: unknown = {},
  extra: Parameters<typeof deployFiles>[3] = {},
): Promise<InvokeResult> {
  const name = `fn-${Math.random().toString(36).slice(2, 10)}`;
  await deployFiles(rt, name, source, extra);
  return rt.invoke(name, event);
}

/** The error payload of a failed invoke. */
export interface ErrorPayload {
  readonly errorType: string;
  readonly errorMessage: string;
  readonly trace?: string[];
}

export function errorOf(result: InvokeResult): ErrorPayload {
  if (result.functionError !== 'Unhandled') {
    throw new Error(`expected a function error, got payload ${JSON.stringify(result.payload)}`);
  }
  return result.payload as ErrorPayload;
}

export const UUID = '[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}';

/**
 * The invocation was stopped at its deadline: Sandbox.Timedout, or — when a saturated machine kept
 * a quickjs worker from taking the interrupt for STUCK_GRACE_MS (its thread's CPU time on Linux) past the deadline — the engine's
 * watchdog ended the worker and the invocation failed as Runtime.ExitError saying so
 * (src/engines/remote/worker-host.ts). Both contain the handler; which comes first is a race.
 */
export function expectTimedOut(result: InvokeResult): void {
  const { errorType, errorMessage = '' } = errorOf(result);
  const stuck = errorType === 'Runtime.ExitError' && errorMessage.includes(STUCK_WORDS);
  expect(stuck ? 'Sandbox.Timedout' : errorType, JSON.stringify(result.payload).slice(0, 300)).toBe('Sandbox.Timedout');
}
