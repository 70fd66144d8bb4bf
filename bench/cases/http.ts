/**
 * http/*: the HTTP server (issue #18), loaded with autocannon in a child process (so the load
 * generator does not share the server's event loop; on a 2-core machine they still share CPUs).
 *   http/raw-node-http: a bare node:http server answering 200 "ok" — the ceiling of the HTTP stack
 *     on this machine in this run (baseline).
 *   http/function-url/v8: a function URL (BUFFERED, authType NONE) of the trivial v8 function's alias
 *     `live` (version 1, 64 provisioned environments) so every request is warm. Target: >= 10,000 requests/s.
 *   http/direct-invoke/v8: the same function with rt.invoke in-process by 64 concurrent callers for
 *     the same time (no HTTP): the server's own cost per request is 1/rps(url) - 1/rps(direct).
 *   http/sdk-invoke/v8: Invoke through the real @aws-sdk/client-lambda, 64 concurrent callers.
 *   http/overload: concurrency limit 10 and a 50 ms function, 100 connections (10x the limit):
 *     the share of 429s, their latency (autocannon cannot split by status: the p99 of all
 *     responses), every request answered (errors/timeouts 0), and the process RSS sampled every
 *     100 ms (before, peak, after).
 * Figures are in suite.extra.http (requests/s, p50/p99 ms); the latency cases are recorded as cases.
 */
import { spawn } from 'node:child_process';
import { createServer } from 'node:http';
import { createRequire } from 'node:module';
import { LambdaClient, InvokeCommand } from '@aws-sdk/client-lambda';
import { createRuntime, silentSink } from '../../src/index.ts';
import { TRIVIAL } from '../lib/handlers.ts';
import { progress, type Suite } from '../lib/suite.ts';

const CONNECTIONS = 64;

interface Cannon {
  readonly requests: { readonly average: number; readonly total: number };
  readonly latency: { readonly p50: number; readonly p99: number; readonly average: number };
  readonly errors: number;
  readonly timeouts: number;
  readonly non2xx: number;
  readonly statusCodeStats?: Record<string, { count: number }>;
  readonly '2xx': number;
}

/** Runs the autocannon CLI (a child process) and returns its JSON result. */
function autocannon(url: string, connections: number, seconds: number, extra: string[] = []): Promise<Cannon> {
  const bin = createRequire(import.meta.url).resolve('autocannon/autocannon.js');
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [bin, '-c', String(connections), '-d', String(seconds), '-j', ...extra, url], { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    child.on('error', reject);
    child.on('close', (code) => (code === 0 ? resolve(JSON.parse(out) as Cannon) : reject(new Error(`autocannon exited ${code}`))));
  });
}

/** `callers` concurrent loops of `call` for `seconds`: requests/s and per-call latency percentiles (ms). */
async function closedLoop(callers: number, seconds: number, call: () => Promise<unknown>): Promise<{ rps: number; p50: number; p99: number; total: number }> {
  const latencies: number[] = [];
  const end = performance.now() + seconds * 1000;
  const started = performance.now();
  await Promise.all(Array.from({ length: callers }, async () => {
    while (performance.now() < end) {
      const t = performance.now();
      await call();
      latencies.push(performance.now() - t);
    }
  }));
  const elapsed = (performance.now() - started) / 1000;
  latencies.sort((a, b) => a - b);
  return { rps: latencies.length / elapsed, p50: latencies[Math.floor(latencies.length * 0.5)]!, p99: latencies[Math.floor(latencies.length * 0.99)]!, total: latencies.length };
}

export async function httpArea(suite: Suite): Promise<void> {
  const seconds = suite.pick(10, 5);
  const figures: Record<string, unknown> = {};

  // Baseline: the HTTP stack alone.
  const raw = createServer((_req, res) => res.end('ok'));
  await new Promise<void>((r) => raw.listen(0, '127.0.0.1', r));
  const rawPort = (raw.address() as { port: number }).port;
  const rawResult = await autocannon(`http://127.0.0.1:${rawPort}/`, CONNECTIONS, seconds);
  await new Promise((r) => raw.close(r));
  figures['raw-node-http'] = { rps: rawResult.requests.average, p50: rawResult.latency.p50, p99: rawResult.latency.p99 };
  suite.record('http/raw-node-http', { median: rawResult.latency.p50, p99: rawResult.latency.p99, samples: rawResult.requests.total });

  const rt = await createRuntime({ logSink: silentSink, concurrency: 256 });
  try {
    await rt.deploy({ name: 'trivial', code: { files: { 'index.mjs': TRIVIAL.module } } });
    await rt.publishVersion('trivial');
    await rt.createAlias('trivial', 'live', { functionVersion: '1' });
    await rt.putProvisionedConcurrencyConfig('trivial', 'live', { provisionedConcurrentExecutions: CONNECTIONS });
    while (rt.getProvisionedConcurrencyConfig('trivial', 'live').status !== 'READY') await new Promise((r) => setTimeout(r, 50));
    const server = await rt.serve({ port: 0, maxInFlight: 4096 });
    const { functionUrl } = rt.createFunctionUrlConfig('trivial', { authType: 'NONE', qualifier: 'live' });
    const url = await autocannon(functionUrl, CONNECTIONS, seconds);
    if (url.non2xx > 0 || url.errors > 0) throw new Error(`function URL load: ${url.non2xx} non-2xx, ${url.errors} errors`);
    figures['function-url/v8'] = { rps: url.requests.average, p50: url.latency.p50, p99: url.latency.p99, total: url.requests.total };
    suite.record('http/function-url/v8', { median: url.latency.p50, p99: url.latency.p99, samples: url.requests.total });

    const direct = await closedLoop(CONNECTIONS, seconds, () => rt.invoke('trivial:live', { name: 'x' }));
    figures['direct-invoke/v8'] = direct;
    suite.record('http/direct-invoke/v8', { median: direct.p50, p99: direct.p99, samples: direct.total });
    figures.serverOverheadUsPerRequest = Number(((1 / url.requests.average - 1 / direct.rps) * 1e6).toFixed(1));

    const client = new LambdaClient({ endpoint: server.url, region: 'us-east-1', credentials: { accessKeyId: 'a', secretAccessKey: 'b' }, maxAttempts: 1 });
    const payload = JSON.stringify({ name: 'sdk' });
    const sdk = await closedLoop(CONNECTIONS, seconds, () => client.send(new InvokeCommand({ FunctionName: 'trivial', Qualifier: 'live', Payload: payload })));
    client.destroy();
    figures['sdk-invoke/v8'] = sdk;
    suite.record('http/sdk-invoke/v8', { median: sdk.p50, p99: sdk.p99, samples: sdk.total });
    await server.close();
  } finally {
    await rt.close();
  }

  // Overload: 10x the concurrency limit.
  const limited = await createRuntime({ logSink: silentSink, concurrency: 10 });
  try {
    await limited.deploy({ name: 'slow', code: { files: { 'index.mjs': 'export const handler = async () => { await new Promise((r) => setTimeout(r, 50)); return "ok"; };' } } });
    await limited.serve({ port: 0 });
    const { functionUrl } = limited.createFunctionUrlConfig('slow', { authType: 'NONE' });
    const rss: number[] = [];
    const before = process.memoryUsage().rss;
    const sampler = setInterval(() => rss.push(process.memoryUsage().rss), 100);
    const over = await autocannon(functionUrl, 100, seconds);
    clearInterval(sampler);
    const after = process.memoryUsage().rss;
    const count = (code: string) => over.statusCodeStats?.[code]?.count ?? 0;
    figures.overload = {
      connections: 100,
      concurrencyLimit: 10,
      rps: over.requests.average,
      status200: count('200'),
      status429: count('429'),
      otherStatus: Object.entries(over.statusCodeStats ?? {}).filter(([c]) => c !== '200' && c !== '429').map(([c, s]) => `${c}:${s.count}`),
      errors: over.errors,
      timeouts: over.timeouts,
      p50: over.latency.p50,
      p99: over.latency.p99,
      rssMb: { before: Math.round(before / 2 ** 20), peak: Math.round(Math.max(before, ...rss) / 2 ** 20), after: Math.round(after / 2 ** 20) },
    };
    suite.record('http/overload/10x', { median: over.latency.p50, p99: over.latency.p99, samples: over.requests.total });
  } finally {
    await limited.close();
  }
  suite.extra.http = figures;
  // Both under autocannon with the same connections: the function URL's latency over bare node:http's.
  suite.ratio('http/function-url/v8', 'http/raw-node-http');
  progress(`http: ${JSON.stringify(figures)}`);
}
