/**
 * 10,000 invocations across 20 functions with mixed limits at concurrency 200. Invariants: limits
 * never exceeded, no environment serves two invocations at once, ok + throttled + errors = total,
 * no environment left after close.
 */
import { setTimeout } from 'node:timers';
import { describe, expect, it, vi } from 'vitest';
import { createRuntime, TooManyRequestsException, type FunctionConfigInput, type RuntimeMetrics } from '../../src/index.ts';
import { SLOW_CASE_LIMIT_MS } from '../helpers/runtime.ts';

const TOTAL = 10_000;
const FUNCTIONS = 20;
const CLIENTS = 400;
const CONCURRENCY = 200;

// Module state is per environment: a second invocation entering a busy environment is caught here.
const HANDLER = `
let busy = false;
export const handler = async (e) => {
  if (busy) throw new Error('OVERLAP: two invocations in one environment');
  busy = true;
  try {
    if (e.ms > 0) await new Promise((r) => setTimeout(r, e.ms));
    if (e.fail) throw new Error('planned failure');
    return e.i;
  } finally {
    busy = false;
  }
};`;

/** Mixed limits: reserved (one of them 0), larger memory, and plain unreserved functions. */
function limitsOf(i: number): Partial<FunctionConfigInput> {
  switch (i) {
    case 0: return { reservedConcurrency: 5 };
    case 1: return { reservedConcurrency: 10 };
    case 2: return { reservedConcurrency: 20 };
    case 3: return { reservedConcurrency: 0 };
    case 5: return { memoryMb: 512 };
    case 6: return { memoryMb: 256, reservedConcurrency: 8 };
    default: return {};
  }
}

/**
 * Provisioned concurrency goes on a published version (as on Lambda): f2 (reserved 20) and f4
 * (unreserved) are invoked as `f2:1` / `f4:1`, where 4 and 3 environments are provisioned; f2's
 * reservation then spans $LATEST and version 1.
 */
const PROVISIONED: Readonly<Record<number, number>> = { 2: 4, 4: 3 };

describe('Stress', () => {
  // The limit is a hang detector, not a measure: CI under Node 26 at load ~30 passed 60 s.
  it('10,000 invocations, 20 functions, concurrency 200: invariants hold throughout', { timeout: SLOW_CASE_LIMIT_MS }, async () => {
    const rt = await createRuntime({
      logSink: { write() {} },
      concurrency: CONCURRENCY,
      memoryBudgetMb: 32_768, // a little over 200 × 128 MB plus the larger functions: some eviction happens
      scaleUpRate: 2_000,
      scaleUpBurst: 100,
      maxQueueLength: 150,
      idleTtlMs: 60_000,
    });
    const names = Array.from({ length: FUNCTIONS }, (_, i) => `f${i}`);
    await Promise.all(names.map((name, i) => rt.deploy({ name, code: { files: { 'index.mjs': HANDLER } }, ...limitsOf(i) })));
    for (const [i, n] of Object.entries(PROVISIONED)) {
      const name = names[Number(i)]!;
      await rt.publishVersion(name);
      await rt.putProvisionedConcurrencyConfig(name, '1', { provisionedConcurrentExecutions: n });
      await vi.waitFor(() => expect(rt.getProvisionedConcurrencyConfig(name, '1').status).toBe('READY'), { timeout: 30_000, interval: 20 });
      names[Number(i)] = `${name}:1`;
    }

    let ok = 0;
    let throttled = 0;
    let errors = 0;
    let overlaps = 0;
    let wrongPayloads = 0;
    const throttledByFn = new Array<number>(FUNCTIONS).fill(0);
    const okByFn = new Array<number>(FUNCTIONS).fill(0);
    let next = 0;
    let done = 0;
    const violations: string[] = [];

    const check = (m: RuntimeMetrics): void => {
      if (m.ConcurrentExecutions > CONCURRENCY) violations.push(`account ${m.ConcurrentExecutions}`);
      if (m.UnreservedConcurrentExecutions > m.unreservedConcurrency) violations.push(`unreserved ${m.UnreservedConcurrentExecutions}`);
      if (m.memoryUsedMb > m.memoryBudgetMb) violations.push(`memory ${m.memoryUsedMb}`);
      // A reservation holds for the function as a whole: $LATEST and its versions together.
      const running = new Map<string, number>();
      for (const f of m.functions) running.set(f.functionName, (running.get(f.functionName) ?? 0) + f.ConcurrentExecutions);
      for (const f of m.functions) {
        if (f.reservedConcurrency !== undefined && running.get(f.functionName)! > f.reservedConcurrency) {
          violations.push(`${f.functionName} ${running.get(f.functionName)} > ${f.reservedConcurrency}`);
        }
      }
    };

    const client = async (c: number): Promise<void> => {
      while (next < TOTAL) {
        const i = next++;
        const fn = i % FUNCTIONS;
        const event = { i, ms: i % 4, fail: i % 23 === 0 };
        try {
          const result = await rt.invoke(names[fn]!, event, c % 2 === 0 ? { waitForCapacityMs: 20 } : undefined);
          if (result.functionError) {
            errors += 1;
            if (JSON.stringify(result.payload).includes('OVERLAP')) overlaps += 1;
          } else {
            ok += 1;
            okByFn[fn]! += 1;
            if (result.payload !== i) wrongPayloads += 1;
          }
        } catch (error) {
          if (!(error instanceof TooManyRequestsException)) throw error;
          throttled += 1;
          throttledByFn[fn]! += 1;
          // A client backs off after a throttle, as the AWS SDK does, rather than spin.
          await new Promise((r) => setTimeout(r, 1 + (i % 5)));
        }
        if (++done % 100 === 0) check(rt.metrics());
      }
    };
    await Promise.all(Array.from({ length: CLIENTS }, (_, c) => client(c)));

    const m = rt.metrics();
    check(m);
    expect(violations).toEqual([]);
    expect(overlaps).toBe(0);
    expect(wrongPayloads).toBe(0);
    expect(ok + throttled + errors).toBe(TOTAL);
    // Every function with capacity made progress. How many calls were throttled or timed out instead
    // depends on the machine's speed (ok was 3,831 of 10,000 at load 18 on Node 26), so no share is asserted.
    expect(okByFn.map((n, fn) => (fn === 3 ? 'reserved 0' : n > 0 ? 'answered' : `f${fn} never answered`))).toEqual(
      okByFn.map((_, fn) => (fn === 3 ? 'reserved 0' : 'answered')),
    );
    expect(throttledByFn[3]).toBe(TOTAL / FUNCTIONS); // reserved 0: every invoke throttled
    // Peaks, recorded at admission, never passed a limit.
    expect(m.ConcurrentExecutionsMax).toBeLessThanOrEqual(CONCURRENCY);
    expect(m.UnreservedConcurrentExecutionsMax).toBeLessThanOrEqual(m.unreservedConcurrency);
    for (const f of m.functions) {
      if (f.reservedConcurrency !== undefined) expect(f.ConcurrentExecutionsMax).toBeLessThanOrEqual(f.reservedConcurrency);
    }
    // The metrics agree with what the callers saw.
    const sum = (pick: (f: RuntimeMetrics['functions'][number]) => number) => m.functions.reduce((s, f) => s + pick(f), 0);
    expect(sum((f) => f.Invocations)).toBe(ok + errors);
    expect(sum((f) => f.Errors)).toBe(errors);
    expect(sum((f) => f.Throttles)).toBe(throttled);
    expect(m.ConcurrentExecutions).toBe(0);

    await rt.close();
    const after = rt.metrics();
    expect({ environments: after.environments, memoryUsedMb: after.memoryUsedMb, queued: after.queued }).toEqual({ environments: 0, memoryUsedMb: 0, queued: 0 });
    console.log(`stress: ok ${ok}, throttled ${throttled}, errors ${errors}, peak ${m.ConcurrentExecutionsMax}, evictions ${m.evictions}, cold starts ${sum((f) => f.ColdStarts)}`);
  });
});
