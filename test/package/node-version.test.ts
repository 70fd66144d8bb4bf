// lambdalet needs Node >= 24. On an older Node the CLI and the npm scripts a new user runs first
// (`npm start`, `npm test`, the benches, the build that `npm install` runs as `prepare`) must stop
// at once with one line naming the version and how to get Node 24 — not fail minutes later with
// `ERR_UNKNOWN_FILE_EXTENSION ".ts"` or vitest's `Map.groupBy is not a function` (issue #12).
//
// Checked for real with an older Node found on this machine (Debian's Node 20 here); without one
// the cases are skipped, visibly, with the reason in their titles.
import { execFileSync, spawn } from 'node:child_process';
import { existsSync, realpathSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { describe, expect, it } from 'vitest';
import { MIN_NODE_MAJOR, nodeVersionProblem as problem } from '../../bin/require-node.js';
import { collectRun, type Run } from '../helpers/process.ts';

const root = fileURLToPath(new URL('../..', import.meta.url));

/** A Node older than 24 on this machine: every `node` on PATH, then the usual system places. */
function findOldNode(): { path: string; version: string } | undefined {
  const candidates = new Set<string>();
  try {
    for (const p of execFileSync('which', ['-a', 'node'], { encoding: 'utf8' }).split('\n')) if (p !== '') candidates.add(p);
  } catch {
    // `which` missing or no node on PATH: the fixed places below still count.
  }
  for (const p of ['/usr/local/bin/node', '/usr/bin/node', '/bin/node']) candidates.add(p);
  for (const candidate of candidates) {
    if (!existsSync(candidate)) continue;
    try {
      const version = execFileSync(candidate, ['--version'], { encoding: 'utf8' }).trim();
      const major = Number(/^v(\d+)\./.exec(version)?.[1]);
      if (major < MIN_NODE_MAJOR) return { path: realpathSync(candidate), version };
    } catch {
      // Not runnable here.
    }
  }
  return undefined;
}

const oldNode = findOldNode();
const LINE = /^lambdalet needs Node\.js >= 24, this is v\d+\.\d+\.\d+ \(.+\): install it \(`nvm install 24`, or https:\/\/nodejs\.org\) or run one command on it with `npx -y -p node@24 <command>` \(e\.g\. `npx -y -p node@24 npm test`\)$/;

/** Runs a command with the old Node first on PATH (so npm and its scripts run on it too). */
function runOld(command: string, args: readonly string[]): Promise<Run> {
  const env: NodeJS.ProcessEnv = { ...process.env, PATH: `${dirname(oldNode!.path)}:${process.env.PATH ?? ''}` };
  for (const key of Object.keys(env)) if (key.startsWith('VITEST') || key === 'NODE_OPTIONS' || key.startsWith('npm_')) delete env[key];
  const child = spawn(command, args, { cwd: root, env, stdio: ['ignore', 'pipe', 'pipe'] });
  // Should the check ever let a script through, do not let it run the suite (or a bench) here.
  const guard = setTimeout(() => child.kill('SIGKILL'), 60_000);
  return collectRun(child).finally(() => clearTimeout(guard));
}

/** Lines of the output that are lambdalet's (npm adds its own `> script` banner and error lines). */
function ourLines(run: Run): string[] {
  return (run.stdout + run.stderr).split('\n').filter((line) => line.startsWith('lambdalet'));
}

describe('nodeVersionProblem', () => {
  it('accepts 24 and later; refuses 23 and earlier with the one line naming the version and the binary', () => {
    expect(MIN_NODE_MAJOR).toBe(24);
    expect(problem('v24.0.0', '/x/node')).toBeUndefined();
    expect(problem('v26.1.0', '/x/node')).toBeUndefined();
    expect(problem('v100.0.0', '/x/node')).toBeUndefined();
    const line = problem('v23.11.1', '/opt/node23/bin/node');
    expect(line).toMatch(LINE);
    expect(line).toContain('this is v23.11.1 (/opt/node23/bin/node)');
    expect(problem('v20.20.2', '/usr/bin/node')).toMatch(LINE);
    expect(problem('v8.17.0', '/usr/bin/node')).toMatch(LINE);
  });

  it('agrees with package.json engines.node', async () => {
    const { default: pkg } = (await import('../../package.json', { with: { type: 'json' } })) as { default: { engines: { node: string } } };
    expect(pkg.engines.node).toBe(`>=${MIN_NODE_MAJOR}`);
  });
});

const oldNodeTitle = oldNode
  ? `on an older Node (${oldNode.version} at ${oldNode.path})`
  : 'on an older Node (SKIPPED: no Node older than 24 found on PATH, /usr/local/bin, /usr/bin or /bin)';
describe.runIf(oldNode !== undefined).concurrent(oldNodeTitle, () => {
  it('the CLI stops at once with the one line and exit code 1', async () => {
    for (const args of [['--version'], ['invoke', 'examples/hello', '--event', '{}']]) {
      const run = await runOld(oldNode!.path, [join(root, 'bin', 'lambdalet.js'), ...args]);
      expect(run.code).toBe(1);
      expect(run.stdout).toBe('');
      expect(run.stderr.split('\n')).toHaveLength(2); // one line and its newline
      expect(run.stderr.trimEnd()).toMatch(LINE);
      expect(run.stderr).toContain(`this is ${oldNode!.version} (${oldNode!.path})`);
    }
  });

  // dist/ is what an app imports; `npm install`/`npm ci` build it (prepare). A worktree whose
  // node_modules is linked from elsewhere may not have it yet: then this case says so and skips.
  const built = existsSync(join(root, 'dist', 'index.js')) && existsSync(join(root, 'dist', 'testing', 'index.js'));
  it.runIf(built)(`importing the library (dist/, built by \`prepare\`) throws NodeVersionError with the one line, not a link error${built ? '' : ' (SKIPPED: dist/ is not built: npm run build)'}`, async () => {
    for (const entry of ['index.js', 'testing/index.js']) {
      const file = join(root, 'dist', entry);
      // Before, Node 20 refused the module graph itself: "No such built-in module: node:sqlite".
      const script = `import(${JSON.stringify(pathToFileURL(file).href)}).then(() => console.log('loaded'), (e) => console.log(JSON.stringify([e.name, e.code, e.message])))`;
      const run = await runOld(oldNode!.path, ['--input-type=module', '-e', script]);
      const [name, code, message] = JSON.parse(run.stdout) as [string, string, string];
      expect([name, code]).toEqual(['NodeVersionError', 'LAMBDALET_NODE_VERSION']);
      expect(message).toMatch(LINE);
      expect(message).toContain(`this is ${oldNode!.version} (${oldNode!.path})`);
    }
  });

  it.each(['start', 'test', 'bench:quick', 'prepare'])('npm run %s stops at once with the one line', async (script) => {
    const run = await runOld('npm', ['run', script, '--silent']);
    expect(run.code).not.toBe(0);
    const lines = ourLines(run);
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatch(LINE);
    expect(lines[0]).toContain(`this is ${oldNode!.version}`);
    // Nothing past the check ran: no vitest banner, no type-stripping failure, no bench output.
    expect(run.stdout + run.stderr).not.toMatch(/ERR_UNKNOWN_FILE_EXTENSION|RUN\s+v\d|Map\.groupBy|tinybench|wrote .*guest-runtime/);
  });
});
