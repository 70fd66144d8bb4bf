/**
 * Issue #15 (red team: "fetch aborted after the headers arrived: r.text() hangs"). Node's fetch
 * (undici lib/web/fetch/index.js abortFetch) answers an abort that comes while the body is arriving
 * with the signal's reason — `DOMException [AbortError]: This operation was aborted` — from whatever
 * the guest is awaiting: the fetch or the body read. lambdalet's fetch resolves once the host has
 * the whole body (environment/host-bridge.ts), so the guest awaits the fetch itself there and gets
 * that reason from it. The server here sends the headers and one byte of a body it never ends; the
 * handler aborts only once the server reports the headers sent (no timing), and must see the
 * AbortError whichever promise it was on, and answer (never hang into its timeout).
 */
import { createServer, type Server, type ServerResponse } from 'node:http';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { deployFiles, forEachEngine, GENEROUS_TIMEOUT_MS } from '../helpers/runtime.ts';

let server: Server;
let port: number;
const held: ServerResponse[] = [];

beforeAll(async () => {
  server = createServer((req, res) => {
    if (req.url === '/hold') {
      res.writeHead(200, { 'content-type': 'text/plain' });
      res.write('x');
      held.push(res);
      return;
    }
    // /held: how many bodies are being held after their headers went out.
    res.end(String(held.length));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  port = (server.address() as { port: number }).port;
});

afterAll(async () => {
  for (const res of held) res.destroy();
  server.closeAllConnections();
  await new Promise((resolve) => server.close(resolve));
});

const ABORT_AFTER_HEADERS = `
  export const handler = async (event) => {
    const before = Number(await (await fetch(event.base + '/held')).text());
    const controller = new AbortController();
    const reading = fetch(event.base + '/hold', { signal: controller.signal }).then((response) => response.text());
    while (Number(await (await fetch(event.base + '/held')).text()) === before) {}
    controller.abort();
    try {
      return 'read ' + (await reading);
    } catch (error) {
      return { name: error.name, message: error.message, isDOMException: error instanceof DOMException };
    }
  };`;

forEachEngine(({ withRuntime }) => {
  it('fetch aborted after the headers arrived rejects with the AbortError DOMException, as Node', () =>
    withRuntime(async ({ rt }) => {
      await deployFiles(rt, 'aborter', ABORT_AFTER_HEADERS, { timeoutMs: GENEROUS_TIMEOUT_MS, egress: { allowHosts: [`127.0.0.1:${port}`] } });
      const result = await rt.invoke('aborter', { base: `http://127.0.0.1:${port}` });
      expect(result.functionError).toBeUndefined();
      expect(result.payload).toEqual({ name: 'AbortError', message: 'This operation was aborted', isDOMException: true });
      // The environment is fine afterwards.
      const again = await rt.invoke('aborter', { base: `http://127.0.0.1:${port}` });
      expect(again.payload).toMatchObject({ name: 'AbortError' });
    }), GENEROUS_TIMEOUT_MS + 60_000);
});
