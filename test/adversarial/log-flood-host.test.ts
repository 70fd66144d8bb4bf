/**
 * A console flood costs the host no more than the log it keeps (issue #15). The host keeps 10 MiB of
 * a phase's output (LogCollector LOG_CHARS_PER_PHASE); the guest runtime stops sending lines the
 * host would drop. Before, in-process v8 copied every line to the host's thread first (isolated-vm's
 * fire-and-forget callbacks): 1 MiB lines for 5 s grew the host's RSS by 2.2 GB and held its thread.
 */
import { describe, expect, it } from 'vitest';
import { LOG_CHARS_PER_PHASE } from '../../src/environment/log-collector.ts';
import { createRuntime } from '../../src/index.ts';
import { GENEROUS_TIMEOUT_MS, SLOW_CASE_LIMIT_MS } from '../helpers/runtime.ts';

describe('console flood: host memory (issue #15)', () => {
  it(
    "in-process v8: 600 lines of 1 MiB reach the host as its 10 MiB, one notice, and the host's RSS grows by far less than the 600 MiB written; a neighbour answers",
    async () => {
      const lines: string[] = [];
      const rt = await createRuntime({ logSink: { write: (line: string) => void lines.push(line) } });
      try {
        await rt.deploy({
          name: 'flood',
          code: { files: { 'index.mjs': 'export const handler = async (e) => { const s = "x".repeat(1 << 20) + e.tag; for (let i = 0; i < 600; i++) console.log(s); return "done"; }' } },
          memoryMb: 256,
          timeoutMs: GENEROUS_TIMEOUT_MS,
        });
        await rt.deploy({ name: 'neighbour', code: { files: { 'index.mjs': 'export const handler = async () => "here"' } } });
        // A small warm-up flood first, so the RSS baseline has the environment in it.
        await rt.invoke('flood', { tag: 'warm' });
        lines.length = 0;
        const base = process.memoryUsage().rss;
        let peak = base;
        const sampler = setInterval(() => (peak = Math.max(peak, process.memoryUsage().rss)), 5);
        const result = await rt.invoke('flood', { tag: 'y' });
        clearInterval(sampler);
        peak = Math.max(peak, process.memoryUsage().rss);
        expect(result.payload).toBe('done');
        const flood = lines.filter((l) => l.includes('\tINFO\t'));
        const chars = flood.reduce((n, l) => n + l.length, 0);
        expect(chars).toBeLessThanOrEqual(LOG_CHARS_PER_PHASE + 300 * 1024);
        expect(flood[0]).toContain('... [truncated]'); // each 1 MiB line cut at 256 KiB, as before
        expect(lines.filter((l) => /\tWARN\t\[lambdalet\] this phase wrote more than \d+ characters of logs; later lines are dropped$/.test(l))).toHaveLength(1);
        // 600 MiB written; without the guest's bound the host held hundreds of MB of it at once.
        expect(peak - base).toBeLessThan(200 * 1024 * 1024);
        expect((await rt.invoke('neighbour', {})).payload).toBe('here');
        // The next invocation has its own budget.
        lines.length = 0;
        await rt.invoke('flood', { tag: 'z' });
        expect(lines.filter((l) => l.includes('\tINFO\t')).length).toBeGreaterThan(30);
      } finally {
        await rt.close();
      }
    },
    SLOW_CASE_LIMIT_MS,
  );

  it(
    'in-process v8: 1,000,000 empty console.log lines reach the sink as at most the 10 MiB budget of prefixed lines, with the notice; the host does not hold them',
    async () => {
      let count = 0;
      let chars = 0;
      const notices: string[] = [];
      const rt = await createRuntime({
        logSink: {
          write: (line: string) => {
            count++;
            chars += line.length + 1;
            if (line.includes('later lines are dropped')) notices.push(line);
          },
        },
      });
      try {
        await rt.deploy({
          name: 'empty',
          code: { files: { 'index.mjs': 'export const handler = async () => { for (let i = 0; i < 1e6; i++) console.log(""); return "done"; }' } },
          timeoutMs: GENEROUS_TIMEOUT_MS,
        });
        await rt.deploy({ name: 'neighbour', code: { files: { 'index.mjs': 'export const handler = async () => "here"' } } });
        await rt.invoke('neighbour', {});
        const base = process.memoryUsage().rss;
        let peak = base;
        const sampler = setInterval(() => (peak = Math.max(peak, process.memoryUsage().rss)), 5);
        const result = await rt.invoke('empty', {});
        clearInterval(sampler);
        expect(result.payload).toBe('done');
        expect(notices).toHaveLength(1);
        // Before: all 1,000,000 lines, about 70 MB, went to the sink (each counted as 0 characters).
        expect(chars).toBeLessThan(LOG_CHARS_PER_PHASE + 64 * 1024);
        expect(count).toBeLessThan(200_000);
        expect(peak - base).toBeLessThan(200 * 1024 * 1024);
        expect((await rt.invoke('neighbour', {})).payload).toBe('here');
      } finally {
        await rt.close();
      }
    },
    SLOW_CASE_LIMIT_MS,
  );
});
