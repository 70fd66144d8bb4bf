// The package as users get it: `npm pack` (which runs `prepare`, the build) on a copy of the
// package's sources, the tarball installed into a fresh project outside the repository, then the
// README's Quick start, the README's `lambdalet invoke` command and an import of every subpath
// export run there. One pack and one install per run (beforeAll), shared by every case.
//
// The copy keeps concurrent runs (two suites at once, or a build in the checkout) from racing on
// the checkout's dist/; node_modules is linked, not copied (the build needs typescript and esbuild).
import { execFile, spawn } from 'node:child_process';
import { cp, mkdir, mkdtemp, readFile, rm, stat, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join, posix } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify, stripVTControlCharacters } from 'node:util';
import { zipSync } from 'fflate';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { collectRun, type Run } from '../helpers/process.ts';
import { SLOW_CASE_LIMIT_MS } from '../helpers/runtime.ts';

const execFileAsync = promisify(execFile);
const root = fileURLToPath(new URL('../..', import.meta.url));

interface PackedFile {
  readonly path: string;
}
interface PackResult {
  readonly filename: string;
  readonly files: readonly PackedFile[];
}
interface Manifest {
  readonly exports: Record<string, unknown>;
  readonly bin: Record<string, string>;
  readonly files: readonly string[];
}

/** Node 24 first on PATH for npm and everything it spawns; no NODE_OPTIONS or vitest state leaks in. */
function childEnv(): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = { ...process.env, PATH: `${dirname(process.execPath)}:${process.env.PATH ?? ''}` };
  for (const key of Object.keys(env)) if (key.startsWith('VITEST') || key === 'NODE_OPTIONS' || key.startsWith('npm_')) delete env[key];
  return env;
}

function run(command: string, args: readonly string[], cwd: string): Promise<Run> {
  return collectRun(spawn(command, args, { cwd, env: childEnv(), stdio: ['ignore', 'pipe', 'pipe'] }));
}

async function npm(args: readonly string[], cwd: string): Promise<string> {
  const { stdout } = await execFileAsync('npm', [...args], { cwd, env: childEnv(), maxBuffer: 64 * 1024 * 1024 });
  return stdout;
}

/** Every file path an `exports` value points at, through any nesting of conditions. */
function exportTargets(value: unknown): string[] {
  if (typeof value === 'string') return [value];
  if (value === null || typeof value !== 'object') return [];
  return Object.values(value).flatMap(exportTargets);
}

/** The fenced blocks after a heading of README.md, up to the next heading of any level. */
function readmeBlocks(readme: string, heading: string): string[] {
  const at = readme.indexOf(`\n${heading}\n`);
  if (at < 0) throw new Error(`README.md has no heading ${heading}`);
  const rest = readme.slice(at + heading.length + 2);
  const section = rest.slice(0, rest.search(/^#/m) === -1 ? undefined : rest.search(/^#/m));
  const blocks = [...section.matchAll(/```[a-z]*\n([\s\S]*?)```/g)].map((m) => m[1]!);
  if (blocks.length === 0) throw new Error(`README.md has no code block under ${heading}`);
  return blocks;
}

/** The first fenced block after a heading of README.md. */
function readmeBlock(readme: string, heading: string): string {
  return readmeBlocks(readme, heading)[0]!;
}

/**
 * The copy's build emits without type-checking (`noCheck` in its tsconfig.build.json): the same
 * dist/ (690 files, byte for byte: `tsc -p tsconfig.build.json` with and without `--noCheck`
 * compared at 4bf551c) for ~5.9 CPU-s instead of ~13 (issue #12). What this file tests — what the
 * tarball holds, that it installs and runs — does not depend on that check, and the check is not
 * lost: `npm run typecheck` (CI runs it) checks every file the build compiles with the same
 * options, which the guard below holds true. Kept: tsc's emit errors, declaration emit's included
 * (TS4094 and the like, which `--noEmit` never reports), still fail the pack. What `npm test` no
 * longer does is type-check src/ as a side effect: scripts/build.ts still refuses to pack code that
 * does not type-check, but no case here ever packed such code.
 */
async function skipBuildTypeCheck(source: string): Promise<void> {
  const path = join(source, 'tsconfig.build.json');
  const config = JSON.parse(await readFile(path, 'utf8')) as { extends?: string; include?: string[]; compilerOptions: Record<string, unknown> };
  const base = JSON.parse(await readFile(join(source, 'tsconfig.json'), 'utf8')) as { include: string[] };
  // Options that only say where and what to emit: anything else would type-check differently from `npm run typecheck`.
  const emitOnly = new Set(['noEmit', 'outDir', 'rootDir', 'declaration', 'sourceMap']);
  const checkedElsewhere =
    config.extends === './tsconfig.json' &&
    (config.include ?? []).every((dir) => base.include.includes(dir)) &&
    Object.keys(config.compilerOptions).every((option) => emitOnly.has(option));
  if (!checkedElsewhere) {
    throw new Error(
      'tsconfig.build.json no longer compiles a subset of what `npm run typecheck` checks, with the same checking options: this test can no longer skip the build\'s type check (skipBuildTypeCheck)',
    );
  }
  await writeFile(path, JSON.stringify({ ...config, compilerOptions: { ...config.compilerOptions, noCheck: true } }, null, 2));
}

let tmp: string;
let app: string;
let manifest: Manifest;
let packed: Set<string>;
let readme: string;

beforeAll(async () => {
  tmp = await mkdtemp(join(tmpdir(), 'lambdalet-packed-'));
  const source = join(tmp, 'package');
  manifest = JSON.parse(await readFile(join(root, 'package.json'), 'utf8')) as Manifest;
  // What the build reads plus what `files` ships; never a dist/ from the checkout (pack must build it).
  // package-lock.json too (npm never packs it): with it the copy's guest bundle has the checkout's
  // cache key (src/engines/guest-cache.ts), so the build (scripts/build-guest.ts) writes the bundle
  // this run's global setup made for the same sources instead of bundling again (issue #12).
  for (const entry of ['package.json', 'package-lock.json', 'README.md', 'tsconfig.json', 'tsconfig.build.json', 'scripts', ...manifest.files]) {
    if (entry === 'dist') continue;
    await cp(join(root, entry), join(source, entry), { recursive: true, filter: (from) => !from.includes('/node_modules') }).catch((error: NodeJS.ErrnoException) => {
      if (error.code !== 'ENOENT') throw error;
    });
  }
  await symlink(join(root, 'node_modules'), join(source, 'node_modules'), 'dir');
  await skipBuildTypeCheck(source);

  const out = await npm(['pack', '--json', '--pack-destination', tmp], source);
  const [result] = JSON.parse(out) as PackResult[];
  if (result === undefined) throw new Error(`npm pack printed no result: ${out}`);
  packed = new Set(result.files.map((f) => f.path));

  app = join(tmp, 'app');
  await mkdir(app);
  // `type: 'module'`, as the README asks of a project whose `.ts` handlers use `import`/`export`
  // (src/orders.ts below): Node runs a `.ts` under `"type": "commonjs"` — what `npm init -y` writes
  // (npm 11) — as CommonJS, and so does lambdalet (Runtime.UserCodeSyntaxError,
  // test/code/formats.test.ts). The Quick start, saved as `.mts`, runs under any `type`: the `bare`
  // project below checks it under `commonjs`.
  await writeFile(join(app, 'package.json'), JSON.stringify({ name: 'app', version: '1.0.0', private: true, type: 'module' }));
  await npm(['install', '--prefer-offline', '--no-audit', '--no-fund', join(tmp, result.filename)], app);

  // The files the README's Quick start and CLI line deploy.
  readme = await readFile(join(root, 'README.md'), 'utf8');
  await mkdir(join(app, 'functions', 'api'), { recursive: true });
  await writeFile(join(app, 'functions', 'api', 'index.mjs'), "export const handler = async () => ({ statusCode: 200, body: 'api' });\n");
  await mkdir(join(app, 'build'));
  await writeFile(
    join(app, 'build', 'legacy.zip'),
    zipSync({ 'index.js': new TextEncoder().encode("exports.handler = async () => 'legacy';\n") }),
  );
  await mkdir(join(app, 'src'));
  await writeFile(
    join(app, 'src', 'orders.ts'),
    'interface Order { id: number }\nexport const handler = async (event: Order) => ({ statusCode: 200, body: JSON.stringify({ order: event.id }) });\n',
  );
  // A hang detector, not a measure: the pack (tsc over src/, the guest bundle) and the install of the
  // package's dependencies took past 240 s with two suites running at once at load 30-40.
}, 600_000);

afterAll(async () => {
  if (tmp !== undefined) await rm(tmp, { recursive: true, force: true });
});

// Each case starts Node (or tsc) in the installed project: hang limits, generous for a busy machine.
describe('the packed package', { timeout: SLOW_CASE_LIMIT_MS }, () => {
  it('holds every file its export map and bin point at, and every file its source maps name', async () => {
    const targets = [...exportTargets(manifest.exports), ...Object.values(manifest.bin)].map((p) => posix.normalize(p));
    expect(targets.length).toBeGreaterThan(6);
    for (const target of targets) expect(packed, `exports/bin target ${target}`).toContain(target);
    // `files` entries that exist in the checkout are shipped (native/ appears with the WIT package).
    for (const entry of manifest.files) expect([...packed].some((p) => p === entry || p.startsWith(`${entry}/`)), `files entry ${entry}`).toBe(true);

    const maps = [...packed].filter((p) => p.endsWith('.js.map'));
    expect(maps.length).toBeGreaterThan(10);
    const installed = join(app, 'node_modules', 'lambdalet');
    for (const map of maps) {
      const { sources, sourceRoot } = JSON.parse(await readFile(join(installed, map), 'utf8')) as { sources: string[]; sourceRoot?: string };
      for (const s of sources) {
        const file = posix.normalize(posix.join(posix.dirname(map), sourceRoot ?? '', s));
        expect(packed, `${map} names ${s}`).toContain(file);
      }
    }
    for (const js of [...packed].filter((p) => p.endsWith('.js') && p.startsWith('dist/'))) {
      const url = /\/\/# sourceMappingURL=(\S+)\s*$/.exec(await readFile(join(installed, js), 'utf8'))?.[1];
      if (url !== undefined) expect(packed, `${js} maps to ${url}`).toContain(posix.join(posix.dirname(js), url));
    }
    // No test, bench or example files ride along.
    expect([...packed].filter((p) => /^(test|bench|examples|docs)\//.test(p))).toEqual([]);
  });

  it('every subpath export imports in a project that installed the tarball', async () => {
    const subpaths = Object.keys(manifest.exports).map((key) => posix.join('lambdalet', key));
    expect(subpaths).toEqual(expect.arrayContaining(['lambdalet', 'lambdalet/testing', 'lambdalet/snapstart']));
    const script = `
      const out = {};
      for (const spec of ${JSON.stringify(subpaths)}) {
        const mod = spec.endsWith('.json') ? await import(spec, { with: { type: 'json' } }) : await import(spec);
        out[spec] = Object.keys(mod).sort();
      }
      console.log(JSON.stringify(out));`;
    const res = await run(process.execPath, ['--no-node-snapshot', '--input-type=module', '-e', script], app);
    expect(res.stderr).toBe('');
    expect(res.code).toBe(0);
    const names = JSON.parse(res.stdout) as Record<string, string[]>;
    expect(names['lambdalet']).toEqual(expect.arrayContaining(['createRuntime', 'stdoutSink', 'silentSink', 'EngineUnavailableError']));
    expect(names['lambdalet/testing']).toEqual(expect.arrayContaining(['loadHandler', 'httpApiEvent', 'vitestConfig']));
    expect(names['lambdalet/snapstart']).toEqual(expect.arrayContaining(['registerBeforeSnapshot', 'registerAfterRestore']));
    expect(names['lambdalet/package.json']).toContain('default');
  });

  it("runs the guest's standard library from the prebuilt bundle: the packages it is built from are not installed", async () => {
    // Polyfills and locale data only the guest bundle is built from (scripts/build-guest.ts) are
    // devDependencies: the tarball ships them bundled (dist/engines/guest-stdlib.json). @formatjs's
    // locale data alone was 276 MB of a 543 MB install (issue #12).
    const installed = join(app, 'node_modules');
    for (const bundledOnly of ['@formatjs', 'core-js-pure', 'browserify-zlib', 'readable-stream', 'web-streams-polyfill']) {
      await expect(stat(join(installed, bundledOnly)), `${bundledOnly} is installed`).rejects.toMatchObject({ code: 'ENOENT' });
    }
    // A handler on each JS engine using modules built from those packages, against the host's Node.
    const work = `
      const { Buffer } = await import('node:buffer');
      const zlib = await import('node:zlib');
      const { createHash } = await import('node:crypto');
      const { inspect } = await import('node:util');
      const { Readable } = await import('node:stream');
      const { EventEmitter } = await import('node:events');
      const { StringDecoder } = await import('node:string_decoder');
      const path = await import('node:path');
      const qs = await import('node:querystring');
      const date = new Date(Date.UTC(2026, 11, 3, 7, 30));
      const chunks = [];
      for await (const chunk of Readable.from(['a', 'b'])) chunks.push(chunk);
      const emitter = new EventEmitter();
      let heard = '';
      emitter.on('x', (v) => (heard = v));
      emitter.emit('x', 'heard');
      return {
        base64: Buffer.from('lambdalet').toString('base64'),
        gunzipped: zlib.gunzipSync(zlib.gzipSync('zipped')).toString(),
        sha256: createHash('sha256').update('abc').digest('hex'),
        inspected: inspect({ a: [1, { b: 'c' }], m: new Map([[1, 2]]) }),
        streamed: chunks.join(''),
        heard,
        decoded: new StringDecoder('utf8').write(Buffer.from('é')),
        joined: path.join('/a', '../b'),
        query: qs.stringify({ q: 'x y' }),
        gb: new Intl.DateTimeFormat('en-GB', { dateStyle: 'full', timeStyle: 'short', timeZone: 'Asia/Kolkata' }).format(date),
        us: new Intl.NumberFormat('en-US', { style: 'currency', currency: 'EUR' }).format(1234.5),
        plural: new Intl.PluralRules('en').select(2),
        // A locale's data, stored compressed in the bundle (guest-bundle.ts) and inflated when loaded.
        de: new Intl.NumberFormat('de-DE', { style: 'currency', currency: 'EUR' }).format(1234.5),
        fr: date.toLocaleDateString('fr-FR', { dateStyle: 'full' }),
      };`;
    const script = `
      import { createRuntime, silentSink } from 'lambdalet';
      const work = async () => {${work}};
      const rt = await createRuntime({ logSink: silentSink });
      const out = { node: await work() };
      for (const engine of ['v8', 'quickjs']) {
        // A generous deadline: on quickjs the first use of Intl, its time zones and zlib loads their
        // chunks (timed out at Lambda's default 3 s in a full run at load ~10).
        await rt.deploy({ name: engine, engine, timeoutMs: 300000, code: { files: { 'index.mjs': 'export const handler = async () => {' + ${JSON.stringify(work)} + '};' } } });
        out[engine] = (await rt.invoke(engine, {})).payload;
      }
      await rt.close();
      console.log(JSON.stringify(out));`;
    await writeFile(join(app, 'stdlib-check.mjs'), script);
    const res = await run(process.execPath, ['--no-node-snapshot', 'stdlib-check.mjs'], app);
    expect(res.stderr).toBe('');
    expect(res.code).toBe(0);
    const out = JSON.parse(res.stdout) as Record<'node' | 'v8' | 'quickjs', Record<string, string>>;
    expect(out.node.gunzipped).toBe('zipped');
    expect(out.v8).toEqual(out.node);
    expect(out.quickjs).toEqual(out.node);
  });

  it("type-checks a TypeScript consumer of every subpath export against the package's declarations", async () => {
    await writeFile(
      join(app, 'tsconfig.json'),
      JSON.stringify({ compilerOptions: { module: 'nodenext', moduleResolution: 'nodenext', target: 'es2024', strict: true, noEmit: true, skipLibCheck: true, types: [] } }),
    );
    await writeFile(
      join(app, 'consumer.mts'),
      [
        "import { createRuntime, type InvokeResult } from 'lambdalet';",
        "import { loadHandler, sqsEvent } from 'lambdalet/testing';",
        "import { registerAfterRestore } from 'lambdalet/snapstart';",
        'export const used: [typeof createRuntime, typeof loadHandler, typeof registerAfterRestore] = [createRuntime, loadHandler, registerAfterRestore];',
        "export const body: string = sqsEvent({ Records: [{ body: 'x' }] }).Records[0]!.body;",
        'export type Result = InvokeResult;',
        '',
      ].join('\n'),
    );
    const tsc = join(root, 'node_modules', 'typescript', 'bin', 'tsc');
    const res = await run(process.execPath, [tsc, '-p', 'tsconfig.json'], app);
    expect(res.stdout + res.stderr).toBe('');
    expect(res.code).toBe(0);
  });

  it("runs the README's Quick start verbatim, as the file and command it names, needing no file of the user's", async () => {
    const [quickStart] = readmeBlocks(readme, '## Quick start');
    const intro = readme.slice(readme.indexOf('\n## Quick start\n'), readme.indexOf(quickStart!));
    expect(intro).toContain('save this as `quick-start.mts` and run\n`node --no-node-snapshot quick-start.mts`');
    // A directory of its own: the other cases' files (functions/, build/, src/) must not be needed.
    const bare = join(tmp, 'bare');
    await mkdir(bare);
    await writeFile(join(bare, 'package.json'), JSON.stringify({ name: 'bare', version: '1.0.0', private: true, type: 'commonjs' }));
    await symlink(join(app, 'node_modules'), join(bare, 'node_modules'), 'dir');
    await writeFile(join(bare, 'quick-start.mts'), quickStart!);
    const res = await run(process.execPath, ['--no-node-snapshot', 'quick-start.mts'], bare);
    expect(res.stderr).toBe('');
    expect(res.code).toBe(0);
    // The stdout sink's START … END, REPORT with Init Duration (a cold start), and console.log(res.payload).
    expect(res.stdout).toContain("{ hi: 'Ada', env: 'dev' }");
    // Each log line once: the Quick start keeps the Tail (logResult) without printing it again (issue 12:
    // it printed it, so a new user saw every line twice and took it for a bug of the sink).
    const logLines = res.stdout.split('\n').filter((l) => /^(START|END|REPORT) RequestId: /.test(l));
    expect(logLines.map((l) => l.split(' ')[0]), res.stdout).toEqual(['START', 'END', 'REPORT']);
    expect(logLines[2]).toMatch(/\tInit Duration: /);
  });

  it("runs the README's other three code forms ({ dir }, { zip }, { entry }) on the user's files", async () => {
    const [quickStart, forms] = readmeBlocks(readme, '## Quick start');
    expect(forms).toMatch(/code: \{ dir: /);
    const close = quickStart!.indexOf('\nawait rt.close()');
    expect(close).toBeGreaterThan(0);
    // The forms and a check go in just before the Quick start closes its runtime; the check prints one marked line.
    const checks = `
${forms!}
      const others = await Promise.all(['api', 'legacy', 'orders'].map((n) => rt.invoke(n, { id: 7 })));
      console.log('FORMS ' + JSON.stringify(others.map((o) => o.payload)));`;
    await writeFile(join(app, 'code-forms.mts'), quickStart!.slice(0, close) + checks + quickStart!.slice(close));
    const res = await run(process.execPath, ['--no-node-snapshot', 'code-forms.mts'], app);
    expect(res.stderr).toBe('');
    expect(res.code).toBe(0);
    const line = res.stdout.split('\n').find((l) => l.startsWith('FORMS '));
    expect(line, res.stdout).toBeDefined();
    expect(JSON.parse(line!.slice('FORMS '.length))).toEqual([{ statusCode: 200, body: 'api' }, 'legacy', { statusCode: 200, body: '{"order":7}' }]);
  });

  it("runs the README's testing section: its vitest.config.ts and test file, with vitest, in the project", async () => {
    const [config, test] = readmeBlocks(readme, '## Testing your handlers: `lambdalet/testing`');
    expect(config).toMatch(/^\/\/ vitest\.config\.ts\n/);
    const file = /^\/\/ (\S+\.test\.ts) /.exec(test!)?.[1];
    expect(file, 'the test block names its file in its first line').toBeDefined();
    await writeFile(join(app, 'vitest.config.ts'), config!);
    await mkdir(dirname(join(app, file!)), { recursive: true });
    await writeFile(join(app, file!), test!);
    // The project's own vitest: this checkout's, linked (the user installs it with npm install -D vitest).
    await symlink(join(root, 'node_modules', 'vitest'), join(app, 'node_modules', 'vitest'), 'dir');
    const res = await run(process.execPath, [join(app, 'node_modules', 'vitest', 'vitest.mjs'), 'run', '--reporter=verbose'], app);
    expect(res.code, res.stdout + res.stderr).toBe(0);
    // One test file, its one case, passed: the preset forked with --no-node-snapshot and loadHandler ran src/orders.ts.
    const out = stripVTControlCharacters(res.stdout);
    expect(out).toMatch(/✓ .*answers/);
    expect(out).toMatch(/Tests +1 passed \(1\)/);
  });

  it("runs the README's `lambdalet invoke` line through the installed bin, with npx as the README says", async () => {
    const section = readme.slice(readme.indexOf('\n## The `lambdalet` command\n'));
    expect(section).toContain('type `npx lambdalet\ninvoke ...`');
    const line = readmeBlock(readme, '## The `lambdalet` command')
      .split('\n')
      .find((l) => l.startsWith('lambdalet invoke '));
    expect(line).toBeDefined();
    const command = line!.replace(/\s+#.*$/, '');
    // npx finds `lambdalet` in the project's node_modules/.bin; --no: never fetch it from the registry.
    const withBin = await run('sh', ['-c', `npx --no ${command}`], app);
    expect(withBin.code, withBin.stderr).toBe(0);
    expect(JSON.parse(withBin.stdout)).toEqual({ statusCode: 200, body: '{"order":1}' });
    expect(withBin.stderr).toMatch(/^REPORT RequestId: /m);
    // --log-type Tail: the log tail is on stderr.
    expect(withBin.stderr).toMatch(/^START RequestId: /m);
  });
});
