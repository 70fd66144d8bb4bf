// Smoke tests: each runnable example runs to completion and prints what its README promises, so
// the examples cannot rot. (examples/unit-testing/ has its own tests, in vitest's include.)
import { spawn } from 'node:child_process';
import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { main } from '../../src/cli/main.ts';
import { collectRun, type Run } from '../helpers/process.ts';
import { SLOW_CASE_LIMIT_MS } from '../helpers/runtime.ts';

const root = fileURLToPath(new URL('../..', import.meta.url));

function runExample(script: string, args: readonly string[] = []): Promise<Run> {
  const env = { ...process.env };
  delete env.NODE_OPTIONS;
  return collectRun(spawn(process.execPath, ['--no-node-snapshot', script, ...args], { cwd: root, env }));
}

/** The example's README: one line that ends with the commands to run it. */
function readme(example: string): Promise<string> {
  return readFile(join(root, 'examples', example, 'README.md'), 'utf8');
}

/** The backticked command in `text` that starts with `prefix`. */
function command(text: string, prefix: string): string {
  const found = [...text.matchAll(/`([^`]+)`/g)].map((m) => m[1]!).find((c) => c.startsWith(prefix));
  if (found === undefined) throw new Error(`no \`${prefix}…\` command in: ${text}`);
  return found;
}

/** Shell words: spaces split, single quotes keep (all these READMEs use). */
function words(line: string): string[] {
  return [...line.matchAll(/'([^']*)'|(\S+)/g)].map((m) => m[1] ?? m[2]!);
}

/** `npm run lambdalet -- <args>`, run in this process through the CLI's main() (as bin/lambdalet.js does). */
async function cli(args: readonly string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  let stdout = '';
  let stderr = '';
  const code = await main(args, {
    stdout: { write: (t: string) => (stdout += t) },
    stderr: { write: (t: string) => (stderr += t) },
    stdin: Readable.from([]),
    stdoutIsTTY: false,
    stderrIsTTY: false,
  });
  return { code, stdout, stderr };
}

// Each case runs an example in a child Node (its own start-up, bundling, sandboxes): four at once on
// a saturated 2-core machine passed the default 60 s limit, so these limits are hang detectors only.
describe.concurrent("the examples' README commands", { timeout: SLOW_CASE_LIMIT_MS }, () => {
  it('every example directory has a README (the top README promises one line each)', async () => {
    const dirs = (await readdir(join(root, 'examples'), { withFileTypes: true })).filter((d) => d.isDirectory()).map((d) => d.name);
    expect(dirs.length).toBeGreaterThanOrEqual(8);
    for (const dir of dirs) expect((await readme(dir)).trim().length, `examples/${dir}/README.md`).toBeGreaterThan(40);
    expect(await readFile(join(root, 'README.md'), 'utf8')).toContain('Each has a README line');
  });

  it('zip-package: run.ts --out keeps the zip, and `lambdalet invoke` runs it', async () => {
    const line = command(await readme('zip-package'), 'node --no-node-snapshot examples/zip-package/run.ts --out ');
    const [build, invoke] = line.split(' && ') as [string, string];
    const dir = await mkdtemp(join(tmpdir(), 'lambdalet-zip-readme-'));
    try {
      // The README writes function.zip in the current directory; here it goes to a temporary one.
      const zip = join(dir, 'function.zip');
      const built = await runExample('examples/zip-package/run.ts', words(build).slice(3).map((w) => (w === 'function.zip' ? zip : w)));
      expect(built.code, built.stderr).toBe(0);
      expect(await readdir(dir)).toEqual(['function.zip']);
      expect(invoke.startsWith('npm run lambdalet -- invoke function.zip ')).toBe(true);
      const run = await cli(words(invoke).slice(4).map((w) => (w === 'function.zip' ? zip : w)));
      expect(run.code, run.stderr).toBe(0);
      expect(JSON.parse(run.stdout)).toEqual({ slug: 'hi', region: 'us-east-1' });
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  it('cold-warm-bench: `lambdalet bench handler.ts --event …` measures it (fewer iterations here)', async () => {
    const line = command(await readme('cold-warm-bench'), 'npm run lambdalet -- bench ');
    const args = words(line).slice(4);
    const at = args.indexOf('--iterations');
    expect(at).toBeGreaterThan(0);
    args.splice(at, 2, '--iterations', '2', '--json');
    const run = await cli(args);
    expect(run.code, run.stdout + run.stderr).toBe(0);
    const report = JSON.parse(run.stdout) as { cold: { samples: number }; warm: { samples: number } };
    expect(report.cold.samples).toBe(2);
    expect(report.warm.samples).toBe(2);
  });
});

describe.concurrent('examples', { timeout: SLOW_CASE_LIMIT_MS }, () => {
  it('zip-package: deploys the zip (ESM handler + node_modules dependency) and invokes it', async () => {
    const run = await runExample('examples/zip-package/run.ts');
    expect(run.stderr).toBe('');
    expect(run.code).toBe(0);
    expect(run.stdout).toMatch(/built .*function\.zip: index\.mjs, package\.json, node_modules\/slugify\/index\.js, node_modules\/slugify\/package\.json/);
    expect(run.stdout).toContain('payload: {"slug":"creme-brulee-a-recipe","region":"us-east-1"}');
    expect(run.stdout).toMatch(/^REPORT RequestId: .*Init Duration/m);
  });

  it('cold-warm-bench: measures cold and warm starts with tinybench', async () => {
    const run = await runExample('examples/cold-warm-bench/bench.ts', ['--iterations', '3']);
    expect(run.stderr).toBe('');
    expect(run.code).toBe(0);
    expect(run.stdout).toContain('payload: {"count":3,"totalCents":621}');
    expect(run.stdout).toMatch(/'cold start'.*│ 3 /);
    expect(run.stdout).toMatch(/'warm start'.*│ 3 /);
  });

  it('saas-embedding: in process isolation, the hostile tenant is contained, the others answer every round, usage is printed', async () => {
    const run = await runExample('examples/saas-embedding/host.ts');
    expect(run.stderr).toBe('');
    expect(run.code).toBe(0);
    // Hostile tenants' code runs in the mode the README recommends for it.
    expect(run.stdout).toMatch(/^isolation: process$/m);
    const rounds = run.stdout.split('\n').filter((l) => l.startsWith('round '));
    expect(rounds).toHaveLength(4);
    for (const [i, round] of rounds.entries()) {
      expect(round).toMatch(/acme: ok \{"tenant":"acme","hello":"Ada","calls":\d\}/);
      expect(round).toMatch(/globex: ok \{"tenant":"globex","fib":271496360\}/);
      // Odd rounds spin: only the timeout can end them. Even rounds are a memory bomb, which hits
      // the memory cap or, on a busy machine, its 1 s timeout first: either way it is contained —
      // the invariant; which limit wins the race is the machine's speed, not lambdalet's behaviour.
      expect(round).toMatch(i % 2 === 0 ? /mallory: contained Sandbox\.Timedout/ : /mallory: contained (Sandbox\.Timedout|Runtime\.OutOfMemory)/);
    }
    const mallory = /^mallory +4 +[\d.]+ +\d+ +Sandbox\.Timedout ×(\d)(?:, Runtime\.OutOfMemory ×(\d))?$/m.exec(run.stdout);
    expect(mallory, run.stdout).not.toBeNull();
    const [timedOut, outOfMemory] = [Number(mallory![1]), Number(mallory![2] ?? 0)];
    expect(timedOut + outOfMemory).toBe(4);
    expect(timedOut).toBeGreaterThanOrEqual(2);
    expect(run.stdout).toMatch(/^acme +4 +[\d.]+ +\d+ +-$/m);
  });
});
