/**
 * More of the packages Lambda users put in handlers, bundled unchanged and run on every engine,
 * each compared with the same module run by plain Node: Powertools for AWS Lambda (Logger, Metrics'
 * EMF, Tracer, Idempotency, Parameters, Batch, Parser, the Event Handler's HTTP Router), Middy with
 * its HTTP middlewares (body parser, error handler, router, CORS, validator), zod, ajv (+
 * ajv-formats; its compiled validators are `new Function` source), joi, yup, uuid, lodash,
 * date-fns / date-fns-tz, moment-timezone, nanoid, fast-xml-parser, handlebars, ejs (templates
 * compiled with `new Function`), class-validator, aws-embedded-metrics, node-fetch and got against a
 * loopback server the egress policy allows. undici loads and connects (node:net is the host's); on v8
 * it answers as in Node (its parser is WebAssembly, bounded there), on quickjs it stops at WebAssembly,
 * which QuickJS does not have; pg connects through the host's
 * socket and fails as in Node where nothing listens.
 *
 * One runtime per engine, shared by the cases (each deploys its own function); plain Node's run of
 * a fixture is one child process shared by both engines' cases.
 */
import { execFile } from 'node:child_process';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createRuntime, type InvokeResult, type Runtime } from '../../src/index.ts';
import { ENGINES } from '../helpers/runtime.ts';

const run = promisify(execFile);
const fixture = (name: string): string => fileURLToPath(new URL(`./fixtures/more/${name}`, import.meta.url));

interface NodeRun {
  readonly results: unknown[];
  readonly stdout: string[];
  readonly stderr: string[];
}

/**
 * Imports `file` in plain Node, with `env` (and `traceId` as _X_AMZN_TRACE_ID from the first
 * invoke on, as the runtime client sets it), and awaits its handler for each event in turn with a
 * Lambda-like context: the results, and the lines it wrote to stdout and stderr.
 */
async function runInNode(file: string, events: readonly unknown[], env: Record<string, string> = {}, context: Record<string, unknown> = {}, traceId?: string): Promise<NodeRun> {
  const driver = `
    const m = await import(${JSON.stringify(file)});
    const context = { ...${JSON.stringify(context)}, getRemainingTimeInMillis: () => 3000, callbackWaitsForEmptyEventLoop: true };
    const results = [];
    for (const event of ${JSON.stringify(events)}) {
      ${traceId === undefined ? '' : `process.env._X_AMZN_TRACE_ID = ${JSON.stringify(traceId)};`}
      try {
        results.push(await m.handler(event, context) ?? null);
      } catch (error) {
        results.push({ thrown: { name: error.name, message: error.message } });
      }
    }
    process.stdout.write('\\n@@' + JSON.stringify(results) + '@@\\n');`;
  const { stdout, stderr } = await run(process.execPath, ['--input-type=module', '-e', driver], { env: { PATH: process.env.PATH ?? '', TZ: 'UTC', ...env }, maxBuffer: 1 << 24 });
  const at = stdout.lastIndexOf('\n@@');
  const end = stdout.indexOf('@@\n', at + 3);
  const lines = (text: string): string[] => text.split('\n').filter(Boolean);
  return { results: JSON.parse(stdout.slice(at + 3, end)) as unknown[], stdout: lines(stdout.slice(0, at) + stdout.slice(end + 3)), stderr: lines(stderr) };
}

const nodeRuns = new Map<string, Promise<NodeRun>>();
function inNode(...args: Parameters<typeof runInNode>): Promise<NodeRun> {
  const key = JSON.stringify(args);
  let found = nodeRuns.get(key);
  if (found === undefined) nodeRuns.set(key, (found = runInNode(...args)));
  return found;
}

let server: Server;
let base = '';
beforeAll(async () => {
  server = createServer((req, res) => {
    let body = '';
    req.on('data', (chunk: Buffer) => (body += chunk.toString()));
    req.on('end', () => {
      if (req.url?.startsWith('/items/1')) {
        res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ id: 1, url: req.url, trace: req.headers['x-trace'] ?? null }));
      } else if (req.url === '/items' && req.method === 'POST') {
        res.writeHead(201, { 'content-type': 'application/json' }).end(JSON.stringify({ created: JSON.parse(body) as unknown, type: req.headers['content-type'] }));
      } else {
        res.writeHead(404, { 'content-type': 'text/plain' }).end('nope');
      }
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
afterAll(() => new Promise<void>((resolve) => server.close(() => resolve())));

function ok(result: InvokeResult): unknown {
  expect(result.functionError, JSON.stringify(result.payload).slice(0, 2000)).toBeUndefined();
  return result.payload;
}

/** A Powertools JSON line without what differs run to run (times, ids) or by the code's place (an error's file and stack). */
function stableJsonLine(line: string): Record<string, unknown> {
  const record = JSON.parse(line) as Record<string, unknown>;
  delete record.timestamp;
  for (const key of ['function_request_id', 'xray_trace_id']) if (key in record) record[key] = `<${key}>`;
  const aws = record._aws as { Timestamp?: number } | undefined;
  if (aws) aws.Timestamp = 0;
  const error = record.error as Record<string, unknown> | undefined;
  if (error) {
    error.location = '<location>';
    error.stack = '<stack>';
  }
  return record;
}

/** The API Gateway (REST, v1) event Middy's HTTP middlewares read. */
function restEvent(body: string | undefined, contentType: string | undefined): Record<string, unknown> {
  return {
    resource: '/items', path: '/items', httpMethod: 'POST', headers: contentType === undefined ? {} : { 'Content-Type': contentType },
    multiValueHeaders: {}, queryStringParameters: null, pathParameters: null, stageVariables: null,
    requestContext: { requestId: 'r', stage: 'prod', httpMethod: 'POST', path: '/prod/items', identity: { sourceIp: '1.2.3.4' } },
    body: body ?? null, isBase64Encoded: false,
  };
}

/** An SQS record as Lambda delivers it (Powertools' SqsSchema checks every field). */
function sqsRecord(messageId: string, body: unknown): Record<string, unknown> {
  return {
    messageId, receiptHandle: 'h', body: JSON.stringify(body), md5OfBody: '0', eventSource: 'aws:sqs', eventSourceARN: 'arn:aws:sqs:us-east-1:123456789012:q', awsRegion: 'us-east-1',
    attributes: { ApproximateReceiveCount: '1', SentTimestamp: '1700000000000', SenderId: 'x', ApproximateFirstReceiveTimestamp: '1700000000000' }, messageAttributes: {},
  };
}

/** An API Gateway HTTP API (payload 2.0) event. */
function httpApiEvent(method: string, rawPath: string, body?: string): Record<string, unknown> {
  return {
    version: '2.0', routeKey: '$default', rawPath, rawQueryString: '', headers: { host: 'abc.execute-api.us-east-1.amazonaws.com', 'content-type': 'application/json' },
    requestContext: {
      accountId: '123456789012', apiId: 'abc', domainName: 'abc.execute-api.us-east-1.amazonaws.com', domainPrefix: 'abc',
      http: { method, path: rawPath, protocol: 'HTTP/1.1', sourceIp: '1.2.3.4', userAgent: 'test' },
      requestId: 'r', routeKey: '$default', stage: '$default', time: '01/Jan/2026:00:00:00 +0000', timeEpoch: 0,
    },
    isBase64Encoded: false, ...(body === undefined ? {} : { body }),
  };
}

describe('packages in plain Node (the baseline works)', () => {
  it('got and node-fetch answer in Node', async () => {
    const { results } = await inNode(fixture('http-clients.mjs'), [{}], { COMPAT_BASE_URL: base });
    expect(results[0]).toMatchObject({ nodeFetch: { status: 200 }, got: { id: 1 }, gotPost: { status: 201 }, gotMissing: { status: 404 } });
  });
});

for (const engine of ENGINES) {
  describe(`engine ${engine}`, () => {
    let rt: Runtime;
    /** The lines the runtime's log sink got since the case began. */
    let lines: string[] = [];
    beforeAll(async () => {
      rt = await createRuntime({ logSink: { write: (line: string) => void lines.push(line) } });
    });
    afterAll(() => rt.close());
    const begin = (): void => {
      lines = [];
    };
    const deploy = (name: string, file: string, extra: Record<string, unknown> = {}) =>
      rt.deploy({ name, engine, code: { entry: fixture(file) }, handler: `${file.replace(/\.mjs$/, '')}.handler`, timeoutMs: 60_000, ...extra });

    it.each([
      { logging: 'Text', loggingConfig: undefined, level: 'INFO', lines: 6 },
      // Powertools' Logger takes Lambda's application log level (AWS_LAMBDA_LOG_LEVEL) and its JSON
      // lines stay raw stdout in Lambda's JSON log format: the debug line shows, once.
      { logging: 'JSON at DEBUG', loggingConfig: { logFormat: 'JSON', applicationLogLevel: 'DEBUG' }, level: 'DEBUG', lines: 7 },
    ])('Powertools Logger, Metrics and Tracer ($logging logs): the JSON log lines and the EMF blob on stdout are the ones Node prints with the same environment and context (Powertools builds a node:console Console over process.stdout / stderr)', async ({ loggingConfig, level, lines: count }) => {
      begin();
      await deploy(`powertools-${level}`, 'powertools.mjs', loggingConfig === undefined ? {} : { loggingConfig });
      const payload = ok(await rt.invoke(`powertools-${level}`, { n: 3 })) as { lambda: { env: Record<string, string>; context: Record<string, unknown> }; tracingEnabled: boolean };
      // On Lambda the Tracer is on (AWS_LAMBDA_FUNCTION_NAME is set) and the function is not traced
      // actively: annotating the segment Lambda owns is refused with Powertools' own warning.
      expect(payload).toMatchObject({ tracingEnabled: true, level });
      const { _X_AMZN_TRACE_ID: traceId, ...env } = payload.lambda.env;
      expect(traceId).toMatch(/^Root=1-[0-9a-f]{8}-[0-9a-f]{24};Parent=[0-9a-f]{16};Sampled=0$/);
      const node = await inNode(fixture('powertools.mjs'), [{ n: 3 }], env, payload.lambda.context, traceId);
      expect(node.results[0]).toEqual(payload);

      // Powertools' lines (the Logger's and the EMF blob both carry its `service`), not Lambda's JSON
      // platform records or console lines.
      const json = (all: string[]): string[] => all.filter((l) => l.startsWith('{') && 'service' in (JSON.parse(l) as object)).map((l) => JSON.stringify(stableJsonLine(l))).sort();
      const ours = json(lines);
      expect(ours).toEqual(json([...node.stdout, ...node.stderr]));
      // At INIT (before START) and in the handler (DEBUG filtered at INFO), warn and error on stderr, one EMF.
      expect(ours).toHaveLength(count);
      const emf = lines.filter((l) => l.includes('"CloudWatchMetrics"')).map((l) => JSON.parse(l) as { _aws: { Timestamp: number } });
      expect(emf).toHaveLength(1);
      expect(Math.abs(emf[0]!._aws.Timestamp - Date.now())).toBeLessThan(600_000);
      // The logged error: Powertools' shape, the stack being the error's own.
      const errorLine = JSON.parse(lines.find((l) => l.includes('"failed"'))!) as { error: { name: string; message: string; stack: string } };
      expect(errorLine.error).toMatchObject({ name: 'TypeError', message: 'bad input' });
      expect(errorLine.error.stack).toContain('at handler (/var/task/powertools.mjs:');
      // The Tracer's warnings go through the global console: Lambda's text lines, Node's stderr text.
      const warnings = lines.flatMap((l) => {
        if (l.split('\t')[2] === 'WARN') return [l.split('\t').slice(3).join('\t')];
        const record = l.startsWith('{') ? (JSON.parse(l) as { level?: string; requestId?: string; message?: string }) : {};
        return record.level === 'WARN' && record.requestId !== undefined ? [record.message!] : [];
      });
      expect(warnings).toEqual(node.stderr.filter((l) => !l.startsWith('{')));
      expect(warnings).toHaveLength(2);
    });

    it('Powertools Tracer through its Middy middleware (captureLambdaHandler) and a subsegment of the handler own: no X-Ray daemon, nothing sent when not sampled', async () => {
      begin();
      await deploy('tracer', 'tracer.mjs');
      for (const n of [1, 2]) {
        const payload = ok(await rt.invoke('tracer', { n }));
        expect(payload).toEqual({ tracingEnabled: true, traceHeader: 'Root=<id>;Parent=<id>;Sampled=0', segment: '## tracer.handler', sampled: false });
      }
      expect(lines.filter((l) => /\t(WARN|ERROR)\t/.test(l))).toEqual([]);
    });

    it('Powertools Idempotency (makeIdempotent over a persistence layer of the user own) and Parameters (a provider of the user own: cache, transforms) as in Node', async () => {
      await deploy('powertools-utilities', 'powertools-utilities.mjs');
      const payload = ok(await rt.invoke('powertools-utilities', { order: 'o-1' }));
      const expected = (await inNode(fixture('powertools-utilities.mjs'), [{ order: 'o-1' }], { AWS_LAMBDA_FUNCTION_NAME: 'powertools-utilities' }, { functionName: 'powertools-utilities' })).results[0];
      expect(payload).toEqual(expected);
      expect(payload).toMatchObject({ idempotency: { first: { runs: 1 }, again: { runs: 1 }, other: { runs: 2 } }, parameters: { readsSoFar: 3, forced: 4 } });
    });

    it('Middy with http-json-body-parser and http-error-handler answers API Gateway events as in Node: parsed body, an exposed 410, a crash, malformed JSON (422), no content type (415)', async () => {
      begin();
      await deploy('middy', 'middy.mjs');
      const events = [
        restEvent('{"a":[1,2]}', 'application/json'),
        restEvent('{"fail":true}', 'application/json'),
        restEvent('{"crash":true}', 'application/json; charset=utf-8'),
        restEvent('{"a":', 'application/json'),
        restEvent('{"a":1}', undefined),
      ];
      const ours: unknown[] = [];
      for (const event of events) {
        const result = await rt.invoke('middy', event);
        const { errorType, errorMessage } = result.payload as { errorType?: string; errorMessage?: string };
        ours.push(result.functionError === undefined ? result.payload : { thrown: { name: errorType, message: errorMessage } });
      }
      const node = await inNode(fixture('middy.mjs'), events);
      expect(ours).toEqual(node.results);
      expect(ours[0]).toMatchObject({ statusCode: 200, headers: { 'x-order': 'before,after' } });
      expect(ours.slice(1).map((r) => (r as { statusCode?: number }).statusCode)).toEqual([410, 500, 422, 415]);
    });

    it('Powertools Batch (partial batch response) with Parser (SqsEnvelope, JSONStringified zod schema) and the Event Handler HTTP Router answer as in Node', async () => {
      await deploy('powertools-batch', 'powertools-batch.mjs');
      const events = [
        { kind: 'sqs', event: { Records: [sqsRecord('m1', { id: 'a', qty: 2 }), sqsRecord('m2', { id: 'b', qty: -1 })] } },
        { kind: 'http', event: httpApiEvent('GET', '/orders/42') },
        { kind: 'http', event: httpApiEvent('GET', '/orders/missing') },
        { kind: 'http', event: httpApiEvent('POST', '/orders', '{"id":"c","qty":1}') },
        { kind: 'http', event: httpApiEvent('DELETE', '/nowhere') },
      ];
      const ours: unknown[] = [];
      for (const event of events) ours.push(ok(await rt.invoke('powertools-batch', event)));
      expect(ours).toEqual((await inNode(fixture('powertools-batch.mjs'), events)).results);
      expect(ours[0]).toMatchObject({ response: { batchItemFailures: [{ itemIdentifier: 'm2' }] }, seen: ['a'], valid: { ok: true } });
      expect(ours.slice(1).map((r) => (r as { statusCode: number }).statusCode)).toEqual([200, 404, 200, 404]);
    });

    it('Middy http-router, http-cors and validator (an ajv schema transpiled with new Function) answer as in Node', async () => {
      await deploy('middy-more', 'middy-more.mjs');
      const event = (method: string, path: string, body?: string, pathParameters: Record<string, string> | null = null): Record<string, unknown> => ({
        ...restEvent(body, 'application/json'), httpMethod: method, path, resource: path, pathParameters,
        headers: { 'Content-Type': 'application/json', Origin: 'https://app.example.com' },
      });
      const events = [
        event('POST', '/items', '{"name":"widget","email":"a@example.com"}'),
        event('POST', '/items', '{"name":"x","email":"nope"}'),
        event('GET', '/items/7', undefined, { id: '7' }),
        event('GET', '/other'),
      ];
      const ours: unknown[] = [];
      for (const e of events) ours.push(ok(await rt.invoke('middy-more', e)));
      expect(ours).toEqual((await inNode(fixture('middy-more.mjs'), events)).results);
      expect(ours.map((r) => (r as { statusCode: number }).statusCode)).toEqual([201, 400, 200, 404]);
      expect(ours[0]).toMatchObject({ headers: { 'Access-Control-Allow-Origin': 'https://app.example.com' } });
    });

    it('zod, ajv with ajv-formats (validators compiled with new Function), joi and yup: the same verdicts and error reports as in Node', async () => {
      await deploy('validators', 'validators.mjs');
      const expected = (await inNode(fixture('validators.mjs'), [{ extra: { unknown: 1 } }])).results[0];
      const payload = ok(await rt.invoke('validators', { extra: { unknown: 1 } }));
      expect(payload).toEqual(expected);
      expect(payload).toMatchObject({ valid: { zod: { ok: true }, ajv: { ok: true }, joi: { ok: true }, yup: { ok: true } }, invalid: { zod: { ok: false }, ajv: { ok: false }, joi: { ok: false }, yup: { ok: false } } });
    });

    it('uuid, lodash, date-fns and date-fns-tz give what Node gives (time zones through Intl)', async () => {
      await deploy('utilities', 'utilities.mjs');
      const expected = (await inNode(fixture('utilities.mjs'), [{}])).results[0];
      const payload = ok(await rt.invoke('utilities', {}));
      expect(payload).toEqual(expected);
      expect(payload).toMatchObject({ uuid: { v4: 4, v7: 7 }, dateFnsTz: { paris: '2026-03-29 01:30:00 GMT+1 +01:00' } });
    });

    it('node-fetch and got (GET, POST, a 404 as got HTTPError) reach a loopback server the egress policy allows, as in Node (got reads ClientRequest.res)', async () => {
      const env = { COMPAT_BASE_URL: base };
      await deploy('http-clients', 'http-clients.mjs', { env, egress: { allowHosts: [`127.0.0.1:${new URL(base).port}`] } });
      const expected = (await inNode(fixture('http-clients.mjs'), [{}], env)).results[0];
      expect(ok(await rt.invoke('http-clients', {}))).toEqual(expected);
    });

    it('undici as a package beside es-module-lexer: on v8 both answer as in Node (undici\'s sockets are the host\'s; both are WebAssembly, their memories declaring 2 GiB and none, sharing memoryMb); on quickjs they fail at WebAssembly, which QuickJS has none of; the global fetch works on both', async () => {
      const env = { COMPAT_BASE_URL: base };
      await deploy('undici', 'undici.mjs', { env, egress: { allowHosts: [`127.0.0.1:${new URL(base).port}`] } });
      const payload = ok(await rt.invoke('undici', {}));
      if (engine === 'v8') {
        // node:net (issue #12), WebAssembly bounded by memoryMb and Buffer#utf8Slice, which undici reads bodies with.
        expect(payload).toEqual((await inNode(fixture('undici.mjs'), [{}], env)).results[0]);
        expect(payload).toMatchObject({ lexer: { imports: ['./a.js', 'c'], exports: ['b'] }, request: { statusCode: 200 }, fetch: { status: 200 } });
      } else {
        const unavailable = { name: 'ReferenceError', message: expect.stringMatching(/^'?WebAssembly'? is not defined$/) as unknown };
        expect(payload).toEqual({
          lexer: unavailable,
          request: unavailable,
          fetch: { name: 'TypeError', message: 'fetch failed', cause: unavailable },
          globalFetch: { status: 200, body: { id: 1, url: '/items/1?via=global-fetch', trace: null } },
        });
      }
    });

    it('moment-timezone, nanoid and fast-xml-parser as in Node; pg (a socket client, its socket the host\'s) fails to connect as in Node (ECONNREFUSED: nothing listens)', async () => {
      await deploy('misc', 'misc.mjs', { egress: { allowHosts: ['127.0.0.1:5432'] } });
      const { database: nodeDatabase, ...expected } = (await inNode(fixture('misc.mjs'), [{}])).results[0] as Record<string, unknown>;
      const { database, ...payload } = ok(await rt.invoke('misc', {})) as Record<string, unknown>;
      expect(payload).toEqual(expected);
      expect(nodeDatabase).toMatchObject({ code: 'ECONNREFUSED' }); // nothing listens on 5432 here
      // pg's socket is the host's (node:net in the guest, issue #12): the same refusal as in Node.
      expect(database).toEqual(nodeDatabase);
    });

    it('handlebars and ejs (templates compiled with new Function), class-validator with reflect-metadata, and aws-embedded-metrics (its EMF blob through console.log in Lambda) as in Node with the same environment', async () => {
      begin();
      await deploy('templates-metrics', 'templates-metrics.mjs');
      const event = { signup: { email: 'nope', age: 12 } };
      const payload = ok(await rt.invoke('templates-metrics', event)) as { env: Record<string, string> };
      const node = await inNode(fixture('templates-metrics.mjs'), [event], payload.env);
      expect(payload).toEqual(node.results[0]);
      expect(payload).toMatchObject({ classValidator: [{ property: 'email' }, { property: 'age' }] });
      // One EMF blob: Lambda's console line (timestamp, request id, INFO, then the JSON) as Node's stdout line.
      const emf = (line: string): unknown => {
        const record = JSON.parse(line) as { _aws: { Timestamp: number } };
        record._aws.Timestamp = 0;
        return record;
      };
      const ours = lines.filter((l) => l.includes('"CloudWatchMetrics"')).map((l) => emf(l.split('\t').slice(3).join('\t')));
      expect(ours).toEqual(node.stdout.filter((l) => l.includes('"CloudWatchMetrics"')).map(emf));
      expect(ours).toHaveLength(1);
    });

    it('node:console Console over streams of its own, zlib zstd* (the same bytes as Node) and the messaging globals, as in Node', async () => {
      await deploy('node-apis', 'node-apis.mjs');
      const expected = (await inNode(fixture('node-apis.mjs'), [{}])).results[0];
      const payload = ok(await rt.invoke('node-apis', {}));
      expect(payload).toEqual(expected);
      const { console: written, zstd } = payload as { console: { out: string[]; err: string[] }; zstd: Record<string, unknown> };
      expect(written.out.slice(0, 3)).toEqual(['hello world { a: [ 1, 2 ] }\n', 'group\n', '  inside\n  two lines\n']);
      expect(written.err).toEqual(['careful\n', 'boom\n', 'Assertion failed: x y\n']);
      expect(zstd).toMatchObject({ back: true, streamed: true });
    });
  });
}
