/**
 * Runs a CommonJS handler module in plain Node (a child process of this Node, cwd a temporary
 * directory) and returns what its handler resolved to: the baseline the sandbox must match.
 */
import { execFile } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';

const run = promisify(execFile);

export async function runInNode(source: string, event: unknown = {}, env: Record<string, string> = {}): Promise<unknown> {
  const dir = await mkdtemp(join(tmpdir(), 'lambdalet-node-'));
  try {
    await writeFile(join(dir, 'index.js'), source);
    const driver = `const m = require('./index.js'); Promise.resolve(m.handler(${JSON.stringify(event)}, {})).then((r) => process.stdout.write('\\n@@' + JSON.stringify(r)), (e) => { console.error(e); process.exit(1); });`;
    await writeFile(join(dir, 'driver.js'), driver);
    const { stdout } = await run(process.execPath, ['driver.js'], { cwd: dir, env: { PATH: process.env.PATH ?? '', TZ: 'UTC', ...env }, maxBuffer: 1 << 24 });
    return JSON.parse(stdout.slice(stdout.lastIndexOf('\n@@') + 3)) as unknown;
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

/** Imports `file` (an ES module) in plain Node and awaits its handler: its result and its stdout lines. */
export async function runFixtureInNode(file: string, event: unknown = {}, env: Record<string, string> = {}): Promise<{ result: unknown; stdout: string[] }> {
  const driver = `import(${JSON.stringify(file)}).then((m) => m.handler(${JSON.stringify(event)}, {})).then((r) => process.stdout.write('\\n@@' + JSON.stringify(r ?? null) + '@@\\n'), (e) => { console.error(e); process.exit(1); });`;
  const { stdout } = await run(process.execPath, ['--input-type=module', '-e', driver], { env: { PATH: process.env.PATH ?? '', TZ: 'UTC', ...env }, maxBuffer: 1 << 24 });
  const at = stdout.lastIndexOf('\n@@');
  const end = stdout.indexOf('@@\n', at + 3);
  return { result: JSON.parse(stdout.slice(at + 3, end)) as unknown, stdout: (stdout.slice(0, at) + stdout.slice(end + 3)).split('\n').filter(Boolean) };
}
