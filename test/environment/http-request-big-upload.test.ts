/**
 * Issue #15 (red team: `http.request` with a 100 MiB upload threw an uncaught RangeError). The
 * guest's http client buffers a request's body and hands it to fetch; past the function's memory
 * cap the copy cannot be made. Node on Lambda would be killed holding it (Runtime.OutOfMemory, issue
 * #12: both engines now end the environment, memory-ledger.ts); the host is unaffected, the next
 * invocation starts a fresh environment, and an upload under the cap still arrives whole. (A
 * refusal that is not the cap's still goes to the request's 'error' event, as Node reports it.)
 */
import { createServer, type Server } from 'node:http';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { deployFiles, forEachEngine, GENEROUS_TIMEOUT_MS } from '../helpers/runtime.ts';

let server: Server;
let port: number;

beforeAll(async () => {
  server = createServer((req, res) => {
    let size = 0;
    req.on('data', (chunk: Buffer) => { size += chunk.length; });
    req.on('end', () => res.end(String(size)));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  port = (server.address() as { port: number }).port;
});

afterAll(async () => {
  server.closeAllConnections();
  await new Promise((resolve) => server.close(resolve));
});

const UPLOADER = `
  import http from 'node:http';
  export const handler = (event) => new Promise((resolve) => {
    const req = http.request({ host: '127.0.0.1', port: event.port, method: 'POST', path: '/' }, (res) => {
      let text = '';
      res.on('data', (chunk) => { text += chunk; });
      res.on('end', () => resolve({ received: Number(text) }));
    });
    req.on('error', (error) => resolve({ error: error.name + ': ' + error.message }));
    for (let sent = 0; sent < event.size; sent += event.chunk) req.write(new Uint8Array(Math.min(event.chunk, event.size - sent)).fill(1));
    req.end();
  });`;

const MIB = 1024 * 1024;

forEachEngine(({ withRuntime }) => {
  it("an upload past the memory cap is a RangeError on the request's error event; one under it arrives whole", () =>
    withRuntime(async ({ rt }) => {
      await deployFiles(rt, 'uploader', UPLOADER, { memoryMb: 128, timeoutMs: GENEROUS_TIMEOUT_MS, egress: { allowHosts: [`127.0.0.1:${port}`] } });
      // Under the cap: every byte arrives (4 MiB in 1 MiB writes, and one write of 4 MiB).
      for (const chunk of [MIB, 4 * MIB]) {
        expect((await rt.invoke('uploader', { port, size: 4 * MIB, chunk })).payload).toEqual({ received: 4 * MIB });
      }
      const big = await rt.invoke('uploader', { port, size: 100 * MIB, chunk: MIB });
      // 100 MiB held and 100 MiB more for the body's copy: past MemorySize, the environment is ended.
      expect(big.payload).toMatchObject({ errorType: 'Runtime.OutOfMemory' });
      // The function answers again (a fresh environment after the out-of-memory).
      expect((await rt.invoke('uploader', { port, size: MIB, chunk: MIB })).payload).toEqual({ received: MIB });
    }), GENEROUS_TIMEOUT_MS + 60_000);
});
