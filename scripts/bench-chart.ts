/**
 * Draws docs/bench-cold-start.svg from a bench report: median cold start of the trivial handler
 * per engine and baseline, as horizontal bars on a log scale (p99 as a whisker).
 *
 *   node scripts/bench-chart.ts [report.json] [out.svg]
 *   (defaults: bench/results/latest.json → docs/bench-cold-start.svg)
 *
 * Hand-written SVG: no charting dependency.
 */
import { readFile, writeFile } from 'node:fs/promises';
import { resolve } from 'node:path';

interface CaseResult {
  median: number;
  p99: number;
  samples: number;
}
interface Report {
  node: string;
  cpu: string;
  cpuCount: number;
  date: string;
  mode: string;
  cases: Record<string, CaseResult>;
}

const [input = 'bench/results/latest.json', output = 'docs/bench-cold-start.svg'] = process.argv.slice(2);
const report = JSON.parse(await readFile(resolve(input), 'utf8')) as Report;

const PREFIX = 'cold/trivial/';
const LAMBDALET = new Set(['v8', 'quickjs', 'quickjs-shared']);
const rows = Object.entries(report.cases)
  .filter(([name]) => name.startsWith(PREFIX))
  .map(([name, r]) => ({ label: name.slice(PREFIX.length), ...r, ours: LAMBDALET.has(name.slice(PREFIX.length)) }))
  .sort((a, b) => a.median - b.median);
if (rows.length === 0) throw new Error(`${input} has no ${PREFIX}* cases`);

const escape = (s: string): string => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
const fmt = (ms: number): string => (ms < 1 ? `${(ms * 1000).toFixed(0)} µs` : ms < 10 ? `${ms.toFixed(2)} ms` : `${ms.toFixed(1)} ms`);

const width = 760;
const left = 230;
const right = 90;
const top = 58;
const barH = 22;
const gap = 8;
const plotW = width - left - right;
const height = top + rows.length * (barH + gap) + 46;
const lo = Math.pow(10, Math.floor(Math.log10(Math.min(...rows.map((r) => r.median)))));
const hi = Math.pow(10, Math.ceil(Math.log10(Math.max(...rows.map((r) => r.p99)))));
const x = (ms: number): number => left + (Math.log10(ms / lo) / Math.log10(hi / lo)) * plotW;

const parts: string[] = [];
parts.push(`<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" font-family="system-ui, -apple-system, Segoe UI, sans-serif" font-size="13">`);
parts.push(`<rect width="${width}" height="${height}" fill="#ffffff"/>`);
parts.push(`<text x="16" y="24" font-size="16" font-weight="600" fill="#111">Cold start, trivial handler: new environment + first invoke (median, log scale)</text>`);
parts.push(
  `<text x="16" y="44" fill="#555">${escape(`${report.date.slice(0, 10)} · node ${report.node} · ${report.cpuCount} × ${report.cpu} · ${report.mode} run · whisker = p99 · shorter is better`)}</text>`,
);
for (let t = lo; t <= hi; t *= 10) {
  const tx = x(t);
  parts.push(`<line x1="${tx.toFixed(1)}" y1="${top - 6}" x2="${tx.toFixed(1)}" y2="${height - 36}" stroke="#e3e3e3"/>`);
  parts.push(`<text x="${tx.toFixed(1)}" y="${height - 20}" text-anchor="middle" fill="#666">${fmt(t)}</text>`);
}
rows.forEach((r, i) => {
  const y = top + i * (barH + gap);
  const w = Math.max(1, x(r.median) - left);
  const fill = r.ours ? '#2f6fdf' : r.label === 'node-vm' ? '#c9c9c9' : '#8a8a8a';
  const label = r.label === 'node-vm' ? 'node-vm (no isolation)' : r.ours ? `lambdalet ${r.label}` : r.label;
  parts.push(`<text x="${left - 10}" y="${y + barH / 2 + 4}" text-anchor="end" fill="#111"${r.ours ? ' font-weight="600"' : ''}>${escape(label)}</text>`);
  parts.push(`<rect x="${left}" y="${y}" width="${w.toFixed(1)}" height="${barH}" rx="3" fill="${fill}"/>`);
  const px = x(Math.max(r.p99, r.median));
  parts.push(`<line x1="${(left + w).toFixed(1)}" y1="${y + barH / 2}" x2="${px.toFixed(1)}" y2="${y + barH / 2}" stroke="#333"/>`);
  parts.push(`<line x1="${px.toFixed(1)}" y1="${y + 5}" x2="${px.toFixed(1)}" y2="${y + barH - 5}" stroke="#333"/>`);
  parts.push(`<text x="${(px + 6).toFixed(1)}" y="${y + barH / 2 + 4}" fill="#111">${fmt(r.median)}</text>`);
});
parts.push('</svg>');
await writeFile(resolve(output), `${parts.join('\n')}\n`);
console.log(`wrote ${output} (${rows.length} bars from ${input})`);
