/**
 * The Lambda API over HTTP, driven by the REAL @aws-sdk/client-lambda (unchanged, endpoint
 * override) against a loopback server: the SDK's own serialisers and deserialisers are the check
 * that paths, headers, status codes and error shapes are Lambda's. Sources for each rule: the
 * Lambda API reference (Invoke: X-Amz-Function-Error, X-Amz-Executed-Version, X-Amz-Log-Result,
 * 200/204; CreateFunction 201; errors' statuses) and the SDK's model (schemas_0.js).
 */
import { sdk } from '../helpers/lambda-sdk.ts';
import { SLOW_CASE_LIMIT_MS } from '../helpers/runtime.ts';

import { zipSync, strToU8 } from 'fflate';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createRuntime, type LambdaletServer, type Runtime } from '../../src/index.ts';

const {
  CreateAliasCommand,
  CreateFunctionCommand,
  DeleteAliasCommand,
  DeleteFunctionCommand,
  GetAliasCommand,
  GetFunctionCommand,
  GetFunctionConcurrencyCommand,
  GetLayerVersionCommand,
  InvalidRequestContentException,
  InvokeCommand,
  InvokeWithResponseStreamCommand,
  LambdaClient,
  ListAliasesCommand,
  ListFunctionsCommand,
  ListVersionsByFunctionCommand,
  PublishLayerVersionCommand,
  PublishVersionCommand,
  PutFunctionConcurrencyCommand,
  RequestTooLargeException,
  ResourceConflictException,
  ResourceNotFoundException,
  TooManyRequestsException,
  UpdateAliasCommand,
  UpdateFunctionCodeCommand,
  UpdateFunctionConfigurationCommand,
} = sdk;
type ResourceConflictException = InstanceType<typeof ResourceConflictException>;
type ResourceNotFoundException = InstanceType<typeof ResourceNotFoundException>;
type RequestTooLargeException = InstanceType<typeof RequestTooLargeException>;
type TooManyRequestsException = InstanceType<typeof TooManyRequestsException>;

const ROLE = 'arn:aws:iam::123456789012:role/test-role';
const zip = (source: string): Uint8Array => zipSync({ 'index.mjs': strToU8(source) });
const decoder = new TextDecoder();
const payloadOf = (bytes: Uint8Array | undefined): unknown => JSON.parse(decoder.decode(bytes));

const logLines: string[] = [];
let rt: Runtime;
let server: LambdaletServer;
let lambda: InstanceType<typeof LambdaClient>;

beforeAll(async () => {
  rt = await createRuntime({ logSink: { write: (line) => void logLines.push(line) } });
  // keepAliveTimeoutMs past any pause of this file: with Node's 5 s, a loaded machine's pause between
  // two calls could close the idle socket just as the SDK reused it (ECONNRESET; maxAttempts 1 here
  // surfaces every error, where the SDK's default would retry it). Keep-alive is not under test here.
  server = await rt.serve({ port: 0, keepAliveTimeoutMs: 120_000 });
  lambda = new LambdaClient({ endpoint: server.url, region: 'us-east-1', credentials: { accessKeyId: 'AKIDTEST', secretAccessKey: 'secret' }, maxAttempts: 1 });
});
afterAll(async () => {
  lambda.destroy();
  await rt.close();
});

describe('Lambda API through the AWS SDK', () => {
  it('serve: listens on loopback by default and reports its url', () => {
    expect(server.host).toBe('127.0.0.1');
    expect(server.url).toBe(`http://127.0.0.1:${server.port}/`);
  });

  it('CreateFunction from a ZipFile (201), GetFunction, ListFunctions', async () => {
    const created = await lambda.send(new CreateFunctionCommand({
      FunctionName: 'echo', Role: ROLE, Runtime: 'nodejs22.x', Handler: 'index.handler', MemorySize: 256, Timeout: 5,
      Environment: { Variables: { STAGE: 'test' } },
      Code: { ZipFile: zip("export const handler = async (e, ctx) => { console.log('got', JSON.stringify(e)); return { e, stage: process.env.STAGE, v: ctx.functionVersion }; };") },
    }));
    expect(created.$metadata.httpStatusCode).toBe(201);
    expect(created).toMatchObject({ FunctionName: 'echo', Role: ROLE, MemorySize: 256, Timeout: 5, Version: '$LATEST', Handler: 'index.handler', Runtime: 'nodejs22.x', State: 'Active' });
    expect(created.FunctionArn).toBe('arn:aws:lambda:us-east-1:123456789012:function:echo');
    expect(created.Environment?.Variables).toEqual({ STAGE: 'test' });
    // CodeSha256 is base64 of the zip's sha256, as Lambda reports it.
    expect(Buffer.from(created.CodeSha256!, 'base64')).toHaveLength(32);

    const got = await lambda.send(new GetFunctionCommand({ FunctionName: 'echo' }));
    expect(got.Configuration?.RevisionId).toBe(created.RevisionId);
    const listed = await lambda.send(new ListFunctionsCommand({}));
    expect(listed.Functions?.map((f) => f.FunctionName)).toContain('echo');
  });

  it('CreateFunction of an existing name is ResourceConflictException (409)', async () => {
    const error = await lambda.send(new CreateFunctionCommand({ FunctionName: 'echo', Role: ROLE, Runtime: 'nodejs22.x', Handler: 'index.handler', Code: { ZipFile: zip('export const handler = async () => 1;') } })).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ResourceConflictException);
    expect((error as ResourceConflictException).$metadata.httpStatusCode).toBe(409);
    expect((error as Error).message).toBe('Function already exist: echo');
  });

  it('Invoke RequestResponse with Tail: payload, X-Amz-Executed-Version, the log tail', async () => {
    const out = await lambda.send(new InvokeCommand({ FunctionName: 'echo', Payload: JSON.stringify({ a: 1 }), LogType: 'Tail' }));
    expect(out.StatusCode).toBe(200);
    expect(out.FunctionError).toBeUndefined();
    expect(out.ExecutedVersion).toBe('$LATEST');
    expect(payloadOf(out.Payload)).toEqual({ e: { a: 1 }, stage: 'test', v: '$LATEST' });
    const tail = Buffer.from(out.LogResult!, 'base64').toString('utf8');
    expect(tail).toMatch(/START RequestId: [0-9a-f-]+ Version: \$LATEST/);
    expect(tail).toContain('got {"a":1}');
    expect(tail).toMatch(/REPORT RequestId: /);
  });

  it('Invoke with no payload gives the handler {} (as Lambda does)', async () => {
    const out = await lambda.send(new InvokeCommand({ FunctionName: 'echo' }));
    expect(payloadOf(out.Payload)).toMatchObject({ e: {} });
  });

  it('Invoke DryRun is 204 and runs nothing; unknown function is ResourceNotFoundException (404)', async () => {
    const dry = await lambda.send(new InvokeCommand({ FunctionName: 'echo', InvocationType: 'DryRun' }));
    expect(dry.StatusCode).toBe(204);
    const error = await lambda.send(new InvokeCommand({ FunctionName: 'nope', InvocationType: 'DryRun' })).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ResourceNotFoundException);
    expect((error as Error).message).toBe('Function not found: arn:aws:lambda:us-east-1:123456789012:function:nope');
    expect((error as ResourceNotFoundException).$metadata.httpStatusCode).toBe(404);
  });

  it('Invoke Event is 202 with an empty body, and the event runs later (asynchronous invocation)', async () => {
    const out = await lambda.send(new InvokeCommand({ FunctionName: 'echo', InvocationType: 'Event', Payload: '{"queued":true}' }));
    expect(out.StatusCode).toBe(202);
    expect(out.Payload?.length ?? 0).toBe(0);
    // The function logs its event: wait for that line (the hang limit is vitest's).
    while (!logLines.some((l) => l.includes('got {"queued":true}'))) await new Promise((r) => setTimeout(r, 20));
  });

  it('a function error is 200 with X-Amz-Function-Error: Unhandled and Lambda\'s error payload', async () => {
    await lambda.send(new CreateFunctionCommand({ FunctionName: 'boom', Role: ROLE, Runtime: 'nodejs22.x', Handler: 'index.handler', Code: { ZipFile: zip("export const handler = async () => { throw new TypeError('bad input'); };") } }));
    const out = await lambda.send(new InvokeCommand({ FunctionName: 'boom', Payload: '{}' }));
    expect(out.StatusCode).toBe(200);
    expect(out.FunctionError).toBe('Unhandled');
    expect(payloadOf(out.Payload)).toMatchObject({ errorType: 'TypeError', errorMessage: 'bad input' });
  });

  it('malformed JSON payload is InvalidRequestContentException (400)', async () => {
    const error = await lambda.send(new InvokeCommand({ FunctionName: 'echo', Payload: strToU8('{not json') })).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(InvalidRequestContentException);
    expect((error as Error).message).toMatch(/^Could not parse request body into json: Could not parse payload into json: /);
  });

  it('the body reaches the handler as the event JSON.parse makes of it, passed through unparsed by the host (issue #15)', async () => {
    // Lambda's runtime API hands the runtime the request's bytes; the host only checks they are JSON
    // (src/invoke/json-text.ts). Spacing, newlines, escapes, number spellings, a repeated key and
    // __proto__ must all come out as JSON.parse of the body gives them.
    await lambda.send(new CreateFunctionCommand({ FunctionName: 'raw', Role: ROLE, Runtime: 'nodejs22.x', Handler: 'index.handler', MemorySize: 1024, Timeout: 60, Code: { ZipFile: zip('export const handler = async (e) => JSON.stringify([e, Object.getPrototypeOf(e) === Object.prototype]);') } }));
    const bodies = [
      '{\n  "a" : 1.50,\r\n\t"b": [ 1e2, -0, 0.1E-1, 12345678901234567890 ],\n  "a": "again",\n  "__proto__": { "x": 1 },\n  "s": "\\u00e9\\n\\/\\"\\ud83d\\ude00 é \\u2028"\n}\n',
      ' [ true , false , null , "" , {} , [] ] ',
      '"just a string"',
      '42',
    ];
    for (const body of bodies) {
      const out = await lambda.send(new InvokeCommand({ FunctionName: 'raw', Payload: strToU8(body) }));
      expect(out.FunctionError, new TextDecoder().decode(out.Payload)).toBeUndefined();
      expect(payloadOf(out.Payload)).toBe(JSON.stringify([JSON.parse(body), Object.getPrototypeOf(JSON.parse(body)) === Object.prototype]));
    }
    // A 5.5 MB object of 340,000 keys, the body that held the host's event loop 1.1-2.2 s when parsed and re-serialised here.
    const keys = JSON.stringify(Object.fromEntries(Array.from({ length: 340_000 }, (_, i) => [`k${i}`, i])));
    await lambda.send(new CreateFunctionCommand({ FunctionName: 'count', Role: ROLE, Runtime: 'nodejs22.x', Handler: 'index.handler', MemorySize: 1024, Timeout: 60, Code: { ZipFile: zip('export const handler = async (e) => Object.keys(e).length + e.k339999;') } }));
    expect(payloadOf((await lambda.send(new InvokeCommand({ FunctionName: 'count', Payload: strToU8(keys) }))).Payload)).toBe(340_000 + 339_999);
    // Not JSON (a trailing comma), with JSON.parse's own words, as before.
    const error = await lambda.send(new InvokeCommand({ FunctionName: 'raw', Payload: strToU8('{"a":1,}') })).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(InvalidRequestContentException);
    expect((error as Error).message).toBe(`Could not parse request body into json: Could not parse payload into json: ${(() => { try { JSON.parse('{"a":1,}'); return ''; } catch (e) { return (e as Error).message; } })()}`);
  }, SLOW_CASE_LIMIT_MS);

  it('a large response goes out as the text the function\'s runtime sent, not parsed and serialised again by the host (issue #15)', async () => {
    // Lambda returns the bytes the runtime posted. Text from the runtime client's own JSON.stringify
    // comes out the same either way, so the handler posts spaced JSON (a JSON.stringify of its own,
    // which the runtime client calls at response time) to tell the two apart: from 64 Ki characters
    // up the host no longer parses it (src/invoke/result.ts); below, the payload is serialised again.
    await lambda.send(new CreateFunctionCommand({ FunctionName: 'spaced', Role: ROLE, Runtime: 'nodejs22.x', Handler: 'index.handler', MemorySize: 512, Timeout: 60, Code: { ZipFile: zip(`const intrinsic = JSON.stringify;
      export const handler = async (e) => { JSON.stringify = (v) => intrinsic(v, null, 1); return { s: 'x'.repeat(e.n) }; };`) } }));
    const spaced = (n: number): string => JSON.stringify({ s: 'x'.repeat(n) }, null, 1);
    const large = 64 * 1024;
    const bodyOf = async (n: number): Promise<string> =>
      decoder.decode((await lambda.send(new InvokeCommand({ FunctionName: 'spaced', Payload: strToU8(JSON.stringify({ n })) }))).Payload);
    expect(spaced(large).length).toBeGreaterThan(large);
    expect(await bodyOf(large)).toBe(spaced(large));
    expect(await bodyOf(100)).toBe(JSON.stringify({ s: 'x'.repeat(100) }));
  }, SLOW_CASE_LIMIT_MS);

  it('an event nested 1,001 deep is InvalidRequestContentException before the host parses it; 1,000 deep is accepted (issue #15)', async () => {
    // Jackson's StreamReadConstraints default (src/invoke/json-depth.ts): the red team's 6 MB of nested
    // arrays held the host's event loop for 2,138 ms in JSON.parse.
    const nested = (depth: number): string => '['.repeat(depth) + ']'.repeat(depth);
    await lambda.send(new CreateFunctionCommand({ FunctionName: 'nest', Role: ROLE, Runtime: 'nodejs22.x', Handler: 'index.handler', Timeout: 60, Code: { ZipFile: zip('export const handler = async (e) => e;') } }));
    const accepted = await lambda.send(new InvokeCommand({ FunctionName: 'nest', Payload: strToU8(nested(1_000)) }));
    expect(accepted.FunctionError).toBeUndefined();
    expect(new TextDecoder().decode(accepted.Payload)).toBe(nested(1_000));
    for (const depth of [1_001, 3_000_000]) {
      const error = await lambda.send(new InvokeCommand({ FunctionName: 'nest', Payload: strToU8(nested(depth)) })).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(InvalidRequestContentException);
      expect((error as Error).message).toBe(
        'Could not parse request body into json: Could not parse payload into json: Document nesting depth (1001) exceeds the maximum allowed (1000, from `StreamReadConstraints.getMaxNestingDepth()`)',
      );
    }
  });

  it('Invoke payload limit 6291456 bytes: just under and at it accepted, one over RequestTooLargeException (413)', async () => {
    // A JSON string event of exactly n bytes: '"' + n-2 letters + '"'. The handler returns its length only.
    await lambda.send(new CreateFunctionCommand({ FunctionName: 'len', Role: ROLE, Runtime: 'nodejs22.x', Handler: 'index.handler', MemorySize: 1024, Code: { ZipFile: zip('export const handler = async (e) => e.length;') } }));
    const event = (bytes: number): string => `"${'a'.repeat(bytes - 2)}"`;
    for (const n of [6_291_455, 6_291_456]) {
      const out = await lambda.send(new InvokeCommand({ FunctionName: 'len', Payload: event(n) }));
      expect(payloadOf(out.Payload)).toBe(n - 2);
    }
    const error = await lambda.send(new InvokeCommand({ FunctionName: 'len', Payload: event(6_291_457) })).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(RequestTooLargeException);
    expect((error as Error).message).toBe('Request must be smaller than 6291456 bytes for the InvokeFunction operation');
    expect((error as RequestTooLargeException).$metadata.httpStatusCode).toBe(413);
  });

  it('PublishVersion (201), aliases with weights, Invoke through the alias, ListVersionsByFunction', async () => {
    const v1 = await lambda.send(new PublishVersionCommand({ FunctionName: 'echo', Description: 'first' }));
    expect(v1.$metadata.httpStatusCode).toBe(201);
    expect(v1.Version).toBe('1');
    const alias = await lambda.send(new CreateAliasCommand({ FunctionName: 'echo', Name: 'live', FunctionVersion: '1' }));
    expect(alias).toMatchObject({ Name: 'live', FunctionVersion: '1', AliasArn: 'arn:aws:lambda:us-east-1:123456789012:function:echo:live' });
    const out = await lambda.send(new InvokeCommand({ FunctionName: 'echo', Qualifier: 'live', Payload: '{"x":2}' }));
    expect(out.ExecutedVersion).toBe('1');
    expect(payloadOf(out.Payload)).toMatchObject({ v: '1' });
    const qualifiedName = await lambda.send(new InvokeCommand({ FunctionName: 'echo:live', Payload: '{}' }));
    expect(qualifiedName.ExecutedVersion).toBe('1');

    await lambda.send(new UpdateFunctionCodeCommand({ FunctionName: 'echo', ZipFile: zip("export const handler = async (e, ctx) => ({ second: true, v: ctx.functionVersion });") }));
    const v2 = await lambda.send(new PublishVersionCommand({ FunctionName: 'echo' }));
    expect(v2.Version).toBe('2');
    // All of the alias's traffic on the additional version: the pick is then certain.
    const updated = await lambda.send(new UpdateAliasCommand({ FunctionName: 'echo', Name: 'live', RoutingConfig: { AdditionalVersionWeights: { '2': 1 } } }));
    expect(updated.RoutingConfig?.AdditionalVersionWeights).toEqual({ '2': 1 });
    const routed = await lambda.send(new InvokeCommand({ FunctionName: 'echo', Qualifier: 'live' }));
    expect(routed.ExecutedVersion).toBe('2');
    expect(payloadOf(routed.Payload)).toEqual({ second: true, v: '2' });

    expect((await lambda.send(new GetAliasCommand({ FunctionName: 'echo', Name: 'live' }))).FunctionVersion).toBe('1');
    expect((await lambda.send(new ListAliasesCommand({ FunctionName: 'echo' }))).Aliases?.map((a) => a.Name)).toEqual(['live']);
    const versions = await lambda.send(new ListVersionsByFunctionCommand({ FunctionName: 'echo' }));
    expect(versions.Versions?.map((v) => v.Version)).toEqual(['$LATEST', '1', '2']);
    await lambda.send(new DeleteAliasCommand({ FunctionName: 'echo', Name: 'live' }));
    const gone = await lambda.send(new GetAliasCommand({ FunctionName: 'echo', Name: 'live' })).catch((e: unknown) => e);
    expect(gone).toBeInstanceOf(ResourceNotFoundException);
  });

  it('UpdateFunctionConfiguration changes the environment', async () => {
    const updated = await lambda.send(new UpdateFunctionConfigurationCommand({ FunctionName: 'boom', Environment: { Variables: { K: 'v' } }, Timeout: 7 }));
    expect(updated.Environment?.Variables).toEqual({ K: 'v' });
    expect(updated.Timeout).toBe(7);
  });

  it('PutFunctionConcurrency 0 throttles: TooManyRequestsException (429) with Lambda\'s Reason', async () => {
    await lambda.send(new CreateFunctionCommand({ FunctionName: 'capped', Role: ROLE, Runtime: 'nodejs22.x', Handler: 'index.handler', Code: { ZipFile: zip('export const handler = async () => 1;') } }));
    const put = await lambda.send(new PutFunctionConcurrencyCommand({ FunctionName: 'capped', ReservedConcurrentExecutions: 0 }));
    expect(put.ReservedConcurrentExecutions).toBe(0);
    expect((await lambda.send(new GetFunctionConcurrencyCommand({ FunctionName: 'capped' }))).ReservedConcurrentExecutions).toBe(0);
    const error = await lambda.send(new InvokeCommand({ FunctionName: 'capped' })).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(TooManyRequestsException);
    expect((error as TooManyRequestsException).Reason).toBe('ReservedFunctionConcurrentInvocationLimitExceeded');
    expect((error as TooManyRequestsException).$metadata.httpStatusCode).toBe(429);
  });

  it('PublishLayerVersion (201) and a function using the layer', async () => {
    const layer = await lambda.send(new PublishLayerVersionCommand({ LayerName: 'shared', Content: { ZipFile: zipSync({ 'nodejs/node_modules/greet/index.js': strToU8("module.exports = (n) => 'hi ' + n;") }) }, CompatibleRuntimes: ['nodejs22.x'] }));
    expect(layer.$metadata.httpStatusCode).toBe(201);
    expect(layer.Version).toBe(1);
    expect(layer.LayerVersionArn).toBe('arn:aws:lambda:us-east-1:123456789012:layer:shared:1');
    expect((await lambda.send(new GetLayerVersionCommand({ LayerName: 'shared', VersionNumber: 1 }))).LayerArn).toBe('arn:aws:lambda:us-east-1:123456789012:layer:shared');
    await lambda.send(new CreateFunctionCommand({ FunctionName: 'layered', Role: ROLE, Runtime: 'nodejs22.x', Handler: 'index.handler', Layers: [layer.LayerVersionArn!], Code: { ZipFile: zip("import greet from 'greet'; export const handler = async (e) => greet(e.name);") } }));
    const out = await lambda.send(new InvokeCommand({ FunctionName: 'layered', Payload: '{"name":"Ada"}' }));
    expect(payloadOf(out.Payload)).toBe('hi Ada');
  });

  it('InvokeWithResponseStream: PayloadChunk events as written, then InvokeComplete (the SDK decodes the event stream)', async () => {
    await lambda.send(new CreateFunctionCommand({ FunctionName: 'streamer', Role: ROLE, Runtime: 'nodejs22.x', Handler: 'index.handler', Code: { ZipFile: zip(`export const handler = awslambda.streamifyResponse(async (e, s) => {
      s.setContentType('text/plain');
      s.write('a;');
      await new Promise((r) => setTimeout(r, 5));
      s.write('b;');
      if (e.fail) throw new Error('mid-stream');
      s.end('c');
    });`) } }));
    const read = async (payload: string) => {
      const out = await lambda.send(new InvokeWithResponseStreamCommand({ FunctionName: 'streamer', Payload: payload, LogType: 'Tail' }));
      const chunks: string[] = [];
      let complete: Record<string, unknown> | undefined;
      for await (const ev of out.EventStream!) {
        if (ev.PayloadChunk) chunks.push(decoder.decode(ev.PayloadChunk.Payload));
        if (ev.InvokeComplete) complete = ev.InvokeComplete as Record<string, unknown>;
      }
      return { out, text: chunks.join(''), complete };
    };
    const ok = await read('{}');
    expect(ok.out.StatusCode).toBe(200);
    expect(ok.out.ExecutedVersion).toBe('$LATEST');
    expect(ok.out.ResponseStreamContentType).toBe('text/plain');
    expect(ok.text).toBe('a;b;c');
    expect(ok.complete?.ErrorCode).toBeUndefined();
    expect(Buffer.from(ok.complete!.LogResult as string, 'base64').toString()).toMatch(/REPORT RequestId/);
    const failed = await read('{"fail":true}');
    expect(failed.text).toBe('a;b;');
    expect(failed.complete).toMatchObject({ ErrorCode: 'Error', ErrorDetails: 'mid-stream' });
  });

  it('DeleteFunction (204), then GetFunction is ResourceNotFoundException', async () => {
    const deleted = await lambda.send(new DeleteFunctionCommand({ FunctionName: 'boom' }));
    expect(deleted.$metadata.httpStatusCode).toBe(204);
    const error = await lambda.send(new GetFunctionCommand({ FunctionName: 'boom' })).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ResourceNotFoundException);
  });
});
