/**
 * The runtime client's error shapes, log lines and handler semantics, from its own sources and
 * tests (aws/aws-lambda-nodejs-runtime-interface-client @ da5777a): src/Errors.js toRapidResponse /
 * toFormatted (test/unit/ErrorsTest.js), src/CallbackContext.js, src/WarningForCallbackHandlers.js
 * (test/unit/WarningForCallbackHandlersTest.js), test/handlers/beforeExitBehaviour.js,
 * src/UserFunction.js (`globalThis.awslambda`); plus lambdalet issue #14 items 6-8, 9 (callback), 10, 11.
 */
import { describe, expect, it } from 'vitest';
import { httpApiEvent } from '../../../src/testing/index.ts';
import { deployAndInvoke, errorOf, forEachEngine } from '../../helpers/runtime.ts';

const HANDLED = 'callback called with Error argument, but there was a problem while retrieving one or more of its message, name, and stack';
const json = (line: string): Record<string, unknown> => JSON.parse(line.slice(line.indexOf('\t{') + 1)) as Record<string, unknown>;

forEachEngine(({ withRuntime }) => {
  describe('RIC Errors.js / CallbackContext.js / LogPatch.js', () => {
    it('6. an Error whose message is not a string is the "handled" shape with no trace key (Errors.toRapidResponse)', () =>
      withRuntime(async ({ rt }) => {
        for (const body of ['e.message = 1;', 'e.stack = undefined;', "Object.defineProperty(e, 'name', { get() { throw new Error('x'); } });"]) {
          const result = await deployAndInvoke(rt, `export const handler = async () => { const e = new Error('m'); ${body} throw e; };`);
          expect(result.payload).toEqual({ errorType: 'handled', errorMessage: HANDLED });
        }
      }));

    it("ErrorsTest 'Invalid chars in HTTP header should be replaced': DEL becomes %7F", () =>
      withRuntime(async ({ rt }) => {
        const result = await deployAndInvoke(rt, "export const handler = async () => { const e = new Error('\\x7F'); e.name = 'ErrorWithInvalidChar'; throw e; };");
        expect(errorOf(result)).toMatchObject({ errorType: 'ErrorWithInvalidChar', errorMessage: '%7F' });
      }));

    it('7. a thrown string logs `Invoke Error \\t{"errorType":"Error","errorMessage":...,"stack":[...]}` (intoError)', () =>
      withRuntime(async ({ rt, logs }) => {
        const result = await deployAndInvoke(rt, "export const handler = async () => { throw 'oops'; };");
        expect(errorOf(result)).toEqual({ errorType: 'string', errorMessage: 'oops', trace: [] });
        const line = logs.forRequest(result.requestId).find((l) => l.includes('\tERROR\tInvoke Error \t{'))!;
        const logged = json(line);
        expect(Object.keys(logged)).toEqual(['errorType', 'errorMessage', 'stack']);
        expect(logged).toMatchObject({ errorType: 'Error', errorMessage: 'oops' });
        expect((logged.stack as string[])[0]).toBe('Error: oops');
      }));

    it('7. an INIT failure logs `Uncaught Exception \\t{...,"stack":[...]}` (not trace)', () =>
      withRuntime(async ({ rt, logs }) => {
        await deployAndInvoke(rt, "throw new TypeError('at init');\nexport const handler = async () => 1;");
        const logged = json(logs.lines.find((l) => l.includes('\tundefined\tERROR\tUncaught Exception \t{'))!);
        expect(Object.keys(logged)).toEqual(['errorType', 'errorMessage', 'stack']);
        expect((logged.stack as string[])[0]).toBe('TypeError: at init');
      }));

    it('8. a callback handler on nodejs22.x logs the WARN line at INIT (WarningForCallbackHandlers.js); an async one does not', () =>
      withRuntime(async ({ rt, logs }) => {
        await deployAndInvoke(rt, 'export const handler = (e, c, cb) => cb(null, 1);', {}, { runtime: 'nodejs22.x' });
        expect(logs.lines.filter((l) => /\tundefined\tWARN\tAWS Lambda plans to remove support for callback-based function handlers starting with Node\.js 24\./.test(l))).toHaveLength(1);
        await deployAndInvoke(rt, 'export const handler = async (e, c, cb) => 1;', {}, { runtime: 'nodejs22.x' });
        expect(logs.lines.filter((l) => l.includes('AWS Lambda plans to remove'))).toHaveLength(1);
      }));

    it('8. beforeExit listeners run when the loop empties (test/handlers/beforeExitBehaviour.js callbackWithTrueFlag)', () =>
      withRuntime(async ({ rt, logs }) => {
        const result = await deployAndInvoke(rt, [
          "process.on('beforeExit', () => { setImmediate(() => console.log('from setImmediate')); });",
          "process.on('beforeExit', () => { process.nextTick(() => console.log('from process.nextTick')); });",
          "export const handler = (_event, _cxt, callback) => { callback(null, 'hello'); };",
        ].join('\n'), {}, { runtime: 'nodejs22.x' });
        expect(result.payload).toBe('hello');
        const messages = logs.forRequest(result.requestId).map((l) => l.split('\t')[3]);
        expect(messages).toContain('from process.nextTick');
      }));

    it("9. cb(null, circular) → 'Unable to stringify response body', Uncaught Exception, environment discarded", () =>
      withRuntime(async ({ rt, logs }) => {
        const { randomUUID } = await import('node:crypto');
        const name = `circ-${randomUUID().slice(0, 8)}`;
        await rt.deploy({ name, runtime: 'nodejs22.x', code: { files: { 'index.mjs': 'export const handler = (e, c, cb) => { const o = {}; o.o = o; cb(null, o); };' } } });
        const first = await rt.invoke(name, {});
        expect(errorOf(first)).toMatchObject({ errorType: 'Error', errorMessage: 'Unable to stringify response body' });
        expect(logs.forRequest(first.requestId).some((l) => l.includes('Uncaught Exception \t{'))).toBe(true);
        expect((await rt.invoke(name, {})).coldStart).toBe(true);
      }));

    it('10. engine errors read as V8 words them (quickjs reworded), in the payload and trace', () =>
      withRuntime(async ({ rt }) => {
        const undef = errorOf(await deployAndInvoke(rt, 'export const handler = async () => nope;'));
        expect(undef).toMatchObject({ errorType: 'ReferenceError', errorMessage: 'nope is not defined' });
        expect(undef.trace![0]).toBe('ReferenceError: nope is not defined');
        const read = errorOf(await deployAndInvoke(rt, 'export const handler = async (e) => e.a.b;'));
        expect(read).toMatchObject({ errorType: 'TypeError', errorMessage: "Cannot read properties of undefined (reading 'b')" });
      }));

    it('11. globalThis.awslambda has streamifyResponse and HttpResponseStream.from; AWS_LAMBDA_NODEJS_NO_GLOBAL_AWSLAMBDA=1 removes it', () =>
      withRuntime(async ({ rt }) => {
        const src = "const h = async () => 1; export const handler = async () => typeof globalThis.awslambda === 'undefined' ? 'none' : [typeof awslambda.streamifyResponse, typeof awslambda.HttpResponseStream.from, awslambda.streamifyResponse(h)[Symbol.for('aws.lambda.runtime.handler.streaming')]];";
        expect((await deployAndInvoke(rt, src)).payload).toEqual(['function', 'function', 'response']);
        expect((await deployAndInvoke(rt, src, {}, { env: { AWS_LAMBDA_NODEJS_NO_GLOBAL_AWSLAMBDA: '1' } })).payload).toBe('none');
      }));
  });
});

forEachEngine(({ withRuntime, title, unsupported }) => {
  // docs/quickjs.md "not a function": QuickJS's message carries no callee, and V8's is printed from
  // the call site's source, so no rewording can be exact.
  const NO_CALLEE = {
    quickjs: "QuickJS throws a bare 'not a function' (quickjs.c JS_CallInternal); V8 prints the callee from the call site's source (CallPrinter), which cannot be rebuilt exactly",
  };
  describe('10. engine errors: a call of something that is not a function', () => {
    it.skipIf(unsupported(NO_CALLEE))(title("'<callee> is not a function', as V8 words it", NO_CALLEE), () =>
      withRuntime(async ({ rt }) => {
        const source = 'export const handler = async (e) => { const notFn = 1; if (e.member) e.foo(); notFn(); };';
        expect(errorOf(await deployAndInvoke(rt, source))).toMatchObject({ errorType: 'TypeError', errorMessage: 'notFn is not a function' });
        expect(errorOf(await deployAndInvoke(rt, source, { member: true }))).toMatchObject({ errorType: 'TypeError', errorMessage: 'e.foo is not a function' });
      }));
  });

  // quickjs: lambdalet installs QuickJS's host promise-rejection tracker itself (engines/quickjs/rejection-tracker.ts).
  const NO_TRACKER = {
    wasm: 'no promise rejection tracker in this engine',
  };
  describe('RIC src/index.mjs: unhandledRejection', () => {
    it.skipIf(unsupported(NO_TRACKER))(title('9. a rejection left unhandled after the response was decided: the response stands, the line is logged, the environment is discarded', NO_TRACKER), () =>
      withRuntime(async ({ rt, logs }) => {
        const name = 'late-rejection';
        await rt.deploy({ name, code: { files: { 'index.mjs': "const failLater = async () => { throw new Error('later'); };\nexport const handler = async () => { failLater(); return 'ok'; };" } } });
        const first = await rt.invoke(name, {});
        expect(first.functionError).toBeUndefined();
        expect(first.payload).toBe('ok');
        const line = logs.forRequest(first.requestId).find((l) => l.includes('\tERROR\tUnhandled Promise Rejection \t{'))!;
        const logged = json(line);
        expect(Object.keys(logged)).toEqual(['errorType', 'errorMessage', 'reason', 'promise', 'stack']);
        expect(logged).toMatchObject({ errorType: 'Runtime.UnhandledPromiseRejection', errorMessage: 'Error: later', reason: { errorType: 'Error', errorMessage: 'later' }, promise: {} });
        expect((await rt.invoke(name, {})).coldStart).toBe(true);
      }));

    it.skipIf(unsupported(NO_TRACKER))(title('a rejection left unhandled before the response: Runtime.UnhandledPromiseRejection', NO_TRACKER), () =>
      withRuntime(async ({ rt }) => {
        const result = await deployAndInvoke(rt, "export const handler = async () => { Promise.reject(new Error('early')); await new Promise((r) => setTimeout(r, 5)); return 'late'; };");
        expect(errorOf(result)).toMatchObject({ errorType: 'Runtime.UnhandledPromiseRejection', errorMessage: 'Error: early' });
      }));
  });
});

forEachEngine(({ withRuntime }) => {
  describe('RIC Runtime.js handleOnceStreaming / HttpResponseStream.js (plain invoke of a streaming handler)', () => {
    it('the body the handler writes is the response; objects are written as JSON', () =>
      withRuntime(async ({ rt }) => {
        const result = await deployAndInvoke(rt, `export const handler = awslambda.streamifyResponse(async (event, responseStream) => {
          responseStream.setContentType('text/plain');
          responseStream.write('hello ');
          responseStream.write({ n: event.n });
          responseStream.end(' bye');
        });`, { n: 7 });
        expect(result.functionError).toBeUndefined();
        expect(result.payload).toBe('hello {"n":7} bye');
      }));

    it('HttpResponseStream.from writes the JSON prelude and eight NUL bytes before the body', () =>
      withRuntime(async ({ rt }) => {
        const result = await deployAndInvoke(rt, `export const handler = awslambda.streamifyResponse(async (event, responseStream) => {
          const stream = awslambda.HttpResponseStream.from(responseStream, { statusCode: 201, headers: { 'x-a': 'b' } });
          stream.write('body');
          stream.end();
        });`);
        expect(result.payload).toBe(`{"statusCode":201,"headers":{"x-a":"b"}}${'\0'.repeat(8)}body`);
      }));

    it("a stream left open is 'Response stream is not finished.'; a non-async handler 'Streaming does not support non-async handlers.'", () =>
      withRuntime(async ({ rt }) => {
        const open = await deployAndInvoke(rt, "export const handler = awslambda.streamifyResponse(async (e, s) => { s.write('x'); });");
        expect(errorOf(open)).toEqual({ errorType: 'string', errorMessage: 'Response stream is not finished.', trace: [] });
        const sync = await deployAndInvoke(rt, "export const handler = awslambda.streamifyResponse((e, s) => { s.end('x'); });");
        expect(errorOf(sync)).toEqual({ errorType: 'string', errorMessage: 'Streaming does not support non-async handlers.', trace: [] });
      }));

    it('a throw fails the invocation; setContentType after the first write is Runtime.InvalidStreamingOperation; a return value is ignored with a warning', () =>
      withRuntime(async ({ rt, logs }) => {
        const thrown = await deployAndInvoke(rt, "export const handler = awslambda.streamifyResponse(async (e, s) => { s.write('partial'); throw new Error('mid-stream'); });");
        expect(errorOf(thrown)).toMatchObject({ errorType: 'Error', errorMessage: 'mid-stream' });
        const late = await deployAndInvoke(rt, "export const handler = awslambda.streamifyResponse(async (e, s) => { s.write('x'); s.setContentType('text/html'); });");
        expect(errorOf(late)).toMatchObject({ errorType: 'Runtime.InvalidStreamingOperation', errorMessage: 'Cannot set content-type, too late.' });
        const returned = await deployAndInvoke(rt, "export const handler = awslambda.streamifyResponse(async (e, s) => { s.end('ok'); return 42; });");
        expect(returned.payload).toBe('ok');
        expect(logs.forRequest(returned.requestId).some((l) => l.endsWith('\tWARN\tStreaming handlers ignore return values.'))).toBe(true);
      }));

    it("hono/aws-lambda's streamHandle works unchanged: prelude, NULs, then the streamed text", () =>
      withRuntime(async ({ rt }) => {
        await rt.deploy({ name: 'hono-stream', code: { entry: new URL('../fixtures/hono-stream.ts', import.meta.url).pathname }, handler: 'hono-stream.handler' });
        const result = await rt.invoke('hono-stream', httpApiEvent({ rawPath: '/stream' }));
        const body = result.payload as string;
        const cut = body.indexOf('\0'.repeat(8));
        expect(JSON.parse(body.slice(0, cut))).toMatchObject({ statusCode: 200, headers: { 'content-type': 'text/plain; charset=UTF-8' } });
        expect(body.slice(cut + 8)).toBe('one two');
      }));
  });
});
