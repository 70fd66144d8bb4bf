import { describe, expect, it } from 'vitest';
import { InvalidParameterValueException } from '../../src/errors.ts';
import {
  HOST_DEFAULTS,
  DEFAULT_INVOKE_OPTIONS,
  describeValue,
  ENGINE_PROCESSES_DEFAULT,
  ENGINE_THREADS_DEFAULT,
  parseFunctionConfig,
  parseInvokeOptions,
  parseRuntimeOptions,
} from '../../src/config/index.ts';

const code = { files: { 'index.mjs': 'export const handler = async () => 1;' } };
const deploy = (extra: Record<string, unknown>) => parseFunctionConfig({ name: 'fn', code, ...extra });

/** The `[field, message]` a parse fails with; fails the test if it does not throw. */
function failure(parse: () => unknown): [string, string] {
  try {
    parse();
  } catch (error) {
    expect(error).toBeInstanceOf(InvalidParameterValueException);
    const { field, message, code } = error as InvalidParameterValueException;
    expect(code).toBe('InvalidParameterValueException');
    return [field, message];
  }
  throw new Error('expected the parse to throw');
}

describe('function config messages', () => {
  it.each<[string, () => unknown, string, string]>([
    ['non-object', () => parseFunctionConfig(null), '', 'Expected the function config to be an object, got `null`'],
    ['array', () => parseFunctionConfig([]), '', 'Expected the function config to be an object, got an array of 0 items'],
    ['missing name', () => parseFunctionConfig({ code }), 'name', 'Expected `name` to match [a-zA-Z0-9-_]{1,64}, got `undefined`'],
    ['bad name', () => parseFunctionConfig({ name: 'bad name!', code }), 'name', 'Expected `name` to match [a-zA-Z0-9-_]{1,64}, got `bad name!` (string)'],
    ['timeout 0', () => deploy({ timeoutMs: 0 }), 'timeoutMs', 'Expected `timeoutMs` to be an integer from 1 to 900000, got `0` (number)'],
    ['timeout string', () => deploy({ timeoutMs: '3000' }), 'timeoutMs', 'Expected `timeoutMs` to be an integer from 1 to 900000, got `3000` (string)'],
    ['memory fraction', () => deploy({ memoryMb: 128.5 }), 'memoryMb', 'Expected `memoryMb` to be an integer from 128 to 10240, got `128.5` (number)'],
    ['memory NaN', () => deploy({ memoryMb: Number.NaN }), 'memoryMb', 'Expected `memoryMb` to be an integer from 128 to 10240, got `NaN` (number)'],
    ['memory over', () => deploy({ memoryMb: 10_241 }), 'memoryMb', 'Expected `memoryMb` to be an integer from 128 to 10240, got `10241` (number)'],
    ['handler', () => deploy({ handler: 'index handler' }), 'handler', 'Expected `handler` to be 1 to 128 characters with no whitespace, got `index handler` (string)'],
    ['handler empty', () => deploy({ handler: '' }), 'handler', 'Expected `handler` to be 1 to 128 characters with no whitespace, got an empty string'],
    ['description', () => deploy({ description: 'd'.repeat(257) }), 'description', `Expected \`description\` to be a string of at most 256 characters, got \`${'d'.repeat(40)}…\` (string, 257 characters)`],
    ['engine', () => deploy({ engine: 'wasmtime' }), 'engine', 'Expected `engine` to be one of `v8`, `quickjs`, `wasm`, got `wasmtime` (string)'],
    ['runtime', () => deploy({ runtime: 'nodejs20.x' }), 'runtime', 'Expected `runtime` to be one of `nodejs22.x`, `nodejs24.x`, got `nodejs20.x` (string)'],
    ['env total', () => deploy({ env: { A: 'x'.repeat(4096) } }), 'env', 'Expected `env` to total at most 4096 bytes (keys and values), got 4097 bytes'],
    ['env key', () => deploy({ env: { '1BAD': 'x' } }), 'env.1BAD', 'Expected `env` key to match ^[a-zA-Z]([a-zA-Z0-9_])*$, got `1BAD`'],
    ['env reserved', () => deploy({ env: { AWS_REGION: 'eu-west-1' } }), 'env.AWS_REGION', '`env.AWS_REGION` is reserved by the Lambda runtime and cannot be set'],
    ['env value', () => deploy({ env: { MY_KEY: 5 } }), 'env.MY_KEY', 'Expected `env.MY_KEY` to be a string, got `5` (number)'],
    ['env not object', () => deploy({ env: 'A=1' }), 'env', 'Expected `env` to be an object of string values, got `A=1` (string)'],
    ['env Map', () => deploy({ env: new Map() }), 'env', 'Expected `env` to be an object of string values, got an empty object'],
    ['code missing', () => parseFunctionConfig({ name: 'fn' }), 'code', 'Expected `code` to be exactly one of {files}, {dir}, {zip}, {entry} or {component}, got `undefined`'],
    ['code several', () => deploy({ code: { dir: '.', zip: 'f.zip' } }), 'code', 'Expected `code` to be exactly one of {files}, {dir}, {zip}, {entry} or {component}, got an object with keys `dir`, `zip`'],
    ['code unknown shape', () => deploy({ code: { s3Bucket: 'b' } }), 'code', 'Expected `code` to be exactly one of {files}, {dir}, {zip}, {entry} or {component}, got an object with keys `s3Bucket`'],
    ['code empty', () => deploy({ code: {} }), 'code', 'Expected `code` to be exactly one of {files}, {dir}, {zip}, {entry} or {component}, got an empty object'],
    ['code string', () => deploy({ code: './src' }), 'code', 'Expected `code` to be exactly one of {files}, {dir}, {zip}, {entry} or {component}, got `./src` (string)'],
    ['code.files', () => deploy({ code: { files: ['index.mjs'] } }), 'code.files', 'Expected `code.files` to be an object of file path → contents (string or Uint8Array), got an array of 1 item'],
    ['code.files entry', () => deploy({ code: { files: { 'index.mjs': 5 } } }), 'code.files.index.mjs', 'Expected `code.files.index.mjs` to be the file contents (string or Uint8Array), got `5` (number)'],
    ['code.dir', () => deploy({ code: { dir: '' } }), 'code.dir', 'Expected `code.dir` to be a directory path (a non-empty string), got an empty string'],
    ['code.entry', () => deploy({ code: { entry: 42 } }), 'code.entry', 'Expected `code.entry` to be a source file path (a non-empty string), got `42` (number)'],
    // An ArrayBuffer has no own keys, so it reads as an empty object: still clearly not bytes.
    ['code.zip', () => deploy({ code: { zip: new ArrayBuffer(4) } }), 'code.zip', 'Expected `code.zip` to be a path to a .zip file or its bytes (Uint8Array), got an empty object'],
    ['reserved negative', () => deploy({ reservedConcurrency: -1 }), 'reservedConcurrency', 'Expected `reservedConcurrency` to be an integer from 0 to 100000, got `-1` (number)'],
    ['reserved fraction', () => deploy({ reservedConcurrency: 0.5 }), 'reservedConcurrency', 'Expected `reservedConcurrency` to be an integer from 0 to 100000, got `0.5` (number)'],
    ['provisioned over', () => deploy({ provisionedConcurrency: 100_001 }), 'provisionedConcurrency', 'Expected `provisionedConcurrency` to be an integer from 0 to 100000, got `100001` (number)'],
    ['provisioned over reserved', () => deploy({ reservedConcurrency: 2, provisionedConcurrency: 3 }), 'provisionedConcurrency', 'Expected `provisionedConcurrency` to be at most `reservedConcurrency` (2), got `3` (number)'],
    ['ephemeral 0', () => deploy({ ephemeralStorageMb: 0 }), 'ephemeralStorageMb', 'Expected `ephemeralStorageMb` to be an integer from 1 to 10240, got `0` (number)'],
    ['ephemeral over', () => deploy({ ephemeralStorageMb: 10_241 }), 'ephemeralStorageMb', 'Expected `ephemeralStorageMb` to be an integer from 1 to 10240, got `10241` (number)'],
    ['ephemeral fraction', () => deploy({ ephemeralStorageMb: 1.5 }), 'ephemeralStorageMb', 'Expected `ephemeralStorageMb` to be an integer from 1 to 10240, got `1.5` (number)'],
    ['EphemeralStorage', () => deploy({ EphemeralStorage: { Size: 512 } }), 'EphemeralStorage', 'Unknown option `EphemeralStorage` in function config (did you mean `ephemeralStorageMb`?)'],
    ['tmpBackend', () => deploy({ tmpBackend: 'ssd' }), 'tmpBackend', 'Expected `tmpBackend` to be one of `memory`, `disk`, got `ssd` (string)'],
    ['egress', () => deploy({ egress: ['example.com'] }), 'egress', 'Expected `egress` to be an object like { allowHosts: [...] }, got an array of 1 item'],
    ['egress host', () => deploy({ egress: { allowHosts: ['https://example.com/'] } }), 'egress.allowHosts.0', 'Expected `egress.allowHosts.0` to be a host name (optionally `*.`-prefixed, with a :port) of at most 253 characters, got `https://example.com/` (string)'],
    ['egress fetch', () => deploy({ egress: { fetch: 'yes' } }), 'egress.fetch', 'Expected `egress.fetch` to be a fetch function, got `yes` (string)'],
    ['ReservedConcurrentExecutions', () => deploy({ ReservedConcurrentExecutions: 5 }), 'ReservedConcurrentExecutions', 'Unknown option `ReservedConcurrentExecutions` in function config (did you mean `reservedConcurrency`?)'],
  ])('%s', (_label, parse, field, message) => {
    expect(failure(parse)).toEqual([field, message]);
  });

  it.each([
    ['memorySize', 'memoryMb'],
    ['MemorySize', 'memoryMb'],
    ['timeout', 'timeoutMs'],
    ['Timeout', 'timeoutMs'],
    ['environment', 'env'],
    ['functionName', 'name'],
    ['Handler', 'handler'],
    ['Runtime', 'runtime'],
    ['MEMORYMB', 'memoryMb'],
  ])('unknown option %s suggests %s', (option, meant) => {
    expect(failure(() => deploy({ [option]: 1 }))).toEqual([
      option,
      `Unknown option \`${option}\` in function config (did you mean \`${meant}\`?)`,
    ]);
  });

  it('lists the known options when nothing looks meant', () => {
    expect(failure(() => deploy({ vpcConfig: [] }))).toEqual([
      'vpcConfig',
      'Unknown option `vpcConfig` in function config (known options: `name`, `code`, `handler`, `engine`, `runtime`, `memoryMb`, `timeoutMs`, `env`, `description`, `reservedConcurrency`, `provisionedConcurrency`, `ephemeralStorageMb`, `tmpBackend`, `egress`, `snapStart`, `layers`, `codeSigning`, `codeSignature`, `tenancy`, `deadLetterConfig`, `credentials`, `loggingConfig`)',
    ]);
    // Not Object.prototype.constructor's name mistaken for a rename.
    expect(failure(() => deploy({ constructor: 1 }))[1]).toMatch(/^Unknown option `constructor` in function config \(known options:/);
  });

  it('reports an unknown option before the required field it probably replaces', () => {
    expect(failure(() => parseFunctionConfig({ functionName: 'fn', code }))).toEqual([
      'functionName',
      'Unknown option `functionName` in function config (did you mean `name`?)',
    ]);
  });

  it('reports the first problem in field order', () => {
    expect(failure(() => parseFunctionConfig({ name: 'bad name', code, memoryMb: 1 }))[0]).toBe('name');
    expect(failure(() => deploy({ env: { GOOD: 'x', '1BAD': 'x', AWS_REGION: 'x' } }))[0]).toBe('env.1BAD');
  });
});

describe('runtime option messages', () => {
  it.each<[unknown, string, string]>([
    [null, '', 'Expected the runtime options to be an object, got `null`'],
    [{ region: 'mars' }, 'region', 'Expected `region` to match ^[a-z]{2}(-gov)?-[a-z]+-\\d$, got `mars` (string)'],
    [{ accountId: 123456789012 }, 'accountId', 'Expected `accountId` to match ^\\d{12}$, got `123456789012` (number)'],
    [{ logSink: {} }, 'logSink', 'Expected `logSink` to be an object with a write(line) function, got an empty object'],
    [{ logSink: { write: 'x' } }, 'logSink', 'Expected `logSink` to be an object with a write(line) function, got an object with keys `write`'],
    [{ logSink: () => {} }, 'logSink', 'Expected `logSink` to be an object with a write(line) function, got a function'],
    [{ logFormat: 'JSON' }, 'logFormat', 'Expected `logFormat` to be one of `Text`, got `JSON` (string)'],
    [{ Region: 'us-east-1' }, 'Region', 'Unknown option `Region` in runtime options (did you mean `region`?)'],
    [{ eventClock: { now: () => 0 } }, 'eventClock', 'Expected `eventClock` to be an object with now(), setTimeout() and clearTimeout() functions, got an object with keys `now`'],
    [{ eventQueue: {} }, 'eventQueue', 'Expected `eventQueue` to be an event queue backend with enqueue(), claim(), ack(), retry(), deadLetter(), listDue(), listDead(), count(), close(), got an empty object'],
    [{ port: 1 }, 'port', 'Unknown option `port` in runtime options (known options: `region`, `accountId`, `logSink`, `logFormat`, `dataDir`, `cluster`, `random`, `hooks`, `eventClock`, `eventQueue`, `quickjsIsolation`, `isolation`, `engineThreads`, `engineProcesses`, `quickjsThreadsMax`, `cpuHeavyNice`, `concurrency`, `memoryBudgetMb`, `idleTtlMs`, `scaleUpRate`, `scaleUpBurst`, `maxQueueLength`, `closeTimeoutMs`, `snapStartInitTimeoutMs`, `initTimeoutMs`, `restoreTimeoutMs`)'],
    [{ concurrency: 0 }, 'concurrency', 'Expected `concurrency` to be an integer from 1 to 100000, got `0` (number)'],
    [{ concurrency: 1.5 }, 'concurrency', 'Expected `concurrency` to be an integer from 1 to 100000, got `1.5` (number)'],
    [{ memoryBudgetMb: 64 }, 'memoryBudgetMb', 'Expected `memoryBudgetMb` to be an integer from 128 to 16777216, got `64` (number)'],
    [{ idleTtlMs: 0 }, 'idleTtlMs', 'Expected `idleTtlMs` to be an integer from 1 to 3600000, got `0` (number)'],
    [{ scaleUpRate: 0 }, 'scaleUpRate', 'Expected `scaleUpRate` to be an integer from 1 to 100000, got `0` (number)'],
    [{ scaleUpBurst: -1 }, 'scaleUpBurst', 'Expected `scaleUpBurst` to be an integer from 1 to 100000, got `-1` (number)'],
    [{ maxQueueLength: 100_001 }, 'maxQueueLength', 'Expected `maxQueueLength` to be an integer from 0 to 100000, got `100001` (number)'],
    [{ closeTimeoutMs: '1s' }, 'closeTimeoutMs', 'Expected `closeTimeoutMs` to be an integer from 0 to 900000, got `1s` (string)'],
    [{ ConcurrentExecutions: 10 }, 'ConcurrentExecutions', 'Unknown option `ConcurrentExecutions` in runtime options (did you mean `concurrency`?)'],
  ])('%j', (input, field, message) => {
    expect(failure(() => parseRuntimeOptions(input))).toEqual([field, message]);
  });
});

describe('invoke option messages', () => {
  const cyclic: Record<string, unknown> = {};
  cyclic.self = cyclic;

  it.each<[unknown, string, string]>([
    [null, '', 'Expected the invoke options to be an object, got `null`'],
    ['Tail', '', 'Expected the invoke options to be an object, got `Tail` (string)'],
    [{ logType: 'tail' }, 'logType', 'Expected `logType` to be one of `None`, `Tail`, got `tail` (string)'],
    [{ logType: 'Tail', extra: 1 }, 'extra', 'Unknown option `extra` in invoke options (known options: `logType`, `clientContext`, `identity`, `qualifier`, `waitForCapacityMs`, `tenantId`, `invocationType`)'],
    [{ waitForCapacityMs: -1 }, 'waitForCapacityMs', 'Expected `waitForCapacityMs` to be an integer from 0 to 900000, got `-1` (number)'],
    [{ waitForCapacityMs: 900_001 }, 'waitForCapacityMs', 'Expected `waitForCapacityMs` to be an integer from 0 to 900000, got `900001` (number)'],
    [{ LogType: 'Tail' }, 'LogType', 'Unknown option `LogType` in invoke options (did you mean `logType`?)'],
    [{ invocationType: 'event' }, 'invocationType', 'Expected `invocationType` to be one of `RequestResponse`, `Event`, `DryRun`, got `event` (string)'],
    [{ InvocationType: 'Event' }, 'InvocationType', 'Unknown option `InvocationType` in invoke options (did you mean `invocationType`?)'],
    [{ qualifier: 'bad!' }, 'qualifier', 'Expected `qualifier` to be a version or alias name of 1 to 128 characters from [a-zA-Z0-9$_-], got `bad!` (string)'],
    [{ qualifier: '' }, 'qualifier', 'Expected `qualifier` to be a version or alias name of 1 to 128 characters from [a-zA-Z0-9$_-], got an empty string'],
    [{ qualifier: 'q'.repeat(129) }, 'qualifier', 'Expected `qualifier` to be a version or alias name of 1 to 128 characters from [a-zA-Z0-9$_-], got `qqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqq…` (string, 129 characters)'],
    [{ clientContext: 'x' }, 'clientContext', 'Expected `clientContext` to be a plain object, got `x` (string)'],
    [{ clientContext: [] }, 'clientContext', 'Expected `clientContext` to be a plain object, got an array of 0 items'],
    [{ clientContext: { a: 'x'.repeat(3576) } }, 'clientContext', 'Expected `clientContext` to be at most 3583 bytes as JSON, got 3584 bytes'],
    [{ clientContext: { n: 1n } }, 'clientContext', 'Expected `clientContext` to be JSON-serializable: Do not know how to serialize a BigInt'],
    [{ identity: 'me' }, 'identity', 'Expected `identity` to be an object with string `cognitoIdentityId` and `cognitoIdentityPoolId`, got `me` (string)'],
    [{ identity: { cognitoIdentityId: 'a' } }, 'identity.cognitoIdentityPoolId', 'Expected `identity.cognitoIdentityPoolId` to be a string, got `undefined`'],
    [{ identity: { cognitoIdentityId: 'a', cognitoIdentityPoolId: 'b', sub: 'c' } }, 'identity.sub', 'Unknown option `identity.sub` in invoke options'],
  ])('%#: %s', (input, field, message) => {
    expect(failure(() => parseInvokeOptions(input))).toEqual([field, message]);
  });

  it('names a cyclic client context as not JSON-serializable', () => {
    const [field, message] = failure(() => parseInvokeOptions({ clientContext: cyclic }));
    expect(field).toBe('clientContext');
    expect(message).toMatch(/^Expected `clientContext` to be JSON-serializable: Converting circular structure to JSON/);
  });
});

describe('describeValue', () => {
  it.each<[unknown, string]>([
    [0, '`0` (number)'],
    [-1.5, '`-1.5` (number)'],
    [true, '`true` (boolean)'],
    [10n, '`10n` (bigint)'],
    [Symbol('s'), '`Symbol(s)` (symbol)'],
    [null, '`null`'],
    [undefined, '`undefined`'],
    ['', 'an empty string'],
    ['a\nb', '`a\\nb` (string)'],
    ['x'.repeat(40), `\`${'x'.repeat(40)}\` (string)`],
    ['x'.repeat(41), `\`${'x'.repeat(40)}…\` (string, 41 characters)`],
    // Cut on characters, never inside a surrogate pair.
    ['😀'.repeat(41), `\`${'😀'.repeat(40)}…\` (string, 41 characters)`],
    [[1, 2], 'an array of 2 items'],
    [new Uint8Array(3), 'a Uint8Array of 3 bytes'],
    [{}, 'an empty object'],
    [{ a: 1, b: 2 }, 'an object with keys `a`, `b`'],
    [{ a: 1, b: 2, c: 3, d: 4, e: 5, f: 6, g: 7 }, 'an object with keys `a`, `b`, `c`, `d`, `e` and 2 more'],
    [() => 1, 'a function'],
  ])('%#', (value, shown) => {
    expect(describeValue(value)).toBe(shown);
  });
});

describe('defaults', () => {
  it('fills every function config default and freezes the result', () => {
    const config = parseFunctionConfig({ name: 'fn', code });
    expect(config).toEqual({
      name: 'fn',
      code,
      handler: 'index.handler',
      engine: 'v8',
      runtime: 'nodejs22.x',
      memoryMb: 128,
      timeoutMs: 3000,
      env: {},
      provisionedConcurrency: 0,
      ephemeralStorageMb: 512,
      tmpBackend: 'memory',
      egress: { allowHosts: [] },
      snapStart: false,
      layers: [],
      loggingConfig: { logFormat: 'Text' },
    });
    expect('description' in config).toBe(false);
    expect('reservedConcurrency' in config).toBe(false);
    expect(Object.isFrozen(config)).toBe(true);
    expect(Object.isFrozen(config.env)).toBe(true);
    expect(Object.isFrozen(config.code)).toBe(true);
  });

  it('keeps given values and copies code and env, so later edits by the caller change nothing', () => {
    const files: Record<string, string> = { 'app.js': 'x' };
    const env: Record<string, string> = { STAGE: 'dev' };
    const config = parseFunctionConfig({
      name: 'fn',
      code: { files },
      handler: 'app.main',
      runtime: 'nodejs24.x',
      memoryMb: 512,
      timeoutMs: 100,
      env,
      description: 'd',
    });
    files['app.js'] = 'changed';
    env.STAGE = 'prod';
    expect(config).toMatchObject({ handler: 'app.main', runtime: 'nodejs24.x', memoryMb: 512, timeoutMs: 100, description: 'd' });
    expect(config.code).toEqual({ files: { 'app.js': 'x' } });
    expect(config.env).toEqual({ STAGE: 'dev' });
    expect(Object.isFrozen((config.code as { files: object }).files)).toBe(true);
  });

  it('accepts each code shape', () => {
    const bytes = new Uint8Array([80, 75]);
    expect(deploy({ code: { dir: './fn' } }).code).toEqual({ dir: './fn' });
    expect(deploy({ code: { zip: 'fn.zip' } }).code).toEqual({ zip: 'fn.zip' });
    expect((deploy({ code: { zip: bytes } }).code as { zip: Uint8Array }).zip).toBe(bytes);
    expect(deploy({ code: { entry: 'src/fn.ts' } }).code).toEqual({ entry: 'src/fn.ts' });
    expect(deploy({ code: { files: { 'a.js': bytes } } }).code).toEqual({ files: { 'a.js': bytes } });
  });

  it('fills runtime option defaults and keeps the caller’s log sink itself', () => {
    const defaults = {
      region: 'us-east-1',
      accountId: '123456789012',
      logFormat: 'Text',
      concurrency: HOST_DEFAULTS.concurrency,
      memoryBudgetMb: HOST_DEFAULTS.memoryBudgetMb,
      idleTtlMs: 300_000,
      scaleUpRate: HOST_DEFAULTS.scaleUpRate,
      scaleUpBurst: HOST_DEFAULTS.scaleUpRate,
      maxQueueLength: HOST_DEFAULTS.concurrency,
      closeTimeoutMs: 30_000,
      quickjsIsolation: 'instance',
      isolation: 'in-process',
      engineThreads: ENGINE_THREADS_DEFAULT,
      engineProcesses: ENGINE_PROCESSES_DEFAULT,
      cpuHeavyNice: 10,
      snapStartInitTimeoutMs: 130_000,
      initTimeoutMs: 10_000,
      restoreTimeoutMs: 10_000,
    };
    expect(parseRuntimeOptions()).toEqual(defaults);
    expect(parseRuntimeOptions({})).toEqual(defaults);
    // Defaults that follow another option follow the value given.
    expect(parseRuntimeOptions({ concurrency: 50, scaleUpRate: 7 })).toMatchObject({ maxQueueLength: 50, scaleUpBurst: 7 });
    expect(Object.isFrozen(parseRuntimeOptions())).toBe(true);
    class Sink {
      lines: string[] = [];
      write(line: string): void {
        this.lines.push(line);
      }
    }
    const sink = new Sink();
    const options = parseRuntimeOptions({ logSink: sink, region: 'eu-west-1' });
    expect(options.logSink).toBe(sink);
    options.logSink?.write('hello', { functionName: 'f', logStreamName: 's' });
    expect(sink.lines).toEqual(['hello']);
    expect(options.region).toBe('eu-west-1');
  });

  it('returns the frozen default invoke options for undefined and for the common shapes', () => {
    expect(parseInvokeOptions()).toBe(DEFAULT_INVOKE_OPTIONS);
    expect(parseInvokeOptions(undefined)).toBe(DEFAULT_INVOKE_OPTIONS);
    expect(DEFAULT_INVOKE_OPTIONS).toEqual({ logType: 'None' });
    expect(Object.isFrozen(DEFAULT_INVOKE_OPTIONS)).toBe(true);
    expect(parseInvokeOptions({})).toBe(DEFAULT_INVOKE_OPTIONS);
    expect(parseInvokeOptions({ logType: 'None', qualifier: '$LATEST' })).toEqual({ logType: 'None', qualifier: '$LATEST' });
    expect(parseInvokeOptions({ qualifier: 'q'.repeat(128) })).toEqual({ logType: 'None', qualifier: 'q'.repeat(128) });
    const tail = parseInvokeOptions({ logType: 'Tail' });
    expect(tail).toEqual({ logType: 'Tail' });
    expect(Object.isFrozen(tail)).toBe(true);
    expect(parseInvokeOptions({ logType: 'Tail' })).toBe(tail);
  });

  it('does not let the fast path accept what the schema rejects', () => {
    expect(parseInvokeOptions({ logType: undefined })).toBe(DEFAULT_INVOKE_OPTIONS);
    expect(parseInvokeOptions({ logType: 'Tail', qualifier: undefined })).toEqual({ logType: 'Tail' });
    expect(failure(() => parseInvokeOptions({ qualifier: 'x:y' }))[0]).toBe('qualifier');
    expect(failure(() => parseInvokeOptions({ logType: null }))[0]).toBe('logType');
    expect(failure(() => parseInvokeOptions({ qualifier: null }))[0]).toBe('qualifier');
  });

  it('parses the full invoke options', () => {
    const clientContext = { client: { app_title: 'x' } };
    const identity = { cognitoIdentityId: 'id', cognitoIdentityPoolId: 'pool' };
    const options = parseInvokeOptions({ logType: 'Tail', clientContext, identity });
    expect(options).toEqual({ logType: 'Tail', clientContext, identity });
    expect(Object.isFrozen(options)).toBe(true);
    expect(Object.isFrozen(options.identity)).toBe(true);
  });
});

describe('quickjsIsolation', () => {
  it('accepts instance and shared, names the allowed values otherwise', () => {
    expect(parseRuntimeOptions({ quickjsIsolation: 'shared' }).quickjsIsolation).toBe('shared');
    expect(() => parseRuntimeOptions({ quickjsIsolation: 'pooled' })).toThrow(
      'Expected `quickjsIsolation` to be one of `instance`, `shared`, got `pooled` (string)',
    );
  });
});
