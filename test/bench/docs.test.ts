// The bench modes are described the same way in README.md, docs/benchmarks.md and bench/run.ts
// (issue #12: they disagreed on both durations), and what `--quick` runs is what they say.
import { readFile } from 'node:fs/promises';
import { describe, expect, it } from 'vitest';

const read = (path: string): Promise<string> => readFile(new URL(`../../${path}`, import.meta.url), 'utf8');

describe('bench docs', () => {
  it('--quick runs the cold and warm areas, and every doc says so and that it takes under a minute', async () => {
    const run = await read('bench/run.ts');
    expect(run).toContain("const QUICK_AREAS = ['cold', 'warm'];");
    const readme = await read('README.md');
    const benchmarks = await read('docs/benchmarks.md');
    expect(readme).toMatch(/npm run bench:quick +# cold and warm starts per engine beside the raw engines: under a minute/);
    expect(benchmarks).toMatch(/npm run bench:quick +# areas cold and warm only, fewer samples: under a minute/);
    // Neither repeats the old claims (README "~2 min" full run, docs "about 30 s" quick run).
    for (const doc of [readme, benchmarks]) {
      expect(doc).not.toMatch(/about 30 s|~2 min/);
      expect(doc).toMatch(/npm run bench +# every area, full samples/);
    }
  });

  it('every area run.ts knows is named in its header comment', async () => {
    const run = await read('bench/run.ts');
    const areas = [...run.slice(run.indexOf('const AREAS')).matchAll(/^ {2}(\w+): \w+Area,$/gm)].map((m) => m[1]!);
    expect(areas).toEqual(expect.arrayContaining(['cold', 'snapstart', 'warm']));
    const header = run.slice(0, run.indexOf('*/'));
    for (const area of areas) expect(header).toContain(area);
  });
});
