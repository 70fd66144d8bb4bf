/**
 * `lambdalet invoke --allow-host <host>`: the function's egress.allowHosts from the command line
 * (issue #12: a handler that fetches could not be run with the CLI at all; the refusal said to add
 * the host to egress.allowHosts, which no flag set). A refused fetch names the flag on stderr. And a
 * handler file reading a file beside it, which its bundle does not carry: stderr says so.
 */
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect, it } from 'vitest';
import { egressHint } from '../../src/cli/invoke.ts';
import { runCli } from './run-cli.ts';

it('--allow-host lets the handler fetch that host; without it the refusal names the flag', async () => {
  const server = createServer((_req, res) => res.end('from the local server'));
  await new Promise<void>((done) => server.listen(0, '127.0.0.1', done));
  const host = `127.0.0.1:${(server.address() as AddressInfo).port}`;
  const dir = await mkdtemp(join(tmpdir(), 'lambdalet-allow-host-'));
  try {
    const file = join(dir, 'fetcher.mjs');
    await writeFile(file, `export const handler = async () => (await fetch('http://${host}/')).text();\n`);
    const allowed = await runCli(['invoke', file, '--allow-host', host, '--log-type', 'None']);
    expect(allowed, allowed.stderr).toMatchObject({ code: 0 });
    expect(JSON.parse(allowed.stdout)).toBe('from the local server');

    const refused = await runCli(['invoke', file, '--log-type', 'None']);
    expect(refused.code).toBe(1);
    expect(JSON.parse(refused.stdout)).toMatchObject({ errorType: 'TypeError' });
    expect(refused.stderr).toContain('add --allow-host 127.0.0.1'); // the refusal names the host, which allows every port
  } finally {
    server.close();
    await rm(dir, { recursive: true, force: true });
  }
});

it('the hint: only for the egress refusal', () => {
  expect(egressHint({ errorMessage: 'fetch failed: lambdalet egress policy denied https://example.com: add "example.com" to the function\'s egress.allowHosts' }))
    .toBe('lambdalet: the function\'s egress policy refused a request; to allow it, add --allow-host example.com');
  expect(egressHint({ errorMessage: 'fetch failed' })).toBeUndefined();
  expect(egressHint('a string payload')).toBeUndefined();
});

it('a handler file reading a file beside it: ENOENT in /var/task, and stderr says the file is not bundled and what to do', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'lambdalet-beside-'));
  try {
    await writeFile(join(dir, 'data.json'), '{"rate":0.2}');
    const file = join(dir, 'reader.mjs');
    await writeFile(file, "import { readFileSync } from 'node:fs';\nexport const handler = async () => JSON.parse(readFileSync(new URL('./data.json', import.meta.url), 'utf8'));\n");
    const bundled = await runCli(['invoke', file, '--log-type', 'None']);
    expect(bundled.code).toBe(1);
    expect(JSON.parse(bundled.stdout)).toMatchObject({ errorMessage: "ENOENT: no such file or directory, open '/var/task/data.json'" });
    expect(bundled.stderr).toContain(`lambdalet: ${join(dir, 'data.json')} is beside the handler on disk, but a handler file runs bundled`);
    expect(bundled.stderr).toContain(`lambdalet invoke ${dir} --handler reader.handler`);
    // What the hint says works.
    const whole = await runCli(['invoke', dir, '--handler', 'reader.handler', '--log-type', 'None']);
    expect(whole, whole.stderr).toMatchObject({ code: 0 });
    expect(JSON.parse(whole.stdout)).toEqual({ rate: 0.2 });
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});
