/** test/helpers/cpu-log-report.ts: the CPU log's summary (issue #12: where the suite's CPU goes). */
import { describe, expect, it } from 'vitest';
import { rankCases, summariseCpuLog } from '../helpers/cpu-log-report.ts';

describe('CPU log summary', () => {
  it('ranks files by own + children CPU, totals them and counts the processes; blank lines are skipped', () => {
    const text = [
      { file: '/r/test/a.test.ts', pid: 1, cpuS: 2, childrenCpuS: 0, wallS: 9 },
      { file: '/r/test/b.test.ts', pid: 1, cpuS: 0.5, childrenCpuS: 3, wallS: 20 },
      { file: '/r/test/c.test.ts', pid: 2, cpuS: 1, childrenCpuS: 0, wallS: 1 },
    ]
      .map((line) => JSON.stringify(line))
      .join('\n');
    const summary = summariseCpuLog(`${text}\n\n`);
    expect(summary.files.map((f) => [f.file, f.costS])).toEqual([
      ['/r/test/b.test.ts', 3.5],
      ['/r/test/a.test.ts', 2],
      ['/r/test/c.test.ts', 1],
    ]);
    expect(summary.totalS).toBe(6.5);
    expect(summary.processes).toBe(2);
  });

  it('an empty log is zero files, zero CPU; a line that is not JSON throws', () => {
    expect(summariseCpuLog('')).toEqual({ totalS: 0, processes: 0, files: [] });
    expect(() => summariseCpuLog('{"file":')).toThrow(SyntaxError);
  });

  it('ranks per-case lines by CPU, costliest first; blank lines are skipped', () => {
    const text = [
      { file: '/r/test/a.test.ts', test: 'one', cpuS: 0.2, wallS: 1 },
      { file: '/r/test/a.test.ts', test: 'two', cpuS: 1.5, wallS: 2 },
      { file: '/r/test/b.test.ts', test: 's > three', cpuS: 0.7, wallS: 0.5 },
    ]
      .map((line) => JSON.stringify(line))
      .join('\n');
    expect(rankCases(`${text}\n\n`).map((c) => c.test)).toEqual(['two', 's > three', 'one']);
    expect(rankCases('')).toEqual([]);
  });
});
