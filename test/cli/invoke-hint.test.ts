/**
 * `lambdalet invoke <dir>` when a dependency sits in a parent directory's node_modules (a workspace
 * hoisted it): INIT fails with Node's "Cannot find package", and stderr says where the package is and
 * what to do, since a package directory is the function's whole world (code/containment.ts).
 */
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect, it } from 'vitest';
import { commonJsHint, failingFileIn, outsidePackageHint } from '../../src/cli/invoke.ts';
import { runCli } from './run-cli.ts';

it('invoke <dir>: a dependency hoisted to a parent node_modules fails INIT as in Node, and stderr names where it is', async () => {
  const project = await mkdtemp(join(tmpdir(), 'lambdalet-hoisted-'));
  try {
    await mkdir(join(project, 'node_modules', 'hoisted'), { recursive: true });
    await writeFile(join(project, 'node_modules', 'hoisted', 'package.json'), JSON.stringify({ name: 'hoisted', main: 'index.js' }));
    await writeFile(join(project, 'node_modules', 'hoisted', 'index.js'), 'module.exports = 1;');
    await mkdir(join(project, 'fn'));
    await writeFile(join(project, 'fn', 'index.mjs'), "import one from 'hoisted';\nexport const handler = async () => one;\n");
    const { code, stdout, stderr } = await runCli(['invoke', join(project, 'fn'), '--log-type', 'None']);
    expect(code).toBe(1);
    expect(JSON.parse(stdout)).toMatchObject({ errorMessage: "Cannot find package 'hoisted' imported from /var/task/index.mjs" });
    expect(stderr).toContain(`lambdalet: 'hoisted' is in ${join(project, 'node_modules', 'hoisted')}, outside the package ${join(project, 'fn')}`);
  } finally {
    await rm(project, { recursive: true, force: true });
  }
});

it('the hint: CommonJS words and scoped names too; nothing for a path, another error, or a package no parent holds', () => {
  const here = process.cwd(); // this repository: its node_modules holds vitest and @types/node
  const dir = join(here, 'no-such-fn');
  expect(outsidePackageHint(dir, { errorMessage: "Error: Cannot find module 'vitest'\nRequire stack:\n- /var/task/index.js" })).toMatch(/^lambdalet: 'vitest' is in /);
  expect(outsidePackageHint(dir, { errorMessage: "Cannot find package '@types/node/fs' imported from /var/task/index.mjs" })).toMatch(/^lambdalet: '@types\/node' is in /);
  expect(outsidePackageHint(dir, { errorMessage: "Cannot find module '/var/task/x.mjs' imported from /var/task/index.mjs" })).toBeUndefined();
  expect(outsidePackageHint(dir, { errorMessage: "Cannot find package 'lambdalet-no-such-package' imported from /var/task/index.mjs" })).toBeUndefined();
  expect(outsidePackageHint(dir, { errorMessage: 'boom' })).toBeUndefined();
  expect(outsidePackageHint(dir, 'a string payload')).toBeUndefined();
});

it('invoke <file.ts> under "type": "commonjs" (npm init -y): INIT fails as in Node, and stderr names the package.json and the way out', async () => {
  const project = await mkdtemp(join(tmpdir(), 'lambdalet-cjs-type-'));
  try {
    await writeFile(join(project, 'package.json'), JSON.stringify({ name: 'p', version: '1.0.0', type: 'commonjs' }));
    await mkdir(join(project, 'src'));
    const entry = join(project, 'src', 'orders.ts');
    await writeFile(entry, 'export const handler = async (event: { id: number }) => ({ id: event.id });\n');
    const { code, stdout, stderr } = await runCli(['invoke', entry, '--log-type', 'None']);
    expect(code).toBe(1);
    expect(JSON.parse(stdout)).toMatchObject({ errorType: 'Runtime.UserCodeSyntaxError', errorMessage: "SyntaxError: Unexpected token 'export'" });
    expect(stderr).toContain(`lambdalet: ${join(project, 'package.json')} says "type": "commonjs"`);
    expect(stderr).toContain(`Run \`npm pkg set type=module\` in ${project}, or name the file orders.mts.`);

    // A package directory: the file the error's frame names.
    await writeFile(join(project, 'src', 'index.js'), 'import { x } from "./lib.js";\nexport const handler = async () => x;\n');
    await writeFile(join(project, 'src', 'lib.js'), 'export const x = 1;\n');
    const dir = await runCli(['invoke', join(project, 'src'), '--log-type', 'None']);
    expect(dir.code).toBe(1);
    expect(JSON.parse(dir.stdout)).toMatchObject({ errorMessage: 'SyntaxError: Cannot use import statement outside a module' });
    expect(dir.stderr).toContain(`so Node runs ${join(project, 'src', 'index.js')} as CommonJS`);
    expect(failingFileIn('/fn', { trace: ['Runtime.UserCodeSyntaxError: x', '    at /var/task/lib/a.js:3:1'] })).toBe('/fn/lib/a.js');
    expect(failingFileIn('/fn', { trace: ['Runtime.UserCodeSyntaxError: x', '    at /var/task/../etc/a.js:3:1'] })).toBeUndefined();
    expect(failingFileIn('/fn', { trace: [] })).toBeUndefined();

    // No hint where the package says nothing (Node detects the syntax), for another error or a .mjs file.
    const syntax = { errorType: 'Runtime.UserCodeSyntaxError', errorMessage: 'SyntaxError: Cannot use import statement outside a module' };
    expect(await commonJsHint(join(project, 'src', 'index.js'), syntax)).toMatch(/name the file index\.mjs\.$/);
    expect(await commonJsHint(join(project, 'src', 'index.mjs'), syntax)).toBeUndefined();
    expect(await commonJsHint(entry, { errorType: 'Runtime.UserCodeSyntaxError', errorMessage: "SyntaxError: Unexpected token '}'" })).toBeUndefined();
    await writeFile(join(project, 'package.json'), JSON.stringify({ name: 'p', version: '1.0.0' }));
    expect(await commonJsHint(entry, syntax)).toBeUndefined();
  } finally {
    await rm(project, { recursive: true, force: true });
  }
});
