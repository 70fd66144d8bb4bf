import { describe, expect, it } from 'vitest';
import { TimerQueue } from '../../../src/engines/guest/timers.ts';

/**
 * The guest's timer queue against Node's event loop as a Lambda handler meets it. The handler runs
 * in the poll phase (the runtime client's I/O callback), so the check phase comes next: Node's docs,
 * The Node.js Event Loop, "setImmediate() vs setTimeout()": "if both are called within an I/O cycle,
 * the immediate callback is always executed first" — however long the handler's own code took.
 */
function queueAt(start = 1_000): { queue: TimerQueue; advance: (ms: number) => void } {
  let now = start;
  return { queue: new TimerQueue(() => now), advance: (ms) => void (now += ms) };
}

describe('guest TimerQueue', () => {
  it('an immediate runs before a timer that fell due while the handler was still running (a 20 ms timer, a 25 ms stall)', () => {
    const { queue, advance } = queueAt();
    const order: string[] = [];
    queue.add(() => order.push('timeout'), 20, [], false);
    advance(25); // the handler's own code, a GC, or a busy machine, between the two calls
    queue.addImmediate(() => order.push('immediate'), []);
    expect(queue.nextDueIn()).toBe(0);
    queue.runDue();
    expect(order).toEqual(['immediate', 'timeout']);
  });

  it('immediates run in the order queued; one queued by an immediate or a timer waits for the next turn, still before later timers', () => {
    const { queue, advance } = queueAt();
    const order: string[] = [];
    queue.addImmediate(() => {
      order.push('i1');
      queue.addImmediate(() => order.push('i3 (from i1)'), []);
    }, []);
    queue.addImmediate(() => order.push('i2'), []);
    queue.add(() => {
      order.push('t1');
      queue.addImmediate(() => order.push('i4 (from t1)'), []);
    }, 1, [], false);
    queue.add(() => order.push('t2'), 5, [], false);
    advance(1);
    queue.runDue();
    expect(order).toEqual(['i1', 'i2', 't1']);
    expect(queue.nextDueIn()).toBe(0); // i3 and i4 are waiting
    advance(10); // t2 is due too: the turn's immediates still come first
    queue.runDue();
    expect(order).toEqual(['i1', 'i2', 't1', 'i3 (from i1)', 'i4 (from t1)', 't2']);
    expect(queue.nextDueIn()).toBe(-1);
  });

  it('clearImmediate before its turn stops it, also from an earlier immediate of the same turn; an unref\'d immediate does not keep the loop alive', () => {
    const { queue } = queueAt();
    const order: string[] = [];
    queue.clear(queue.addImmediate(() => order.push('cleared before the turn'), []));
    queue.addImmediate(() => {
      order.push('first');
      queue.clear(later);
    }, []);
    const later = queue.addImmediate(() => order.push('cleared by first'), []);
    queue.addImmediate(() => order.push('last'), []);
    queue.runDue();
    expect(order).toEqual(['first', 'last']);
    const handle = queue.addImmediate(() => order.push('unref'), []);
    handle.unref();
    expect(queue.nextDueIn()).toBe(-1);
    handle.ref();
    expect(queue.nextDueIn()).toBe(0);
  });

  it('timers run in due order, then by the order set; a timer not yet due waits (at, just under its time)', () => {
    const { queue, advance } = queueAt();
    const order: string[] = [];
    queue.add(() => order.push('b 10'), 10, [], false);
    queue.add(() => order.push('a 5'), 5, [], false);
    queue.add(() => order.push('c 10'), 10, [], false);
    advance(9);
    queue.runDue();
    expect(order).toEqual(['a 5']);
    expect(queue.nextDueIn()).toBe(1);
    advance(1);
    queue.runDue();
    expect(order).toEqual(['a 5', 'b 10', 'c 10']);
  });

  it("an unref'd timer due before a ref'd one wakes the loop at its own time (AbortSignal.timeout(5) beside a 60 s timer); alone it keeps nothing alive", () => {
    const { queue, advance } = queueAt();
    const order: string[] = [];
    queue.add(() => order.push('unref 5'), 5, [], false).unref();
    expect(queue.nextDueIn()).toBe(-1);
    expect(queue.nextDueIn(true)).toBe(5); // while a host operation keeps the loop alive
    const long = queue.add(() => order.push('ref 60000'), 60_000, [], false);
    expect(queue.nextDueIn()).toBe(5);
    advance(5);
    queue.runDue();
    expect(order).toEqual(['unref 5']);
    expect(queue.nextDueIn()).toBe(59_995);
    queue.clear(long);
    expect(queue.nextDueIn()).toBe(-1);
  });
});
