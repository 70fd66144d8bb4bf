/**
 * Escape attempts: user code is hostile. Each test tries one way out of the sandbox (or one way to
 * take the host down) and checks that it fails and the host keeps serving.
 */
import { runInNewContext } from 'node:vm';
import { describe, expect, it } from 'vitest';
import type { EngineName } from '../../src/config/index.ts';
import type { Runtime } from '../../src/index.ts';
import { deployAndInvoke, deployFiles, errorOf, forEachEngine } from '../helpers/runtime.ts';

forEachEngine(({ engine, withRuntime, title, unsupported }) => {
  /** Globals an engine defines as part of its language, beyond what a V8 context has. */
const ENGINE_INTRINSICS: Record<EngineName, readonly string[]> = { v8: [], quickjs: ['InternalError'], wasm: [] };
/** Symbol-keyed globals an engine defines itself (QuickJS: globalThis[Symbol.toStringTag], ES2020's 'global'). */
const ENGINE_GLOBAL_SYMBOLS: Record<EngineName, readonly string[]> = { v8: [], quickjs: ['Symbol(Symbol.toStringTag)'], wasm: [] };

/** The host still works: a fresh, well-behaved function deploys and answers. */
  async function expectHostServes(rt: Runtime): Promise<void> {
    await deployFiles(rt, 'bystander', 'export const handler = async (e) => ({ echo: e, t: typeof JSON.stringify });');
    const result = await rt.invoke('bystander', { still: 'here' });
    expect(result.payload).toEqual({ echo: { still: 'here' }, t: 'function' });
  }

  describe('what the sandbox exposes', () => {
    it('Sandbox: no host bridge, require or module system on the global', () =>
      withRuntime(async ({ rt }) => {
        const result = await deployAndInvoke(rt, `
          export const handler = async () => ({
            names: Object.getOwnPropertyNames(globalThis),
            symbols: Object.getOwnPropertySymbols(globalThis).map(String),
            host: typeof globalThis.__lambdalet_host,
            ivm: typeof globalThis._ivm,
            module: typeof module,
            importScripts: typeof importScripts,
            fetch: typeof fetch,
            Buffer: typeof Buffer,
          });`);
        const p = result.payload as Record<string, unknown>;
        expect(p).toMatchObject({ host: 'undefined', ivm: 'undefined', module: 'undefined', importScripts: 'undefined', fetch: 'function', Buffer: 'function' });
        // Everything beyond the language's own globals (as a fresh V8 context has them) is a shim we
        // install on purpose; nothing else may appear.
        const standard = new Set(runInNewContext('Object.getOwnPropertyNames(globalThis)') as string[]);
        // The engine's own language globals that V8 does not have (QuickJS's InternalError).
        for (const name of ENGINE_INTRINSICS[engine]) standard.add(name);
        const extra = (p.names as string[]).filter((n) => !standard.has(n)).sort();
        expect(extra).toEqual([
          'AbortController', 'AbortSignal', 'Blob', 'BroadcastChannel', 'Buffer', 'ByteLengthQueuingStrategy', 'CompressionStream', 'CountQueuingStrategy', 'Crypto', 'CryptoKey', 'CustomEvent',
          'DOMException', 'DecompressionStream', 'Event', 'EventTarget', 'File', 'FormData', 'Headers', 'MessageChannel', 'MessageEvent', 'MessagePort', 'Navigator',
          'ReadableByteStreamController', 'ReadableStream', 'ReadableStreamDefaultReader', 'Request', 'Response', 'SubtleCrypto', 'TextDecoder', 'TextDecoderStream',
          'TextEncoder', 'TextEncoderStream', 'TransformStream', 'URL', 'URLSearchParams', 'WritableStream', 'WritableStreamDefaultWriter', 'atob', 'awslambda', 'btoa',
          'clearImmediate', 'clearInterval', 'clearTimeout', 'console', 'crypto', 'fetch', 'global', 'navigator', 'performance', 'process', 'queueMicrotask',
          'setImmediate', 'setInterval', 'setTimeout', 'structuredClone',
        ].filter((n) => !standard.has(n)));
        expect(p.symbols).toEqual([...ENGINE_GLOBAL_SYMBOLS[engine], 'Symbol(lambdalet.builtin)']);
      }));

    // process.binding exists in Node (deprecated) and throws "No such module: <name>" for a name it
    // lacks; the sandbox's has no module at all. versions.node is the emulated runtime's, never the host's.
    it('Sandbox: process is a shim: binding knows no module, no dlopen or kill, exit only ends the environment (test/compat/stdlib-gaps.test.ts), the emulated Node version', () =>
      withRuntime(async ({ rt }) => {
        const result = await deployAndInvoke(rt, `
          export const handler = async () => {
            let binding;
            try { process.binding('fs'); binding = 'returned'; } catch (e) { binding = e.message; }
            return {
              binding, exit: typeof process.exit, dlopen: typeof process.dlopen,
              kill: typeof process.kill, mainModule: typeof process.mainModule, node: process.versions.node,
              pid: typeof process.pid, home: process.env.HOME, user: process.env.USER,
            };
          };`);
        const payload = result.payload as Record<string, unknown>;
        expect(payload).toMatchObject({ binding: 'No such module: fs', exit: 'function', dlopen: 'undefined', kill: 'undefined', mainModule: 'undefined', pid: 'number' });
        expect(payload['node']).toMatch(/^22\.\d+\.\d+$/);
        expect(payload['node']).not.toBe(process.versions.node);
        expect(payload).not.toHaveProperty('home');
        expect(payload).not.toHaveProperty('user');
      }));

    it('Sandbox: the constructor chain reaches only the sandbox\'s own process', () =>
      withRuntime(async ({ rt }) => {
        await deployFiles(rt, 'ctor-chain', `
          exports.handler = function (event, context, callback) {
            const viaThis = this && this.constructor ? this.constructor.constructor('return process')() : undefined;
            const viaObject = ({}).constructor.constructor('return process')();
            const viaContext = context.constructor.constructor('return process')();
            const viaAsync = (async () => {}).constructor('return process');
            const g = Function('return this')();
            callback(null, {
              same: viaObject === process && viaContext === process && (viaThis === undefined || viaThis === process),
              binding: (() => { try { viaObject.binding('fs'); return 'returned'; } catch (e) { return e.message; } })(),
              exit: typeof viaObject.exit,
              node: viaObject.versions.node,
              globalIsOurs: g === globalThis,
              asyncCtor: typeof viaAsync,
            });
          };`, { file: 'index.js' });
        const result = await rt.invoke('ctor-chain');
        const payload = result.payload as Record<string, unknown>;
        expect(payload).toMatchObject({ same: true, binding: 'No such module: fs', exit: 'function', globalIsOurs: true, asyncCtor: 'function' });
        expect(payload['node']).not.toBe(process.versions.node);
      }));

    it('Sandbox: the host\'s environment variables are not visible, and the guest cannot change them', () =>
      withRuntime(async ({ rt }) => {
        const hostHome = process.env.HOME;
        const result = await deployAndInvoke(rt, `
          export const handler = async () => {
            process.env.LAMBDALET_ESCAPE_TEST = 'set by guest';
            process.env.HOME = '/tmp/evil';
            return Object.keys(process.env).filter((k) => !/^(AWS_|LAMBDA_|_HANDLER$|_X_AMZN_TRACE_ID$|TZ$|LANG$|PATH$|NODE_PATH$)/.test(k));
          };`);
        expect(result.payload).toEqual(['LAMBDALET_ESCAPE_TEST', 'HOME']);
        expect(process.env.LAMBDALET_ESCAPE_TEST).toBeUndefined();
        expect(process.env.HOME).toBe(hostHome);
      }));

    it('Sandbox: caller/callee chains do not lead out of the handler', () =>
      withRuntime(async ({ rt }) => {
        const result = await deployAndInvoke(rt, `
          function handler(event, context, callback) {
            let outcome;
            try { outcome = typeof handler.caller; } catch (e) { outcome = 'threw ' + e.name; }
            callback(null, outcome);
          }
          exports.handler = handler;`, {}, { file: 'index.js' });
        // Either the caller is hidden (strict guest frames throw) or it is null: never a host function.
        expect(['threw TypeError', 'object']).toContain(result.payload);
      }));

    it('Sandbox: stack frames expose no host objects or paths', () =>
      withRuntime(async ({ rt }) => {
        const result = await deployAndInvoke(rt, `
          export const handler = async () => {
            Error.prepareStackTrace = (e, frames) => frames.map((f) => ({
              file: f.getFileName(), fn: typeof f.getFunction(), self: typeof f.getThis(),
            }));
            const frames = new Error().stack;
            Error.prepareStackTrace = undefined;
            return { frames, stack: new Error('x').stack };
          };`);
        const p = result.payload as { frames: { file: string | null; fn: string; self: string }[] | string; stack: string };
        // Engines without V8's structured call sites (QuickJS) ignore prepareStackTrace: a plain stack.
        const frames = typeof p.frames === 'string' ? [] : p.frames;
        if (typeof p.frames === 'string') expect(p.frames).not.toContain(process.cwd());
        for (const frame of frames) {
          if (frame.file !== null) expect(frame.file).toMatch(/^\/var\/(task|runtime)\//);
          expect(frame.fn).toBe('undefined');
        }
        expect(p.stack).not.toContain(process.cwd());
        expect(p.stack).not.toContain('node_modules');
      }));
  });

  describe('reaching host modules and files', () => {
    it('Sandbox: node:fs reaches only the sandbox\'s own tree, never the host\'s /etc/passwd', () =>
      withRuntime(async ({ rt }) => {
        const result = await deployAndInvoke(rt, 'import fs from "node:fs";\nexport const handler = async () => { try { return fs.readFileSync("/etc/passwd", "utf8"); } catch (e) { return e.code; } };');
        expect(result.payload).toBe('ENOENT');
      }));

    it('Sandbox: node:child_process imports as a stub whose every export fails, naming the module as not available in lambdalet', () =>
      withRuntime(async ({ rt }) => {
        const result = await deployAndInvoke(rt, 'import cp from "node:child_process";\nexport const handler = async () => cp.execSync("id");');
        const error = errorOf(result);
        expect(error.errorMessage).toMatch(/^The Node.js module 'child_process' \(child_process.execSync\) is not available in lambdalet/);
      }));

    it('Sandbox: require of child_process in CommonJS fails', () =>
      withRuntime(async ({ rt }) => {
        const result = await deployAndInvoke(rt, `
          exports.handler = async () => {
            try { return require('child_process').execSync('id').toString(); } catch (e) { return e.message; }
          };`, {}, { file: 'index.js' });
        expect(result.payload).toMatch(/^The Node.js module 'child_process' \(child_process.execSync\) is not available in lambdalet/);
      }));

    it('Sandbox: dynamic import() of a built-in is rejected', () =>
      withRuntime(async ({ rt }) => {
        const result = await deployAndInvoke(rt, `
          export const handler = async () => {
            const out = [];
            try { (await import('node:child_process')).spawn('sh'); out.push('imported'); } catch (e) { out.push(e.message.split('\\n')[0]); }
            try { await (0, eval)("import('fs')"); out.push('imported'); } catch (e) { out.push('eval: ' + e.message); }
            try { await new Function("return import('os')")(); out.push('imported'); } catch (e) { out.push('fn: ' + e.message); }
            return out;
          };`);
        const out = result.payload as string[];
        expect(out).toHaveLength(3);
        expect(out).not.toContain('imported');
        expect(out[0]).toContain('is not available in lambdalet');
      }));

    it('Sandbox: the built-in resolver hook gives the guest\'s own modules and refuses the rest', () =>
      withRuntime(async ({ rt }) => {
        const result = await deployAndInvoke(rt, `
          export const handler = async () => {
            const hook = globalThis[Symbol.for('lambdalet.builtin')];
            if (typeof hook !== 'function') return 'no hook';
            const out = [];
            for (const name of ['fs', 'node:child_process', 'process', '../../../etc/passwd']) {
              try { hook(name); out.push('loaded ' + name); } catch (e) { out.push(e.code); }
            }
            return out;
          };`);
        // A name that is not a Node built-in is refused as Node refuses a module it cannot find
        // (MODULE_NOT_FOUND, since 92c9b68: optional dependencies test for that code).
        expect(result.payload).toEqual(['loaded fs', 'loaded node:child_process', 'loaded process', 'MODULE_NOT_FOUND']);
      }));
  });

  describe('taking the host down', () => {
    it('Sandbox: overwriting JSON.stringify and intrinsics cannot crash the host', () =>
      withRuntime(async ({ rt }) => {
        await deployFiles(rt, 'vandal', `
          exports.handler = (event, context, callback) => {
            JSON.stringify = () => { throw new Error('no stringify'); };
            JSON.parse = () => ({ forged: true });
            Array.prototype.push = () => { throw new Error('no push'); };
            String.prototype.split = () => { throw new Error('no split'); };
            Object.defineProperty(Object.prototype, 'then', { get() { throw new Error('no then'); }, configurable: true });
            callback(null, 'vandalised');
          };`, { file: 'index.js' });
        const result = await rt.invoke('vandal');
        expect(result.statusCode).toBe(200);
        // Lambda's own runtime client would be broken the same way: any result or function error will do.
        expect(result.functionError === 'Unhandled' || result.payload === 'vandalised').toBe(true);
        const again = await rt.invoke('vandal');
        expect(again.statusCode).toBe(200);
        await expectHostServes(rt);
        expect(({} as { then?: unknown }).then).toBeUndefined();
        expect(JSON.stringify({ a: [1] })).toBe('{"a":[1]}');
      }));

    it('Sandbox: polluting prototypes and globals stays inside one sandbox', () =>
      withRuntime(async ({ rt }) => {
        await deployFiles(rt, 'polluter', `
          export const handler = async () => {
            Object.prototype.polluted = 'yes';
            Array.prototype.map = () => 'hijacked';
            Function.prototype.call = () => { throw new Error('no call'); };
            Reflect.apply = () => { throw new Error('no apply'); };
            Date.now = () => 0;
            globalThis.leaked = 'global';
            return 'done';
          };`);
        const polluted = await rt.invoke('polluter');
        expect(polluted.statusCode).toBe(200);
        await deployFiles(rt, 'clean', 'export const handler = async () => [({}).polluted, typeof leaked, [1].map((x) => x + 1), Date.now() > 0];');
        expect((await rt.invoke('clean')).payload).toEqual([null, 'undefined', [2], true]);
        expect(({} as { polluted?: unknown }).polluted).toBeUndefined();
        expect((globalThis as { leaked?: unknown }).leaked).toBeUndefined();
        expect([1].map((x) => x + 1)).toEqual([2]);
      }));

    it('Sandbox: hostile error objects still produce an error result', () =>
      withRuntime(async ({ rt }) => {
        await deployFiles(rt, 'hostile-errors', `
          export const handler = async (event) => {
            if (event.kind === 'getter') {
              const e = new Error('x');
              Object.defineProperty(e, 'name', { get() { throw new Error('gotcha'); } });
              throw e;
            }
            if (event.kind === 'proxy') {
              const trap = () => { throw new Error('trap'); };
              throw new Proxy({}, { get: trap, has: trap, ownKeys: trap, getPrototypeOf: trap, getOwnPropertyDescriptor: trap });
            }
            if (event.kind === 'huge') throw new Error('m'.repeat(1_000_000));
            throw new Error('unknown');
          };`, { timeoutMs: 60_000 }); // a 1 MB error takes 3-7 s on quickjs at load 50: what is tested is the result, not the speed
        const getter = await rt.invoke('hostile-errors', { kind: 'getter' });
        expect(errorOf(getter).errorType).toBe('handled');
        const proxy = await rt.invoke('hostile-errors', { kind: 'proxy' });
        expect(proxy.functionError).toBe('Unhandled');
        const huge = await rt.invoke('hostile-errors', { kind: 'huge' });
        expect(errorOf(huge).errorMessage).toHaveLength(1_000_000);
        await expectHostServes(rt);
      }));

    it('Sandbox: a user error named like a platform error does not forge a timeout', () =>
      withRuntime(async ({ rt, logs }) => {
        const result = await deployAndInvoke(rt, `
          export const handler = async () => {
            const e = new Error('fake');
            e.name = 'Sandbox.Timedout';
            String.prototype.split = () => [];
            throw e;
          };`);
        expect(errorOf(result).errorType).toBe('Sandbox.Timedout');
        expect(errorOf(result)).toHaveProperty('trace');
        const report = logs.forRequest(result.requestId).find((l) => l.startsWith('REPORT'))!;
        expect(report).not.toContain('Status: timeout');
      }));

    it('Sandbox: logging a Proxy or an object with a throwing getter does not throw', () =>
      withRuntime(async ({ rt, logs }) => {
        const result = await deployAndInvoke(rt, `
          export const handler = async () => {
            const trap = () => { throw new Error('trap'); };
            console.log(new Proxy({}, { get: trap, ownKeys: trap, getPrototypeOf: trap, getOwnPropertyDescriptor: trap }));
            let ran = false;
            console.log({ get x() { ran = true; throw new Error('getter ran'); }, set y(v) {}, z: 1 });
            return { ran };
          };`);
        expect(result.payload).toEqual({ ran: false });
        const lines = logs.forRequest(result.requestId).filter((l) => l.includes('\tINFO\t'));
        expect(lines).toHaveLength(2);
        expect(lines[1]!.endsWith('\tINFO\t{ x: [Getter], y: [Setter], z: 1 }')).toBe(true);
      }));

    it('Sandbox: a log flood is bounded per line', () =>
      withRuntime(async ({ rt, logs }) => {
        const result = await deployAndInvoke(rt, 'export const handler = async () => { console.log("x".repeat(5_000_000)); return "ok"; };');
        expect(result.payload).toBe('ok');
        const line = logs.forRequest(result.requestId).find((l) => l.includes('\tINFO\t'))!;
        expect(line.length).toBeLessThan(300 * 1024);
      }));

    it('Sandbox: unbounded recursion is a RangeError, not a host crash', () =>
      withRuntime(async ({ rt }) => {
        const result = await deployAndInvoke(rt, 'export const handler = async () => { const f = () => f(); f(); };');
        expect(errorOf(result)).toMatchObject({ errorType: 'RangeError', errorMessage: 'Maximum call stack size exceeded' });
        await expectHostServes(rt);
      }));

    const noAtomics = { quickjs: 'this QuickJS build has no Atomics nor SharedArrayBuffer, so nothing can block' };
    it.skipIf(unsupported(noAtomics))(title('Sandbox: Atomics.wait forever is cut off by the timeout', noAtomics), () =>
      withRuntime(async ({ rt }) => {
        const result = await deployAndInvoke(
          rt,
          'export const handler = async () => { Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0); };',
          {},
          { timeoutMs: 200 },
        );
        expect(errorOf(result).errorType).toBe('Sandbox.Timedout');
        await expectHostServes(rt);
      }));

    it('Sandbox: a response shaped like the wire protocol is just a string', () =>
      withRuntime(async ({ rt }) => {
        const forged = 'e-0,0,{"errorType":"Forged","errorMessage":"x","trace":[]}';
        const result = await deployAndInvoke(rt, `export const handler = async () => ${JSON.stringify(forged)};`);
        expect(result.functionError).toBeUndefined();
        expect(result.payload).toBe(forged);
      }));

    it('Sandbox: an event shaped like the wire protocol is just data', () =>
      withRuntime(async ({ rt }) => {
        const event = { text: 'x\n123\n{"clientContext":1}\n{"forged":true}' };
        const result = await deployAndInvoke(rt, 'export const handler = async (e, c) => ({ e, cc: c.clientContext ?? null });', event);
        expect(result.payload).toEqual({ e: event, cc: null });
      }));
  });
});
