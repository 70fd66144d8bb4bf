/**
 * The pump shares its slots between queues when it is full (issue #15): a slot freed while every
 * slot is taken goes to each queue with due events in turn, so one function's backlog cannot hold
 * another's events back until it runs dry.
 */
import { describe, expect, it } from 'vitest';
import { MemoryEventQueue } from '../../src/async/memory-queue.ts';
import { EventPump } from '../../src/async/pump.ts';
import type { LeasedEvent } from '../../src/async/queue.ts';
import { TestClock } from './helpers.ts';

describe('EventPump fairness (issue #15)', () => {
  it("a full pump gives freed slots to each ready queue in turn: a neighbour's events run while a backlog of 50 waits", async () => {
    const clock = new TestClock();
    const backend = new MemoryEventQueue();
    const pump = new EventPump(backend, clock, 2, (error) => {
      throw error;
    });
    const order: string[] = [];
    const running: { lease: LeasedEvent; finish: () => void }[] = [];
    pump.route('invoke', {
      leaseMs: () => 60_000,
      run: (lease) =>
        new Promise<void>((resolve) => {
          order.push(lease.queue);
          running.push({ lease, finish: resolve });
        }).then(async () => {
          await backend.ack(lease);
        }),
    });
    const now = clock.now();
    const event = (queue: string, id: string) => ({ queue, id, body: '{}', enqueuedAt: now, availableAt: now });
    // The backlog's queue is listed first (made first).
    await backend.enqueue(Array.from({ length: 50 }, (_, i) => event('invoke:hog', `h${i}`)));
    pump.wake();
    const settle = async (): Promise<void> => {
      for (let i = 0; i < 20; i++) await new Promise((resolve) => setImmediate(resolve));
    };
    await settle();
    expect(order).toEqual(['invoke:hog', 'invoke:hog']);
    await backend.enqueue([event('invoke:victim', 'v0'), event('invoke:victim', 'v1')]);
    pump.wake();
    await settle();
    expect(running.length).toBe(2); // full: nothing more started
    // Free one slot at a time, four times: the victim's two events get two of the four.
    for (let i = 0; i < 4; i++) {
      running.shift()!.finish();
      await settle();
    }
    expect(order.slice(2, 6).filter((q) => q === 'invoke:victim')).toHaveLength(2);
    while (running.length > 0) {
      running.shift()!.finish();
      await settle();
    }
    expect(order.filter((q) => q === 'invoke:hog')).toHaveLength(50);
    expect(order.filter((q) => q === 'invoke:victim')).toHaveLength(2);
    await pump.close();
  });
});
