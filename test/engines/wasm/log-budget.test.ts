/** The wasm sandbox's log budget per phase (src/engines/wasm/log-budget.ts, issue #15). */
import { describe, expect, it } from 'vitest';
import { LOG_LINE_CHARS, PHASE_LOG_CHARS, PhaseLogBudget, SLACK_CHARS } from '../../../src/engines/wasm/log-budget.ts';
import { LOG_CHARS_PER_PHASE } from '../../../src/environment/log-collector.ts';

describe('PhaseLogBudget (issue #15)', () => {
  it("uses the log collector's per-phase bound", () => {
    expect(PHASE_LOG_CHARS).toBe(LOG_CHARS_PER_PHASE);
  });

  it('sends lines whole up to the line bound, one character past it when longer, and nothing past the phase bound plus the slack, until reset', () => {
    const budget = new PhaseLogBudget();
    expect(budget.admit('short')).toBe('short');
    expect(budget.admit('a'.repeat(LOG_LINE_CHARS + 1))).toHaveLength(LOG_LINE_CHARS + 1);
    expect(budget.admit('b'.repeat(4 * LOG_LINE_CHARS))).toHaveLength(LOG_LINE_CHARS + 1);
    let sent = 5 + 2 * (LOG_LINE_CHARS + 1);
    const line = 'c'.repeat(1024 * 1024);
    let lines = 0;
    for (let i = 0; i < 200; i++) {
      const text = budget.admit(line);
      if (text === undefined) continue;
      lines++;
      sent += text.length;
    }
    expect(sent).toBeGreaterThan(PHASE_LOG_CHARS + SLACK_CHARS);
    expect(sent).toBeLessThanOrEqual(PHASE_LOG_CHARS + SLACK_CHARS + LOG_LINE_CHARS + 1);
    expect(lines).toBeLessThan(50);
    expect(budget.admit('x')).toBeUndefined();
    budget.reset();
    expect(budget.admit('x')).toBe('x');
  });
});
