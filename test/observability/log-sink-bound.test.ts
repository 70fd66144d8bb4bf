/**
 * Issue #15 (red team: the stdout log sink buffered 210 MB of a console flood). The sink holds at
 * most about its bound of lines waiting for a stream that is not keeping up; past it, lines are
 * dropped until the stream drains, then one line gives their count. Driven with a Writable that
 * accepts nothing until the test lets it (no timing): the bound at, just under and just over.
 */
import { Writable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { boundedStreamSink, droppedLinesNotice } from '../../src/observability/log-sink.ts';

const meta = { functionName: 'f', logStreamName: 's' };

/** A stream whose writes complete only when `release()` is called. */
function stalledStream(): { stream: Writable; written: string[]; release(): void } {
  const written: string[] = [];
  const pending: (() => void)[] = [];
  let released = false;
  const stream = new Writable({
    highWaterMark: 16,
    decodeStrings: false,
    write(chunk: string, _encoding, callback) {
      written.push(chunk);
      if (released) callback();
      else pending.push(callback);
    },
  });
  return {
    stream,
    written,
    release() {
      released = true;
      for (const callback of pending.splice(0)) callback();
    },
  };
}

describe('boundedStreamSink', () => {
  const BOUND = 100;
  const line = 'x'.repeat(9); // 10 bytes with its newline

  it('writes every line while the buffer is under the bound; at the bound it drops', () => {
    const { stream } = stalledStream();
    const sink = boundedStreamSink(stream, BOUND);
    for (let i = 0; i < 10; i++) sink.write(line, meta); // 100 bytes: the first is in flight, 90 buffered
    expect(stream.writableLength).toBe(100);
    sink.write(line, meta); // at the bound: dropped
    expect(stream.writableLength).toBe(100);
  });

  it('just under the bound one more line is taken', () => {
    const { stream } = stalledStream();
    const sink = boundedStreamSink(stream, BOUND + 1);
    for (let i = 0; i < 10; i++) sink.write(line, meta);
    sink.write(line, meta); // 100 < 101: written
    expect(stream.writableLength).toBe(110);
    sink.write(line, meta); // over: dropped
    expect(stream.writableLength).toBe(110);
  });

  it('a flood of 100,000 lines holds at most the bound plus one line; after the drain one line counts the dropped', async () => {
    const { stream, written, release } = stalledStream();
    const sink = boundedStreamSink(stream, BOUND);
    let highest = 0;
    for (let i = 0; i < 100_000; i++) {
      sink.write(line, meta);
      highest = Math.max(highest, stream.writableLength);
    }
    expect(highest).toBeLessThanOrEqual(BOUND + line.length + 1);
    const drained = new Promise((resolve) => stream.once('drain', resolve));
    release();
    await drained;
    await new Promise((resolve) => setImmediate(resolve));
    expect(written.filter((chunk) => chunk === `${line}\n`)).toHaveLength(10);
    expect(written.at(-1)).toBe(`${droppedLinesNotice(100_000 - 10, BOUND)}\n`);
    // Lines flow again afterwards.
    sink.write('after', meta);
    expect(written.at(-1)).toBe('after\n');
  });
});
