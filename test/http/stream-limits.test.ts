/**
 * Streamed responses over HTTP at their limits, and the warning for an unauthenticated server on a
 * non-loopback address.
 * - Size: "response streaming functions can return payloads up to 200 MB"
 *   (https://docs.aws.amazon.com/lambda/latest/dg/configuration-response-streaming.html); the limit
 *   is injected (serve({ responseStream: { maxResponseBytes } })) for the at / under / over cases,
 *   and one real transfer of 64 MiB goes through a RESPONSE_STREAM function URL under the real one.
 * - Over the limit, InvokeWithResponseStream's InvokeComplete carries Function.ResponseSizeTooLarge
 *   (the error type Lambda's RAPID sets for an oversized stream: aws-lambda-runtime-interface-emulator
 *   internal/lambda/fatalerror/fatalerror.go FunctionOversizedResponse) and the bytes up to the
 *   limit are delivered.
 * - The warning: the rule (#18): a server listening elsewhere than loopback without `auth`
 *   warns (process warning LAMBDALET_UNAUTHENTICATED).
 */
import { createHash } from 'node:crypto';
import { request as httpRequest } from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createRuntime, silentSink, type Runtime } from '../../src/index.ts';
import { isLoopback } from '../../src/http/server.ts';
import { sdk } from '../helpers/lambda-sdk.ts';

const { InvokeWithResponseStreamCommand, LambdaClient } = sdk;
const MiB = 1024 * 1024;

let rt: Runtime;
beforeAll(async () => {
  rt = await createRuntime({ logSink: silentSink });
  // e.n bytes in writes of at most 1 MiB; byte i of the response is (i >> 20) & 0xff, so a test can
  // check every MiB arrived in order without holding the expected bytes.
  await rt.deploy({
    name: 'big',
    timeoutMs: 300_000,
    code: { files: { 'index.mjs': `export const handler = awslambda.streamifyResponse(async (e, s) => {
      const n = e.n ?? Number(e.queryStringParameters.n); // InvokeWithResponseStream's event, or a URL's
      for (let at = 0; at < n; ) {
        const size = Math.min(${MiB}, n - at);
        const ok = s.write(Buffer.alloc(size, (at >> 20) & 0xff));
        at += size;
        if (!ok) await new Promise((r) => s.once('drain', r));
      }
      s.end();
    });` } },
  });
});
afterAll(() => rt.close());

/** sha256 of what the handler writes for n bytes. */
function expectedHash(n: number): string {
  const hash = createHash('sha256');
  for (let at = 0; at < n; at += MiB) hash.update(Buffer.alloc(Math.min(MiB, n - at), (at >> 20) & 0xff));
  return hash.digest('hex');
}

function getStream(url: string): Promise<{ status: number; bytes: number; sha256: string; chunked: boolean }> {
  return new Promise((resolve, reject) => {
    httpRequest(url, (res) => {
      const hash = createHash('sha256');
      let bytes = 0;
      res.on('data', (chunk: Buffer) => {
        bytes += chunk.length;
        hash.update(chunk);
      });
      res.on('end', () => resolve({ status: res.statusCode!, bytes, sha256: hash.digest('hex'), chunked: res.headers['transfer-encoding'] === 'chunked' }));
      res.on('error', reject);
    })
      .on('error', reject)
      .end();
  });
}

describe('streamed responses over HTTP at their size limit', () => {
  it('a 64 MiB response through a RESPONSE_STREAM function URL arrives whole, in order, chunked (bandwidth cap off)', async () => {
    const server = await rt.serve({ port: 0, responseStream: { bandwidth: false } });
    try {
      const url = rt.createFunctionUrlConfig('big', { authType: 'NONE', invokeMode: 'RESPONSE_STREAM' });
      const n = 64 * MiB;
      const res = await getStream(`${url.functionUrl}?n=${n}`);
      expect(res).toEqual({ status: 200, bytes: n, sha256: expectedHash(n), chunked: true });
    } finally {
      rt.deleteFunctionUrlConfig('big');
      await server.close();
    }
  });

  it('limit injected at 3 MiB: under and at it complete; one byte over is cut at the limit with Function.ResponseSizeTooLarge (SDK and function URL)', async () => {
    const limit = 3 * MiB;
    const server = await rt.serve({ port: 0, responseStream: { maxResponseBytes: limit, bandwidth: false } });
    const lambda = new LambdaClient({ endpoint: server.url, region: 'us-east-1', credentials: { accessKeyId: 'AKIDTEST', secretAccessKey: 'secret' }, maxAttempts: 1 });
    try {
      for (const n of [limit - 1, limit, limit + 1]) {
        const out = await lambda.send(new InvokeWithResponseStreamCommand({ FunctionName: 'big', Payload: new TextEncoder().encode(JSON.stringify({ n })) }));
        let bytes = 0;
        let complete: { ErrorCode?: string; ErrorDetails?: string } | undefined;
        for await (const event of out.EventStream!) {
          if (event.PayloadChunk?.Payload) bytes += event.PayloadChunk.Payload.length;
          if (event.InvokeComplete) complete = event.InvokeComplete;
        }
        expect(out.StatusCode).toBe(200);
        expect(bytes, `n=${n}`).toBe(Math.min(n, limit));
        if (n <= limit) expect(complete?.ErrorCode, `n=${n}`).toBeUndefined();
        else expect(complete).toMatchObject({ ErrorCode: 'Function.ResponseSizeTooLarge', ErrorDetails: `Response payload size exceeded maximum allowed payload size (${limit} bytes).` });
      }
      const url = rt.createFunctionUrlConfig('big', { authType: 'NONE', invokeMode: 'RESPONSE_STREAM' });
      for (const n of [limit, limit + 1]) {
        const res = await getStream(`${url.functionUrl}?n=${n}`);
        expect(res.bytes, `n=${n}`).toBe(limit);
        expect(res.sha256).toBe(expectedHash(limit));
      }
    } finally {
      lambda.destroy();
      rt.deleteFunctionUrlConfig('big');
      await server.close();
    }
  });

  it('serve({ responseStream }) is checked: a limit over 200 MB or a bad bandwidth is InvalidParameterValueException naming the field', async () => {
    await expect(rt.serve({ port: 0, responseStream: { maxResponseBytes: 209_715_201 } })).rejects.toMatchObject({ name: 'InvalidParameterValueException', field: 'maxResponseBytes' });
    await expect(rt.serve({ port: 0, responseStream: { bandwidth: { bytesPerSecond: 1 } } })).rejects.toMatchObject({ name: 'InvalidParameterValueException', field: 'bandwidth.bytesPerSecond' });
    await expect(rt.serve({ port: 0, responseStream: { rate: 1 } as never })).rejects.toMatchObject({ name: 'InvalidParameterValueException', field: 'responseStream.rate' });
  });
});

describe('the non-loopback warning', () => {
  /** Serves with `options` and returns the LAMBDALET_UNAUTHENTICATED warnings emitted. */
  async function warningsFor(options: Parameters<Runtime['serve']>[0]): Promise<Error[]> {
    const seen: Error[] = [];
    const listener = (warning: Error & { code?: string }): void => void (warning.code === 'LAMBDALET_UNAUTHENTICATED' && seen.push(warning));
    process.on('warning', listener);
    const server = await rt.serve(options);
    try {
      // process.emitWarning emits on the next tick: after a macrotask it has been emitted or never will.
      await new Promise((resolve) => setImmediate(resolve));
    } finally {
      await server.close();
      process.off('warning', listener);
    }
    return seen;
  }

  it('0.0.0.0 without auth warns once, naming the address; with auth keys it does not; loopback never does', async () => {
    const open = await warningsFor({ port: 0, host: '0.0.0.0' });
    expect(open).toHaveLength(1);
    expect(open[0]!.message).toMatch(/^lambdalet is serving http:\/\/0\.0\.0\.0:\d+\/ on a non-loopback address without authentication: anyone who can reach it can deploy and run code\. Pass auth: \{ keys: \[\.\.\.\] \}\.$/);
    expect(await warningsFor({ port: 0, host: '0.0.0.0', auth: { keys: [{ accessKeyId: 'AKID', secretAccessKey: 'secret' }] } })).toHaveLength(0);
    expect(await warningsFor({ port: 0, host: '127.0.0.1' })).toHaveLength(0);
  });

  it('what counts as loopback: 127.0.0.0/8, ::1 and localhost; not 0.0.0.0, ::, other addresses or look-alike names', () => {
    for (const host of ['127.0.0.1', '127.0.0.0', '127.255.255.255', '::1', 'localhost']) expect(isLoopback(host), host).toBe(true);
    for (const host of ['0.0.0.0', '::', '128.0.0.1', '126.255.255.255', '10.0.0.1', '127.0.0.1.nip.io', 'localhost.example.com']) expect(isLoopback(host), host).toBe(false);
  });
});
