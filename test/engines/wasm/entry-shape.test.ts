/**
 * The quick shape check of a wasm `code.entry` module (src/engines/wasm/entry-shape.ts) evaluates
 * untrusted code at deploy time, in one worker thread per process that every deploy's check goes
 * through one at a time. QuickJS's interrupt handler bounds the top level (250 ms) only where it
 * polls: a top level inside an uninterruptible built-in (a naive `indexOf` of ~4 x 10^10
 * comparisons: minutes) held that worker, and every later deploy's check waited behind it with no
 * end (red team: a plain module's check still unanswered 20 s later, load ~18). Each check now has
 * a wall-time limit on the host's clock; past it the worker is terminated, the check says nothing
 * (the build decides, as for any check that cannot answer) and the next check gets a new worker.
 * No timed assertion: the stuck module runs for minutes, so whichever the limit it is cut; the
 * neighbour's check is given a limit no start-up reaches.
 */
import { describe, expect, it } from 'vitest';
import { quickShapeError } from '../../../src/engines/wasm/entry-shape.ts';

/** A top level QuickJS's interrupt handler never sees: one built-in call of minutes. */
const STUCK = `export const found = 'a'.repeat(400000).indexOf('a'.repeat(200000) + 'b');`;
const NEIGHBOUR = `throw new Error('the neighbour module speaks');`;
const NEIGHBOUR_LIMIT_MS = 120_000;

describe('wasm code.entry quick check: a stuck top level', () => {
  it("is cut at its limit and says nothing; a neighbour's check queued behind it is answered", { timeout: 180_000 }, async () => {
    // The worker started and warm first, so the stuck check's limit measures only its own run.
    await expect(quickShapeError(NEIGHBOUR, NEIGHBOUR_LIMIT_MS)).resolves.toBe('the neighbour module speaks');
    const stuck = quickShapeError(STUCK, 300);
    // The first check of the worker that replaces the terminated one: its limit counts from that
    // worker's start-up's end, and it is cut the same way.
    const stuckOnFreshWorker = quickShapeError(STUCK, 300);
    const neighbour = quickShapeError(NEIGHBOUR, NEIGHBOUR_LIMIT_MS);
    await expect(stuck).resolves.toBeUndefined();
    await expect(stuckOnFreshWorker).resolves.toBeUndefined();
    await expect(neighbour).resolves.toBe('the neighbour module speaks');
    // And the check goes on answering afterwards (on the new worker).
    await expect(quickShapeError(`export const ok = 1;`, NEIGHBOUR_LIMIT_MS)).resolves.toBeUndefined();
    await expect(quickShapeError(NEIGHBOUR, NEIGHBOUR_LIMIT_MS)).resolves.toBe('the neighbour module speaks');
  });

  it("refuses every import but the world's own, names of Object.prototype's members included (they were looked up through it)", async () => {
    for (const name of ['__proto__', 'constructor', 'toString', 'hasOwnProperty']) {
      await expect(quickShapeError(`import * as x from '${name}'; export const n = Object.keys(x).length;`, NEIGHBOUR_LIMIT_MS)).resolves.toBe(`${name} is not available to the check`);
    }
  });
});
