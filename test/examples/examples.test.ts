// Smoke tests: each runnable example runs to completion and prints what its README promises, so
// the examples cannot rot. (examples/unit-testing/ has its own tests, in vitest's include.)
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const root = fileURLToPath(new URL('../..', import.meta.url));

function runExample(script: string, args: readonly string[] = []): Promise<{ code: number | null; stdout: string; stderr: string }> {
  const env = { ...process.env };
  delete env.NODE_OPTIONS;
  const child = spawn(process.execPath, ['--no-node-snapshot', script, ...args], { cwd: root, env });
  let stdout = '';
  let stderr = '';
  child.stdout.setEncoding('utf8').on('data', (d: string) => (stdout += d));
  child.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d));
  return new Promise((resolve, reject) => {
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, stdout, stderr }));
  });
}

describe.concurrent('examples', () => {
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

  it('saas-embedding: the hostile tenant is contained, the others answer every round, usage is printed', async () => {
    const run = await runExample('examples/saas-embedding/host.ts');
    expect(run.stderr).toBe('');
    expect(run.code).toBe(0);
    const rounds = run.stdout.split('\n').filter((l) => l.startsWith('round '));
    expect(rounds).toHaveLength(4);
    for (const round of rounds) {
      expect(round).toMatch(/acme: ok \{"tenant":"acme","hello":"Ada","calls":\d\}/);
      expect(round).toMatch(/globex: ok \{"tenant":"globex","fib":271496360\}/);
      expect(round).toMatch(/mallory: contained (Sandbox\.Timedout|Runtime\.OutOfMemory)/);
    }
    expect(run.stdout).toMatch(/^mallory +4 +[\d.]+ +\d+ +Sandbox\.Timedout ×2, Runtime\.OutOfMemory ×2$/m);
    expect(run.stdout).toMatch(/^acme +4 +[\d.]+ +\d+ +-$/m);
  });
});
