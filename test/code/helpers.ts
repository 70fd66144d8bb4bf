/** Shared helpers for the code-bundling tests: temporary directories, zips, running a bundle. */

import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { runInThisContext } from 'node:vm';
import { zipSync, type Zippable } from 'fflate';
import { expect } from 'vitest';
import { bundleFunction, type BundleLimits, type BundleOutcome, type CodeSource, type FunctionBundle, type InitFailure } from '../../src/code/index.ts';

/** Creates a temporary directory holding `files`; `dispose` removes it. */
export async function tempPackage(files: Record<string, string>): Promise<{ dir: string; dispose: () => Promise<void> }> {
  const dir = await mkdtemp(join(tmpdir(), 'lambdalet-code-test-'));
  for (const [path, content] of Object.entries(files)) {
    await mkdir(dirname(join(dir, path)), { recursive: true });
    await writeFile(join(dir, path), content);
  }
  return { dir, dispose: () => rm(dir, { recursive: true, force: true }) };
}

/** A real deployment zip of `files` (deflated). */
export function makeZip(files: Record<string, string | Uint8Array>): Uint8Array {
  const zippable: Zippable = {};
  for (const [path, content] of Object.entries(files)) {
    zippable[path] = typeof content === 'string' ? new TextEncoder().encode(content) : content;
  }
  return zipSync(zippable);
}

/** Bundles and insists on success. */
export async function bundleOk(code: CodeSource, handler: string, limits?: BundleLimits): Promise<FunctionBundle> {
  const outcome: BundleOutcome = await bundleFunction(code, handler, limits);
  if (!outcome.ok) throw new Error(`expected a bundle, got ${JSON.stringify(outcome.failure)}`);
  return outcome.bundle;
}

/** Bundles and insists on an init failure. */
export async function bundleFails(code: CodeSource, handler: string): Promise<InitFailure> {
  const outcome = await bundleFunction(code, handler);
  if (outcome.ok) throw new Error('expected an init failure, got a bundle');
  return outcome.failure;
}

/**
 * Runs the script as the guest would (one expression, evaluated as a classic script, then called)
 * and resolves with the export root.
 */
export async function load(bundle: FunctionBundle): Promise<Record<string, unknown>> {
  const fn = runInThisContext(bundle.script, { filename: bundle.filename }) as () => Promise<Record<string, unknown>>;
  expect(typeof fn).toBe('function');
  return fn();
}

/** Walks `handlerPath` on the root and calls the handler found there. */
export async function invoke(bundle: FunctionBundle, event: unknown = {}): Promise<unknown> {
  let target: unknown = await load(bundle);
  for (const key of bundle.handlerPath) target = (target as Record<string, unknown>)[key];
  expect(typeof target).toBe('function');
  return (target as (event: unknown, context: unknown) => unknown)(event, {});
}
