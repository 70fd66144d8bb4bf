import { describe, expect, it } from 'vitest';
import { InvalidParameterValueException, RuntimeClosedError, TooManyRequestsException } from '../../src/errors.ts';
import { FakeEnv, pool, reasonOf, report, setup, take, type TestLease } from './helpers.ts';

describe('Dispatcher: account concurrency', () => {
  it('Account limit: admits up to `concurrency` across functions, then throttles with ConcurrentInvocationLimitExceeded', () => {
    const { d } = setup({ concurrency: 10 });
    const a = pool(d, 'a');
    const b = pool(d, 'b');
    for (let i = 0; i < 5; i++) take(d, a);
    for (let i = 0; i < 5; i++) take(d, b);
    expect(reasonOf(d, a)).toBe('ConcurrentInvocationLimitExceeded');
    expect(reasonOf(d, b)).toBe('ConcurrentInvocationLimitExceeded');
    expect(d.metrics().ConcurrentExecutions).toBe(10);
    expect(d.metrics().functions.map((f) => f.Throttles)).toEqual([1, 1]);
  });

  it('Throttle: the exception is a service error with Lambda’s message and Reason', () => {
    const { d } = setup({ concurrency: 1 });
    const a = pool(d, 'a');
    take(d, a);
    let error: unknown;
    try {
      void d.acquire(a);
    } catch (caught) {
      error = caught;
    }
    expect(error).toBeInstanceOf(TooManyRequestsException);
    const e = error as TooManyRequestsException;
    expect(e.code).toBe('TooManyRequestsException');
    expect(e.reason).toBe('ConcurrentInvocationLimitExceeded');
    expect(e.message).toBe('Rate Exceeded. The unreserved concurrency pool (1 of concurrency 1) is in use.');
    const { d: d2 } = setup({ concurrency: 10 });
    const r = pool(d2, 'r', { reservedConcurrency: 2 });
    take(d2, r);
    take(d2, r);
    expect(() => d2.acquire(r)).toThrow('Rate Exceeded. Function r is at its reserved concurrency (2), shared by all its versions.');
  });

  it('Release: frees the slot for the next invoke', () => {
    const { d } = setup({ concurrency: 1 });
    const a = pool(d, 'a');
    const lease = take(d, a);
    expect(reasonOf(d, a)).toBe('ConcurrentInvocationLimitExceeded');
    d.release(lease, report(1));
    const again = take(d, a);
    expect(again).toBe(lease); // the same warm environment
    expect(again.coldStart).toBe(false);
  });
});

describe('Dispatcher: reserved concurrency', () => {
  it('Reserved: a ceiling — the function throttles at its reservation with ReservedFunctionConcurrentInvocationLimitExceeded', () => {
    const { d } = setup({ concurrency: 10 });
    const a = pool(d, 'a', { reservedConcurrency: 2 });
    take(d, a);
    take(d, a);
    expect(reasonOf(d, a)).toBe('ReservedFunctionConcurrentInvocationLimitExceeded');
  });

  it('Reserved: a guarantee — unreserved functions cannot take reserved slots', () => {
    const { d } = setup({ concurrency: 10 });
    const r = pool(d, 'r', { reservedConcurrency: 4 });
    const u = pool(d, 'u');
    for (let i = 0; i < 6; i++) take(d, u);
    expect(reasonOf(d, u)).toBe('ConcurrentInvocationLimitExceeded');
    for (let i = 0; i < 4; i++) take(d, r);
    expect(d.metrics()).toMatchObject({ ConcurrentExecutions: 10, UnreservedConcurrentExecutions: 6, unreservedConcurrency: 6 });
  });

  it('Reserved 0: every invoke is throttled, even one that asks to wait', () => {
    const { d } = setup();
    const off = pool(d, 'off', { reservedConcurrency: 0 });
    expect(reasonOf(d, off)).toBe('ReservedFunctionConcurrentInvocationLimitExceeded');
    expect(() => d.acquire(off, 5_000)).toThrow('Rate Exceeded. Function off has reserved concurrency 0: every invoke is throttled.');
    expect(d.metrics().queued).toBe(0);
  });

  // Lambda's words for both refusals: "Specified ReservedConcurrentExecutions for function decreases
  // account's UnreservedConcurrentExecution below its minimum value of [N]." (PutFunctionConcurrency;
  // quoted in github.com/aws-samples/siem-on-amazon-opensearch-service/issues/175) and "Specified
  // ConcurrentExecutions for function ..." (PutProvisionedConcurrencyConfig; github.com/anomalyco/sst/issues/5829).
  it('Reservations: may not leave less than a tenth of the account unreserved (at the limit, just over it), with Lambda\'s message', () => {
    const { d } = setup({ concurrency: 100 });
    pool(d, 'a', { reservedConcurrency: 60 });
    let error: unknown;
    try {
      pool(d, 'b', { reservedConcurrency: 31 });
    } catch (caught) {
      error = caught;
    }
    expect(error).toBeInstanceOf(InvalidParameterValueException);
    expect((error as InvalidParameterValueException).field).toBe('reservedConcurrency');
    expect((error as Error).message).toBe(
      "Specified ReservedConcurrentExecutions for function decreases account's UnreservedConcurrentExecution below its minimum value of [10].",
    );
    pool(d, 'b', { reservedConcurrency: 30 });
    // Changing a's own reservation does not count a's old value against it.
    pool(d, 'a', { reservedConcurrency: 60 });
    expect(d.metrics().unreservedConcurrency).toBe(10);
  });

  it('Provisioned on an unreserved function: holds its slots out of the unreserved pool', () => {
    const { d } = setup({ concurrency: 100 });
    expect(() => pool(d, 'p', { provisionedConcurrency: 91 })).toThrow(
      "Specified ConcurrentExecutions for function decreases account's UnreservedConcurrentExecution below its minimum value of [10].",
    );
    pool(d, 'p', { provisionedConcurrency: 40 });
    expect(d.metrics().unreservedConcurrency).toBe(60);
  });

  it('Provisioned memory: must fit the budget beside other functions’ provisioned environments', () => {
    const { d } = setup({ concurrency: 100, memoryBudgetMb: 1024 });
    pool(d, 'a', { provisionedConcurrency: 4, memoryMb: 128 });
    expect(() => pool(d, 'b', { provisionedConcurrency: 3, memoryMb: 256 })).toThrow(
      'Expected `provisionedConcurrency` to be at most 2 (environments of 256 MB that fit in memoryBudgetMb 1024 beside 512 MB provisioned by other functions), got `3` (number)',
    );
  });
});

// Lambda: "Concurrency settings apply to the function as a whole, including all published versions
// and the unpublished version" (PutFunctionConcurrency, Lambda API reference). Pools are keyed
// `name` ($LATEST) and `name:version`.
describe('Dispatcher: a reservation spans every version of the function', () => {
  it('Reserved across versions: $LATEST and versions draw on one reservation — at it, one under, one over', () => {
    const { d } = setup({ concurrency: 20 });
    const latest = pool(d, 'f', { reservedConcurrency: 3 });
    const v1 = pool(d, 'f:1');
    const v2 = pool(d, 'f:2');
    take(d, latest);
    take(d, v1); // 2 of 3: one under
    const third = take(d, v2); // 3 of 3: at the reservation
    for (const p of [latest, v1, v2]) expect(reasonOf(d, p)).toBe('ReservedFunctionConcurrentInvocationLimitExceeded'); // over
    expect(() => d.acquire(v1)).toThrow('Rate Exceeded. Function f is at its reserved concurrency (3), shared by all its versions.');
    d.release(third, report(1));
    expect(reasonOf(d, v1)).toBe('admitted');
    // Another function is not held back by f's reservation (20 - 3 unreserved left).
    const other = pool(d, 'g');
    for (let i = 0; i < 17; i++) take(d, other);
    expect(reasonOf(d, other)).toBe('ConcurrentInvocationLimitExceeded');
    expect(d.metrics().functions.filter((f) => f.functionName === 'f').map((f) => f.reservedConcurrency)).toEqual([3, 3, 3]);
  });

  it('Reserved 0 on the function: its versions are throttled too', () => {
    const { d } = setup();
    pool(d, 'off', { reservedConcurrency: 0 });
    const v1 = pool(d, 'off:1');
    expect(reasonOf(d, v1)).toBe('ReservedFunctionConcurrentInvocationLimitExceeded');
    expect(() => d.acquire(v1, 5_000)).toThrow('Rate Exceeded. Function off has reserved concurrency 0: every invoke is throttled.');
  });

  it('Removing the reservation (or the function): its versions go back to the unreserved pool; the slots come back', () => {
    const { d } = setup({ concurrency: 100 });
    pool(d, 'f', { reservedConcurrency: 50 });
    const v1 = pool(d, 'f:1');
    expect(d.metrics().unreservedConcurrency).toBe(50);
    pool(d, 'f', { reservedConcurrency: undefined });
    expect(d.metrics().unreservedConcurrency).toBe(100);
    take(d, v1);
    expect(d.metrics().UnreservedConcurrentExecutions).toBe(1);
    const g = pool(d, 'g', { reservedConcurrency: 90 });
    d.remove(g);
    expect(d.metrics().unreservedConcurrency).toBe(100);
  });

  it('Versions\' provisioned concurrency counts once against the account (no reservation), and within the reservation (with one)', () => {
    const { d } = setup({ concurrency: 100 });
    pool(d, 'f');
    pool(d, 'f:1', { provisionedConcurrency: 40 });
    pool(d, 'f:2', { provisionedConcurrency: 50 }); // 90: exactly what may be held (100 - 10)
    expect(d.metrics().unreservedConcurrency).toBe(10);
    expect(() => pool(d, 'f:3', { provisionedConcurrency: 1 })).toThrow(
      "Specified ConcurrentExecutions for function decreases account's UnreservedConcurrentExecution below its minimum value of [10].",
    );
    // With a reservation the versions' provisioned sum must fit in it: at (20), just over (21).
    const { d: r } = setup({ concurrency: 100 });
    pool(r, 'h', { reservedConcurrency: 20 });
    pool(r, 'h:1', { provisionedConcurrency: 15 });
    pool(r, 'h:2', { provisionedConcurrency: 5 });
    let error: unknown;
    try {
      pool(r, 'h:2', { provisionedConcurrency: 6 });
    } catch (caught) {
      error = caught;
    }
    // Lambda's words, as LocalStack's AWS-validated provider has them (put_provisioned_concurrency_config).
    expect(error).toMatchObject({ code: 'InvalidParameterValueException', field: 'provisionedConcurrency', message: 'Requested Provisioned Concurrency should not be greater than the reservedConcurrentExecution for function' });
    expect(() => pool(r, 'h', { reservedConcurrency: 19 })).toThrow(InvalidParameterValueException);
    expect(r.metrics().unreservedConcurrency).toBe(80); // the reservation, not reservation + provisioned
  });
});

describe('Dispatcher: scale-up rate', () => {
  it('Token bucket: at most `scaleUpBurst` new environments at once, then `scaleUpRate` per second', () => {
    const { d, clock } = setup({ concurrency: 100, scaleUpRate: 10, scaleUpBurst: 3 });
    const a = pool(d, 'a');
    for (let i = 0; i < 3; i++) take(d, a);
    let error: TooManyRequestsException | undefined;
    try {
      void d.acquire(a);
    } catch (caught) {
      error = caught as TooManyRequestsException;
    }
    expect(error?.reason).toBe('ConcurrentInvocationLimitExceeded');
    expect(error?.message).toBe('Rate Exceeded. Function a may start at most 10 new environments per second (burst 3).');
    expect(error?.retryAfterSeconds).toBe(1);
    clock.advance(99);
    expect(reasonOf(d, a)).toBe('ConcurrentInvocationLimitExceeded');
    clock.advance(1); // 100 ms at 10/s = one token
    take(d, a);
    expect(reasonOf(d, a)).toBe('ConcurrentInvocationLimitExceeded');
  });

  it('Token bucket: warm environments need no token; each function has its own bucket', () => {
    const { d } = setup({ concurrency: 100, scaleUpRate: 1, scaleUpBurst: 1 });
    const a = pool(d, 'a');
    const b = pool(d, 'b');
    const lease = take(d, a);
    expect(reasonOf(d, a)).toBe('ConcurrentInvocationLimitExceeded');
    take(d, b);
    d.release(lease, report(1));
    for (let i = 0; i < 5; i++) d.release(take(d, a), report(1));
    expect(d.metrics().functions[0]).toMatchObject({ Invocations: 6, ColdStarts: 1 });
  });
});

describe('Dispatcher: waiting for capacity', () => {
  it('Wait: an invoke that asks to wait is admitted by the first release that makes room', async () => {
    const { d } = setup({ concurrency: 1 });
    const a = pool(d, 'a');
    const first = take(d, a);
    const waiting = d.acquire(a, 1_000);
    expect(waiting).toBeInstanceOf(Promise);
    expect(d.metrics().queued).toBe(1);
    d.release(first, report(1));
    const lease = await waiting;
    expect(lease).toBe(first);
    expect(d.metrics()).toMatchObject({ queued: 0, ConcurrentExecutions: 1 });
  });

  it('Wait: times out with the reason that kept it out', async () => {
    const { d, clock } = setup({ concurrency: 10 });
    const a = pool(d, 'a', { reservedConcurrency: 1 });
    take(d, a);
    const waiting = d.acquire(a, 500) as Promise<TestLease>;
    const settled = expect(waiting).rejects.toMatchObject({ reason: 'ReservedFunctionConcurrentInvocationLimitExceeded' });
    clock.advance(499);
    expect(d.metrics().queued).toBe(1);
    clock.advance(1);
    await settled;
    expect(d.metrics()).toMatchObject({ queued: 0 });
    expect(d.metrics().functions[0]!.Throttles).toBe(1);
  });

  it('Wait: the queue is bounded — past maxQueueLength an invoke is throttled at once', () => {
    const { d } = setup({ concurrency: 1, maxQueueLength: 2 });
    const a = pool(d, 'a');
    take(d, a);
    const w1 = d.acquire(a, 1_000) as Promise<TestLease>;
    const w2 = d.acquire(a, 1_000) as Promise<TestLease>;
    expect(() => d.acquire(a, 1_000)).toThrow(TooManyRequestsException);
    void w1.catch(() => {});
    void w2.catch(() => {});
  });

  it('Wait: a waiter blocked by its reservation does not block a waiter of another function', async () => {
    const { d } = setup({ concurrency: 2 });
    const r = pool(d, 'r', { reservedConcurrency: 1 });
    const u = pool(d, 'u');
    const rLease = take(d, r);
    const uLease = take(d, u);
    const rWait = d.acquire(r, 1_000) as Promise<TestLease>;
    const uWait = d.acquire(u, 1_000) as Promise<TestLease>;
    d.release(uLease, report(1));
    expect(await uWait).toBe(uLease);
    expect(d.metrics().queued).toBe(1);
    d.release(rLease, report(1));
    expect(await rWait).toBe(rLease);
  });

  it('Wait: a waiter held back by the scale-up rate is admitted when a token arrives', async () => {
    const { d, clock } = setup({ concurrency: 10, scaleUpRate: 2, scaleUpBurst: 1 });
    const a = pool(d, 'a');
    take(d, a);
    const waiting = d.acquire(a, 5_000) as Promise<TestLease>;
    clock.advance(499);
    expect(d.metrics().queued).toBe(1);
    clock.advance(1);
    const lease = await waiting;
    expect(lease.coldStart).toBe(true);
  });
});

describe('Dispatcher: close', () => {
  it('Close: stops admitting, fails waiters, lets in-flight finish, then disposes everything; idempotent', async () => {
    const { d, envs } = setup({ concurrency: 2 });
    const a = pool(d, 'a');
    const b = pool(d, 'b');
    const c = pool(d, 'c');
    d.release(take(d, b, envs), report(1)); // envs[0]: idle
    const busyA = take(d, a, envs); // envs[1]
    const busyC = take(d, c, envs); // envs[2]
    const waiter = d.acquire(a, 10_000) as Promise<TestLease>;
    const closing = d.close(5_000);
    expect(d.close(5_000)).toBe(closing);
    await expect(waiter).rejects.toBeInstanceOf(RuntimeClosedError);
    expect(() => d.acquire(a)).toThrow(RuntimeClosedError);
    expect(envs.map((e) => e.disposed)).toEqual([true, false, false]); // idle at once, busy ones run on
    d.release(busyA, report(1));
    expect(envs.map((e) => e.disposed)).toEqual([true, true, false]);
    d.release(busyC, report(1));
    expect(await closing).toBe(0);
    expect(envs.every((e) => e.disposed)).toBe(true);
    expect(d.metrics()).toMatchObject({ environments: 0, memoryUsedMb: 0, ConcurrentExecutions: 0 });
  });

  it('Close: past the deadline, busy environments are disposed (their invocation fails) and booting ones on arrival', async () => {
    const { d, clock, envs } = setup();
    const a = pool(d, 'a');
    take(d, a, envs);
    const booting = d.acquire(a) as TestLease;
    const closing = d.close(1_000);
    clock.advance(1_000);
    expect(await closing).toBe(2);
    expect(envs[0]!.disposed).toBe(true);
    expect(d.metrics().environments).toBe(0);
    const late = new FakeEnv('a');
    expect(d.attach(booting, late)).toBe(false);
    expect(late.disposed).toBe(true);
  });
});
