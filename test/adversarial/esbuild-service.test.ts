/**
 * The bundler's esbuild service dying (the kernel's OOM killer ends it when a package's code makes
 * it grow: 10 MB of `x=1;` lines, a 15 KB zip, took it to 2.4 GB) ends the builds in flight, and
 * only them: the next deploy, of any function, starts a new service (code/build.ts, issue #15).
 * Before, esbuild's npm API never started it again — every later deploy failed with "The service
 * is no longer running". And a package whose code grows the service past `maxBundlerBytes`
 * (default 4 GiB; code/bundler-memory.ts) is refused as InvalidParameterValueException, the service
 * killed and started again. Linux: the service is found as this process's child named esbuild.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { bundleFunction } from '../../src/code/index.ts';
import { InvalidParameterValueException } from '../../src/errors.ts';

/** The pids of this process's children whose command is esbuild. */
function esbuildChildren(): number[] {
  const pids: number[] = [];
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    let stat: string;
    try {
      stat = readFileSync(`/proc/${entry}/stat`, 'utf8');
    } catch {
      continue; // gone meanwhile
    }
    // pid (comm) state ppid ...
    const match = /^\d+ \((.*)\) \S+ (\d+)/.exec(stat);
    if (match?.[1] === 'esbuild' && Number(match[2]) === process.pid) pids.push(Number(entry));
  }
  return pids;
}

const small = (text: string) => ({ files: { 'index.mjs': `export const handler = async () => ${JSON.stringify(text)};` } });

describe.runIf(process.platform === 'linux')('the esbuild service', () => {
  it('killed, while idle or mid-build: the builds in flight fail, later builds start a new service and succeed', async () => {
    expect((await bundleFunction(small('before'), 'index.handler')).ok).toBe(true);
    const first = esbuildChildren();
    expect(first).toHaveLength(1);

    // Killed between builds: the next build finds it dead and fails; the one after starts a new service.
    process.kill(first[0]!, 'SIGKILL');
    await expect.poll(() => esbuildChildren()).toEqual([]);
    const results: boolean[] = [];
    for (let i = 0; i < 3; i++) results.push(await bundleFunction(small(`after ${i}`), 'index.handler').then((outcome) => outcome.ok, () => false));
    expect(results.slice(1)).toEqual([true, true]);
    const second = esbuildChildren();
    expect(second).toHaveLength(1);
    expect(second[0]).not.toBe(first[0]);

    // Killed mid-build (a build that takes a while: many statements): that build fails, later ones succeed.
    const slow = { files: { 'index.js': `var x;\n${'x=1;\n'.repeat(400_000)}exports.handler = async () => x;` } };
    const inFlight = bundleFunction(slow, 'index.handler').then((outcome) => outcome.ok, () => false);
    await expect.poll(() => esbuildChildren()).toHaveLength(1);
    process.kill(esbuildChildren()[0]!, 'SIGKILL');
    await inFlight;
    const later: boolean[] = [];
    for (let i = 0; i < 3; i++) later.push(await bundleFunction(small(`later ${i}`), 'index.handler').then((outcome) => outcome.ok, () => false));
    expect(later.slice(1)).toEqual([true, true]);
  });

  it('a package whose code grows the bundler past maxBundlerBytes is refused; a small one under the same bound bundles, and so do later builds', async () => {
    const limit = 256 * 1024 * 1024;
    // 4 MB of `x=1;` lines: about 1 GB of esbuild memory unbounded (2.4 GB for 10 MB, measured).
    const heavy = { files: { 'index.js': `var x;\n${'x=1;\n'.repeat(800_000)}exports.handler = async () => x;` } };
    expect((await bundleFunction(small('under the bound'), 'index.handler', { maxBundlerBytes: limit })).ok).toBe(true);
    const error = await bundleFunction(heavy, 'index.handler', { maxBundlerBytes: limit }).then(() => undefined, (e: unknown) => e);
    expect(error).toBeInstanceOf(InvalidParameterValueException);
    expect((error as InvalidParameterValueException).message).toMatch(new RegExp(`^Bundling the package needed more than ${limit} bytes of memory \\(the bundler held \\d+\\); builds running at the same time were stopped too$`));
    expect((await bundleFunction(small('after the refusal'), 'index.handler', { maxBundlerBytes: limit })).ok).toBe(true);
  });
});
