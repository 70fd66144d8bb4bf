import { describe, expect, it } from 'vitest';
import { deployAndInvoke, deployFiles, errorOf, forEachEngine } from '../helpers/runtime.ts';

forEachEngine(({ withRuntime, title, unsupported }) => {
  describe('function errors', () => {
    it('Errors: a thrown Error is Unhandled with type, message and a trace pointing at the original line', () =>
      withRuntime(async ({ rt }) => {
        const source = [
          'const helper = () => {',
          '  // padding so the line number is not trivially the first',
          '  throw new Error("boom");',
          '};',
          'export const handler = async () => helper();',
        ].join('\n');
        const result = await deployAndInvoke(rt, source);
        expect(result.statusCode).toBe(200);
        expect(result.functionError).toBe('Unhandled');
        const error = errorOf(result);
        expect(Object.keys(error)).toEqual(['errorType', 'errorMessage', 'trace']);
        expect(error.errorType).toBe('Error');
        expect(error.errorMessage).toBe('boom');
        expect(error.trace![0]).toBe('Error: boom');
        expect(error.trace![1]).toMatch(/^ {4}at helper \(\/var\/task\/index\.mjs:3:\d+\)$/);
        expect(error.trace!.some((l) => /\/var\/task\/index\.mjs:5:\d+/.test(l))).toBe(true);
      }));

    it('Errors: a custom error class keeps its name', () =>
      withRuntime(async ({ rt }) => {
        const result = await deployAndInvoke(rt, `
          class ValidationError extends Error { constructor(m) { super(m); this.name = 'ValidationError'; } }
          export const handler = async () => { throw new ValidationError('field x is required'); };`);
        expect(errorOf(result)).toMatchObject({ errorType: 'ValidationError', errorMessage: 'field x is required' });
        expect(errorOf(result).trace![0]).toBe('ValidationError: field x is required');
      }));

    it('Errors: a thrown string is errorType "string" with an empty trace', () =>
      withRuntime(async ({ rt }) => {
        const result = await deployAndInvoke(rt, 'export const handler = async () => { throw "just a string"; };');
        expect(errorOf(result)).toEqual({ errorType: 'string', errorMessage: 'just a string', trace: [] });
      }));

    it('Errors: a thrown number is errorType "number"', () =>
      withRuntime(async ({ rt }) => {
        const result = await deployAndInvoke(rt, 'export const handler = async () => { throw 42; };');
        expect(errorOf(result)).toEqual({ errorType: 'number', errorMessage: '42', trace: [] });
      }));

    it('Errors: a thrown plain object is errorType "object"', () =>
      withRuntime(async ({ rt }) => {
        const result = await deployAndInvoke(rt, 'export const handler = async () => { throw { code: 1 }; };');
        expect(errorOf(result)).toEqual({ errorType: 'object', errorMessage: '[object Object]', trace: [] });
      }));

    it('Errors: a sync handler that throws fails the invocation', () =>
      withRuntime(async ({ rt }) => {
        const result = await deployAndInvoke(rt, 'export const handler = () => { throw new TypeError("sync"); };');
        expect(errorOf(result)).toMatchObject({ errorType: 'TypeError', errorMessage: 'sync' });
      }));

    it('Errors: a rejected promise fails the invocation', () =>
      withRuntime(async ({ rt }) => {
        const result = await deployAndInvoke(rt, 'export const handler = () => Promise.reject(new RangeError("rejected"));');
        expect(errorOf(result)).toMatchObject({ errorType: 'RangeError', errorMessage: 'rejected' });
      }));

    it('Errors: an "Invoke Error" line is logged with the error as JSON', () =>
      withRuntime(async ({ rt, logs }) => {
        const result = await deployAndInvoke(rt, 'export const handler = async () => { const e = new Error("logged"); e.code = "E_X"; throw e; };');
        const line = logs.forRequest(result.requestId).find((l) => l.includes('Invoke Error'))!;
        expect(line).toMatch(new RegExp(`\\t${result.requestId}\\tERROR\\tInvoke Error \\t\\{`));
        const json = JSON.parse(line.slice(line.indexOf('\t{') + 1)) as Record<string, unknown>;
        expect(json).toMatchObject({ errorType: 'Error', errorMessage: 'logged', code: 'E_X' });
        expect(Array.isArray(json.stack)).toBe(true);
      }));

    it('Errors: a function error keeps the environment warm', () =>
      withRuntime(async ({ rt }) => {
        await deployFiles(rt, 'warm-after-error', 'let n = 0; export const handler = async (e) => { n++; if (e.fail) throw new Error("x"); return n; };');
        expect((await rt.invoke('warm-after-error', { fail: true })).functionError).toBe('Unhandled');
        const next = await rt.invoke('warm-after-error');
        expect(next.coldStart).toBe(false);
        expect(next.payload).toBe(2);
      }));

    it('Errors: an exception in a timer callback fails the invocation and the next invoke is cold', () =>
      withRuntime(async ({ rt, logs }) => {
        await deployFiles(rt, 'timer-throw', `
          export const handler = async (event) => {
            if (event.ok) return 'ok';
            setTimeout(() => { throw new Error('from timer'); }, 10);
            await new Promise((r) => setTimeout(r, 100));
            return 'not reached';
          };`);
        const failed = await rt.invoke('timer-throw');
        expect(errorOf(failed)).toMatchObject({ errorType: 'Error', errorMessage: 'from timer' });
        expect(logs.forRequest(failed.requestId).some((l) => l.includes('Uncaught Exception'))).toBe(true);
        const next = await rt.invoke('timer-throw', { ok: true });
        expect(next.coldStart).toBe(true);
        expect(next.payload).toBe('ok');
      }));

    it('Errors: an exception in a process.nextTick callback is uncaught', () =>
      withRuntime(async ({ rt }) => {
        await deployFiles(rt, 'tick-throw', `
          export const handler = async (event) => {
            if (event.ok) return 'ok';
            process.nextTick(() => { throw new Error('from tick'); });
            await new Promise((r) => setTimeout(r, 50));
            return 'not reached';
          };`);
        const failed = await rt.invoke('tick-throw');
        expect(errorOf(failed)).toMatchObject({ errorType: 'Error', errorMessage: 'from tick' });
        expect((await rt.invoke('tick-throw', { ok: true })).coldStart).toBe(true);
      }));

    // The runtime client posts the response first, then its uncaughtException handler logs the
    // error, and the process exits (129): the response stands and the next invoke is cold
    // (aws-lambda-nodejs-runtime-interface-client src/index.js, `process.on('uncaughtException')`).
    // The exception comes several microtask turns after the handler's outcome, in the same call.
    const late = (depth: number) => `${'queueMicrotask(() => '.repeat(depth)}{ throw new Error('late'); }${')'.repeat(depth)}`;
    // nodejs24.x: a synchronous handler's return value is the response (RIC v4), decided before its call returns.
    it.each([
      { kind: 'an async handler answered', name: 'late-throw-async', head: 'async (event)', depth: 8, runtime: 'nodejs22.x' },
      { kind: 'a synchronous handler returned', name: 'late-throw-sync', head: '(event)', depth: 3, runtime: 'nodejs24.x' },
    ] as const)('Errors: an exception in a microtask after $kind ends the environment; the answer stands', ({ name, head, depth, runtime }) =>
      withRuntime(async ({ rt, logs }) => {
        await deployFiles(rt, name, `
          export const handler = ${head} => {
            if (event.ok) return 'ok';
            ${late(depth)};
            return 'answered';
          };`, { runtime });
        const first = await rt.invoke(name);
        expect(first.functionError).toBeUndefined();
        expect(first.payload).toBe('answered');
        expect(logs.forRequest(first.requestId).some((l) => l.includes('Uncaught Exception'))).toBe(true);
        expect((await rt.invoke(name, { ok: true })).coldStart).toBe(true);
      }));

    it('Errors: a line logged in a microtask after the handler answered belongs to its invocation, before END', () =>
      withRuntime(async ({ rt, logs }) => {
        await deployFiles(rt, 'late-line', `
          export const handler = async () => {
            ${'queueMicrotask(() => '.repeat(40)}console.log('late line')${')'.repeat(40)};
            return 'answered';
          };`);
        const result = await rt.invoke('late-line');
        expect(result.payload).toBe('answered');
        const mine = logs.forRequest(result.requestId);
        const line = mine.findIndex((l) => l.endsWith('\tINFO\tlate line'));
        expect(line).toBeGreaterThanOrEqual(0);
        expect(line).toBeLessThan(mine.findIndex((l) => l.startsWith('END RequestId:')));
      }));

    // quickjs: lambdalet installs QuickJS's host promise-rejection tracker itself (engines/quickjs/rejection-tracker.ts).
    const noRejectionTracker = {};
    it.skipIf(unsupported(noRejectionTracker))(title('Errors: an unhandled promise rejection fails the invocation and the next invoke is cold', noRejectionTracker), () =>
      withRuntime(async ({ rt }) => {
        await deployFiles(rt, 'unhandled-rejection', `
          export const handler = async (event) => {
            if (event.ok) return 'ok';
            Promise.reject(new Error('nobody catches me'));
            await new Promise((r) => setTimeout(r, 20));
            return 'not reached';
          };`);
        const failed = await rt.invoke('unhandled-rejection');
        expect(failed.functionError).toBe('Unhandled');
        expect(errorOf(failed).errorType).toBe('Runtime.UnhandledPromiseRejection');
        expect(errorOf(failed).errorMessage).toBe('Error: nobody catches me');
        expect(errorOf(failed).trace?.[0]).toBe('Runtime.UnhandledPromiseRejection: Error: nobody catches me');
        expect(errorOf(failed).trace?.some((line) => line.includes('/var/task/index.mjs:'))).toBe(true);
        expect(JSON.stringify(failed.payload)).not.toContain('file://');
        const next = await rt.invoke('unhandled-rejection', { ok: true });
        expect(next.coldStart).toBe(true);
        expect(next.payload).toBe('ok');
      }));

    it('Errors: an exception at the module top level is an INIT error and every invoke retries INIT', () =>
      withRuntime(async ({ rt }) => {
        await deployFiles(rt, 'init-throw', 'throw new Error("init failed");\nexport const handler = async () => 1;');
        const first = await rt.invoke('init-throw');
        expect(errorOf(first)).toMatchObject({ errorType: 'Error', errorMessage: 'init failed' });
        expect(first.coldStart).toBe(true);
        const second = await rt.invoke('init-throw');
        expect(second.coldStart).toBe(true);
        expect(errorOf(second).errorType).toBe('Error');
      }));

    it('Errors: a rejected top-level await is an INIT error', () =>
      withRuntime(async ({ rt }) => {
        const result = await deployAndInvoke(rt, 'await Promise.reject(new Error("async init failed"));\nexport const handler = async () => 1;');
        expect(errorOf(result)).toMatchObject({ errorType: 'Error', errorMessage: 'async init failed' });
      }));
  });
});
