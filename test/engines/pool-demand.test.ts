/**
 * SnapStart pool depth that follows demand (src/engines/pool-demand.ts, issue 21): the depth is the
 * largest burst of restores within BURST_WINDOW_MS over the last DEMAND_MEMORY_MS, floored at the
 * engine's base, capped by MAX_POOL_DEPTH and by POOL_BYTES_BUDGET. Each limit at, just under and
 * just over its boundary, on an injected clock. And the quickjs BlankPool following it, and giving
 * way to restores: refills wait while restores run elsewhere (bounded), a blank is backed in chunks.
 */
import { describe, expect, it, vi } from 'vitest';
import { BURST_WINDOW_MS, DEMAND_MEMORY_MS, MAX_POOL_DEPTH, POOL_BYTES_BUDGET, PoolDemand } from '../../src/engines/pool-demand.ts';
import { startRuntime } from '../../src/engines/quickjs/in-thread.ts';
import { eventually } from '../helpers/eventually.ts';
import { BACKING_CHUNK_BYTES, backedRanges, BlankPool, newBlankInstance, PAGE_BYTES, REFILL_HOLD_OFF_MAX_MS, writePages, type Blank, type MemoryPages } from '../../src/engines/quickjs/snapshot.ts';

function demandAt(): { demand: PoolDemand; clock: { now: number } } {
  const clock = { now: 1_000_000 };
  return { demand: new PoolDemand(2, () => clock.now), clock };
}

function takes(demand: PoolDemand, clock: { now: number }, count: number, gapMs: number): void {
  for (let i = 0; i < count; i++) {
    if (i > 0) clock.now += gapMs;
    demand.noteTake();
  }
}

describe('PoolDemand', () => {
  it('without bursts the depth is the base (2), even when a restore is taken now and then', () => {
    const { demand, clock } = demandAt();
    expect(demand.depth(1024)).toBe(2);
    takes(demand, clock, 5, BURST_WINDOW_MS + 1); // five takes, never two in one window
    expect(demand.depth(1024)).toBe(2);
  });

  it('a burst of N within the window keeps N ready: the window at, just under and just over', () => {
    for (const [gap, expected] of [
      [BURST_WINDOW_MS / 5, 6], // 6 takes spanning exactly the window: one burst
      [BURST_WINDOW_MS / 5 - 1, 6], // just under
      [BURST_WINDOW_MS / 5 + 1, 5], // just over: the first falls out of the last five's window
    ] as const) {
      const { demand, clock } = demandAt();
      takes(demand, clock, 6, gap);
      expect(demand.depth(1024), `gap ${gap}`).toBe(expected);
    }
  });

  it('the depth is capped at MAX_POOL_DEPTH: bursts of the cap - 1, the cap and the cap + 1', () => {
    for (const [burst, expected] of [[MAX_POOL_DEPTH - 1, MAX_POOL_DEPTH - 1], [MAX_POOL_DEPTH, MAX_POOL_DEPTH], [MAX_POOL_DEPTH + 1, MAX_POOL_DEPTH]] as const) {
      const { demand, clock } = demandAt();
      takes(demand, clock, burst, 1);
      expect(demand.depth(1024)).toBe(expected);
    }
  });

  it('the depth holds at most POOL_BYTES_BUDGET of ready restores (never under the base)', () => {
    const { demand, clock } = demandAt();
    takes(demand, clock, 12, 1);
    expect(demand.depth(POOL_BYTES_BUDGET / 8)).toBe(8); // exactly 8 fit
    expect(demand.depth(POOL_BYTES_BUDGET / 8 + 1)).toBe(7); // just over: 7
    expect(demand.depth(POOL_BYTES_BUDGET / 8 - 1)).toBe(8); // just under: still 8 (12 would not fit)
    expect(demand.depth(POOL_BYTES_BUDGET)).toBe(2); // one fits the budget: the base stays
  });

  it('a burst is forgotten DEMAND_MEMORY_MS after it: at the boundary it still counts, just after it does not', () => {
    const { demand, clock } = demandAt();
    takes(demand, clock, 6, 0); // a burst of 6 at one instant
    clock.now += DEMAND_MEMORY_MS - 1;
    expect(demand.depth(1024)).toBe(6); // just under
    clock.now += 1;
    expect(demand.depth(1024)).toBe(6); // exactly DEMAND_MEMORY_MS old
    clock.now += 1; // just over
    expect(demand.depth(1024)).toBe(2);
  });
});

describe('quickjs BlankPool following demand', () => {
  const fakeBlank = (released: string[], id: string): Blank =>
    ({ started: {} as Blank['started'], dirty: new Uint8Array(0), release: () => released.push(id) });

  async function settle(pool: BlankPool, memoryMb: number, count: number): Promise<number> {
    for (let i = 0; i < 400 && pool.readyCount(memoryMb) !== count; i++) await new Promise((r) => setTimeout(r, 5));
    return pool.readyCount(memoryMb);
  }

  it('keeps the base depth, grows to a burst of 6 after it, and serves restores beyond the ready ones in arrival order', async () => {
    let made = 0;
    const released: string[] = [];
    const order: number[] = [];
    const pool = new BlankPool(async () => {
      const id = ++made;
      await new Promise((r) => setTimeout(r, 1));
      return fakeBlank(released, `b${id}`);
    }, 2);
    const extent = { byteLength: 16 << 20, touchBytes: 1 << 20 };
    pool.retain(128, extent);
    expect(await settle(pool, 128, 2)).toBe(2);
    // A burst of 6: 2 from the pool, 4 made on the path, handed out first come first served.
    const burst = Array.from({ length: 6 }, (_, i) => pool.take(128).then((blank) => (order.push(i), blank)));
    const blanks = await Promise.all(burst);
    expect(blanks.every((b) => b !== undefined)).toBe(true);
    expect(order).toEqual([0, 1, 2, 3, 4, 5]);
    // The next burst of 6 finds 6 ready.
    expect(await settle(pool, 128, 6)).toBe(6);
    pool.release(128, extent);
    expect(pool.readyCount(128)).toBe(0);
  });

  it('refills write ahead the image last restored (or made) of the size; a take prefers a blank that holds its image', async () => {
    const madeWith: (string | undefined)[] = [];
    const names = new Map<MemoryPages, string>();
    const pool = new BlankPool(async (_memoryMb, _extent, image) => {
      madeWith.push(image && names.get(image));
      return { started: {} as Blank['started'], dirty: new Uint8Array(0), ...(image ? { holds: image } : {}), release: () => {} };
    }, 2);
    const image = (name: string): MemoryPages & { disposed: boolean } => {
      const made = { byteLength: 16 << 20, pages: new Uint32Array(0), data: new Uint8Array(0), disposed: false };
      names.set(made, name);
      return made;
    };
    const a = image('a');
    const b = image('b');
    const extentA = { byteLength: 16 << 20, touchBytes: 1 << 20 };
    const extentB = { byteLength: 16 << 20, touchBytes: 1 << 20 };
    pool.retain(128, extentA, a);
    expect(await settle(pool, 128, 2)).toBe(2);
    expect(madeWith).toEqual(['a', 'a']);
    pool.retain(128, extentB, b); // the newest image: refills from now on write b
    /**
     * Takes a blank for `image`, then waits for the refill it causes: which images the blanks made
     * meanwhile hold (more than one refill once the takes make a burst: pool-demand.ts).
     */
    const takeThenRefills = async (image?: MemoryPages): Promise<{ holds: string | undefined; refills: (string | undefined)[] }> => {
      const before = madeWith.length;
      const blank = await pool.take(128, image);
      for (let i = 0; i < 400 && madeWith.length === before; i++) await new Promise((r) => setTimeout(r, 5));
      return { holds: blank?.holds && names.get(blank.holds), refills: [...new Set(madeWith.slice(before))] };
    };
    // None holds b yet: any ready blank (a restore rewrites it whole); the refill writes b.
    expect(await takeThenRefills(b)).toEqual({ holds: 'a', refills: ['b'] });
    // The one that holds b, not the older one before it.
    expect(await takeThenRefills(b)).toEqual({ holds: 'b', refills: ['b'] });
    // The last a-blank; a is now the image restored last, and refills write it.
    expect(await takeThenRefills(a)).toEqual({ holds: 'a', refills: ['a'] });
    // A disposed image is never written ahead again.
    a.disposed = true;
    pool.release(128, extentA);
    expect((await takeThenRefills()).refills).toEqual(['b']);
    b.disposed = true;
    pool.release(128, extentB);
    expect(pool.readyCount(128)).toBe(0);
  });

  it('an engine configured with no pool (0) keeps none, whatever the demand', async () => {
    const pool = new BlankPool(async () => fakeBlank([], 'x'), 0);
    const extent = { byteLength: 16 << 20, touchBytes: 1 << 20 };
    pool.retain(128, extent);
    await Promise.all(Array.from({ length: 5 }, () => pool.take(128)));
    await new Promise((r) => setTimeout(r, 50));
    expect(pool.readyCount(128)).toBe(0);
    pool.release(128, extent);
  });
});

describe('quickjs BlankPool refills yield to restores elsewhere (issue 21, bursts)', () => {
  const fakeBlank = (): Blank => ({ started: {} as Blank['started'], dirty: new Uint8Array(0), release: () => {} });
  const extent = { byteLength: 16 << 20, touchBytes: 1 << 20 };

  /** Blanks made by a pool whose `holdOff` answers `busy.now`, on fake timers (setTimeout and performance.now). */
  function poolWith(busy: { now: boolean }): { pool: BlankPool; made: () => number } {
    let made = 0;
    const pool = new BlankPool(
      async () => {
        made++;
        return fakeBlank();
      },
      2,
      () => busy.now,
    );
    return { pool, made: () => made };
  }

  it(`waits while restores run elsewhere, at most REFILL_HOLD_OFF_MAX_MS (${REFILL_HOLD_OFF_MAX_MS} ms): just under and at the bound`, async () => {
    vi.useFakeTimers({ toFake: ['setTimeout', 'performance'] });
    try {
      const { pool, made } = poolWith({ now: true });
      pool.retain(128, extent);
      // Refills look every 5 ms (POOL_REFILL_DELAY_MS).
      await vi.advanceTimersByTimeAsync(REFILL_HOLD_OFF_MAX_MS - 5);
      expect(made()).toBe(0); // just under: still waiting
      await vi.advanceTimersByTimeAsync(5);
      expect(made()).toBe(2); // at the bound: both refills made, restores or not
      pool.release(128, extent);
    } finally {
      vi.useRealTimers();
    }
  });

  it('refills as soon as restores elsewhere stop, and at once when there are none', async () => {
    vi.useFakeTimers({ toFake: ['setTimeout', 'performance'] });
    try {
      const busy = { now: true };
      const { pool, made } = poolWith(busy);
      pool.retain(128, extent);
      await vi.advanceTimersByTimeAsync(300);
      expect(made()).toBe(0);
      busy.now = false;
      await vi.advanceTimersByTimeAsync(10);
      expect(made()).toBe(2);
      pool.release(128, extent);
      const quiet = poolWith({ now: false });
      quiet.pool.retain(128, extent);
      await vi.advanceTimersByTimeAsync(10);
      expect(quiet.made()).toBe(2);
      quiet.pool.release(128, extent);
    } finally {
      vi.useRealTimers();
    }
  });

  it(`backs a blank's memory in chunks of BACKING_CHUNK_BYTES, holding between chunks until its pause resolves`, async () => {
    const chunks = 3;
    let pauses = 0;
    let resume: () => void = () => {};
    const pause = (): Promise<void> => {
      pauses++;
      return new Promise<void>((resolve) => (resume = resolve));
    };
    const byteLength = 32 << 20;
    let done = false;
    const making = newBlankInstance(128, { byteLength, touchBytes: chunks * BACKING_CHUNK_BYTES }, (instance) => startRuntime(instance, 128), pause).then((blank) => {
      done = true;
      return blank;
    });
    for (let i = 1; i < chunks; i++) {
      await eventually(() => expect(pauses).toBe(i));
      await new Promise((r) => setImmediate(r));
      expect(done).toBe(false); // held at the pause
      resume();
    }
    const blank = await making;
    expect(pauses).toBe(chunks - 1); // none before the first chunk, one before each other
    expect(blank.started.instance.memory.buffer.byteLength).toBe(byteLength);
  });
});

describe('what a quickjs blank backs ahead of a restore', () => {
  /** The unit of an image's pages (the host's 4 KiB page since issue 21; 64 KiB before). */
  const PAGE = PAGE_BYTES;
  const MIB = 1024 * 1024;

  it("the images' pages with data and the room after the last up to touchBytes, not the holes between them", () => {
    // An image with data in pages 0-1 and 81-89 (in a trivial handler's, the span between is the C stack's region).
    const extent = { byteLength: 16 * MIB, touchBytes: 90 * PAGE + MIB, pages: [0, 1, 81, 82, 83, 84, 85, 86, 87, 88, 89] };
    expect(backedRanges(extent, 16 * MIB)).toEqual([
      [0, 2 * PAGE],
      [81 * PAGE, 90 * PAGE + MIB],
    ]);
    // Without pages (an extent from before they were kept): everything below touchBytes.
    expect(backedRanges({ byteLength: 16 * MIB, touchBytes: 90 * PAGE + MIB }, 16 * MIB)).toEqual([[0, 90 * PAGE + MIB]]);
  });

  it('never past the memory: touchBytes just under, at and just over its length', () => {
    const length = 4 * MIB;
    for (const [touchBytes, end] of [
      [length - PAGE, length - PAGE],
      [length, length],
      [length + PAGE, length],
    ] as const) {
      // Page 0 and the room after it are one range.
      expect(backedRanges({ byteLength: length, touchBytes, pages: [0] }, length), `touchBytes ${touchBytes}`).toEqual([[0, end]]);
    }
  });

  it('a blank made for an image with a hole backs the pages, not the hole (counted by its backing chunks)', async () => {
    let pauses = 0;
    const pause = async (): Promise<void> => {
      pauses++;
    };
    // Pages 0 and 600, then 1 MiB of room: two pages and 1 MiB to back, one pause.
    const extent = { byteLength: 48 * MIB, touchBytes: 601 * PAGE + MIB, pages: [0, 600] };
    const blank = await newBlankInstance(128, extent, (instance) => startRuntime(instance, 128), pause);
    expect(pauses).toBe(Math.ceil((2 * PAGE + MIB) / BACKING_CHUNK_BYTES) - 1);
    expect(blank.started.instance.memory.buffer.byteLength).toBe(48 * MIB);
  });
});

describe('a quickjs blank made holding an image (issue 21, Restore Duration)', () => {
  const MIB = 1024 * 1024;
  const PAGE = PAGE_BYTES;

  /** An image of `pages`, each page filled with its own byte (page index + fill). */
  function imageOf(pages: number[], fill: number, byteLength = 16 * MIB): MemoryPages {
    const data = new Uint8Array(new SharedArrayBuffer(pages.length * PAGE));
    pages.forEach((page, i) => data.fill((page + fill) % 255 || 1, i * PAGE, (i + 1) * PAGE));
    return { byteLength, pages: Uint32Array.from(pages), data };
  }

  /** Whether the memory equals `image` exactly: its pages hold its bytes, every other page zero. */
  function holdsExactly(memory: Uint8Array, image: MemoryPages): boolean {
    const at = new Map([...image.pages].map((page, i) => [page, i]));
    for (let page = 0; page < memory.length / PAGE; page++) {
      const i = at.get(page);
      const bytes = memory.subarray(page * PAGE, (page + 1) * PAGE);
      if (i === undefined ? bytes.some((b) => b !== 0) : !bytes.every((b, j) => b === image.data[i * PAGE + j])) return false;
    }
    return true;
  }

  it("holds the image exactly (the blank's own start's pages zeroed), pausing between chunks; another image written over it leaves nothing of the first", async () => {
    let pauses = 0;
    // Pages 1 (the blank's start wrote it too), 3, and 20 through 339: 322 pages, 1.26 MiB.
    const first = imageOf([1, 3, ...Array.from({ length: 320 }, (_, i) => 20 + i)], 5);
    const extent = { byteLength: 16 * MIB, touchBytes: 340 * PAGE, pages: [...first.pages] };
    const blank = await newBlankInstance(128, extent, (instance) => startRuntime(instance, 128), async () => void pauses++, first);
    expect(blank.holds).toBe(first);
    const memory = (): Uint8Array => new Uint8Array(blank.started.instance.memory.buffer);
    expect(holdsExactly(memory(), first)).toBe(true);
    expect([...blank.dirty.keys()].filter((page) => blank.dirty[page] === 1)).toEqual([...first.pages]);
    // Backing the 322 pages (1.26 MiB: one pause, after the first MiB), then writing them (one pause, after the 256th).
    expect(pauses).toBe(2);
    // A restore of another image into this blank: pages of the first that the second lacks are zeroed.
    const second = imageOf([0, 3, 40], 9);
    writePages(blank, second);
    expect(holdsExactly(memory(), second)).toBe(true);
  });

  it('an image the memory cannot hold leaves a plain blank (the restore then refuses it)', async () => {
    const tooBig = imageOf([2], 1, 4096 * MIB);
    const blank = await newBlankInstance(128, { byteLength: 16 * MIB, touchBytes: MIB }, (instance) => startRuntime(instance, 128), undefined, tooBig);
    expect(blank.holds).toBeUndefined();
    expect(() => writePages(blank, tooBig)).toThrow(/cannot grow/);
  });
});
