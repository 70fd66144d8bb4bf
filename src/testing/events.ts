/**
 * Event factories for the common Lambda triggers. Each returns a new event shaped exactly like the
 * one AWS delivers (field for field, as in AWS's sample events and @types/aws-lambda), with the
 * values of a plain, realistic request; pass a deep partial to change any part of it:
 *
 *   sqsEvent({ Records: [{ body: '{"id":1}' }, { body: '{"id":2}' }] })   // two complete records
 *   httpApiEvent({ rawPath: '/orders', requestContext: { http: { method: 'POST' } }, body: '{}' })
 *
 * Objects merge; arrays and other values replace; arrays of records merge item by item with the
 * sample record, so a partial record is a complete one. An own key set to `undefined` removes it.
 * A few derived fields follow what you set unless you set them too: the request path and method
 * inside `requestContext`, `multiValue*` ⇄ headers and query parameters (REST; last value wins), `rawQueryString`
 * ⇄ `queryStringParameters` (HTTP API, Function URL), `md5OfBody` (SQS), the bucket ARN (S3), and
 * per-record ids (records after the first get their own `messageId`, `eventID`, sequence number).
 *
 * Region and account match `createRuntime()`'s defaults: us-east-1, 123456789012.
 */
import { Buffer } from 'node:buffer';
import { createHash } from 'node:crypto';
import type {
  APIGatewayProxyEvent,
  APIGatewayProxyEventV2,
  DynamoDBStreamEvent,
  EventBridgeEvent,
  KinesisStreamEvent,
  LambdaFunctionURLEvent,
  S3Event,
  ScheduledEvent,
  SNSEvent,
  SQSEvent,
} from 'aws-lambda';
import { deepMerge, overrides, type DeepPartial } from './merge.ts';

export type { DeepPartial } from './merge.ts';

const REGION = 'us-east-1';
const ACCOUNT = '123456789012';
/** A fixed instant, so events are deterministic: 2024-01-15T12:00:00.000Z. */
const EPOCH_MS = 1_705_320_000_000;
const ISO_TIME = new Date(EPOCH_MS).toISOString();
const USER_AGENT = 'Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0 Safari/537.36';

/** Text (or any JSON value) as base64, for Kinesis `data` and base64 HTTP bodies. */
export function base64(value: string | Uint8Array | object): string {
  if (typeof value === 'string') return Buffer.from(value, 'utf8').toString('base64');
  if (value instanceof Uint8Array) return Buffer.from(value).toString('base64');
  return Buffer.from(JSON.stringify(value), 'utf8').toString('base64');
}

// ---- API Gateway REST API (payload format 1.0) ------------------------------------------------

const REST_HEADERS = {
  Accept: 'text/html,application/xhtml+xml,application/xml;q=0.9,image/webp,*/*;q=0.8',
  'Accept-Encoding': 'gzip, deflate, br',
  'Accept-Language': 'en-US,en;q=0.9',
  'CloudFront-Forwarded-Proto': 'https',
  'CloudFront-Is-Desktop-Viewer': 'true',
  'CloudFront-Is-Mobile-Viewer': 'false',
  'CloudFront-Is-SmartTV-Viewer': 'false',
  'CloudFront-Is-Tablet-Viewer': 'false',
  'CloudFront-Viewer-Country': 'US',
  Host: '1234567890.execute-api.us-east-1.amazonaws.com',
  'User-Agent': USER_AGENT,
  Via: '2.0 0d1fd9b8c0a1e2b3c4d5e6f7a8b9c0d1.cloudfront.net (CloudFront)',
  'X-Amz-Cf-Id': 'cDehVQoZnx43VYQb9j2-nvCh-9z396Uhbp027Y2JvkCPNLmGJHqlaA==',
  'X-Amzn-Trace-Id': 'Root=1-65a51e40-1234567890abcdef01234567',
  'X-Forwarded-For': '198.51.100.7, 130.176.0.1',
  'X-Forwarded-Port': '443',
  'X-Forwarded-Proto': 'https',
};

const REST_EVENT: APIGatewayProxyEvent = {
  resource: '/',
  path: '/',
  httpMethod: 'GET',
  headers: REST_HEADERS,
  multiValueHeaders: multiValue(REST_HEADERS),
  queryStringParameters: null,
  multiValueQueryStringParameters: null,
  pathParameters: null,
  stageVariables: null,
  requestContext: {
    resourceId: 'a1b2c3',
    resourcePath: '/',
    httpMethod: 'GET',
    extendedRequestId: 'RTgw6FAKEoEFQ7A=',
    requestTime: '15/Jan/2024:12:00:00 +0000',
    path: '/prod/',
    accountId: ACCOUNT,
    protocol: 'HTTP/1.1',
    stage: 'prod',
    domainPrefix: '1234567890',
    requestTimeEpoch: EPOCH_MS,
    requestId: 'c6af9ac6-7b61-11e6-9a41-93e8deadbeef',
    identity: {
      cognitoIdentityPoolId: null,
      accountId: null,
      cognitoIdentityId: null,
      caller: null,
      apiKey: null,
      apiKeyId: null,
      clientCert: null,
      principalOrgId: null,
      sourceIp: '198.51.100.7',
      cognitoAuthenticationType: null,
      cognitoAuthenticationProvider: null,
      userArn: null,
      userAgent: USER_AGENT,
      user: null,
      accessKey: null,
    },
    domainName: '1234567890.execute-api.us-east-1.amazonaws.com',
    apiId: '1234567890',
    authorizer: undefined,
  },
  body: null,
  isBase64Encoded: false,
};

/**
 * An API Gateway REST API proxy event (payload format 1.0, `APIGatewayProxyEvent`): `GET /` on
 * stage `prod`, no body. `requestContext.httpMethod`/`path` follow `httpMethod`/`path`. API Gateway
 * always fills both the single- and the multi-value maps, so this does too: `multiValueHeaders` /
 * `multiValueQueryStringParameters` follow `headers` / `queryStringParameters`, and values you give
 * only in a multi-value map fill the single-value one with their LAST value (as API Gateway does:
 * `?q=1&q=2` is `queryStringParameters.q === '2'`, `multiValueQueryStringParameters.q` `['1', '2']`).
 */
export function apiGatewayRestEvent(override: DeepPartial<APIGatewayProxyEvent> = {}): APIGatewayProxyEvent {
  const event = deepMerge(REST_EVENT, override);
  if (!overrides(override, 'requestContext', 'httpMethod')) event.requestContext.httpMethod = event.httpMethod;
  if (!overrides(override, 'requestContext', 'path')) event.requestContext.path = `/${event.requestContext.stage}${event.path}`;
  if (!overrides(override, 'requestContext', 'resourcePath')) event.requestContext.resourcePath = event.resource;
  if (overrides(override, 'multiValueHeaders')) {
    event.headers = fillSingle(event.headers, event.multiValueHeaders, override.headers) ?? {};
  } else {
    event.multiValueHeaders = multiValue(event.headers);
  }
  if (overrides(override, 'multiValueQueryStringParameters')) {
    event.queryStringParameters = fillSingle(event.queryStringParameters, event.multiValueQueryStringParameters, override.queryStringParameters);
  } else {
    event.multiValueQueryStringParameters = event.queryStringParameters === null ? null : multiValue(event.queryStringParameters);
  }
  return event;
}

/**
 * The single-value map for a given multi-value one: each name's last value, unless the single-value
 * map was given that name too. Null stays null when there are no multi values.
 */
function fillSingle(
  single: Record<string, string | undefined> | null,
  multi: Record<string, string[] | undefined> | null,
  givenSingle: unknown,
): Record<string, string | undefined> | null {
  if (multi === null) return single;
  const result: Record<string, string | undefined> = { ...(single ?? {}) };
  for (const [name, values] of Object.entries(multi)) {
    if (values === undefined || values.length === 0 || overrides(givenSingle, name)) continue;
    result[name] = values[values.length - 1];
  }
  return Object.keys(result).length === 0 && single === null ? null : result;
}

// ---- HTTP API and Function URLs (payload format 2.0) ------------------------------------------

const HTTP_API_EVENT: APIGatewayProxyEventV2 = {
  version: '2.0',
  routeKey: '$default',
  rawPath: '/',
  rawQueryString: '',
  headers: {
    accept: 'application/json',
    'accept-encoding': 'gzip, deflate, br',
    'content-length': '0',
    host: 'r3pmxmplak.execute-api.us-east-1.amazonaws.com',
    'user-agent': USER_AGENT,
    'x-amzn-trace-id': 'Root=1-65a51e40-1234567890abcdef01234567',
    'x-forwarded-for': '198.51.100.7',
    'x-forwarded-port': '443',
    'x-forwarded-proto': 'https',
  },
  requestContext: {
    accountId: ACCOUNT,
    apiId: 'r3pmxmplak',
    domainName: 'r3pmxmplak.execute-api.us-east-1.amazonaws.com',
    domainPrefix: 'r3pmxmplak',
    http: { method: 'GET', path: '/', protocol: 'HTTP/1.1', sourceIp: '198.51.100.7', userAgent: USER_AGENT },
    requestId: 'JKJaXmPLvHcESHA=',
    routeKey: '$default',
    stage: '$default',
    time: '15/Jan/2024:12:00:00 +0000',
    timeEpoch: EPOCH_MS,
  },
  isBase64Encoded: false,
};

const FUNCTION_URL_ID = 'a1b2c3d4e5f6g7h8i9j0k1l2m3n4o5p6';

const FUNCTION_URL_EVENT: LambdaFunctionURLEvent = {
  version: '2.0',
  routeKey: '$default',
  rawPath: '/',
  rawQueryString: '',
  headers: {
    accept: 'application/json',
    'accept-encoding': 'gzip, deflate, br',
    host: `${FUNCTION_URL_ID}.lambda-url.${REGION}.on.aws`,
    'user-agent': USER_AGENT,
    'x-amzn-tls-cipher-suite': 'TLS_AES_128_GCM_SHA256',
    'x-amzn-tls-version': 'TLSv1.3',
    'x-amzn-trace-id': 'Root=1-65a51e40-1234567890abcdef01234567',
    'x-forwarded-for': '198.51.100.7',
    'x-forwarded-port': '443',
    'x-forwarded-proto': 'https',
  },
  requestContext: {
    accountId: 'anonymous',
    apiId: FUNCTION_URL_ID,
    domainName: `${FUNCTION_URL_ID}.lambda-url.${REGION}.on.aws`,
    domainPrefix: FUNCTION_URL_ID,
    http: { method: 'GET', path: '/', protocol: 'HTTP/1.1', sourceIp: '198.51.100.7', userAgent: USER_AGENT },
    requestId: '5b1b1d7e-7b0a-4a1f-9f5e-3c1a2b3c4d5e',
    routeKey: '$default',
    stage: '$default',
    time: '15/Jan/2024:12:00:00 +0000',
    timeEpoch: EPOCH_MS,
  },
  isBase64Encoded: false,
};

/**
 * An API Gateway HTTP API event (payload format 2.0, `APIGatewayProxyEventV2`): `GET /` on the
 * `$default` route and stage, no body. Payload 2.0 has no `multiValue*` fields; `body`, `cookies`
 * and `queryStringParameters` are absent when empty, as AWS sends them.
 */
export function httpApiEvent(override: DeepPartial<APIGatewayProxyEventV2> = {}): APIGatewayProxyEventV2 {
  return finishV2(deepMerge(HTTP_API_EVENT, override), override);
}

/**
 * A Lambda Function URL event (payload format 2.0, `LambdaFunctionURLEvent`): `GET /`, account
 * `anonymous` (auth type NONE), with the `x-amzn-tls-*` and `x-forwarded-*` headers Function
 * URLs add.
 */
export function functionUrlEvent(override: DeepPartial<LambdaFunctionURLEvent> = {}): LambdaFunctionURLEvent {
  return finishV2(deepMerge(FUNCTION_URL_EVENT, override), override);
}

function finishV2<E extends APIGatewayProxyEventV2>(event: E, override: DeepPartial<E>): E {
  // A request with a body says its length (the default event's '0' is a GET's): serverless-http and
  // Express's body parsers refuse a body whose length does not match ("request size did not match
  // content length"). A content-length given in the override is kept as given.
  if (typeof event.body === 'string' && !overrides(override, 'headers', 'content-length')) {
    const bytes = event.isBase64Encoded ? Buffer.from(event.body, 'base64').length : Buffer.byteLength(event.body);
    event.headers['content-length'] = String(bytes);
  }
  const http = event.requestContext.http;
  if (!overrides(override, 'requestContext', 'http', 'path')) http.path = event.rawPath;
  if (overrides(override, 'queryStringParameters') && !overrides(override, 'rawQueryString')) {
    event.rawQueryString = new URLSearchParams(
      Object.entries(event.queryStringParameters ?? {}).flatMap(([key, value]) =>
        (value ?? '').split(',').map((part): [string, string] => [key, part]),
      ),
    ).toString();
  } else if (overrides(override, 'rawQueryString') && !overrides(override, 'queryStringParameters')) {
    // Repeated names are comma-joined in format 2.0.
    const params: Record<string, string> = {};
    for (const [key, value] of new URLSearchParams(event.rawQueryString)) {
      params[key] = params[key] === undefined ? value : `${params[key]},${value}`;
    }
    if (Object.keys(params).length > 0) event.queryStringParameters = params;
    else delete event.queryStringParameters;
  }
  return event;
}

// ---- SQS ---------------------------------------------------------------------------------------

const SQS_EVENT: SQSEvent = {
  Records: [
    {
      messageId: '059f36b4-87a3-44ab-83d2-661975830a7d',
      receiptHandle: 'AQEBwJnKyrHigUMZj6rYigCgxlaS3SLy0a/SgyeY2wwwC1GXKxGBVh8gKlHjd/a1vu5oD5/GN2C9bgsV+sT/P0N1fxIqV0BbT8jwYiLNSXdl',
      body: 'Test message.',
      attributes: {
        ApproximateReceiveCount: '1',
        SentTimestamp: String(EPOCH_MS),
        SenderId: 'AIDAIENQZJOLO23YVJ4VO',
        ApproximateFirstReceiveTimestamp: String(EPOCH_MS + 2),
      },
      messageAttributes: {},
      md5OfBody: md5('Test message.'),
      eventSource: 'aws:sqs',
      eventSourceARN: `arn:aws:sqs:${REGION}:${ACCOUNT}:my-queue`,
      awsRegion: REGION,
    },
  ],
};

/**
 * An SQS event (`SQSEvent`) with one record. `md5OfBody` follows `body`; records after the first
 * get their own `messageId` (the `itemIdentifier` of a partial batch response).
 */
export function sqsEvent(override: DeepPartial<SQSEvent> = {}): SQSEvent {
  const event = deepMerge(SQS_EVENT, override);
  event.Records.forEach((record, i) => {
    const given = override.Records?.[i];
    if (!overrides(given, 'md5OfBody')) record.md5OfBody = md5(record.body);
    if (!overrides(given, 'messageId')) record.messageId = nthId(record.messageId, i);
  });
  return event;
}

// ---- SNS ---------------------------------------------------------------------------------------

const SNS_TOPIC = `arn:aws:sns:${REGION}:${ACCOUNT}:sns-lambda`;

const SNS_EVENT: SNSEvent = {
  Records: [
    {
      EventVersion: '1.0',
      EventSubscriptionArn: `${SNS_TOPIC}:21be56ed-a058-49f5-8c98-aedd2564c486`,
      EventSource: 'aws:sns',
      Sns: {
        SignatureVersion: '1',
        Timestamp: ISO_TIME,
        Signature: 'tcc6faL2yUC6dgZdmrwh1Y4cGa/ebXEkAi6RibDsvpi+tE/1+82j...65r==',
        SigningCertUrl: `https://sns.${REGION}.amazonaws.com/SimpleNotificationService-ac565b8b1a6c5d002d285f9598aa1d9b.pem`,
        MessageId: '95df01b4-ee98-5cb9-9903-4c221d41eb5e',
        Message: 'Hello from SNS!',
        MessageAttributes: {},
        Type: 'Notification',
        UnsubscribeUrl: `https://sns.${REGION}.amazonaws.com/?Action=Unsubscribe&SubscriptionArn=${SNS_TOPIC}:21be56ed-a058-49f5-8c98-aedd2564c486`,
        TopicArn: SNS_TOPIC,
        Subject: 'TestInvoke',
      },
    },
  ],
};

/** An SNS event (`SNSEvent`) with one notification; later records get their own `MessageId`. */
export function snsEvent(override: DeepPartial<SNSEvent> = {}): SNSEvent {
  const event = deepMerge(SNS_EVENT, override);
  event.Records.forEach((record, i) => {
    if (!overrides(override.Records?.[i], 'Sns', 'MessageId')) record.Sns.MessageId = nthId(record.Sns.MessageId, i);
  });
  return event;
}

// ---- S3 ----------------------------------------------------------------------------------------

const S3_EVENT: S3Event = {
  Records: [
    {
      eventVersion: '2.1',
      eventSource: 'aws:s3',
      awsRegion: REGION,
      eventTime: ISO_TIME,
      eventName: 'ObjectCreated:Put',
      userIdentity: { principalId: 'AWS:AIDAINPONIXQXHT3IKHL2' },
      requestParameters: { sourceIPAddress: '198.51.100.7' },
      responseElements: {
        'x-amz-request-id': 'D82B88E5F771F645',
        'x-amz-id-2': 'vlR7PnpV2Ce81l0PRw6jlUpck7Jo5ZsQjryTjKlc5aLWGVHPZLj5NeC6qMa0emYBDXOo6QBU0Wo=',
      },
      s3: {
        s3SchemaVersion: '1.0',
        configurationId: '828aa6fc-f7b5-4305-8584-487c791949c1',
        bucket: {
          name: 'example-bucket',
          ownerIdentity: { principalId: 'A3I5XTEXAMAI3E' },
          arn: 'arn:aws:s3:::example-bucket',
        },
        object: { key: 'test%2Fkey', size: 1024, eTag: '0123456789abcdef0123456789abcdef', sequencer: '0A1B2C3D4E5F678901' },
      },
    },
  ],
};

/**
 * An S3 event notification (`S3Event`): one `ObjectCreated:Put`. Object keys are URL-encoded as
 * S3 sends them (`test%2Fkey`); the bucket ARN follows the bucket name.
 */
export function s3Event(override: DeepPartial<S3Event> = {}): S3Event {
  const event = deepMerge(S3_EVENT, override);
  event.Records.forEach((record, i) => {
    if (!overrides(override.Records?.[i], 's3', 'bucket', 'arn')) record.s3.bucket.arn = `arn:aws:s3:::${record.s3.bucket.name}`;
  });
  return event;
}

// ---- EventBridge and scheduled events ----------------------------------------------------------

const EVENTBRIDGE_EVENT: EventBridgeEvent<string, unknown> = {
  version: '0',
  id: '6a7e8feb-b491-4cf7-a9f1-bf3703467718',
  'detail-type': 'EC2 Instance State-change Notification',
  source: 'aws.ec2',
  account: ACCOUNT,
  time: ISO_TIME.replace('.000Z', 'Z'),
  region: REGION,
  resources: [`arn:aws:ec2:${REGION}:${ACCOUNT}:instance/i-1234567890abcdef0`],
  detail: { 'instance-id': 'i-1234567890abcdef0', state: 'terminated' },
};

/** `detail` is the event's own payload: taken whole, never merged with the sample's. */
const DETAIL: ReadonlySet<string> = new Set(['detail']);

/**
 * An EventBridge event (`EventBridgeEvent`): AWS's EC2 state-change sample unless you give your
 * own `source`, `detail-type` and `detail` (which replaces the sample's rather than merging).
 */
export function eventBridgeEvent<TDetailType extends string = string, TDetail = unknown>(
  override: DeepPartial<EventBridgeEvent<TDetailType, TDetail>> = {},
): EventBridgeEvent<TDetailType, TDetail> {
  return deepMerge(EVENTBRIDGE_EVENT as EventBridgeEvent<TDetailType, TDetail>, override, DETAIL);
}

const SCHEDULED_EVENT: ScheduledEvent<Record<string, never>> = {
  version: '0',
  account: ACCOUNT,
  region: REGION,
  detail: {},
  'detail-type': 'Scheduled Event',
  source: 'aws.events',
  time: ISO_TIME.replace('.000Z', 'Z'),
  id: 'cdc73f9d-aea9-11e3-9d5a-835b769c0d9c',
  resources: [`arn:aws:events:${REGION}:${ACCOUNT}:rule/my-schedule`],
};

/** A scheduled event (`ScheduledEvent`) from an EventBridge rule `my-schedule`; `detail` is `{}`. */
export function scheduledEvent<TDetail = Record<string, never>>(override: DeepPartial<ScheduledEvent<TDetail>> = {}): ScheduledEvent<TDetail> {
  return deepMerge(SCHEDULED_EVENT as ScheduledEvent<TDetail>, override, DETAIL);
}

// ---- DynamoDB Streams --------------------------------------------------------------------------

const DYNAMODB_EVENT: DynamoDBStreamEvent = {
  Records: [
    {
      eventID: 'c4ca4238a0b923820dcc509a6f75849b',
      eventName: 'INSERT',
      eventVersion: '1.1',
      eventSource: 'aws:dynamodb',
      awsRegion: REGION,
      dynamodb: {
        ApproximateCreationDateTime: EPOCH_MS / 1000,
        Keys: { Id: { N: '101' } },
        NewImage: { Message: { S: 'New item!' }, Id: { N: '101' } },
        SequenceNumber: '4421584500000000017450439091',
        SizeBytes: 26,
        StreamViewType: 'NEW_AND_OLD_IMAGES',
      },
      eventSourceARN: `arn:aws:dynamodb:${REGION}:${ACCOUNT}:table/ExampleTableWithStream/stream/2024-01-15T12:00:00.000`,
    },
  ],
};

/** Attribute maps are items: a given `Keys`, `NewImage` or `OldImage` replaces the sample's. */
const IMAGES: ReadonlySet<string> = new Set(['Keys', 'NewImage', 'OldImage']);

/**
 * A DynamoDB Streams event (`DynamoDBStreamEvent`) with one `INSERT`. Records after the first get
 * their own `eventID` and `SequenceNumber`; `Keys`/`NewImage`/`OldImage` replace, not merge.
 */
export function dynamoDbStreamEvent(override: DeepPartial<DynamoDBStreamEvent> = {}): DynamoDBStreamEvent {
  const event = deepMerge(DYNAMODB_EVENT, override, IMAGES);
  event.Records.forEach((record, i) => {
    const given = override.Records?.[i];
    if (record.eventID !== undefined && !overrides(given, 'eventID')) record.eventID = nthId(record.eventID, i);
    const stream = record.dynamodb;
    if (stream?.SequenceNumber !== undefined && !overrides(given, 'dynamodb', 'SequenceNumber')) {
      stream.SequenceNumber = nthNumber(stream.SequenceNumber, i);
    }
  });
  return event;
}

// ---- Kinesis -----------------------------------------------------------------------------------

const KINESIS_SEQUENCE = '49590338271490256608559692538361571095921575989136588898';

const KINESIS_EVENT: KinesisStreamEvent = {
  Records: [
    {
      kinesis: {
        kinesisSchemaVersion: '1.0',
        partitionKey: '1',
        sequenceNumber: KINESIS_SEQUENCE,
        data: base64('Hello, this is a test.'),
        approximateArrivalTimestamp: EPOCH_MS / 1000,
      },
      eventSource: 'aws:kinesis',
      eventVersion: '1.0',
      eventID: `shardId-000000000006:${KINESIS_SEQUENCE}`,
      eventName: 'aws:kinesis:record',
      invokeIdentityArn: `arn:aws:iam::${ACCOUNT}:role/lambda-role`,
      awsRegion: REGION,
      eventSourceARN: `arn:aws:kinesis:${REGION}:${ACCOUNT}:stream/lambda-stream`,
    },
  ],
};

/**
 * A Kinesis Data Streams event (`KinesisStreamEvent`) with one record. `kinesis.data` is base64,
 * as Kinesis delivers it: use `base64('text')` or `base64({ any: 'json' })`. Records after the
 * first get their own `sequenceNumber`, and `eventID` follows it.
 */
export function kinesisStreamEvent(override: DeepPartial<KinesisStreamEvent> = {}): KinesisStreamEvent {
  const event = deepMerge(KINESIS_EVENT, override);
  event.Records.forEach((record, i) => {
    const given = override.Records?.[i];
    if (!overrides(given, 'kinesis', 'sequenceNumber')) record.kinesis.sequenceNumber = nthNumber(record.kinesis.sequenceNumber, i);
    if (!overrides(given, 'eventID')) record.eventID = `shardId-000000000006:${record.kinesis.sequenceNumber}`;
  });
  return event;
}

// ---- helpers -----------------------------------------------------------------------------------

function multiValue(single: Readonly<Record<string, string | undefined>>): Record<string, string[]> {
  const result: Record<string, string[]> = {};
  for (const [key, value] of Object.entries(single)) if (value !== undefined) result[key] = [value];
  return result;
}

function md5(text: string): string {
  return createHash('md5').update(text, 'utf8').digest('hex');
}

/** The i-th of a family of ids: the id itself for 0, otherwise its last 8 characters replaced by i in hex. */
function nthId(id: string, i: number): string {
  return i === 0 ? id : id.slice(0, -8) + i.toString(16).padStart(8, '0');
}

/** The i-th of a series of decimal sequence numbers (BigInt: they exceed 2^53). */
function nthNumber(sequence: string, i: number): string {
  return i === 0 || !/^\d+$/.test(sequence) ? sequence : (BigInt(sequence) + BigInt(i)).toString();
}
