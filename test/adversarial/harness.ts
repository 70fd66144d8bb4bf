/**
 * Runs the adversarial catalogue (cases.ts) against every engine and isolation mode. For each case:
 * deploy it in the mode's runtime, invoke it (twice when the case says `then`), check the outcome,
 * check that neither host secret (one in the host's process.env, one on its globalThis, set here)
 * appears in any payload or log line, and check that a neighbour function in the same runtime
 * still answers. The runtime is shared by a mode's cases, as tenants share a host.
 *
 * Modes are found, not assumed: `isolation: 'process'` is tried with createRuntime and, where the
 * runtime refuses the option, its cases are skipped visibly with the reason in their title.
 */
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { EngineName } from '../../src/config/index.ts';
import { STUCK_WORDS } from '../../src/engines/remote/worker-host.ts';
import { createRuntime, type InvokeResult, type Runtime, type RuntimeOptionsInput } from '../../src/index.ts';
import { RUNTIME_MODES, type RuntimeMode } from '../helpers/modes.ts';
import { captureLogs, type CapturedLogs } from '../helpers/runtime.ts';
import { GENEROUS, LOOP_DEADLINE, type HostileCase, type Outcome } from './cases.ts';

export const SECRET_ENV_NAME = 'LAMBDALET_ADVERSARIAL_SECRET';
export const SECRET_GLOBAL_NAME = 'LAMBDALET_ADVERSARIAL_GLOBAL';
const SECRETS = [randomUUID(), randomUUID()] as const;
process.env[SECRET_ENV_NAME] = SECRETS[0];
(globalThis as Record<string, unknown>)[SECRET_GLOBAL_NAME] = SECRETS[1];

/** The four runtime modes, with QuickJS's shared instance after its own (the order the cases run in). */
const CANDIDATE_MODES: readonly RuntimeMode[] = RUNTIME_MODES.flatMap((mode) =>
  mode.name === 'quickjs' ? [mode, { name: 'quickjs-shared', engine: 'quickjs', options: { quickjsIsolation: 'shared' } } as const] : [mode],
);

/** Why `options` cannot make a runtime here, or undefined when they can. */
async function unavailable(options: RuntimeOptionsInput): Promise<string | undefined> {
  try {
    const rt = await createRuntime({ ...options, logSink: { write() {} } });
    await rt.close();
    return undefined;
  } catch (error) {
    return (error as Error).message.split('\n')[0];
  }
}

/** Every candidate mode, with the reason it is not available yet (skipped visibly) or undefined. */
export const MODES: readonly (RuntimeMode & { readonly skip: string | undefined })[] = await Promise.all(
  CANDIDATE_MODES.map(async (mode) => ({ ...mode, skip: await unavailable(mode.options) })),
);

export function outcomeFor(c: HostileCase, engine: EngineName): Outcome {
  const o = c.outcome;
  if ('kind' in o) return o;
  const chosen = (o)[engine];
  if (!chosen) throw new Error(`case "${c.name}" names no outcome for ${engine}`);
  return chosen;
}

function errorTypeOf(result: InvokeResult): string | undefined {
  return result.functionError ? (result.payload as { errorType?: string }).errorType : undefined;
}

/** The engine's watchdog ended the worker this invocation ran in (a loop that missed its interrupt). */
function endedWithStuckWorker(result: InvokeResult): boolean {
  const message = (result.payload as { errorMessage?: string } | undefined)?.errorMessage ?? '';
  return errorTypeOf(result) === 'Runtime.ExitError' && message.includes(STUCK_WORDS);
}

export function expectOutcome(result: InvokeResult, outcome: Outcome, what: string): void {
  const type = errorTypeOf(result);
  switch (outcome.kind) {
    case 'timeout': {
      // Contained at its deadline: the interrupt answers Sandbox.Timedout. On a saturated machine the
      // guest's thread can miss the interrupt for STUCK_GRACE_MS (its thread's CPU time on Linux) past the deadline; the engine's
      // watchdog then ends the whole worker (src/engines/remote/worker-host.ts) and the invocation
      // fails as Runtime.ExitError saying so. Both contain the loop; which comes first is the race.
      expect(endedWithStuckWorker(result) ? 'Sandbox.Timedout' : type, `${what}: ${JSON.stringify(result.payload).slice(0, 300)}`).toBe('Sandbox.Timedout');
      break;
    }
    case 'oom':
      expect(type, `${what}: ${JSON.stringify(result.payload).slice(0, 300)}`).toBe('Runtime.OutOfMemory');
      break;
    case 'error':
      expect(result.functionError, `${what}: ${JSON.stringify(result.payload).slice(0, 300)}`).toBe('Unhandled');
      if (typeof outcome.errorType === 'string') expect(type, what).toBe(outcome.errorType);
      else expect(type, what).toMatch(outcome.errorType);
      if (outcome.errorMessage) expect((result.payload as { errorMessage?: string }).errorMessage, what).toMatch(outcome.errorMessage);
      break;
    case 'ok':
      expect(result.functionError, `${what}: ${JSON.stringify(result.payload).slice(0, 300)}`).toBeUndefined();
      outcome.check?.(result.payload);
      break;
  }
}

/** No host secret in `text`. */
export function expectNoSecret(text: string, what: string): void {
  for (const secret of SECRETS) expect(text.includes(secret), `${what} holds a host secret`).toBe(false);
}

const NEIGHBOUR = 'neighbour';
/** Modes whose sandboxes share a worker thread (quickjs in-process) or a child process. */
const SHARED_PLACEMENT = new Set(['quickjs', 'quickjs-shared', 'v8-process', 'quickjs-process']);

/**
 * One describe block per mode; `cases` run concurrently inside it (v8 isolates run on their own
 * threads; in-process quickjs runs on the host's, so its loops take turns).
 */
export function catalogue(title: string, cases: readonly HostileCase[], modes = MODES, concurrent = true): void {
  for (const mode of modes) {
    const suite = mode.skip ? describe.skip : concurrent ? describe.concurrent : describe;
    suite(`${title} [${mode.name}]${mode.skip ? ` (not available yet: ${mode.skip})` : ''}`, () => {
      let rt: Runtime;
      let logs: CapturedLogs;
      beforeAll(async () => {
        logs = captureLogs();
        rt = await createRuntime({ ...mode.options, logSink: logs, scaleUpRate: 10_000, scaleUpBurst: 10_000 });
        // A generous deadline: the neighbour proves it still answers, not how fast. At Lambda's default
        // 3 s it timed out once under load 45 while five modes' loops and bombs ran (issue #15).
        await rt.deploy({
          name: NEIGHBOUR,
          engine: mode.engine,
          timeoutMs: GENEROUS,
          code: { files: { 'index.mjs': 'export const handler = async (e) => ({ neighbour: e.n })' } },
        });
      });
      afterAll(async () => {
        await rt?.close();
        expectNoSecret(logs.text(), `${mode.name}: the logs`);
      });
      cases.forEach((c, index) => {
        const excluded = c.only && !c.only.modes.includes(mode.name) ? c.only.reason : undefined;
        (excluded ? it.skip : it)(`${c.name}${excluded ? ` (skipped here: ${excluded})` : ''}`, async () => {
          const event = { envName: SECRET_ENV_NAME, globalName: SECRET_GLOBAL_NAME, ...c.event };
          const attempt = async (name: string): Promise<{ first: InvokeResult; second?: InvokeResult }> => {
            await rt.deploy({
              name,
              engine: mode.engine,
              code: { files: { 'index.mjs': c.code } },
              timeoutMs: c.timeoutMs ?? (outcomeFor(c, mode.engine).kind === 'timeout' ? LOOP_DEADLINE : GENEROUS),
              memoryMb: c.memoryMb ?? 128,
              ...(c.ephemeralStorageMb ? { ephemeralStorageMb: c.ephemeralStorageMb } : {}),
              ...(c.runtime ? { runtime: c.runtime } : {}),
            });
            const first = await rt.invoke(name, event);
            return c.then ? { first, second: await rt.invoke(name, event) } : { first };
          };
          let { first, second } = await attempt(`hostile-${index}`);
          // Cases run concurrently: where sandboxes share a worker thread or a child process, another
          // case that forces the engine to end that worker or child (a loop that missed its interrupt
          // on a saturated machine, a child given up, a v8 bomb's catastrophic isolated-vm error, after
          // which its child is killed UNHEALTHY_GRACE_MS later) ends this case's call with it, as
          // Runtime.ExitError — what the neighbour below is allowed once too. That is how a v8-process
          // memory bomb came back Runtime.ExitError under load (issue #15; a concurrent bomb's
          // catastrophe, "the engine server was replaced: …": test/engines/process/process-isolation.test.ts,
          // two bombs in one child). No case expects ExitError (a loop's timeout accepts the watchdog's,
          // see expectOutcome), so the case runs once more, from a fresh deploy: a case that itself
          // causes the ExitError fails again.
          const collateral = (result: InvokeResult | undefined, outcome: Outcome | undefined): boolean =>
            result !== undefined && errorTypeOf(result) === 'Runtime.ExitError' && !(outcome?.kind === 'timeout' && endedWithStuckWorker(result));
          if (SHARED_PLACEMENT.has(mode.name) && (collateral(first, outcomeFor(c, mode.engine)) || collateral(second, c.then))) {
            ({ first, second } = await attempt(`hostile-${index}-again`));
          }
          expectNoSecret(JSON.stringify(first.payload), `${c.name}: the payload`);
          expectOutcome(first, outcomeFor(c, mode.engine), `${c.name} [${mode.name}]`);
          c.logs?.(logs.forRequest(first.requestId));
          if (c.then) {
            if (!second) throw new Error(`${c.name}: no second invoke was made`);
            expectNoSecret(JSON.stringify(second.payload), `${c.name}: the second payload`);
            expectOutcome(second, c.then, `${c.name} [${mode.name}], second invoke`);
          }
          let neighbour = await rt.invoke(NEIGHBOUR, { n: index });
          if (neighbour.functionError && SHARED_PLACEMENT.has(mode.name)) {
            // Sandboxes here share a worker thread or child process: when a hostile one forces the
            // engine to end its worker or child, a neighbour's call running there fails with it
            // (Runtime.ExitError) and its environment is replaced. The next call must answer.
            neighbour = await rt.invoke(NEIGHBOUR, { n: index });
          }
          expect(neighbour.payload).toEqual({ neighbour: index });
          // The host's own objects are untouched (prototype pollution, JSON, Array).
          expect(({} as { polluted?: unknown }).polluted).toBeUndefined();
          expect(JSON.parse('{"a":1}')).toEqual({ a: 1 });
          expect([1, 2].map((x) => x * 2)).toEqual([2, 4]);
          expect(process.env[SECRET_ENV_NAME]).toBe(SECRETS[0]);
        }, 400_000);
      });
    });
  }
}
