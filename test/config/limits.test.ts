import { describe, expect, it } from 'vitest';
import { InvalidParameterValueException } from '../../src/errors.ts';
import {
  CLIENT_CONTEXT_MAX_BYTES,
  DESCRIPTION_MAX_LENGTH,
  ENV_TOTAL_BYTES_MAX,
  FUNCTION_NAME_MAX_LENGTH,
  HANDLER_MAX_LENGTH,
  INIT_TIMEOUT_MS,
  LOG_TAIL_MAX_BYTES,
  MEMORY_MB_MAX,
  MEMORY_MB_MIN,
  parseFunctionConfig,
  parseInvokeOptions,
  parseRuntimeOptions,
  REQUEST_PAYLOAD_MAX_BYTES,
  RESERVED_ENV_KEYS,
  RESPONSE_PAYLOAD_MAX_BYTES,
  RUNTIMES,
  TIMEOUT_MS_MAX,
  TIMEOUT_MS_MIN,
} from '../../src/config/index.ts';

const code = { files: { 'index.mjs': 'export const handler = async () => 1;' } };
const deploy = (extra: Record<string, unknown>) => parseFunctionConfig({ name: 'fn', code, ...extra });

/** The field a config is rejected on, or undefined when it is accepted. */
function rejectedField(parse: () => unknown): string | undefined {
  try {
    parse();
    return undefined;
  } catch (error) {
    expect(error).toBeInstanceOf(InvalidParameterValueException);
    return (error as InvalidParameterValueException).field;
  }
}

describe('limit values', () => {
  it('are the ones Lambda documents', () => {
    expect([MEMORY_MB_MIN, MEMORY_MB_MAX]).toEqual([128, 10_240]);
    expect([TIMEOUT_MS_MIN, TIMEOUT_MS_MAX]).toEqual([1, 900_000]);
    expect(ENV_TOTAL_BYTES_MAX).toBe(4096);
    expect(FUNCTION_NAME_MAX_LENGTH).toBe(64);
    expect(HANDLER_MAX_LENGTH).toBe(128);
    expect(DESCRIPTION_MAX_LENGTH).toBe(256);
    expect(REQUEST_PAYLOAD_MAX_BYTES).toBe(6 * 1024 * 1024);
    expect(RESPONSE_PAYLOAD_MAX_BYTES).toBe(6 * 1024 * 1024 + 100);
    expect(LOG_TAIL_MAX_BYTES).toBe(4096);
    expect(INIT_TIMEOUT_MS).toBe(10_000);
    expect(CLIENT_CONTEXT_MAX_BYTES).toBe(3583);
    expect(RUNTIMES).toEqual(['nodejs22.x', 'nodejs24.x']);
    expect(RESERVED_ENV_KEYS.size).toBe(17);
  });
});

describe('memoryMb', () => {
  it.each([
    [127, 'memoryMb'],
    [128, undefined],
    [10_240, undefined],
    [10_241, 'memoryMb'],
    [128.5, 'memoryMb'],
    [Number.NaN, 'memoryMb'],
    [Number.POSITIVE_INFINITY, 'memoryMb'],
  ])('%s → rejected on %s', (memoryMb, field) => {
    expect(rejectedField(() => deploy({ memoryMb }))).toBe(field);
  });
});

describe('timeoutMs', () => {
  it.each([
    [0, 'timeoutMs'],
    [1, undefined],
    [900_000, undefined],
    [900_001, 'timeoutMs'],
    [1.5, 'timeoutMs'],
    [-1, 'timeoutMs'],
  ])('%s → rejected on %s', (timeoutMs, field) => {
    expect(rejectedField(() => deploy({ timeoutMs }))).toBe(field);
  });
});

describe('env total size (UTF-8 bytes of keys and values)', () => {
  // Key `A` is 1 byte, so the value makes up the rest of the total.
  it.each([
    ['4095 bytes', 'x'.repeat(4094), undefined],
    ['4096 bytes', 'x'.repeat(4095), undefined],
    ['4097 bytes', 'x'.repeat(4096), 'env'],
    // `é` is 2 bytes but 1 character: counting characters would let these through.
    ['4095 bytes of é', 'é'.repeat(2047), undefined],
    ['4096 bytes, é and x', `${'é'.repeat(2047)}x`, undefined],
    ['4097 bytes of é', 'é'.repeat(2048), 'env'],
    ['4097 bytes of emoji', `${'😀'.repeat(1023)}xxxx`, 'env'],
  ])('%s → rejected on %s', (_label, value, field) => {
    expect(rejectedField(() => deploy({ env: { A: value } }))).toBe(field);
  });

  it('counts keys as well as values, across every entry', () => {
    const env = { AB: 'x'.repeat(2046), CD: 'x'.repeat(2046) }; // 2 + 2046 + 2 + 2046 = 4096
    expect(rejectedField(() => deploy({ env }))).toBeUndefined();
    expect(rejectedField(() => deploy({ env: { ...env, E: '' } }))).toBe('env');
  });
});

describe('env keys', () => {
  it.each([
    ['A', undefined],
    ['my_Key_9', undefined],
    ['1BAD', 'env.1BAD'],
    ['_LEADING', 'env._LEADING'],
    ['HAS-DASH', 'env.HAS-DASH'],
    ['HAS.DOT', 'env.HAS.DOT'],
    ['', 'env.'],
  ])('%j → rejected on %s', (key, field) => {
    expect(rejectedField(() => deploy({ env: { [key]: 'v' } }))).toBe(field);
  });

  it.each([...RESERVED_ENV_KEYS])('reserved %s is rejected', (key) => {
    expect(rejectedField(() => deploy({ env: { [key]: 'v' } }))).toBe(`env.${key}`);
  });

  it('allows names that only resemble reserved ones (Lambda is case-sensitive)', () => {
    expect(rejectedField(() => deploy({ env: { aws_region: 'v', AWS_REGION_X: 'v', TZ: 'UTC' } }))).toBeUndefined();
  });
});

describe('name', () => {
  it.each([
    ['a'.repeat(64), undefined],
    ['a'.repeat(65), 'name'],
    ['', 'name'],
    ['My-func_9', undefined],
    ['bad name', 'name'],
    ['a:b', 'name'],
    ['a.b', 'name'],
    ['a@b', 'name'],
    ['héllo', 'name'],
    ['arn:aws:lambda:us-east-1:123456789012:function:f', 'name'],
  ])('%j → rejected on %s', (name, field) => {
    expect(rejectedField(() => parseFunctionConfig({ name, code }))).toBe(field);
  });
});

describe('handler', () => {
  it.each([
    ['x'.repeat(128), undefined],
    ['x'.repeat(129), 'handler'],
    ['', 'handler'],
    ['src/app.main', undefined],
    ['index handler', 'handler'],
    ['index.handler\n', 'handler'],
    ['\tindex.handler', 'handler'],
  ])('%j → rejected on %s', (handler, field) => {
    expect(rejectedField(() => deploy({ handler }))).toBe(field);
  });
});

describe('description', () => {
  it.each([
    ['', undefined],
    ['d'.repeat(256), undefined],
    ['d'.repeat(257), 'description'],
  ])('%#: length %s → rejected on %s', (description, field) => {
    expect(rejectedField(() => deploy({ description }))).toBe(field);
  });
});

describe('clientContext (bytes of its JSON)', () => {
  // `{"a":""}` is 8 bytes; the value fills the rest.
  const context = (bytes: number, char = 'x') => ({ a: char.repeat((bytes - 8) / Buffer.byteLength(char)) });

  it.each([
    [3582, 'x', undefined],
    [3583, 'x', undefined],
    [3584, 'x', 'clientContext'],
    [3584, 'é', 'clientContext'],
  ])('%s bytes of %s → rejected on %s', (bytes, char, field) => {
    const clientContext = context(bytes, char);
    expect(Buffer.byteLength(JSON.stringify(clientContext))).toBe(bytes);
    expect(rejectedField(() => parseInvokeOptions({ clientContext }))).toBe(field);
  });
});

describe('runtime options', () => {
  it.each([
    ['us-east-1', undefined],
    ['eu-central-2', undefined],
    ['us-gov-west-1', undefined],
    ['ap-southeast-10', 'region'],
    ['US-EAST-1', 'region'],
    ['us-east', 'region'],
  ])('region %j → rejected on %s', (region, field) => {
    expect(rejectedField(() => parseRuntimeOptions({ region }))).toBe(field);
  });

  it.each([
    ['123456789012', undefined],
    ['12345678901', 'accountId'],
    ['1234567890123', 'accountId'],
    ['12345678901a', 'accountId'],
  ])('accountId %j → rejected on %s', (accountId, field) => {
    expect(rejectedField(() => parseRuntimeOptions({ accountId }))).toBe(field);
  });
});
