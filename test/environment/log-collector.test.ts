/**
 * The log collector's per-phase cap (LOG_CHARS_PER_PHASE): a console flood cannot fill the host's
 * sink. Lambda publishes no per-invocation figure (CloudWatch's 256 KB event limit is the per-line
 * cut, MAX_LINE_CHARS); the cap is lambdalet's. Boundaries: at, just under and just over.
 */
import { describe, expect, it } from 'vitest';
import { REMAP_POSITIONS_PER_PHASE, type RemapBudget } from '../../src/code/stack-remap.ts';
import { LOG_CHARS_PER_PHASE, LogCollector } from '../../src/environment/log-collector.ts';
import { applicationLine } from '../../src/observability/log-lines.ts';

function collector(): { logs: LogCollector; lines: string[] } {
  const lines: string[] = [];
  const logs = new LogCollector({ write: (line) => lines.push(line) }, 'f', 'stream', { filename: '/var/task/index.mjs', remapStack: (s) => [...s] });
  return { logs, lines };
}

/**
 * What a line costs beyond its text: the collector counts the line the sink is given and its line
 * end (issue #15: empty lines were free), here `<timestamp>\tr1\tINFO\t` and the newline.
 */
const OVERHEAD = applicationLine(new Date(), 'r1', 'INFO', '').length + 1;

/** Writes guest lines (of at most 200,000 characters) that the collector counts as `total` characters in all. */
function fill(logs: LogCollector, total: number): void {
  let left = total;
  while (left > 200_000 + 2 * OVERHEAD) {
    logs.guestLine('INFO', 'x'.repeat(200_000));
    left -= 200_000 + OVERHEAD;
  }
  logs.guestLine('INFO', 'x'.repeat(left - OVERHEAD));
}

describe('LogCollector: per-phase log cap', () => {
  it('just under the cap: every line is written', () => {
    const { logs, lines } = collector();
    logs.requestId = 'r1';
    fill(logs, LOG_CHARS_PER_PHASE - 1);
    logs.guestLine('INFO', 'y');
    expect(lines.every((l) => l.includes('\tINFO\t'))).toBe(true);
    expect(lines.at(-1)!.endsWith('\tINFO\ty')).toBe(true);
    expect(logs.droppedLines).toBe(0);
  });

  it('at the cap: the next line is dropped, with one WARN notice naming the cap', () => {
    const { logs, lines } = collector();
    logs.requestId = 'r1';
    fill(logs, LOG_CHARS_PER_PHASE);
    const written = lines.length;
    logs.guestLine('INFO', 'over');
    logs.guestLine('ERROR', 'over again');
    expect(lines).toHaveLength(written + 1);
    expect(lines.at(-1)).toMatch(new RegExp(`\\tr1\\tWARN\\t\\[lambdalet\\] this phase wrote more than ${LOG_CHARS_PER_PHASE} characters of logs; later lines are dropped$`));
    expect(logs.droppedLines).toBe(2);
  });

  it('just over the cap in one line: that line is still written (the cap is checked before a line), later ones are not', () => {
    const { logs, lines } = collector();
    logs.requestId = 'r1';
    fill(logs, LOG_CHARS_PER_PHASE - 1);
    logs.guestLine('INFO', 'zz');
    expect(lines.at(-1)!.endsWith('\tINFO\tzz')).toBe(true);
    logs.guestLine('INFO', 'dropped');
    expect(lines.some((l) => l.endsWith('\tdropped'))).toBe(false);
  });

  it('a new phase (the next request id) starts a new budget; platform lines are never capped', () => {
    const { logs, lines } = collector();
    logs.requestId = 'r1';
    fill(logs, LOG_CHARS_PER_PHASE + 1);
    logs.guestLine('INFO', 'dropped');
    logs.platformLine('END RequestId: r1');
    expect(lines.at(-1)).toBe('END RequestId: r1');
    logs.requestId = 'r2';
    logs.guestLine('INFO', 'fresh');
    expect(lines.at(-1)!.endsWith('\tr2\tINFO\tfresh')).toBe(true);
    expect(logs.droppedLines).toBe(0);
  });
});

describe('LogCollector: the phase source-mapping budget (issue #15)', () => {
  it('log lines and the error trace of one phase share one budget; a new phase gets a fresh one', () => {
    const budgets: RemapBudget[] = [];
    const bundle = {
      filename: '/var/task/index.mjs',
      remapStack: (lines: readonly string[], budget?: RemapBudget): string[] => {
        budgets.push(budget!);
        budget!.positions -= 1;
        return [...lines];
      },
    };
    const logs = new LogCollector({ write: () => {} }, 'f', 'stream', bundle);
    logs.requestId = 'r1';
    logs.guestLine('INFO', '    at f (/var/task/index.mjs:1:2)');
    logs.guestLine('INFO', 'no position here'); // not handed to the remapper at all
    logs.remapStack(['    at f (/var/task/index.mjs:1:2)']);
    expect(budgets).toHaveLength(2);
    expect(budgets[0]).toBe(budgets[1]);
    expect(budgets[0]!.positions).toBe(REMAP_POSITIONS_PER_PHASE - 2);
    logs.requestId = 'r2';
    logs.guestLine('INFO', '    at f (/var/task/index.mjs:1:2)');
    expect(budgets[2]).not.toBe(budgets[0]);
    expect(budgets[2]!.positions).toBe(REMAP_POSITIONS_PER_PHASE - 1);
  });
});

describe('LogCollector: empty lines count (issue #15)', () => {
  it('an empty line costs its prefix and line end: a flood of them reaches the cap and its notice', () => {
    const { logs, lines } = collector();
    logs.requestId = 'r1';
    for (let i = 0; i < 1_000_000 && logs.droppedLines === 0; i++) logs.guestLine('INFO', '');
    expect(logs.droppedLines).toBe(1);
    expect(lines.length).toBeLessThan(Math.ceil(LOG_CHARS_PER_PHASE / OVERHEAD) + 2);
    expect(lines.at(-1)).toMatch(/later lines are dropped$/);
  });
});
