/**
 * vitest `globalSetup` (runs once per run, in vitest's own process): bundles the guest runtime once
 * (guest-cache.ts), copies it to a file of the run's own and hands that path to every test process,
 * where test/helpers/shared-guest.ts installs it; the copy is removed when the run ends.
 */
import type { TestProject } from 'vitest/node';
import { sharedGuestRuntimeFile } from './guest-cache.ts';

declare module 'vitest' {
  export interface ProvidedContext {
    /** A GuestRuntime as JSON, bundled once for this run (test/helpers/guest-cache.ts). */
    lambdaletGuestRuntime: string;
  }
}

export default async function setup(project: TestProject): Promise<() => void> {
  const { file, remove } = await sharedGuestRuntimeFile();
  project.provide('lambdaletGuestRuntime', file);
  return remove;
}
