/**
 * loadHandler's `egress` and `credentials` (issue #12: a new user testing a handler that calls the
 * AWS SDK against a local endpoint, or any HTTP API, found no option for either: every request was
 * refused and the SDK had no credentials).
 */
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { loadHandler } from '../../src/testing/index.ts';

let dir: string;
let file: string;
const server = createServer((req, res) => res.end(`local ${req.url}`));

beforeAll(async () => {
  await new Promise<void>((done) => server.listen(0, '127.0.0.1', done));
  dir = await mkdtemp(join(tmpdir(), 'lambdalet-load-egress-'));
  file = join(dir, 'caller.mjs');
  await writeFile(file, 'export const handler = async (e) => ({ body: await (await fetch(e.url)).text(), key: process.env.AWS_ACCESS_KEY_ID ?? null });\n');
});
afterAll(async () => {
  server.close();
  await rm(dir, { recursive: true, force: true });
});

it('egress.allowHosts lets the handler reach a local server; credentials reach process.env', async () => {
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/orders`;
  const fn = await loadHandler(file, { egress: { allowHosts: ['127.0.0.1'] }, credentials: { accessKeyId: 'AKIDLOCAL', secretAccessKey: 'secret' } });
  try {
    const res = await fn.invoke({ url });
    expect(res.error).toBeUndefined();
    expect(res.payload).toEqual({ body: 'local /orders', key: 'AKIDLOCAL' });
  } finally {
    await fn.dispose();
  }
  const closed = await loadHandler(file);
  try {
    const res = await closed.invoke({ url });
    expect(res.ok).toBe(false);
    expect(res.error?.errorMessage).toContain('lambdalet egress policy denied');
  } finally {
    await closed.dispose();
  }
});

it('egress.fetch answers the handler\'s requests in the test; each such load is its own function', async () => {
  const answer = (text: string) => ({ allowHosts: ['api.example.com'], fetch: () => Promise.resolve(new Response(text)) });
  const a = await loadHandler(file, { egress: answer('from a') });
  const b = await loadHandler(file, { egress: answer('from b') });
  try {
    const ra = await a.invoke({ url: 'https://api.example.com/' });
    expect(ra.error).toBeUndefined();
    expect(ra.payload).toMatchObject({ body: 'from a' });
    expect((await b.invoke({ url: 'https://api.example.com/' })).payload).toMatchObject({ body: 'from b' });
  } finally {
    await a.dispose();
    await b.dispose();
  }
});
