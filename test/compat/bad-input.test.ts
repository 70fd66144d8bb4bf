/**
 * Bad input from handlers: what a sandbox cannot do (server sockets, child processes, native addons)
 * fails with ERR_LAMBDALET_MODULE_UNAVAILABLE naming the operation, and the environment stays
 * usable; a native addon (a .node file, such as sharp's) fails INIT saying it is a native addon.
 */
import { expect, it } from 'vitest';
import { deployFiles, forEachEngine } from '../helpers/runtime.ts';

forEachEngine(({ engine, withRuntime }) => {
  it('an uncaught refused fetch names the handler that awaited it (v8: Node\'s `at async handler` frame; QuickJS keeps no async frames)', () =>
    withRuntime(async ({ rt }) => {
      await deployFiles(rt, 'refused-fetch', "export const handler = async () => {\n  const response = await fetch('https://example.com/');\n  return response.status;\n};");
      const result = await rt.invoke('refused-fetch');
      const payload = result.payload as { errorType: string; trace: string[] };
      expect(payload.errorType).toBe('TypeError');
      expect(payload.trace[0]).toMatch(/^TypeError: fetch failed: lambdalet egress policy denied https:\/\/example\.com/);
      // Node 24 (undici): "TypeError: fetch failed\n    at node:internal/deps/undici/undici:…\n    at async handler (…)".
      if (engine === 'v8') expect(payload.trace.slice(1)).toEqual(['    at async handler (/var/task/index.mjs:2:20)']);
      // Never the runtime's poll frames it had before (reviveError, hostCall, pollFetches).
      expect(payload.trace.join('\n')).not.toMatch(/pollFetches|reviveError/);
    }));

  it('a server socket or a child process fails with the clear error; the same warm environment then answers the next invoke', () =>
    withRuntime(async ({ rt }) => {
      await deployFiles(rt, 'bad', `
        const net = require('net');
        const { execSync, spawn } = require('child_process');
        exports.handler = async (event) => {
          try {
            if (event.use === 'server') net.createServer().listen(80);
            if (event.use === 'exec') execSync('ls');
            if (event.use === 'spawn') spawn('ls', ['-l']);
            return 'fine';
          } catch (e) {
            return { name: e.name, code: e.code, message: e.message };
          }
        };`, { file: 'index.js' });
      // Client sockets are the host's (issue #12); nothing can reach a server in a sandbox.
      const server = await rt.invoke('bad', { use: 'server' });
      expect(server.payload).toEqual({
        name: 'Error', code: 'ERR_LAMBDALET_MODULE_UNAVAILABLE',
        message: "The Node.js module 'net' (net.createServer) is not available in lambdalet: handlers run in a sandbox without processes, sockets or native modules",
      });
      const exec = await rt.invoke('bad', { use: 'exec' });
      expect(exec.payload).toMatchObject({ code: 'ERR_LAMBDALET_MODULE_UNAVAILABLE', message: expect.stringContaining('(child_process.execSync)') as string });
      const spawned = await rt.invoke('bad', { use: 'spawn' });
      expect(spawned.payload).toMatchObject({ message: expect.stringContaining('(child_process.spawn)') as string });
      const after = await rt.invoke('bad', { use: 'nothing' });
      expect(after.payload).toBe('fine');
      expect(after.coldStart).toBe(false);
    }));

  it('an uncaught socket error is an ordinary function error; the next invoke still runs', () =>
    withRuntime(async ({ rt }) => {
      // No error listener: the egress policy's refusal (nothing is allowed) is an uncaught 'error' event.
      await deployFiles(rt, 'bad-uncaught', `exports.handler = async (event) => { if (event.fail) { require('net').connect(5432); await new Promise((r) => setTimeout(r, 50)); } return 'ok'; };`, { file: 'index.js' });
      const failed = await rt.invoke('bad-uncaught', { fail: true });
      expect(failed.functionError).toBe('Unhandled');
      expect(failed.payload).toMatchObject({ errorType: 'Error', errorMessage: 'lambdalet egress policy denied tcp://localhost:5432: add "localhost" to the function\'s egress.allowHosts' });
      const next = await rt.invoke('bad-uncaught', {});
      expect(next.payload).toBe('ok');
    }));

  it('a native addon fails INIT with a message that says it is a native addon; later invokes answer the same', () =>
    withRuntime(async ({ rt }) => {
      await deployFiles(rt, 'addon', `const sharp = require('./build/Release/sharp.node'); exports.handler = async () => sharp;`, {
        file: 'index.js', files: { 'build/Release/sharp.node': '\\u007fELF not really' },
      });
      for (let i = 0; i < 2; i++) {
        const result = await rt.invoke('addon', {});
        expect(result.functionError).toBe('Unhandled');
        expect(result.payload).toMatchObject({
          errorType: 'Error',
          errorMessage: "Cannot load ./build/Release/sharp.node: it is a native addon (a .node file, machine code for Node's own process), and lambdalet runs handlers in a sandbox without native modules",
        });
      }
    }));
});
