import { describe, expect, it } from 'vitest';
import { deployAndInvoke, deployFiles, errorOf, forEachEngine, withDefaultEngine } from '../helpers/runtime.ts';

forEachEngine(({ engine, withRuntime }) => {
  const COUNTER = `
  let count = 0;
  export const handler = async (event, context) => ({ count: ++count, stream: context.logStreamName });
  `;

  describe('cold and warm starts', () => {
    it('Invoke: the first call is cold with an init duration, the next is warm and keeps module state', () =>
      withRuntime(async ({ rt }) => {
        await deployFiles(rt, 'counter', COUNTER);
        const first = await rt.invoke('counter');
        const second = await rt.invoke('counter');
        const third = await rt.invoke('counter');
        expect(first.coldStart).toBe(true);
        expect(first.initDurationMs).toBeTypeOf('number');
        expect(first.initDurationMs).toBeGreaterThanOrEqual(0);
        expect(second.coldStart).toBe(false);
        expect(second).not.toHaveProperty('initDurationMs');
        expect(third.coldStart).toBe(false);
        expect([first, second, third].map((r) => (r.payload as { count: number }).count)).toEqual([1, 2, 3]);
        expect((second.payload as { stream: string }).stream).toBe((first.payload as { stream: string }).stream);
        expect(first.statusCode).toBe(200);
        expect(first.executedVersion).toBe('$LATEST');
        expect(first.requestId).not.toBe(second.requestId);
      }));

    it('Invoke: concurrent invocations run in separate environments', () =>
      withRuntime(async ({ rt }) => {
        await deployFiles(rt, 'concurrent', `
          let count = 0;
          export const handler = async (event, context) => {
            count++;
            await new Promise((r) => setTimeout(r, 30));
            return { count, stream: context.logStreamName };
          };`);
        const results = await Promise.all([rt.invoke('concurrent'), rt.invoke('concurrent'), rt.invoke('concurrent')]);
        expect(results.every((r) => r.coldStart)).toBe(true);
        const payloads = results.map((r) => r.payload as { count: number; stream: string });
        expect(payloads.map((p) => p.count)).toEqual([1, 1, 1]);
        expect(new Set(payloads.map((p) => p.stream)).size).toBe(3);
      }));
  });

  describe('isolation', () => {
    it('Isolation: a global set in one environment is absent in another environment of the same function', () =>
      withRuntime(async ({ rt }) => {
        await deployFiles(rt, 'tenant', `
          export const handler = async (event) => {
            const before = globalThis.tenantMark ?? null;
            globalThis.tenantMark = event.id;
            Object.prototype.tenantPollution = event.id;
            await new Promise((r) => setTimeout(r, 50));
            return { before, after: globalThis.tenantMark, pollution: ({}).tenantPollution };
          };`);
        // Concurrent invocations run in two environments.
        const [a, b] = await Promise.all([rt.invoke('tenant', { id: 'a' }), rt.invoke('tenant', { id: 'b' })]);
        expect(a.payload).toEqual({ before: null, after: 'a', pollution: 'a' });
        expect(b.payload).toEqual({ before: null, after: 'b', pollution: 'b' });
        expect(a.coldStart && b.coldStart).toBe(true);
        // The warm environment keeps its own global; it never sees the other's.
        const again = await rt.invoke('tenant', { id: 'c' });
        expect(['a', 'b']).toContain((again.payload as { before: string }).before);
      }));
  });

  describe('context', () => {
    it('Context: JSON.stringify(context) has Lambda\'s keys, order and types', () =>
      withRuntime(async ({ rt }) => {
        await deployFiles(rt, 'ctx', `
          export const handler = async (event, context) => ({
            json: JSON.stringify(context),
            remaining: context.getRemainingTimeInMillis(),
            requestId: context.awsRequestId,
          });`, { memoryMb: 256, timeoutMs: 5000 });
        const result = await rt.invoke('ctx');
        const payload = result.payload as { json: string; remaining: number; requestId: string };
        const ctx = JSON.parse(payload.json) as Record<string, unknown>;
        expect(Object.keys(ctx)).toEqual([
          'callbackWaitsForEmptyEventLoop',
          'functionVersion',
          'functionName',
          'memoryLimitInMB',
          'logGroupName',
          'logStreamName',
          'invokedFunctionArn',
          'awsRequestId',
        ]);
        expect(ctx).toMatchObject({
          callbackWaitsForEmptyEventLoop: true,
          functionVersion: '$LATEST',
          functionName: 'ctx',
          memoryLimitInMB: '256',
          logGroupName: '/aws/lambda/ctx',
          invokedFunctionArn: 'arn:aws:lambda:us-east-1:123456789012:function:ctx',
          awsRequestId: result.requestId,
        });
        expect(ctx.logStreamName).toMatch(/^\d{4}\/\d{2}\/\d{2}\/\[\$LATEST\][0-9a-f]{32}$/);
        expect(payload.requestId).toBe(result.requestId);
        expect(payload.remaining).toBeGreaterThan(0);
        expect(payload.remaining).toBeLessThanOrEqual(5000);
      }));

    it('Context: clientContext and identity appear when the caller sends them', () =>
      withRuntime(async ({ rt }) => {
        await deployFiles(rt, 'ctx-extras', 'export const handler = async (e, c) => ({ cc: c.clientContext, id: c.identity });');
        const plain = await rt.invoke('ctx-extras');
        expect(plain.payload).toEqual({});
        const result = await rt.invoke('ctx-extras', {}, {
          clientContext: { custom: { a: 1 } },
          identity: { cognitoIdentityId: 'id-1', cognitoIdentityPoolId: 'pool-1' },
        });
        expect(result.payload).toEqual({
          cc: { custom: { a: 1 } },
          id: { cognitoIdentityId: 'id-1', cognitoIdentityPoolId: 'pool-1' },
        });
      }));

    it('Context: getRemainingTimeInMillis decreases during an invocation', () =>
      withRuntime(async ({ rt }) => {
        const result = await deployAndInvoke(rt, `
          export const handler = async (event, context) => {
            const a = context.getRemainingTimeInMillis();
            await new Promise((r) => setTimeout(r, 40));
            const b = context.getRemainingTimeInMillis();
            return { a, b };
          };`, {}, { timeoutMs: 1000 });
        const { a, b } = result.payload as { a: number; b: number };
        expect(a).toBeLessThanOrEqual(1000);
        expect(b).toBeLessThan(a);
      }));

    it('Context: nodejs24.x has no succeed/fail/done nor callbackWaitsForEmptyEventLoop', () =>
      withRuntime(async ({ rt }) => {
        const result = await deployAndInvoke(rt, `
          export const handler = async (event, context) => ({
            succeed: typeof context.succeed, fail: typeof context.fail, done: typeof context.done,
            flag: 'callbackWaitsForEmptyEventLoop' in context, keys: Object.keys(JSON.parse(JSON.stringify(context))),
          });`, {}, { runtime: 'nodejs24.x' });
        const p = result.payload as Record<string, unknown>;
        expect(p).toMatchObject({ succeed: 'undefined', fail: 'undefined', done: 'undefined', flag: false });
        expect(p.keys).not.toContain('callbackWaitsForEmptyEventLoop');
      }));
  });

  describe('environment variables', () => {
    it('process.env: has the user\'s variables and Lambda\'s reserved ones', () =>
      withRuntime(async ({ rt }) => {
        const result = await deployAndInvoke(rt, 'export const handler = async () => ({ ...process.env });', {}, {
          env: { MY_KEY: 'my value', OTHER: '' },
          memoryMb: 512,
          runtime: 'nodejs22.x',
        });
        const env = result.payload as Record<string, string>;
        expect(env.MY_KEY).toBe('my value');
        expect(env.OTHER).toBe('');
        expect(env.AWS_LAMBDA_FUNCTION_NAME).toMatch(/^fn-/);
        expect(env.AWS_REGION).toBe('us-east-1');
        expect(env.AWS_DEFAULT_REGION).toBe('us-east-1');
        expect(env.AWS_EXECUTION_ENV).toBe('AWS_Lambda_nodejs22.x');
        expect(env.AWS_LAMBDA_FUNCTION_MEMORY_SIZE).toBe('512');
        expect(env.AWS_LAMBDA_FUNCTION_VERSION).toBe('$LATEST');
        expect(env.AWS_LAMBDA_LOG_GROUP_NAME).toBe(`/aws/lambda/${env.AWS_LAMBDA_FUNCTION_NAME}`);
        expect(env.AWS_LAMBDA_LOG_STREAM_NAME).toMatch(/^\d{4}\/\d{2}\/\d{2}\/\[\$LATEST\][0-9a-f]{32}$/);
        expect(env.LAMBDA_TASK_ROOT).toBe('/var/task');
        expect(env._HANDLER).toBe('index.handler');
        expect(env.TZ).toBe(':UTC');
      }));

    it('process.env: the region comes from the runtime options', async () => {
      const { createRuntime } = await import('../../src/index.ts');
      const rt = withDefaultEngine(await createRuntime({ region: 'eu-west-3', accountId: '111122223333', logSink: { write() {} } }), engine);
      try {
        await deployFiles(rt, 'region', 'export const handler = async (e, c) => [process.env.AWS_REGION, c.invokedFunctionArn];');
        const result = await rt.invoke('region');
        expect(result.payload).toEqual(['eu-west-3', 'arn:aws:lambda:eu-west-3:111122223333:function:region']);
      } finally {
        await rt.close();
      }
    });
  });

  describe('module formats and handler resolution', () => {
    it('Handler: an ESM module\'s named export', () =>
      withRuntime(async ({ rt }) => {
        const result = await deployAndInvoke(rt, 'export const handler = async (e) => ({ esm: e.x });', { x: 1 });
        expect(result.payload).toEqual({ esm: 1 });
      }));

    it('Handler: a CommonJS module\'s exports', () =>
      withRuntime(async ({ rt }) => {
        const result = await deployAndInvoke(rt, 'exports.handler = async (e) => ({ cjs: e.x, mod: typeof module });', { x: 2 }, { file: 'index.js' });
        expect(result.payload).toEqual({ cjs: 2, mod: 'object' });
      }));

    it('Handler: a CommonJS module.exports object in a .cjs file', () =>
      withRuntime(async ({ rt }) => {
        const result = await deployAndInvoke(rt, 'module.exports = { handler: async () => "cjs" };', {}, { file: 'index.cjs' });
        expect(result.payload).toBe('cjs');
      }));

    it('Handler: a nested property path in a subdirectory', () =>
      withRuntime(async ({ rt }) => {
        const result = await deployAndInvoke(
          rt,
          'export const nested = { deeper: { handler: async () => "nested" } };',
          {},
          { file: 'src/api/users.mjs', handler: 'src/api/users.nested.deeper.handler' },
        );
        expect(result.payload).toBe('nested');
      }));

    it('Handler: the default export', () =>
      withRuntime(async ({ rt }) => {
        const result = await deployAndInvoke(rt, 'export default async () => 42;', {}, { handler: 'index.default' });
        expect(result.payload).toBe(42);
      }));

    it('Handler: top-level await, including a timer, runs before the first invoke', () =>
      withRuntime(async ({ rt, logs }) => {
        const result = await deployAndInvoke(rt, `
          const config = await Promise.resolve({ ready: true });
          await new Promise((r) => setTimeout(r, 30));
          const waited = true;
          console.log('init done');
          export const handler = async () => ({ ...config, waited });`);
        expect(result.payload).toEqual({ ready: true, waited: true });
        expect(result.functionError).toBeUndefined();
        expect(logs.lines.some((l) => l.endsWith('\tundefined\tINFO\tinit done'))).toBe(true);
      }));

    it('Handler: a sync handler on nodejs22.x returns null (RIC v3 ignores the return value)', () =>
      withRuntime(async ({ rt }) => {
        const result = await deployAndInvoke(rt, 'export const handler = (event) => ({ value: 1 });', {}, { runtime: 'nodejs22.x' });
        expect(result.functionError).toBeUndefined();
        expect(result.payload).toBeNull();
      }));

    it('Handler: a sync handler on nodejs24.x returns its value', () =>
      withRuntime(async ({ rt }) => {
        const result = await deployAndInvoke(rt, 'export const handler = (event) => ({ value: 1 });', {}, { runtime: 'nodejs24.x' });
        expect(result.payload).toEqual({ value: 1 });
      }));

    it('Handler: a sync handler returning a promise is awaited on nodejs22.x', () =>
      withRuntime(async ({ rt }) => {
        const result = await deployAndInvoke(rt, 'export const handler = (event) => Promise.resolve("p");');
        expect(result.payload).toBe('p');
      }));

    it('Handler: an async handler returning undefined gives null', () =>
      withRuntime(async ({ rt }) => {
        const result = await deployAndInvoke(rt, 'export const handler = async () => {};');
        expect(result.functionError).toBeUndefined();
        expect(result.payload).toBeNull();
      }));

    it('Handler: the event arrives as parsed JSON and the response round-trips', () =>
      withRuntime(async ({ rt }) => {
        const event = { s: 'é\u2028"', n: 1.5, a: [null, true], o: { nested: 'x' } };
        const result = await deployAndInvoke(rt, 'export const handler = async (e) => ({ echo: e });', event);
        expect(result.payload).toEqual({ echo: event });
      }));
  });

  describe('callbacks (nodejs22.x)', () => {
    it('Callback: callback(null, x) waits for the event loop to empty', () =>
      withRuntime(async ({ rt }) => {
        await deployFiles(rt, 'cb-wait', `
          let timerRan = false;
          exports.handler = (event, context, callback) => {
            if (event.check) return callback(null, { timerRanBefore: timerRan });
            setTimeout(() => { timerRan = true; console.log('timer fired'); }, 50);
            callback(null, { timerRanAtCall: timerRan });
          };`, { file: 'index.js' });
        const first = await rt.invoke('cb-wait', {}, { logType: 'Tail' });
        expect(first.payload).toEqual({ timerRanAtCall: false });
        // The timer's line is logged within the invocation (before END), as the loop had to drain first.
        const tail = Buffer.from(first.logResult!, 'base64').toString();
        expect(tail.indexOf('timer fired')).toBeGreaterThan(-1);
        expect(tail.indexOf('timer fired')).toBeLessThan(tail.indexOf('END RequestId'));
        const second = await rt.invoke('cb-wait', { check: true });
        expect(second.coldStart).toBe(false);
        expect(second.payload).toEqual({ timerRanBefore: true });
      }));

    it('Callback: callbackWaitsForEmptyEventLoop = false returns at once; the pending timer runs in a later invoke', () =>
      withRuntime(async ({ rt }) => {
        await deployFiles(rt, 'cb-nowait', `
          let timerRan = false;
          exports.handler = (event, context, callback) => {
            if (event.check) return setTimeout(() => callback(null, { timerRanBefore: timerRan }), 100);
            context.callbackWaitsForEmptyEventLoop = false;
            setTimeout(() => { timerRan = true; console.log('timer fired'); }, 50);
            callback(null, { flag: context.callbackWaitsForEmptyEventLoop });
          };`, { file: 'index.js' });
        const first = await rt.invoke('cb-nowait', {}, { logType: 'Tail' });
        expect(first.payload).toEqual({ flag: false });
        expect(Buffer.from(first.logResult!, 'base64').toString()).not.toContain('timer fired');
        // The environment was frozen with the timer pending; it fires while the next invoke runs.
        const second = await rt.invoke('cb-nowait', { check: true }, { logType: 'Tail' });
        expect(second.coldStart).toBe(false);
        expect(second.payload).toEqual({ timerRanBefore: true });
        expect(Buffer.from(second.logResult!, 'base64').toString()).toContain('timer fired');
      }));

    it('Callback: only the first call counts', () =>
      withRuntime(async ({ rt, logs }) => {
        const result = await deployAndInvoke(rt, `
          exports.handler = (event, context, callback) => {
            callback(null, 'first');
            callback(null, 'second');
            callback(new Error('third'));
            context.succeed('fourth');
          };`, {}, { file: 'index.js' });
        expect(result.payload).toBe('first');
        expect(result.functionError).toBeUndefined();
        expect(logs.text()).not.toContain('third');
      }));

    it('Callback: callback(err) fails the invocation', () =>
      withRuntime(async ({ rt }) => {
        const result = await deployAndInvoke(rt, `
          exports.handler = (event, context, callback) => { callback(new TypeError('bad input')); };`, {}, { file: 'index.js' });
        expect(errorOf(result)).toMatchObject({ errorType: 'TypeError', errorMessage: 'bad input' });
      }));

    it('Callback: a callback handler that never calls back returns null when the loop drains', () =>
      withRuntime(async ({ rt }) => {
        const result = await deployAndInvoke(rt, 'exports.handler = (event, context, callback) => {};', {}, { file: 'index.js' });
        expect(result.functionError).toBeUndefined();
        expect(result.payload).toBeNull();
      }));

    it('Context: context.succeed returns its value', () =>
      withRuntime(async ({ rt }) => {
        const result = await deployAndInvoke(rt, 'exports.handler = (event, context) => { context.succeed({ ok: 1 }); };', {}, { file: 'index.js' });
        expect(result.payload).toEqual({ ok: 1 });
      }));

    it('Context: context.fail() with no argument fails with "handled"', () =>
      withRuntime(async ({ rt }) => {
        const result = await deployAndInvoke(rt, 'exports.handler = (event, context) => { context.fail(); };', {}, { file: 'index.js' });
        expect(errorOf(result)).toEqual({ errorType: 'string', errorMessage: 'handled', trace: [] });
      }));

    it('Context: context.fail(err) fails with the error', () =>
      withRuntime(async ({ rt }) => {
        const result = await deployAndInvoke(rt, 'exports.handler = (event, context) => { context.fail(new RangeError("nope")); };', {}, { file: 'index.js' });
        expect(errorOf(result)).toMatchObject({ errorType: 'RangeError', errorMessage: 'nope' });
      }));

    it('Context: context.done(null, x) succeeds and context.done(err) fails', () =>
      withRuntime(async ({ rt }) => {
        const ok = await deployAndInvoke(rt, 'exports.handler = (e, context) => { context.done(null, "done!"); };', {}, { file: 'index.js' });
        expect(ok.payload).toBe('done!');
        const failed = await deployAndInvoke(rt, 'exports.handler = (e, context) => { context.done(new Error("d")); };', {}, { file: 'index.js' });
        expect(errorOf(failed)).toMatchObject({ errorType: 'Error', errorMessage: 'd' });
      }));

    it('Callback: a 3-parameter handler on nodejs24.x fails INIT with Runtime.CallbackHandlerDeprecated', () =>
      withRuntime(async ({ rt }) => {
        const result = await deployAndInvoke(rt, 'export const handler = (event, context, callback) => callback(null, 1);', {}, { runtime: 'nodejs24.x' });
        const error = errorOf(result);
        expect(error.errorType).toBe('Runtime.CallbackHandlerDeprecated');
        expect(error.errorMessage).toContain('removed support for callback-based function handlers');
      }));
  });

  describe('the event loop', () => {
    it('Event loop: an async handler whose promise never settles ends in Runtime.NodeJsExit', () =>
      withRuntime(async ({ rt }) => {
        const result = await deployAndInvoke(rt, 'export const handler = async () => { await new Promise(() => {}); };', {}, { timeoutMs: 10_000 });
        const error = errorOf(result);
        expect(error.errorType).toBe('Runtime.NodeJsExit');
        expect(error.errorMessage).toContain('unexpected Node.js exit code');
      }));

    it('Event loop: a sync handler returning a never-settling promise drains to null', () =>
      withRuntime(async ({ rt }) => {
        // RIC v3: only `async function` handlers get NodeJsExit; a sync handler returning a pending
        // promise drains to a null success (Runtime.js _setDefaultExitListener, isAsync false).
        const result = await deployAndInvoke(rt, 'export const handler = () => new Promise(() => {});', {}, { timeoutMs: 10_000 });
        expect(result.functionError).toBeUndefined();
        expect(result.payload).toBeNull();
      }));

    it('Timers: setTimeout, setInterval, clearTimeout and setImmediate work', () =>
      withRuntime(async ({ rt }) => {
        const result = await deployAndInvoke(rt, `
          export const handler = async () => {
            const order = [];
            await new Promise((resolve) => {
              setTimeout((a, b) => order.push('timeout ' + a + b), 20, 'x', 'y');
              const cancelled = setTimeout(() => order.push('cancelled'), 5);
              clearTimeout(cancelled);
              setImmediate(() => order.push('immediate'));
              let n = 0;
              const iv = setInterval(() => {
                order.push('interval ' + ++n);
                if (n === 3) { clearInterval(iv); setTimeout(resolve, 30); }
              }, 5);
            });
            return order;
          };`);
        const order = result.payload as string[];
        expect(order[0]).toBe('immediate');
        expect(order).not.toContain('cancelled');
        expect(order).toContain('timeout xy');
        expect(order.filter((x) => x.startsWith('interval'))).toEqual(['interval 1', 'interval 2', 'interval 3']);
      }));

    it('Timers: an unref\'d timer does not keep the invocation alive', () =>
      withRuntime(async ({ rt }) => {
        await deployFiles(rt, 'unref', `
          let fired = false;
          exports.handler = (event, context, callback) => {
            if (event.check) return callback(null, fired);
            setTimeout(() => { fired = true; }, 5_000).unref();
            callback(null, 'returned');
          };`, { file: 'index.js', timeoutMs: 1000 });
        const first = await rt.invoke('unref');
        // Without unref the callback would wait 5 s for the timer and time out at 1 s.
        expect(first.functionError).toBeUndefined();
        expect(first.payload).toBe('returned');
        const second = await rt.invoke('unref', { check: true });
        expect(second.payload).toBe(false);
      }));

    it('Timers: process.nextTick and queueMicrotask run', () =>
      withRuntime(async ({ rt }) => {
        const result = await deployAndInvoke(rt, `
          export const handler = async () => {
            const order = [];
            await new Promise((r) => { process.nextTick(() => order.push('tick')); queueMicrotask(() => { order.push('micro'); r(); }); });
            return order;
          };`);
        expect(result.payload).toEqual(['tick', 'micro']);
      }));
  });

  describe('redeploy', () => {
    it('Redeploy: the next invoke is cold and runs the new code', () =>
      withRuntime(async ({ rt }) => {
        await deployFiles(rt, 'redeploy', 'let n = 0; export const handler = async () => ({ v: 1, n: ++n });');
        expect((await rt.invoke('redeploy')).payload).toEqual({ v: 1, n: 1 });
        expect((await rt.invoke('redeploy')).payload).toEqual({ v: 1, n: 2 });
        const info = await deployFiles(rt, 'redeploy', 'let n = 0; export const handler = async () => ({ v: 2, n: ++n });');
        expect(info.codeSha256).toMatch(/^[0-9a-f]{64}$/);
        const after = await rt.invoke('redeploy');
        expect(after.coldStart).toBe(true);
        expect(after.payload).toEqual({ v: 2, n: 1 });
      }));

    it('Redeploy: configuration changes apply (env, memory)', () =>
      withRuntime(async ({ rt }) => {
        const src = 'export const handler = async (e, c) => [process.env.V, c.memoryLimitInMB];';
        await deployFiles(rt, 'reconf', src, { env: { V: 'a' } });
        expect((await rt.invoke('reconf')).payload).toEqual(['a', '128']);
        await deployFiles(rt, 'reconf', src, { env: { V: 'b' }, memoryMb: 1024 });
        expect((await rt.invoke('reconf')).payload).toEqual(['b', '1024']);
      }));
  });
});
