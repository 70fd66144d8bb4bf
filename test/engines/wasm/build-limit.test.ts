/**
 * A `code: { entry }` module whose top level never ends, on engine 'wasm' (issue #15: a tenant must
 * not hurt the host or the other tenants). componentize-qjs runs the top level at build time
 * (Wizer) on its native worker threads (one per core) with no limit: before, such a deploy never
 * answered and spun a core for good, and two of them on 2 cores held every later `code: { entry }`
 * build of every tenant.
 * Now each build runs in a child process (src/engines/wasm/componentize-child.ts), killed past its
 * limit (BUILD_LIMIT_MS, 60 s; a short one here: a loop outruns any limit, so the outcome does not
 * depend on the machine's speed).
 */
import { readdirSync, readFileSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { setTimeout as sleep } from 'node:timers/promises';
import { describe, expect, it } from 'vitest';
import { BUILD_LIMIT_MS, componentizeSource } from '../../../src/engines/wasm/componentize.ts';
import { InvalidParameterValueException } from '../../../src/index.ts';

const noComponentizer = await import('componentize-qjs').then(
  () => undefined,
  (error: unknown) => `componentize-qjs does not load here: ${(error as Error).message}`,
);

/** This process's children running a componentize-qjs build (Linux /proc; [] elsewhere). */
function buildChildren(): number[] {
  if (process.platform !== 'linux') return [];
  const found: number[] = [];
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = readFileSync(`/proc/${entry}/stat`, 'utf8');
      const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
      if (ppid === process.pid && readFileSync(`/proc/${entry}/cmdline`, 'utf8').includes('componentize-child')) found.push(Number(entry));
    } catch {
      // gone meanwhile
    }
  }
  return found;
}

const LOOPING = "for (;;) {}\nexport const handler = { handle() { return '1'; } };\n";

describe.skipIf(noComponentizer !== undefined)(`wasm engine: a build that never ends${noComponentizer ? ` (skipped: ${noComponentizer})` : ''}`, { timeout: 180_000 }, () => {
  it('is stopped at its limit: InvalidParameterValueException (code.entry) naming the limit, its process gone, the next build served', async () => {
    expect(BUILD_LIMIT_MS).toBe(60_000);
    const limitMs = 3_000;
    const refused = await componentizeSource(LOOPING, '/functions/loop.mjs', { buildLimitMs: limitMs }).catch((e: unknown) => e);
    expect(refused).toBeInstanceOf(InvalidParameterValueException);
    expect((refused as InvalidParameterValueException).field).toBe('code.entry');
    expect((refused as Error).message).toBe(
      `componentize-qjs did not finish building /functions/loop.mjs within ${limitMs} ms and was stopped: the module's top level runs at build time (Wizer), and it did not end`,
    );
    // SIGKILLed at once; the kernel reaps it shortly after.
    for (let i = 0; i < 100 && buildChildren().length > 0; i++) await sleep(50);
    expect(buildChildren()).toEqual([]);

    // The build path is not held: a module that ends builds, in the default limit.
    const component = await componentizeSource("export const handler = { handle() { return '\"after\"'; } };");
    expect(component.byteLength).toBeGreaterThan(100_000);
  });

  it('runs at most one build per core at once; the others wait their turn, and their limit starts with them', async () => {
    const cores = Math.max(1, availableParallelism());
    // cores + 2 distinct looping modules (distinct: equal sources share one build), each stopped
    // 400 ms after its process starts: all refused, never more than `cores` processes at once.
    let most = 0;
    let polling = true;
    const poll = (async () => {
      while (polling) {
        most = Math.max(most, buildChildren().length);
        await sleep(10);
      }
    })();
    const outcomes = await Promise.all(
      Array.from({ length: cores + 2 }, (_, i) => componentizeSource(`${LOOPING}// ${i}\n`, `/functions/loop-${i}.mjs`, { buildLimitMs: 400 }).catch((e: unknown) => e)),
    );
    polling = false;
    await poll;
    for (const [i, outcome] of outcomes.entries()) {
      expect((outcome as Error).message).toBe(
        `componentize-qjs did not finish building /functions/loop-${i}.mjs within 400 ms and was stopped: the module's top level runs at build time (Wizer), and it did not end`,
      );
    }
    if (process.platform === 'linux') {
      expect(most).toBeGreaterThanOrEqual(1);
      expect(most).toBeLessThanOrEqual(cores);
    }
  });
});
