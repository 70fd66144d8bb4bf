/** The dispatcher through the public API, on real environments (v8). */
import { describe, expect, it, vi } from 'vitest';
import { createRuntime, InvalidParameterValueException, RuntimeClosedError, TooManyRequestsException, type Runtime } from '../../src/index.ts';
import { captureLogs, deployFiles } from '../helpers/runtime.ts';

const SLOW = 'export const handler = async (e) => { await new Promise((r) => setTimeout(r, e.ms ?? 50)); return process.env.AWS_LAMBDA_INITIALIZATION_TYPE; };';

async function withRt<T>(options: Parameters<typeof createRuntime>[0], body: (rt: Runtime) => Promise<T>): Promise<T> {
  const rt = await createRuntime({ logSink: { write() {} }, ...options });
  try {
    return await body(rt);
  } finally {
    await rt.close();
  }
}

describe('Runtime + dispatcher', () => {
  it('Reserved concurrency: the invoke past it rejects with TooManyRequestsException and its Reason', async () => {
    await withRt({ concurrency: 10 }, async (rt) => {
      await deployFiles(rt, 'r', SLOW, { reservedConcurrency: 1 });
      const first = rt.invoke('r', { ms: 100 });
      const second = rt.invoke('r');
      await expect(second).rejects.toBeInstanceOf(TooManyRequestsException);
      await expect(second).rejects.toMatchObject({ reason: 'ReservedFunctionConcurrentInvocationLimitExceeded', code: 'TooManyRequestsException' });
      expect((await first).payload).toBe('on-demand');
      const m = rt.metrics().functions[0]!;
      expect(m).toMatchObject({ functionName: 'r', version: '$LATEST', Invocations: 1, Throttles: 1, Errors: 0, ColdStarts: 1 });
    });
  });

  it('Reserved 0 disables the function; deploy rejects reservations that leave too little unreserved', async () => {
    await withRt({ concurrency: 10 }, async (rt) => {
      await deployFiles(rt, 'off', SLOW, { reservedConcurrency: 0 });
      await expect(rt.invoke('off')).rejects.toMatchObject({ reason: 'ReservedFunctionConcurrentInvocationLimitExceeded' });
      await expect(deployFiles(rt, 'big', SLOW, { reservedConcurrency: 10 })).rejects.toBeInstanceOf(InvalidParameterValueException);
    });
  });

  it('waitForCapacityMs: waits in the queue and runs when a slot frees', async () => {
    await withRt({ concurrency: 1 }, async (rt) => {
      await deployFiles(rt, 'q', SLOW);
      const first = rt.invoke('q', { ms: 50 });
      const second = rt.invoke('q', { ms: 1 }, { waitForCapacityMs: 2_000 });
      await expect(rt.invoke('q')).rejects.toMatchObject({ reason: 'ConcurrentInvocationLimitExceeded' });
      const [a, b] = await Promise.all([first, second]);
      expect(a.coldStart).toBe(true);
      expect(b.coldStart).toBe(false); // the same environment, after the first finished
    });
  });

  // Lambda: provisioned concurrency is configured on a version or alias (PutProvisionedConcurrencyConfig);
  // invocations past it spill over to on-demand environments (ProvisionedConcurrencySpilloverInvocations).
  it('Provisioned concurrency: environments are initialised before any invoke; invokes start warm, INIT type provisioned-concurrency; the third spills over', async () => {
    const logs = captureLogs();
    await withRt({ logSink: logs }, async (rt) => {
      await deployFiles(rt, 'p', SLOW);
      await rt.publishVersion('p');
      await rt.putProvisionedConcurrencyConfig('p', '1', { provisionedConcurrentExecutions: 2 });
      await vi.waitFor(() => expect(rt.getProvisionedConcurrencyConfig('p', '1').status).toBe('READY'), { timeout: 30_000, interval: 20 });
      expect(logs.lines.filter((l) => l.startsWith('START'))).toEqual([]);
      const results = await Promise.all([rt.invoke('p:1', { ms: 20 }), rt.invoke('p:1', { ms: 20 }), rt.invoke('p:1', { ms: 20 })]);
      expect(results.map((r) => r.coldStart)).toEqual([false, false, true]);
      expect(results.map((r) => r.payload)).toEqual(['provisioned-concurrency', 'provisioned-concurrency', 'on-demand']);
      expect(results[0].initDurationMs).toBeUndefined();
      const m = rt.metrics().functions.find((f) => f.version === '1')!;
      expect(m).toMatchObject({ ProvisionedConcurrencyInvocations: 2, ProvisionedConcurrencySpilloverInvocations: 1, ColdStarts: 1 });
      expect(m.InitDuration.count).toBe(3);
      // START/END/REPORT stay in order per request.
      for (const r of results) {
        expect(logs.forRequest(r.requestId).map((l) => l.split(' ')[0])).toEqual(['START', 'END', 'REPORT']);
      }
    });
  });

  it('Metrics: Errors, Duration percentiles and GB-seconds from REPORT figures', async () => {
    await withRt({}, async (rt) => {
      await deployFiles(rt, 'm', 'export const handler = async (e) => { if (e.fail) throw new Error("no"); return 1; };', { memoryMb: 256 });
      let billed = 0;
      for (let i = 0; i < 10; i++) billed += (await rt.invoke('m', { fail: i % 5 === 0 })).billedDurationMs;
      const m = rt.metrics().functions[0]!;
      expect(m).toMatchObject({ Invocations: 10, Errors: 2, Throttles: 0, ConcurrentExecutions: 0 });
      expect(m.Duration.count).toBe(10);
      expect(m.Duration.p50).toBeLessThanOrEqual(m.Duration.p99);
      expect(m.GBSeconds).toBeCloseTo((billed * 256) / 1024 / 1000, 10);
    });
  });

  it('Close: lets an in-flight invoke finish within closeTimeoutMs, cuts off one that runs past it, disposes everything', async () => {
    // Both environments are warm before close, so the in-flight 'fast' invoke is 20 ms of handler
    // and no cold start; 'slow' runs far past closeTimeoutMs. No assertion on time: that close did
    // not wait for 'slow' shows in its result (cut, not its payload).
    const rt = await createRuntime({ logSink: { write() {} }, closeTimeoutMs: 3_000 });
    await deployFiles(rt, 'fast', SLOW);
    await deployFiles(rt, 'slow', SLOW, { timeoutMs: 600_000 });
    await Promise.all([rt.invoke('fast', { ms: 1 }), rt.invoke('slow', { ms: 1 })]);
    const fast = rt.invoke('fast', { ms: 20 });
    const slow = rt.invoke('slow', { ms: 500_000 });
    await rt.close();
    expect((await fast).payload).toBe('on-demand');
    const cut = await slow;
    expect(cut.functionError).toBe('Unhandled');
    expect(rt.metrics()).toMatchObject({ environments: 0, memoryUsedMb: 0 });
    await expect(rt.invoke('fast')).rejects.toBeInstanceOf(RuntimeClosedError);
  });

  it('Idle TTL: warm environments are disposed after idleTtlMs', async () => {
    await withRt({ idleTtlMs: 40 }, async (rt) => {
      await deployFiles(rt, 't', SLOW);
      await rt.invoke('t', { ms: 1 });
      expect(rt.metrics().environments).toBe(1);
      await new Promise((r) => setTimeout(r, 150));
      expect(rt.metrics()).toMatchObject({ environments: 0, reaped: 1 });
      expect((await rt.invoke('t', { ms: 1 })).coldStart).toBe(true);
    });
  });
});
