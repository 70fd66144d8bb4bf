/**
 * Summarises a CPU log written by test/helpers/cpu-log.ts:
 *
 *   LAMBDALET_TEST_CPU_LOG=/tmp/cpu.jsonl npx vitest run
 *   node test/helpers/cpu-log-report.ts /tmp/cpu.jsonl [rows]
 *
 * prints the total CPU seconds of the test processes and their children, then the files by cost
 * (own CPU + children's), largest first, each with its share of the total, running share and wall time.
 *
 *   LAMBDALET_TEST_CPU_LOG_CASES=/tmp/cases.jsonl npx vitest run
 *   node test/helpers/cpu-log-report.ts --cases /tmp/cases.jsonl [rows]
 *
 * prints the test cases by their process's CPU seconds, largest first.
 */
import { readFileSync } from 'node:fs';
import { relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { CpuCaseLine, CpuLogLine } from './cpu-log.ts';

export interface CpuSummary {
  /** Sum of every file's `cpuS + childrenCpuS`, in CPU seconds. */
  readonly totalS: number;
  /** Test processes that wrote lines (one per fork). */
  readonly processes: number;
  /** Every file, costliest first (`costS = cpuS + childrenCpuS`). */
  readonly files: readonly (CpuLogLine & { readonly costS: number })[];
}

/** Parses JSON lines (blank lines skipped) and ranks the files by CPU cost. */
export function summariseCpuLog(text: string): CpuSummary {
  const lines = text
    .split('\n')
    .filter((line) => line.trim() !== '')
    .map((line) => JSON.parse(line) as CpuLogLine);
  const files = lines.map((line) => ({ ...line, costS: line.cpuS + line.childrenCpuS })).sort((a, b) => b.costS - a.costS);
  return { totalS: files.reduce((sum, f) => sum + f.costS, 0), processes: new Set(lines.map((l) => l.pid)).size, files };
}

/** Parses per-case JSON lines (blank lines skipped), costliest case first. */
export function rankCases(text: string): CpuCaseLine[] {
  return text
    .split('\n')
    .filter((line) => line.trim() !== '')
    .map((line) => JSON.parse(line) as CpuCaseLine)
    .sort((a, b) => b.cpuS - a.cpuS);
}

function printCases(path: string, rows: number, root: string): void {
  const cases = rankCases(readFileSync(path, 'utf8'));
  const total = cases.reduce((sum, c) => sum + c.cpuS, 0);
  console.log(`${cases.length} cases, ${total.toFixed(1)} CPU-s (own process, hooks included)`);
  console.log('   cpu   wall  case');
  for (const c of cases.slice(0, rows)) {
    console.log(`${c.cpuS.toFixed(2).padStart(6)} ${c.wallS.toFixed(1).padStart(6)}  ${relative(root, c.file)} > ${c.test}`);
  }
}

if (process.argv[1] === fileURLToPath(import.meta.url) && process.argv[2] === '--cases') {
  const [path, rows = '40'] = process.argv.slice(3);
  if (!path) throw new Error('usage: node test/helpers/cpu-log-report.ts --cases <case log> [rows]');
  printCases(path, Number(rows), fileURLToPath(new URL('../..', import.meta.url)));
} else if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const [path, rows = '40'] = process.argv.slice(2);
  if (!path) throw new Error('usage: node test/helpers/cpu-log-report.ts <cpu log> [rows]');
  const summary = summariseCpuLog(readFileSync(path, 'utf8'));
  const root = fileURLToPath(new URL('../..', import.meta.url));
  console.log(`${summary.files.length} files, ${summary.processes} test processes, ${summary.totalS.toFixed(1)} CPU-s (own + children)`);
  console.log('  cost    own  child   wall  share  running  file');
  let running = 0;
  for (const f of summary.files.slice(0, Number(rows))) {
    running += f.costS;
    const pct = (s: number): string => `${((s / summary.totalS) * 100).toFixed(1)}%`;
    console.log(
      [f.costS, f.cpuS, f.childrenCpuS, f.wallS].map((s) => s.toFixed(1).padStart(6)).join(' '),
      pct(f.costS).padStart(6),
      pct(running).padStart(8),
      ` ${relative(root, f.file)}`,
    );
  }
}
