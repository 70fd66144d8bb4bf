/**
 * Issue #15 (red team, 6-tmp-host-memory): what an environment holds in the host's memory beside
 * its sandbox — a memory-backed /tmp, unread fetch bodies (PooledEnvironment.hostBytes) — counts
 * against memoryBudgetMb with its memoryMb. /tmp asks before it grows into another MiB: granted
 * (idle environments evicted, least recently used first, if need be) or refused, which the guest
 * sees as ENOSPC. Each rule at, just under and just over the budget, on fake environments.
 */
import { describe, expect, it } from 'vitest';
import { pool, reasonOf, report, setup, take } from './helpers.ts';

const MIB = 1024 * 1024;

describe('Dispatcher: host memory beside the sandbox counts against the budget', () => {
  it('/tmp growing: granted up to the budget, one byte past it refused while nothing idle can be evicted, then granted by evicting an idle one', () => {
    const { d, envs } = setup({ memoryBudgetMb: 512 });
    const a = pool(d, 'a');
    const b = pool(d, 'b');
    const la = take(d, a, envs);
    const lb = take(d, b, envs); // 256 MB of environments
    const grow = envs[0]!.room!;
    expect(grow(256 * MIB - 1)).toBe(true); // under
    expect(grow(256 * MIB)).toBe(true); // at: 128 + 128 + 256 = 512
    expect(grow(256 * MIB + 1)).toBe(false); // over, b is busy
    expect(envs[1]!.disposed).toBe(false);
    d.release(lb, report(1)); // b idle
    expect(grow(256 * MIB + 1)).toBe(true);
    expect(envs[1]!.disposed).toBe(true);
    expect(d.metrics().evictions).toBe(1);
    // Nothing left to evict: a cold start of b is refused for memory, as an invoke at the budget is.
    expect(reasonOf(d, b)).toBe('ConcurrentInvocationLimitExceeded');
    expect(() => d.acquire(b)).toThrow(/memory budget \(512 MB\) is taken by busy and provisioned environments and what they hold in host memory/);
    d.release(la, report(1));
  });

  it('recounted when the invocation ends: at the budget the environment stays warm, one byte over it is discarded', () => {
    const { d, envs } = setup({ memoryBudgetMb: 512 });
    const a = pool(d, 'a');
    const at = take(d, a, envs);
    envs[0]!.held = 384 * MIB; // 128 + 384 = 512
    d.release(at, report(1));
    expect(envs[0]!.disposed).toBe(false);
    const again = take(d, a, envs);
    expect(again.env).toBe(envs[0]);
    envs[0]!.held = 384 * MIB + 1;
    d.release(again, report(1));
    expect(envs[0]!.disposed).toBe(true);
  });

  it('an idle environment holding host memory is evicted for a cold start that needs the room, and its MB are given back', () => {
    const { d, envs } = setup({ memoryBudgetMb: 512 });
    const a = pool(d, 'a');
    const b = pool(d, 'b');
    const la = take(d, a, envs);
    envs[0]!.held = 300 * MIB; // 428 MB counted
    d.release(la, report(1));
    const lb = take(d, b, envs); // 428 + 128 > 512: a goes
    expect(envs[0]!.disposed).toBe(true);
    // a's 428 MB are free again: b (128) and one more of a (128) fit, with 256 MB left for host memory.
    const la2 = take(d, a, envs);
    expect(envs[2]!.room!(256 * MIB)).toBe(true);
    expect(envs[2]!.room!(256 * MIB + 1)).toBe(false);
    d.release(lb, report(1));
    d.release(la2, report(1));
  });

  it('an idle environment whose fetch grows (a body still arriving) may evict itself making room: refused, and its MB are not counted twice', () => {
    const { d, envs } = setup({ memoryBudgetMb: 256 });
    const a = pool(d, 'a');
    const la = take(d, a, envs);
    d.release(la, report(1)); // a idle, 128 MB counted
    const grow = envs[0]!.room!;
    expect(grow(128 * MIB)).toBe(true); // at: 128 + 128 = 256, nothing evicted
    expect(envs[0]!.disposed).toBe(false);
    expect(grow(128 * MIB + 1)).toBe(false); // over: the only idle environment to evict is a itself
    expect(envs[0]!.disposed).toBe(true);
    // Everything a held is given back: two environments of 128 MB fit again.
    const b = pool(d, 'b');
    const lb = take(d, b, envs);
    const la2 = take(d, a, envs);
    expect(envs.filter((env) => !env.disposed)).toHaveLength(2);
    d.release(lb, report(1));
    d.release(la2, report(1));
  });
});
