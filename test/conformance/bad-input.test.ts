import { describe, expect, it } from 'vitest';
import type { EngineName } from '../../src/config/index.ts';
import {
  InvalidParameterValueException,
  InvalidRequestContentException,
  RequestTooLargeException,
  ResourceNotFoundException,
  RuntimeClosedError,
  createRuntime,
} from '../../src/index.ts';
import { deployAndInvoke, deployFiles, errorOf, forEachEngine, GENEROUS_TIMEOUT_MS, SLOW_CASE_LIMIT_MS, withDefaultEngine, UUID } from '../helpers/runtime.ts';

forEachEngine(({ engine, withRuntime, title, unsupported }) => {
  const REQUEST_MAX = 6_291_456;
  const RESPONSE_MAX = 6_291_556;

  /** A JSON string value whose JSON text (with its two quotes) is exactly `bytes` long. */
  function jsonStringOfBytes(bytes: number): string {
    return 'a'.repeat(bytes - 2);
  }

  describe('bad user code', () => {
    it('Bad code: a syntax error deploys, then every invoke fails with Runtime.UserCodeSyntaxError', () =>
      withRuntime(async ({ rt }) => {
        const info = await deployFiles(rt, 'syntax', 'export const handler = async () => {\n  return 1 +;\n};');
        expect(info.functionName).toBe('syntax');
        const result = await rt.invoke('syntax');
        const error = errorOf(result);
        expect(error.errorType).toBe('Runtime.UserCodeSyntaxError');
        // V8's words (RIC UserFunction.js wraps the SyntaxError); the position is in the trace.
        expect(error.errorMessage).toBe("SyntaxError: Unexpected token ';'");
        expect(error.trace).toContain('    at /var/task/index.mjs:2:13');
        expect(result.coldStart).toBe(true);
        expect(errorOf(await rt.invoke('syntax')).errorType).toBe('Runtime.UserCodeSyntaxError');
      }));

    it('Bad code: a missing handler file is Runtime.ImportModuleError', () =>
      withRuntime(async ({ rt }) => {
        const result = await deployAndInvoke(rt, 'export const handler = async () => 1;', {}, { file: 'main.mjs' });
        const error = errorOf(result);
        expect(error.errorType).toBe('Runtime.ImportModuleError');
        expect(error.errorMessage).toBe("Error: Cannot find module 'index'\nRequire stack:\n- /var/runtime/index.mjs");
      }));

    it('Bad code: a missing export is Runtime.HandlerNotFound', () =>
      withRuntime(async ({ rt }) => {
        const result = await deployAndInvoke(rt, 'export const handler = async () => 1;', {}, { handler: 'index.nope' });
        const error = errorOf(result);
        expect(error.errorType).toBe('Runtime.HandlerNotFound');
        expect(error.errorMessage).toBe('index.nope is undefined or not exported');
      }));

    it('Bad code: an export that is not a function is Runtime.HandlerNotFound', () =>
      withRuntime(async ({ rt }) => {
        const result = await deployAndInvoke(rt, 'export const handler = { not: "a function" };');
        expect(errorOf(result)).toMatchObject({ errorType: 'Runtime.HandlerNotFound', errorMessage: 'index.handler is not a function' });
      }));

    it('Bad code: a malformed handler string is Runtime.MalformedHandlerName', () =>
      withRuntime(async ({ rt }) => {
        const noDot = await deployAndInvoke(rt, 'export const handler = async () => 1;', {}, { handler: 'index' });
        expect(errorOf(noDot)).toMatchObject({ errorType: 'Runtime.MalformedHandlerName', errorMessage: 'Bad handler' });
        const dotDot = await deployAndInvoke(rt, 'export const handler = async () => 1;', {}, { handler: '../index.handler' });
        expect(errorOf(dotDot).errorType).toBe('Runtime.MalformedHandlerName');
      }));

    it('Bad code: a handler that throws a non-Error', () =>
      withRuntime(async ({ rt }) => {
        const symbol = await deployAndInvoke(rt, 'export const handler = () => { throw Symbol("sym"); };', {}, { runtime: 'nodejs24.x' });
        expect(symbol.functionError).toBe('Unhandled');
        expect(errorOf(symbol)).toEqual({ errorType: 'symbol', errorMessage: 'Symbol(sym)', trace: [] });
        // A rejection with undefined is reported as the string "handled", as the runtime client does.
        const undef = await deployAndInvoke(rt, 'export const handler = async () => { throw undefined; };');
        expect(errorOf(undef)).toEqual({ errorType: 'string', errorMessage: 'handled', trace: [] });
      }));
  });

  describe('timeouts', () => {
    it('Timeout: a synchronous infinite loop times out; the REPORT says so; the next invoke is cold', () =>
      withRuntime(async ({ rt, logs }) => {
        await deployFiles(rt, 'spin', 'export const handler = async (e) => { if (e.ok) return "ok"; while (true) {} };', { timeoutMs: 200 });
        const result = await rt.invoke('spin');
        expect(result.functionError).toBe('Unhandled');
        expect(result.payload).toEqual({
          errorType: 'Sandbox.Timedout',
          errorMessage: `RequestId: ${result.requestId} Error: Task timed out after 0.20 seconds`,
        });
        const lines = logs.forRequest(result.requestId);
        expect(lines.some((l) => new RegExp(`^\\S+ ${result.requestId} Task timed out after 0\\.20 seconds$`).test(l))).toBe(true);
        const report = lines.find((l) => l.startsWith('REPORT'))!;
        expect(report).toMatch(/\tStatus: timeout\t$/);
        expect(lines.findIndex((l) => l.startsWith('END'))).toBeLessThan(lines.findIndex((l) => l.startsWith('REPORT')));
        const next = await rt.invoke('spin', { ok: true });
        expect(next.coldStart).toBe(true);
        expect(next.payload).toBe('ok');
      }));

    it('Timeout: an infinite loop after an await times out', () =>
      withRuntime(async ({ rt }) => {
        const result = await deployAndInvoke(rt, 'export const handler = async () => { await null; while (true) {} };', {}, { timeoutMs: 200 });
        expect(errorOf(result).errorType).toBe('Sandbox.Timedout');
      }));

    it('Timeout: a microtask flood times out', () =>
      withRuntime(async ({ rt }) => {
        const result = await deployAndInvoke(
          rt,
          'export const handler = async () => { await Promise.resolve().then(function f() { return Promise.resolve().then(f); }); };',
          {},
          { timeoutMs: 200 },
        );
        expect(errorOf(result).errorType).toBe('Sandbox.Timedout');
      }));

    it('Timeout: a timer wait longer than the timeout times out', () =>
      withRuntime(async ({ rt, logs }) => {
        const result = await deployAndInvoke(rt, 'export const handler = async () => { await new Promise((r) => setTimeout(r, 10_000)); };', {}, { timeoutMs: 200 });
        expect(result.payload).toEqual({
          errorType: 'Sandbox.Timedout',
          errorMessage: `RequestId: ${result.requestId} Error: Task timed out after 0.20 seconds`,
        });
        expect(logs.forRequest(result.requestId).find((l) => l.startsWith('REPORT'))).toMatch(/\tStatus: timeout\t$/);
      }));

    it('Timeout: a setInterval that never stops times out', () =>
      withRuntime(async ({ rt }) => {
        const result = await deployAndInvoke(rt, 'exports.handler = (e, c, cb) => { setInterval(() => {}, 10); cb(null, 1); };', {}, { file: 'index.js', timeoutMs: 200 });
        expect(errorOf(result).errorType).toBe('Sandbox.Timedout');
      }));
  });

  describe('memory', () => {
    // The string bombs hold flat 1 MiB strings: `.slice(1)` flattens what V8's `repeat` builds as a
    // rope (~20 cons strings sharing halves, a few hundred bytes), so the cap is reached in ~128
    // pushes. Without it the bomb was millions of small objects — what 'an array of objects' below
    // tests — and V8's collections near the cap cost ~2.4 CPU-s per bomb instead of ~0.1 (v8, load ~7).
    it('Out of memory: a memory bomb is Runtime.OutOfMemory; the host survives and the next invoke cold-starts', () =>
      withRuntime(async ({ rt, logs }) => {
        await deployFiles(rt, 'bomb', `
          export const handler = async (event) => {
            if (event.ok) return 'still alive';
            const hoard = [];
            for (let i = 0; ; i++) hoard.push('x'.repeat(1024 * 1024 + 1).slice(1) + i);
          };`, { memoryMb: 128, timeoutMs: GENEROUS_TIMEOUT_MS }); // the cap must end it, never the deadline
        const result = await rt.invoke('bomb');
        expect(result.functionError).toBe('Unhandled');
        expect(errorOf(result).errorType).toBe('Runtime.OutOfMemory');
        expect(errorOf(result).errorMessage).toContain(`RequestId: ${result.requestId} Error: Runtime exited with error: out of memory`);
        // CloudWatch's REPORT of a runtime killed out of memory ends in its status and error type.
        const report = logs.forRequest(result.requestId).find((line) => line.startsWith('REPORT'));
        // Killed at its Memory Size: Max Memory Used reads the cap, not the engine's last sample.
        expect(report).toMatch(/\tMemory Size: 128 MB\tMax Memory Used: 128 MB\t(Init Duration: [\d.]+ ms\t)?Status: error\tError Type: Runtime\.OutOfMemory\t$/);
        // And no "Invoke Error" line: the runtime was killed, it reported nothing (quickjs's own
        // InternalError used to be logged as one).
        expect(logs.forRequest(result.requestId).some((line) => line.includes('Invoke Error'))).toBe(false);
        const next = await rt.invoke('bomb', { ok: true });
        expect(next.coldStart).toBe(true);
        expect(next.payload).toBe('still alive');
      }), SLOW_CASE_LIMIT_MS);

    const bombs: [kind: string, body: string, reasons: Partial<Record<EngineName, string>>][] = [
      ['an array of objects', 'const a = []; for (let i = 0; ; i++) a.push({ i, s: "v" + i, o: { i } });', {}],
      ['ever longer strings', 'let s = "x"; const keep = []; for (;;) { s = s + s.slice(0, 1 << 20) + "y"; keep.push(s); }', {}],
      ['ArrayBuffers', 'const keep = []; for (;;) { const b = new Uint8Array(8 * 1024 * 1024); b.fill(1); keep.push(b); }', {}],
      ['ArrayBuffers whose refusal is caught', 'try { const keep = []; for (;;) keep.push(new Uint8Array(8 << 20).fill(1)); } catch { return "survived"; }', {}],
      ['Buffers', 'const keep = []; for (;;) keep.push(Buffer.alloc(8 << 20, 1));', {}],
      ['a bomb whose out-of-memory error is caught', 'try { const a = []; for (;;) a.push("z".repeat((1 << 20) + 1).slice(1) + a.length); } catch { return "survived"; }', {}],
    ];
    for (const [kind, body, reasons] of bombs) {
      it.skipIf(unsupported(reasons))(title(`Out of memory: ${kind} ends the environment with Runtime.OutOfMemory; the host survives`, reasons), () =>
      withRuntime(async ({ rt }) => {
        await deployFiles(rt, 'bomb2', `export const handler = async (event) => { if (event.ok) return 'ok'; ${body} };`, {
          memoryMb: 128,
          timeoutMs: GENEROUS_TIMEOUT_MS, // the cap must end it, never the deadline (load took a bomb past 60 s)
        });
        const result = await rt.invoke('bomb2');
        expect(errorOf(result).errorType).toBe('Runtime.OutOfMemory');
        const next = await rt.invoke('bomb2', { ok: true });
        expect(next.coldStart).toBe(true);
        expect(next.payload).toBe('ok');
      }), SLOW_CASE_LIMIT_MS);
    }

    // Node on Lambda is refused (RangeError) only a single buffer larger than the machine's memory
    // (os.totalmem(): memoryMb); one that fits it but not beside what is held gets the OOM kill.
    const singleBufferGap = {
      quickjs: 'QuickJS refuses a single buffer past its cap with a catchable "InternalError: out of memory" (at and over memoryMb alike) and 2 ** 40 bytes with "RangeError: invalid array buffer length"',
    };
    it.skipIf(unsupported(singleBufferGap))(title('Out of memory: one buffer past memoryMb is a catchable RangeError (Node refuses it) and the environment stays warm; one that fits memoryMb but not beside what is held ends the environment', singleBufferGap), () =>
      withRuntime(async ({ rt, logs }) => {
        await deployFiles(rt, 'single', `let held;
          export const handler = async (event) => {
            held = new Uint8Array(event.hold).fill(1);
            try { return new ArrayBuffer(event.bytes).byteLength; } catch (e) { return e.name + ': ' + e.message; }
          };`, { memoryMb: 128, timeoutMs: GENEROUS_TIMEOUT_MS });
        const MIB = 1024 * 1024;
        // Over the machine's memory (memoryMb + 1 byte; 1 TiB): refused as Node refuses it, nothing ends.
        for (const bytes of [128 * MIB + 1, 2 ** 40]) {
          const over = await rt.invoke('single', { hold: 0, bytes });
          expect(over.payload).toBe('RangeError: Array buffer allocation failed');
        }
        // Under: 64 MiB held and 32 MiB more.
        const under = await rt.invoke('single', { hold: 64 * MIB, bytes: 32 * MIB });
        expect(under.coldStart).toBe(false);
        expect(under.payload).toBe(32 * MIB);
        // Past the cap with what is held: 64 MiB held and 96 MiB more, which the machine could give alone.
        const past = await rt.invoke('single', { hold: 64 * MIB, bytes: 96 * MIB });
        expect(errorOf(past).errorType).toBe('Runtime.OutOfMemory');
        expect(logs.forRequest(past.requestId).find((line) => line.startsWith('REPORT'))).toMatch(/\tMax Memory Used: 128 MB\t.*Status: error\tError Type: Runtime\.OutOfMemory\t$/);
        const next = await rt.invoke('single', { hold: 0, bytes: 0 });
        expect(next.coldStart).toBe(true);
        expect(next.payload).toBe(0);
      }), SLOW_CASE_LIMIT_MS);

    it('Out of memory: memory well under the cap is usable (64 MiB of ArrayBuffers in a 256 MB function)', () =>
      withRuntime(async ({ rt }) => {
        const result = await deployAndInvoke(
          rt,
          'export const handler = async () => { const keep = []; for (let i = 0; i < 8; i++) keep.push(new Uint8Array(8 << 20).fill(i)); return keep.length; };',
          {},
          // Work that must finish: the default 3 s deadline ended it at load 20 (Sandbox.Timedout).
          { memoryMb: 256, timeoutMs: GENEROUS_TIMEOUT_MS },
        );
        expect(result.payload).toBe(8);
      }), SLOW_CASE_LIMIT_MS);
  });

  describe('responses that cannot be returned', () => {
    it('Response: a cyclic response on nodejs22.x is Error "Unable to stringify response body"', () =>
      withRuntime(async ({ rt }) => {
        const result = await deployAndInvoke(rt, 'export const handler = async () => { const a = {}; a.a = a; return a; };');
        expect(errorOf(result)).toMatchObject({ errorType: 'Error', errorMessage: 'Unable to stringify response body' });
      }));

    it('Response: a BigInt response on nodejs24.x is Runtime.JSONStringifyError', () =>
      withRuntime(async ({ rt }) => {
        const result = await deployAndInvoke(rt, 'export const handler = async () => ({ n: 1n });', {}, { runtime: 'nodejs24.x' });
        expect(errorOf(result)).toMatchObject({ errorType: 'Runtime.JSONStringifyError', errorMessage: 'Unable to stringify response body' });
      }));

    // The runtime client serialises with the JSON.stringify in place at response time (RIC
    // `JSON.stringify(result)`), so a handler that replaced it can post text that is not JSON. Before,
    // rt.invoke threw the host's own SyntaxError; now it is the function error the wasm engine gives
    // such text (docs/wasm.md), and text that is JSON, however spaced, is the response.
    it('Response: text that is not JSON (JSON.stringify replaced by the handler) is Runtime.MalformedResponse; the environment answers again', () =>
      withRuntime(async ({ rt }) => {
        await deployFiles(rt, 'own-stringify', `const intrinsic = JSON.stringify;
          export const handler = async (e) => {
            JSON.stringify = e.bad ? () => '{bad' : (value) => intrinsic(value, null, 2);
            return { a: 1 };
          };`);
        const bad = await rt.invoke('own-stringify', { bad: true });
        expect(bad.functionError).toBe('Unhandled');
        expect(bad.payload).toEqual({
          errorType: 'Runtime.MalformedResponse',
          errorMessage: `The function's response is not valid JSON (Expected property name or '}' in JSON at position 1 (line 1 column 2)): "{bad"`,
        });
        const spaced = await rt.invoke('own-stringify', { bad: false });
        expect(spaced.coldStart).toBe(false);
        expect(spaced.functionError).toBeUndefined();
        expect(spaced.payload).toEqual({ a: 1 });
      }));

    it('Response: a response over 6 MiB + 100 B is Function.ResponseSizeTooLarge; at the limit it is accepted', () =>
      withRuntime(async ({ rt }) => {
        // The response at the limit must be answered, whatever the load: not the 3 s default deadline.
        await deployFiles(rt, 'big-response', 'export const handler = async (e) => "a".repeat(e.n);', { timeoutMs: GENEROUS_TIMEOUT_MS });
        const over = await rt.invoke('big-response', { n: RESPONSE_MAX + 1 - 2 });
        expect(over.payload).toEqual({
          errorType: 'Function.ResponseSizeTooLarge',
          errorMessage: 'Response payload size exceeded maximum allowed payload size (6291556 bytes).',
        });
        const at = await rt.invoke('big-response', { n: RESPONSE_MAX - 2 });
        expect(at.functionError).toBeUndefined();
        expect((at.payload as string).length).toBe(RESPONSE_MAX - 2);
      }));

    // Lambda holds a function error to the same 6 MiB + 100 B as a result (RIE interop/model.go;
    // lambda-compat.md "Platform error types"). A thrown string's payload is `{"errorType":"string",
    // "errorMessage":<it>,"trace":[]}` on every engine (RIC3 toRapidResponse), so `e.n` is its exact size.
    const ERROR_OF_SIZE = `export const handler = async (e) => {
      const overhead = JSON.stringify({ errorType: 'string', errorMessage: '', trace: [] }).length;
      throw e.char.repeat((e.n - overhead) / e.bytes);
    };`;
    const TOO_LARGE = {
      errorType: 'Function.ResponseSizeTooLarge',
      errorMessage: 'Response payload size exceeded maximum allowed payload size (6291556 bytes).',
    };

    it('Response: a function error over 6 MiB + 100 B is Function.ResponseSizeTooLarge; at and under the limit it is carried whole', () =>
      withRuntime(async ({ rt }) => {
        await deployFiles(rt, 'big-error', ERROR_OF_SIZE, { memoryMb: 256, timeoutMs: GENEROUS_TIMEOUT_MS });
        for (const n of [RESPONSE_MAX - 1, RESPONSE_MAX]) {
          const carried = await rt.invoke('big-error', { n, char: 'a', bytes: 1 });
          expect(carried.functionError).toBe('Unhandled');
          expect(JSON.stringify(carried.payload).length).toBe(n);
          expect(carried.payload).toMatchObject({ errorType: 'string', trace: [] });
        }
        const over = await rt.invoke('big-error', { n: RESPONSE_MAX + 1, char: 'a', bytes: 1 });
        expect(over.functionError).toBe('Unhandled');
        expect(over.payload).toEqual(TOO_LARGE);
        // Under the limit in characters, over it in UTF-8 bytes (2 per 'é'): the host counts bytes.
        const overhead = JSON.stringify({ errorType: 'string', errorMessage: '', trace: [] }).length;
        const n = overhead + 2 * Math.ceil((RESPONSE_MAX + 1 - overhead) / 2);
        const multibyte = await rt.invoke('big-error', { n, char: 'é', bytes: 2 });
        expect(multibyte.payload).toEqual(TOO_LARGE);
      }), SLOW_CASE_LIMIT_MS);

    it('Response: a 16 MiB error message is Function.ResponseSizeTooLarge and the environment answers again', () =>
      withRuntime(async ({ rt }) => {
        await deployFiles(rt, 'huge-error', 'export const handler = async (e) => { if (e.small) return "fine"; throw new Error("x".repeat(16 * 1024 * 1024)); };', { memoryMb: 1024, timeoutMs: GENEROUS_TIMEOUT_MS });
        const huge = await rt.invoke('huge-error', {});
        expect(huge.payload).toEqual(TOO_LARGE);
        const next = await rt.invoke('huge-error', { small: true });
        expect(next.payload).toBe('fine');
      }), SLOW_CASE_LIMIT_MS);
  });

  describe('service errors', () => {
    it('Event: an event just over 6 MiB is RequestTooLargeException; exactly at the limit is accepted', () =>
      withRuntime(async ({ rt }) => {
        // A generous timeout: parsing 6 MiB in QuickJS missed the 3 s default at load 18.
        await deployFiles(rt, 'big-event', 'export const handler = async (e) => e.length;', { timeoutMs: GENEROUS_TIMEOUT_MS });
        await expect(rt.invoke('big-event', jsonStringOfBytes(REQUEST_MAX + 1))).rejects.toBeInstanceOf(RequestTooLargeException);
        const at = await rt.invoke('big-event', jsonStringOfBytes(REQUEST_MAX));
        expect(at.payload).toBe(REQUEST_MAX - 2);
      }), SLOW_CASE_LIMIT_MS);

    it('Event: multi-byte characters count in UTF-8 bytes', () =>
      withRuntime(async ({ rt }) => {
        await deployFiles(rt, 'utf8-event', 'export const handler = async (e) => e.length;');
        // 3 bytes per character: under the limit in UTF-16 code units, over it in bytes.
        const event = '€'.repeat(Math.floor(REQUEST_MAX / 3));
        await expect(rt.invoke('utf8-event', event)).rejects.toBeInstanceOf(RequestTooLargeException);
      }));

    it('Event: an event that is not JSON-serialisable is InvalidRequestContentException', () =>
      withRuntime(async ({ rt }) => {
        await deployFiles(rt, 'bad-event', 'export const handler = async () => 1;');
        await expect(rt.invoke('bad-event', { n: 1n })).rejects.toBeInstanceOf(InvalidRequestContentException);
        const cycle: Record<string, unknown> = {};
        cycle.self = cycle;
        await expect(rt.invoke('bad-event', cycle)).rejects.toBeInstanceOf(InvalidRequestContentException);
        await expect(rt.invoke('bad-event', () => 1)).rejects.toBeInstanceOf(InvalidRequestContentException);
      }));

    it('Invoke: an unknown function is ResourceNotFoundException', () =>
      withRuntime(async ({ rt }) => {
        const pending = rt.invoke('ghost');
        expect(pending).toBeInstanceOf(Promise); // a rejection, never a synchronous throw
        const thrown: unknown = await pending.catch((error: unknown) => error);
        expect(thrown).toBeInstanceOf(ResourceNotFoundException);
        expect((thrown as ResourceNotFoundException).code).toBe('ResourceNotFoundException');
        expect((thrown as Error).message).toBe('Function not found: arn:aws:lambda:us-east-1:123456789012:function:ghost');
      }));

    it('Deploy: invalid configuration is InvalidParameterValueException', () =>
      withRuntime(async ({ rt }) => {
        await expect(deployFiles(rt, 'bad memory', 'export const handler = () => 1;')).rejects.toBeInstanceOf(InvalidParameterValueException);
        await expect(deployFiles(rt, 'mem', 'export const handler = () => 1;', { memoryMb: 64 })).rejects.toMatchObject({
          code: 'InvalidParameterValueException',
          field: 'memoryMb',
        });
        await expect(rt.invoke('mem')).rejects.toBeInstanceOf(ResourceNotFoundException);
      }));
  });

  describe('closing', () => {
    it('Close: invoke and deploy after close throw RuntimeClosedError', async () => {
      const rt = withDefaultEngine(await createRuntime({ logSink: { write() {} } }), engine);
      await deployFiles(rt, 'closed', 'export const handler = async () => 1;');
      await rt.close();
      await expect(rt.invoke('closed')).rejects.toBeInstanceOf(RuntimeClosedError);
      await expect(deployFiles(rt, 'closed', 'export const handler = async () => 2;')).rejects.toBeInstanceOf(RuntimeClosedError);
    });

    it('Close: close is idempotent and waits for an in-flight invoke', async () => {
      const rt = withDefaultEngine(await createRuntime({ logSink: { write() {} } }), engine);
      await deployFiles(rt, 'slow', 'export const handler = async () => { await new Promise((r) => setTimeout(r, 100)); return "finished"; };');
      const inFlight = rt.invoke('slow');
      let settled = false;
      void inFlight.then(() => (settled = true));
      const first = rt.close();
      const second = rt.close();
      expect(second).toBe(first);
      await first;
      expect(settled).toBe(true);
      const result = await inFlight;
      expect(result.payload).toBe('finished');
      await rt.close();
      await expect(rt.invoke('slow')).rejects.toBeInstanceOf(RuntimeClosedError);
    });

    it('Close: await using closes the runtime', async () => {
      let rtRef: Awaited<ReturnType<typeof createRuntime>> | undefined;
      {
        await using rt = withDefaultEngine(await createRuntime({ logSink: { write() {} } }), engine);
        rtRef = rt;
        await deployFiles(rt, 'disposable', 'export const handler = async () => 1;');
        expect((await rt.invoke('disposable')).payload).toBe(1);
      }
      await expect(rtRef.invoke('disposable')).rejects.toBeInstanceOf(RuntimeClosedError);
    });
  });

  describe('request ids', () => {
    it('Invoke: request ids are UUIDs', () =>
      withRuntime(async ({ rt }) => {
        const result = await deployAndInvoke(rt, 'export const handler = async () => 1;');
        expect(result.requestId).toMatch(new RegExp(`^${UUID}$`));
      }));
  });
});
