/**
 * DeleteLayerVersion over HTTP, driven by the REAL @aws-sdk/client-lambda: `DELETE
 * /2018-10-31/layers/{LayerName}/versions/{VersionNumber}` (the SDK's model, schemas_0.js) was
 * answered 405 "DELETE is not allowed". Lambda API reference, DeleteLayerVersion
 * (awsdocs/aws-lambda-developer-guide doc_source/API_DeleteLayerVersion.md): "HTTP/1.1 204" with an
 * empty body; "Deleted versions can no longer be viewed or added to functions. To avoid breaking
 * functions, a copy of the version remains in Lambda until no functions refer to it."; its only
 * errors are ServiceException and TooManyRequestsException, so a version that does not exist is
 * 204 too. A function naming a missing layer version is InvalidParameterValueException (LocalStack's
 * AWS-validated provider, `_validate_layers`).
 */
import { zipSync, strToU8 } from 'fflate';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createRuntime, silentSink, type LambdaletServer, type Runtime } from '../../src/index.ts';
import { sdk, sdkClient, sdkFailure as failure } from '../helpers/lambda-sdk.ts';

const {
  CreateFunctionCommand,
  DeleteLayerVersionCommand,
  GetLayerVersionByArnCommand,
  GetLayerVersionCommand,
  InvalidParameterValueException,
  InvokeCommand,
  ListLayersCommand,
  ListLayerVersionsCommand,
  PublishLayerVersionCommand,
  ResourceNotFoundException,
} = sdk;

const ROLE = 'arn:aws:iam::123456789012:role/test-role';
const LAYER = 'arn:aws:lambda:us-east-1:123456789012:layer:greeter';
const layerZip = (word: string): Uint8Array => zipSync({ 'nodejs/node_modules/greeter/index.js': strToU8(`exports.greet = (n) => '${word} ' + n;`) });
const code = zipSync({ 'index.mjs': strToU8("import { greet } from 'greeter'; export const handler = async () => greet('Ada');") });

let rt: Runtime;
let server: LambdaletServer;
let lambda: ReturnType<typeof sdkClient>;

beforeAll(async () => {
  rt = await createRuntime({ logSink: silentSink });
  server = await rt.serve({ port: 0 });
  lambda = sdkClient(server.url);
});
afterAll(async () => {
  lambda.destroy();
  await rt.close();
});

describe('DeleteLayerVersion', () => {
  it('204; the version is gone from GetLayerVersion, GetLayerVersionByArn, ListLayerVersions and ListLayers; CreateFunction naming it is InvalidParameterValueException; a function using it keeps working', async () => {
    await lambda.send(new PublishLayerVersionCommand({ LayerName: 'greeter', Content: { ZipFile: layerZip('hello') } }));
    await lambda.send(new PublishLayerVersionCommand({ LayerName: 'greeter', Content: { ZipFile: layerZip('hi') } }));
    await lambda.send(new CreateFunctionCommand({ FunctionName: 'uses', Role: ROLE, Runtime: 'nodejs22.x', Handler: 'index.handler', Code: { ZipFile: code }, Layers: [`${LAYER}:2`] }));

    const deleted = await lambda.send(new DeleteLayerVersionCommand({ LayerName: 'greeter', VersionNumber: 2 }));
    expect(deleted.$metadata.httpStatusCode).toBe(204);

    const get = await failure(lambda.send(new GetLayerVersionCommand({ LayerName: 'greeter', VersionNumber: 2 })));
    expect(get).toBeInstanceOf(ResourceNotFoundException);
    expect(get.$metadata.httpStatusCode).toBe(404);
    expect(await failure(lambda.send(new GetLayerVersionByArnCommand({ Arn: `${LAYER}:2` })))).toBeInstanceOf(ResourceNotFoundException);
    expect((await lambda.send(new ListLayerVersionsCommand({ LayerName: 'greeter' }))).LayerVersions?.map((v) => v.Version)).toEqual([1]);
    const listed = await lambda.send(new ListLayersCommand({}));
    expect(listed.Layers?.map((l) => [l.LayerName, l.LatestMatchingVersion?.Version])).toEqual([['greeter', 1]]);

    const create = await failure(lambda.send(new CreateFunctionCommand({ FunctionName: 'late', Role: ROLE, Runtime: 'nodejs22.x', Handler: 'index.handler', Code: { ZipFile: code }, Layers: [`${LAYER}:2`] })));
    expect(create).toBeInstanceOf(InvalidParameterValueException);
    expect(create.$metadata.httpStatusCode).toBe(400);
    expect(create.message).toBe(`Layer version ${LAYER}:2 does not exist.`);

    const out = await lambda.send(new InvokeCommand({ FunctionName: 'uses' }));
    expect(out.FunctionError).toBeUndefined();
    expect(new TextDecoder().decode(out.Payload)).toBe('"hi Ada"');
  });

  it('204 also for a version deleted already, one never published and a layer that does not exist; the layer may be named by its ARN; the last version deleted drops the layer from ListLayers', async () => {
    for (const input of [{ LayerName: 'greeter', VersionNumber: 2 }, { LayerName: 'greeter', VersionNumber: 99 }, { LayerName: 'ghost', VersionNumber: 1 }, { LayerName: 'greeter', VersionNumber: 0 }]) {
      expect((await lambda.send(new DeleteLayerVersionCommand(input))).$metadata.httpStatusCode).toBe(204);
    }
    expect((await lambda.send(new DeleteLayerVersionCommand({ LayerName: LAYER, VersionNumber: 1 }))).$metadata.httpStatusCode).toBe(204);
    expect((await lambda.send(new ListLayerVersionsCommand({ LayerName: 'greeter' }))).LayerVersions).toEqual([]);
    expect((await lambda.send(new ListLayersCommand({}))).Layers).toEqual([]);
    expect((await lambda.send(new PublishLayerVersionCommand({ LayerName: 'greeter', Content: { ZipFile: layerZip('hey') } }))).Version).toBe(3);
  });

  it('a LayerName outside the model\'s pattern and a VersionNumber that is not a number are ValidationException (400)', async () => {
    const bad = await fetch(`${server.url}2018-10-31/layers/bad%20name/versions/1`, { method: 'DELETE' });
    expect(bad.status).toBe(400);
    expect(bad.headers.get('x-amzn-errortype')).toBe('ValidationException');
    const nan = await fetch(`${server.url}2018-10-31/layers/greeter/versions/one`, { method: 'DELETE' });
    expect(nan.status).toBe(400);
    expect(nan.headers.get('x-amzn-errortype')).toBe('ValidationException');
    const longest = await fetch(`${server.url}2018-10-31/layers/${'x'.repeat(140)}/versions/1`, { method: 'DELETE' });
    expect(longest.status).toBe(204);
    const tooLong = await fetch(`${server.url}2018-10-31/layers/${'x'.repeat(141)}/versions/1`, { method: 'DELETE' });
    expect(tooLong.status).toBe(400);
  });
});
