/**
 * Create/Get/List/Update/DeleteEventSourceMapping over HTTP, driven by the REAL
 * @aws-sdk/client-lambda (its serialisers and deserialisers check paths, statuses and shapes):
 * paths and statuses from the SDK's model (POST /2015-03-31/event-source-mappings 202, GET .../{UUID}
 * 200, PUT 202, DELETE 202, GET list 200), fields from the API reference's
 * EventSourceMappingConfiguration. Ranges and messages are src/async's (tested there); here they
 * must reach the SDK as Lambda's errors.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createRuntime, type LambdaletServer, type Runtime } from '../../src/index.ts';
import { sdk } from '../helpers/lambda-sdk.ts';

const {
  CreateEventSourceMappingCommand,
  DeleteEventSourceMappingCommand,
  GetEventSourceMappingCommand,
  InvalidParameterValueException,
  LambdaClient,
  ListEventSourceMappingsCommand,
  ResourceNotFoundException,
  UpdateEventSourceMappingCommand,
} = sdk;

let rt: Runtime;
let server: LambdaletServer;
let lambda: InstanceType<typeof LambdaClient>;
const seen: unknown[] = [];

beforeAll(async () => {
  rt = await createRuntime({ logSink: { write: (line) => void (line.includes('"Records"') && seen.push(line)) } });
  await rt.deploy({ name: 'consumer', code: { files: { 'index.mjs': "export const handler = async (e) => { console.log(JSON.stringify(e)); return {}; };" } } });
  server = await rt.serve({ port: 0 });
  lambda = new LambdaClient({ endpoint: server.url, region: 'us-east-1', credentials: { accessKeyId: 'AKIDTEST', secretAccessKey: 'secret' }, maxAttempts: 1 });
});
afterAll(async () => {
  lambda.destroy();
  await rt.close();
});

describe('event source mappings through the AWS SDK', () => {
  it('create (202) → the queue feeds the function; get (200); update (202); list with filters and pages; delete (202, State Deleting) → 404', async () => {
    const queue = rt.createQueue('jobs');
    const created = await lambda.send(new CreateEventSourceMappingCommand({ EventSourceArn: queue.queueArn, FunctionName: 'consumer', BatchSize: 5 }));
    expect(created.$metadata.httpStatusCode).toBe(202);
    expect(created).toMatchObject({ EventSourceArn: queue.queueArn, FunctionArn: 'arn:aws:lambda:us-east-1:123456789012:function:consumer', BatchSize: 5, MaximumBatchingWindowInSeconds: 0, State: 'Enabled' });
    expect(created.UUID).toMatch(/^[0-9a-f-]{36}$/);
    expect(created.LastModified).toBeInstanceOf(Date); // epoch seconds on the wire, a Date in the SDK

    // The mapping made over HTTP is the runtime's own: a message reaches the function.
    await rt.sendMessage('jobs', 'over-http');
    await rt.eventsIdle();
    expect(seen.some((line) => String(line).includes('over-http'))).toBe(true);

    const got = await lambda.send(new GetEventSourceMappingCommand({ UUID: created.UUID }));
    expect(got.$metadata.httpStatusCode).toBe(200);
    expect(got).toMatchObject({ UUID: created.UUID, BatchSize: 5 });

    const updated = await lambda.send(new UpdateEventSourceMappingCommand({ UUID: created.UUID, Enabled: false, BatchSize: 11, MaximumBatchingWindowInSeconds: 1 }));
    expect(updated.$metadata.httpStatusCode).toBe(202);
    expect(updated).toMatchObject({ State: 'Disabled', BatchSize: 11, MaximumBatchingWindowInSeconds: 1 });

    const other = rt.createQueue('other');
    const second = await lambda.send(new CreateEventSourceMappingCommand({ EventSourceArn: other.queueArn, FunctionName: 'consumer' }));
    const all = await lambda.send(new ListEventSourceMappingsCommand({}));
    expect(all.EventSourceMappings?.map((m) => m.UUID).sort()).toEqual([created.UUID, second.UUID].sort());
    const bySource = await lambda.send(new ListEventSourceMappingsCommand({ EventSourceArn: other.queueArn }));
    expect(bySource.EventSourceMappings?.map((m) => m.UUID)).toEqual([second.UUID]);
    const page1 = await lambda.send(new ListEventSourceMappingsCommand({ FunctionName: 'consumer', MaxItems: 1 }));
    expect(page1.EventSourceMappings).toHaveLength(1);
    expect(page1.NextMarker).toBeDefined();
    const page2 = await lambda.send(new ListEventSourceMappingsCommand({ FunctionName: 'consumer', MaxItems: 1, Marker: page1.NextMarker }));
    expect(page2.EventSourceMappings).toHaveLength(1);
    expect(page2.EventSourceMappings![0]!.UUID).not.toBe(page1.EventSourceMappings![0]!.UUID);
    expect(page2.NextMarker).toBeUndefined();

    const deleted = await lambda.send(new DeleteEventSourceMappingCommand({ UUID: created.UUID }));
    expect(deleted.$metadata.httpStatusCode).toBe(202);
    expect(deleted).toMatchObject({ UUID: created.UUID, State: 'Deleting' });
    await expect(lambda.send(new GetEventSourceMappingCommand({ UUID: created.UUID }))).rejects.toBeInstanceOf(ResourceNotFoundException);
    await lambda.send(new DeleteEventSourceMappingCommand({ UUID: second.UUID }));
  });

  it('a stream source takes the stream settings (DestinationConfig.OnFailure, retries, bisect) both ways', async () => {
    const stream = rt.createStream('clicks', { shardCount: 1 });
    const dlq = rt.createQueue('clicks-dlq');
    const created = await lambda.send(new CreateEventSourceMappingCommand({
      EventSourceArn: stream.streamArn, FunctionName: 'consumer', StartingPosition: 'LATEST', BisectBatchOnFunctionError: true, MaximumRetryAttempts: 2,
      MaximumRecordAgeInSeconds: 60, ParallelizationFactor: 10, DestinationConfig: { OnFailure: { Destination: dlq.queueArn } },
    }));
    expect(created).toMatchObject({ BatchSize: 100, StartingPosition: 'LATEST', BisectBatchOnFunctionError: true, MaximumRetryAttempts: 2, MaximumRecordAgeInSeconds: 60, ParallelizationFactor: 10, DestinationConfig: { OnFailure: { Destination: dlq.queueArn } } });
    await lambda.send(new DeleteEventSourceMappingCommand({ UUID: created.UUID }));
    // AT_TIMESTAMP: the SDK sends a Date as epoch seconds and reads it back as a Date.
    const at = new Date(Math.floor(Date.now() / 1000) * 1000 - 60_000);
    const timed = await lambda.send(new CreateEventSourceMappingCommand({ EventSourceArn: stream.streamArn, FunctionName: 'consumer', StartingPosition: 'AT_TIMESTAMP', StartingPositionTimestamp: at }));
    expect(timed).toMatchObject({ StartingPosition: 'AT_TIMESTAMP', StartingPositionTimestamp: at });
    await lambda.send(new DeleteEventSourceMappingCommand({ UUID: timed.UUID }));
  });

  it("bad input reaches the SDK as Lambda's errors: out-of-range values (400 InvalidParameterValueException, at and past the bound), unknown source or UUID (404), settings lambdalet has not (400 naming the field)", async () => {
    const queue = rt.createQueue('checked');
    const create = (extra: Record<string, unknown>) => lambda.send(new CreateEventSourceMappingCommand({ EventSourceArn: queue.queueArn, FunctionName: 'consumer', ...extra }));
    // Lambda's batch-size rule for SQS (API reference, CreateEventSourceMapping): 10 without a window, 11 needs one.
    const ten = await create({ BatchSize: 10 });
    await lambda.send(new DeleteEventSourceMappingCommand({ UUID: ten.UUID }));
    const eleven = await create({ BatchSize: 11 }).catch((e: unknown) => e);
    expect(eleven).toBeInstanceOf(InvalidParameterValueException);
    expect((eleven as Error).message).toBe('Maximum batch window in seconds must be greater than 0 if maximum batch size is greater than 10');
    expect(await create({ BatchSize: 0 }).catch((e: unknown) => e)).toBeInstanceOf(InvalidParameterValueException);
    await expect(lambda.send(new CreateEventSourceMappingCommand({ EventSourceArn: `${queue.queueArn}-nope`, FunctionName: 'consumer' }))).rejects.toBeInstanceOf(ResourceNotFoundException);
    await expect(lambda.send(new GetEventSourceMappingCommand({ UUID: '00000000-0000-0000-0000-000000000000' }))).rejects.toBeInstanceOf(ResourceNotFoundException);
    const filter = await create({ FilterCriteria: { Filters: [{ Pattern: '{}' }] } }).catch((e: unknown) => e);
    expect(filter).toBeInstanceOf(InvalidParameterValueException);
    expect((filter as Error).message).toBe('FilterCriteria is not supported by lambdalet: lambdalet queues and streams have no such setting');
    const tags = await create({ Tags: { team: 'a' } }).catch((e: unknown) => e);
    expect((tags as Error).message).toBe('Tags is not supported by lambdalet: lambdalet queues and streams have no such setting');
    expect(rt.listEventSourceMappings({ eventSourceArn: queue.queueArn })).toEqual([]);
  });
});
