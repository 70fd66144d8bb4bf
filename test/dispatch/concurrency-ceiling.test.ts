/**
 * Dispatcher.concurrencyCeiling: what the asynchronous layer caps a function's attempts in flight at
 * (async-invoke.ts `capacity`), so attempts the dispatcher would only hold waiting do not take the
 * event pump's slots from a neighbour with reserved concurrency (issue #15).
 */
import { describe, expect, it } from 'vitest';
import { pool, reasonOf, setup, take } from './helpers.ts';

describe('Dispatcher.concurrencyCeiling (issue #15)', () => {
  it('is the reservation, else the unreserved pool (plus provisioned), and matches where admission throttles', () => {
    const { d } = setup({ concurrency: 10 });
    const hog = pool(d, 'hog');
    expect(d.concurrencyCeiling('hog')).toBe(10);
    const victim = pool(d, 'victim', { reservedConcurrency: 5 });
    expect(d.concurrencyCeiling('victim')).toBe(5);
    expect(d.concurrencyCeiling('victim:3')).toBe(5); // a version shares its function's reservation
    expect(d.concurrencyCeiling('hog')).toBe(5);
    expect(d.concurrencyCeiling('unknown')).toBe(5); // a function not deployed yet: the unreserved pool
    for (let i = 0; i < 5; i++) take(d, hog);
    expect(reasonOf(d, hog)).toBe('ConcurrentInvocationLimitExceeded'); // at its ceiling
    for (let i = 0; i < 5; i++) take(d, victim);
    expect(reasonOf(d, victim)).toBe('ReservedFunctionConcurrentInvocationLimitExceeded');
    pool(d, 'off', { reservedConcurrency: 0 });
    expect(d.concurrencyCeiling('off')).toBe(0);
  });
});
