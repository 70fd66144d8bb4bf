/**
 * Unhandled promise rejections on quickjs (engines/quickjs/rejection-tracker.ts), against v8 as the
 * reference, in every mode a QuickJS runtime is made in: a worker thread (booted from the guest
 * runtime's image), shared instances, process isolation, and a SnapStart restore.
 *
 * The rule (Node lib/internal/process/promises.js `processPromiseRejections`, run after the microtask
 * queue drains; the runtime client's src/index.mjs `process.on('unhandledRejection')` posts
 * Runtime.UnhandledPromiseRejection and exits): a rejection still without a handler when the
 * microtasks of a macrotask have drained ends the environment; one handled before that does not.
 */
import { describe, expect, it } from 'vitest';
import { createRuntime, type InvokeResult, type Runtime, type RuntimeOptionsInput } from '../../../src/index.ts';
import { captureLogs, type CapturedLogs } from '../../helpers/runtime.ts';

interface Mode {
  readonly name: string;
  readonly engine: 'v8' | 'quickjs';
  readonly options: RuntimeOptionsInput;
  readonly snapStart?: boolean;
}

const MODES: readonly Mode[] = [
  { name: 'v8 (the reference)', engine: 'v8', options: {} },
  { name: 'quickjs', engine: 'quickjs', options: {} },
  { name: 'quickjs shared', engine: 'quickjs', options: { quickjsIsolation: 'shared' } },
  { name: 'quickjs process', engine: 'quickjs', options: { isolation: 'process' } },
  { name: 'v8 process', engine: 'v8', options: { isolation: 'process' } },
  { name: 'quickjs snapStart', engine: 'quickjs', options: {}, snapStart: true },
];

const SOURCE = `
const failLater = async () => { throw new Error('later'); };
export const handler = async (event) => {
  switch (event.case) {
    case 'after-response': failLater(); return 'ok';
    case 'before-response': Promise.reject(new Error('early')); await new Promise((r) => setTimeout(r, 5)); return 'late';
    case 'handled-in-the-same-drain': { const p = Promise.reject(new Error('caught')); await null; await null; p.catch(() => {}); return 'fine'; }
    case 'handled-by-await': { try { await Promise.reject(new Error('awaited')); } catch { return 'awaited'; } }
    case 'handled-a-macrotask-later': { const p = Promise.reject(new Error('too late')); await new Promise((r) => setTimeout(r, 1)); p.catch(() => {}); return 'missed'; }
    case 'non-error': Promise.reject(42); await new Promise((r) => setTimeout(r, 1)); return 'late';
    case 'engine-error': (async () => nope)(); await new Promise((r) => setTimeout(r, 1)); return 'late';
    case 'rejected-and-handled-by-then': return Promise.reject(new Error('returned')).then(() => 1, () => 'recovered');
    default: return 'warm';
  }
};`;

async function withMode(mode: Mode, body: (invoke: (c: string) => Promise<InvokeResult>, logs: CapturedLogs) => Promise<void>): Promise<void> {
  const logs = captureLogs();
  const rt: Runtime = await createRuntime({ ...mode.options, logSink: logs });
  try {
    // No case waits long; the timeout only keeps a loaded machine from turning a case into Sandbox.Timedout.
    await rt.deploy({ name: 'rejections', engine: mode.engine, timeoutMs: 60_000, code: { files: { 'index.mjs': SOURCE } }, ...(mode.snapStart ? { snapStart: true } : {}) });
    await body((c) => rt.invoke('rejections', { case: c }), logs);
  } finally {
    await rt.close();
  }
}

const errorOf = (result: InvokeResult): { errorType: string; errorMessage: string; trace?: string[] } => result.payload as never;

for (const mode of MODES) {
  describe(`unhandled rejections [${mode.name}]`, () => {
    it('left unhandled before the response: Runtime.UnhandledPromiseRejection, the environment ends', () =>
      withMode(mode, async (invoke) => {
        const failed = await invoke('before-response');
        expect(failed.functionError).toBe('Unhandled');
        expect(errorOf(failed)).toMatchObject({ errorType: 'Runtime.UnhandledPromiseRejection', errorMessage: 'Error: early' });
        expect(errorOf(failed).trace?.[0]).toBe('Runtime.UnhandledPromiseRejection: Error: early');
        expect(errorOf(failed).trace?.some((line) => line.includes('/var/task/index.mjs:'))).toBe(true);
        expect((await invoke('warm')).coldStart).toBe(true);
      }));

    it('left unhandled after the response was decided: the response stands, the ERROR line is logged, the environment ends', () =>
      withMode(mode, async (invoke, logs) => {
        const first = await invoke('after-response');
        expect(first.functionError).toBeUndefined();
        expect(first.payload).toBe('ok');
        expect(logs.forRequest(first.requestId).some((l) => l.includes('\tERROR\tUnhandled Promise Rejection \t{"errorType":"Runtime.UnhandledPromiseRejection","errorMessage":"Error: later"'))).toBe(true);
        expect((await invoke('warm')).coldStart).toBe(true);
      }));

    it('handled before the microtasks drain (a later .catch, await, .then): nothing is reported and the environment stays warm', () =>
      withMode(mode, async (invoke) => {
        expect((await invoke('handled-in-the-same-drain')).payload).toBe('fine');
        expect((await invoke('handled-by-await')).payload).toBe('awaited');
        const recovered = await invoke('rejected-and-handled-by-then');
        expect(recovered.payload).toBe('recovered');
        expect(recovered.coldStart).toBe(false);
      }));

    it('handled only a macrotask later: already unhandled (Node reports it after the first drain)', () =>
      withMode(mode, async (invoke) => {
        expect(errorOf(await invoke('handled-a-macrotask-later'))).toMatchObject({ errorType: 'Runtime.UnhandledPromiseRejection', errorMessage: 'Error: too late' });
      }));

    it("a reason that is not an Error reads as String(reason): '42'; an engine error in V8's words", () =>
      withMode(mode, async (invoke) => {
        expect(errorOf(await invoke('non-error'))).toMatchObject({ errorType: 'Runtime.UnhandledPromiseRejection', errorMessage: '42' });
        expect(errorOf(await invoke('engine-error'))).toMatchObject({ errorType: 'Runtime.UnhandledPromiseRejection', errorMessage: 'ReferenceError: nope is not defined' });
      }));
  });
}
