/**
 * Reserved concurrency is the function's, shared by `$LATEST` and every published version:
 * "Concurrency settings apply to the function as a whole, including all published versions and the
 * unpublished version" (PutFunctionConcurrency, Lambda API reference,
 * https://docs.aws.amazon.com/lambda/latest/api/API_PutFunctionConcurrency.html). Throttles carry
 * Lambda's Reason (TooManyRequestsException.Reason, botocore's lambda service model, quoted in
 * /work/shared/reference/lambda-compat.md).
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { createRuntime, InvalidParameterValueException, silentSink, TooManyRequestsException } from '../../src/index.ts';
import { taggedCode, withRt, type Tagged } from './helpers.ts';

async function throttled(promise: Promise<unknown>): Promise<TooManyRequestsException> {
  const error = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(TooManyRequestsException);
  return error as TooManyRequestsException;
}

describe('reserved concurrency across versions', () => {
  it('Reserved: one slot shared by $LATEST, a version and an alias — the second invoke anywhere is throttled with ReservedFunctionConcurrentInvocationLimitExceeded', async () => {
    await withRt(async (rt) => {
      await rt.deploy({ name: 'f', code: taggedCode('v1'), reservedConcurrency: 1 });
      await rt.publishVersion('f');
      await rt.createAlias('f', 'live', { functionVersion: '1' });
      // Admission is synchronous: the first invoke holds the function's one slot from here on.
      const running = rt.invoke('f:1', { waitMs: 50 });
      for (const name of ['f', 'f:1', 'f:live']) {
        const error = await throttled(rt.invoke(name));
        expect(error.reason, name).toBe('ReservedFunctionConcurrentInvocationLimitExceeded');
        expect(error.message).toBe('Rate Exceeded. Function f is at its reserved concurrency (1), shared by all its versions.');
      }
      expect(((await running).payload as Tagged).tag).toBe('v1');
      expect(((await rt.invoke('f:live')).payload as Tagged).functionVersion).toBe('1');
    });
  });

  it('PutFunctionConcurrency: at the unreserved minimum it is accepted, one over is refused with Lambda\'s message; bad counts name the field', async () => {
    await withRt(
      async (rt) => {
        await rt.deploy({ name: 'f', code: taggedCode('v1') });
        // concurrency 100 keeps ceil(100 × 0.1) = 10 unreserved, as Lambda keeps 100 of 1,000.
        const over = (() => {
          try {
            rt.putFunctionConcurrency('f', { reservedConcurrentExecutions: 91 });
          } catch (error) {
            return error;
          }
          return undefined;
        })();
        expect(over).toBeInstanceOf(InvalidParameterValueException);
        // Lambda's words (github.com/aws-samples/siem-on-amazon-opensearch-service/issues/175).
        expect((over as Error).message).toBe(
          "Specified ReservedConcurrentExecutions for function decreases account's UnreservedConcurrentExecution below its minimum value of [10].",
        );
        expect(rt.getFunctionConcurrency('f')).toEqual({});
        expect(rt.putFunctionConcurrency('f', { reservedConcurrentExecutions: 90 })).toEqual({ reservedConcurrentExecutions: 90 });
        expect(rt.metrics().unreservedConcurrency).toBe(10);
        for (const bad of [-1, 100_001, 1.5, '2']) {
          expect(() => rt.putFunctionConcurrency('f', { reservedConcurrentExecutions: bad as number }), String(bad)).toThrow(
            expect.objectContaining({ field: 'reservedConcurrentExecutions' }),
          );
        }
        rt.putFunctionConcurrency('f', { reservedConcurrentExecutions: 0 });
        expect((await throttled(rt.invoke('f'))).reason).toBe('ReservedFunctionConcurrentInvocationLimitExceeded');
        rt.deleteFunctionConcurrency('f');
        expect(rt.getFunctionConcurrency('f')).toEqual({});
        expect(rt.metrics().unreservedConcurrency).toBe(100);
        expect(() => rt.putFunctionConcurrency('nope', { reservedConcurrentExecutions: 1 })).toThrow('Function not found');
      },
      { concurrency: 100 },
    );
  });

  it('PutFunctionConcurrency: keeps warm environments, publishes nothing new, and survives a restart with dataDir', async () => {
    const dataDir = await mkdtemp(join(tmpdir(), 'lambdalet-concurrency-'));
    try {
      const first = await createRuntime({ logSink: silentSink, dataDir });
      await first.deploy({ name: 'f', code: taggedCode('v1') });
      const v1 = await first.publishVersion('f');
      expect((await first.invoke('f')).coldStart).toBe(true);
      first.putFunctionConcurrency('f', { reservedConcurrentExecutions: 3 });
      expect((await first.invoke('f')).coldStart).toBe(false);
      expect((await first.publishVersion('f')).version).toBe(v1.version);
      expect(first.metrics().functions.map((f) => [f.version, f.reservedConcurrency])).toEqual([
        ['$LATEST', 3],
        ['1', 3],
      ]);
      await first.close();
      const second = await createRuntime({ logSink: silentSink, dataDir });
      try {
        expect(second.getFunctionConcurrency('f')).toEqual({ reservedConcurrentExecutions: 3 });
        expect(second.metrics().functions.map((f) => f.reservedConcurrency)).toEqual([3, 3]);
      } finally {
        await second.close();
      }
    } finally {
      await rm(dataDir, { recursive: true, force: true });
    }
  });
});
