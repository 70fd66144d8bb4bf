/**
 * The AWS SDK v3, bundled unchanged, against small DynamoDB and S3 endpoints this test serves on
 * loopback (allowed through the function's egress policy): real HTTP from inside the sandbox,
 * signed (SigV4) with credentials the host gives the function, endpoints from AWS_ENDPOINT_URL_*
 * variables the user sets. Each result is compared with the same module run by plain Node.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { forEachEngine } from '../helpers/runtime.ts';
import { runFixtureInNode } from './node-baseline.ts';

const fixture = (name: string): string => fileURLToPath(new URL(`./fixtures/${name}`, import.meta.url));
const CREDENTIALS = { accessKeyId: 'AKIDCOMPATTEST', secretAccessKey: 'compat-secret', sessionToken: 'compat-session-token' };

/**
 * Plain Node's run of a fixture for an event and env: one child process (each loads the SDK),
 * shared by every engine's case instead of one per engine. Each fixture writes then reads back
 * what it wrote, so a second Node run would answer the same.
 */
const nodeRuns = new Map<string, ReturnType<typeof runFixtureInNode>>();
function inNode(file: string, event: unknown, env: Record<string, string>): ReturnType<typeof runFixtureInNode> {
  const key = JSON.stringify([file, event, env]);
  let run = nodeRuns.get(key);
  if (run === undefined) nodeRuns.set(key, (run = runFixtureInNode(file, event, env)));
  return run;
}

let server: Server;
let endpoint = '';
/** Every request's credential scope and session token, to show the host's credentials signed it. */
const signatures: string[] = [];
const tables = new Map<string, unknown>();
const objects = new Map<string, { body: Buffer; type: string }>();

function dynamo(req: IncomingMessage, body: string, res: ServerResponse): void {
  const target = String(req.headers['x-amz-target'] ?? '');
  const input = JSON.parse(body) as { TableName: string; Item?: { pk: { S: string } }; Key?: { pk: { S: string } } };
  res.setHeader('content-type', 'application/x-amz-json-1.0');
  if (target.endsWith('.PutItem')) {
    tables.set(`${input.TableName}/${input.Item!.pk.S}`, input.Item);
    res.end('{}');
  } else if (target.endsWith('.GetItem')) {
    const item = tables.get(`${input.TableName}/${input.Key!.pk.S}`);
    res.end(JSON.stringify(item === undefined ? {} : { Item: item }));
  } else {
    res.statusCode = 400;
    res.end(JSON.stringify({ __type: 'com.amazon.coral.service#UnknownOperationException', message: target }));
  }
}

function s3(req: IncomingMessage, body: Buffer, res: ServerResponse): void {
  const key = decodeURIComponent(new URL(req.url!, 'http://x').pathname);
  if (req.method === 'PUT') {
    objects.set(key, { body, type: String(req.headers['content-type'] ?? 'application/octet-stream') });
    res.setHeader('etag', '"compat"');
    res.end();
  } else if (req.method === 'GET' && objects.has(key)) {
    const object = objects.get(key)!;
    res.writeHead(200, { 'content-type': object.type, 'content-length': object.body.length, etag: '"compat"' }).end(object.body);
  } else {
    res.writeHead(404, { 'content-type': 'application/xml' }).end('<Error><Code>NoSuchKey</Code><Message>none</Message></Error>');
  }
}

beforeAll(async () => {
  server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      const auth = String(req.headers.authorization ?? '');
      signatures.push(`${auth.match(/Credential=([^/]+)\/\d{8}\/([^/]+)\/([^/]+)\//)?.slice(1).join(' ') ?? 'unsigned'} ${String(req.headers['x-amz-security-token'] ?? '')}`);
      const body = Buffer.concat(chunks);
      if (req.headers['x-amz-target']) dynamo(req, body.toString(), res);
      else s3(req, decodeChunked(req, body), res);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  endpoint = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});

afterAll(() => new Promise<void>((resolve) => server.close(() => resolve())));

/** aws-chunked bodies (the SDK's streaming checksum form): the data of each chunk. */
function decodeChunked(req: IncomingMessage, body: Buffer): Buffer {
  if (!String(req.headers['content-encoding'] ?? '').includes('aws-chunked')) return body;
  const parts: Buffer[] = [];
  let at = 0;
  for (;;) {
    const eol = body.indexOf('\r\n', at);
    const size = parseInt(body.subarray(at, eol).toString().split(';')[0]!, 16);
    if (!size) break;
    parts.push(body.subarray(eol + 2, eol + 2 + size));
    at = eol + 2 + size + 2;
  }
  return Buffer.concat(parts);
}

function awsEnv(): Record<string, string> {
  return { AWS_ENDPOINT_URL_DYNAMODB: endpoint, AWS_ENDPOINT_URL_S3: endpoint };
}

/** What plain Node sees: the same variables Lambda would set, on a Node process of its own. */
function nodeEnv(): Record<string, string> {
  return {
    ...awsEnv(), AWS_REGION: 'us-east-1', AWS_ACCESS_KEY_ID: CREDENTIALS.accessKeyId, AWS_SECRET_ACCESS_KEY: CREDENTIALS.secretAccessKey,
    AWS_SESSION_TOKEN: CREDENTIALS.sessionToken,
  };
}

forEachEngine(({ withRuntime }) => {
  it('AWS SDK: DynamoDB client + lib-dynamodb PutItem then GetItem (at INIT and in the handler), signed with host-provided credentials, as in Node', () =>
    withRuntime(async ({ rt }) => {
      const expected = (await inNode(fixture('dynamodb.mjs'), { id: 'k1' }, nodeEnv())).result;
      signatures.length = 0;
      await rt.deploy({
        name: 'ddb', code: { entry: fixture('dynamodb.mjs') }, handler: 'dynamodb.handler', env: awsEnv(), timeoutMs: 10_000,
        credentials: CREDENTIALS, egress: { allowHosts: [`127.0.0.1:${new URL(endpoint).port}`] },
      });
      const result = await rt.invoke('ddb', { id: 'k1' });
      expect(result.functionError, JSON.stringify(result.payload)).toBeUndefined();
      expect(result.payload).toEqual(expected);
      expect(signatures.length).toBeGreaterThanOrEqual(4);
      expect(new Set(signatures)).toEqual(new Set(['AKIDCOMPATTEST us-east-1 dynamodb compat-session-token']));
    }));

  it('AWS SDK: S3 PutObject then GetObject with a streamed body (at INIT and in the handler), as in Node', () =>
    withRuntime(async ({ rt }) => {
      const event = { key: 'dir/hello.txt', text: 'héllo from lambdalet '.repeat(50) };
      const expected = (await inNode(fixture('s3.mjs'), event, nodeEnv())).result;
      signatures.length = 0;
      await rt.deploy({
        name: 's3', code: { entry: fixture('s3.mjs') }, handler: 's3.handler', env: awsEnv(), timeoutMs: 10_000,
        credentials: async () => CREDENTIALS, egress: { allowHosts: [`127.0.0.1:${new URL(endpoint).port}`] },
      });
      const result = await rt.invoke('s3', event);
      expect(result.functionError, JSON.stringify(result.payload)).toBeUndefined();
      expect(result.payload).toEqual(expected);
      expect(new Set(signatures)).toEqual(new Set(['AKIDCOMPATTEST us-east-1 s3 compat-session-token']));
    }));
});
