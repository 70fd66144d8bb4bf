/**
 * vitest `globalSetup` (runs once per run, in vitest's own process): bundles the guest runtime once
 * (guest-cache.ts) and hands its path to every test process, where test/helpers/shared-guest.ts
 * installs it.
 */
import type { TestProject } from 'vitest/node';
import { sharedGuestRuntimeFile } from './guest-cache.ts';

declare module 'vitest' {
  export interface ProvidedContext {
    /** A GuestRuntime as JSON, bundled once for this run (test/helpers/guest-cache.ts). */
    lambdaletGuestRuntime: string;
  }
}

export default async function setup(project: TestProject): Promise<void> {
  project.provide('lambdaletGuestRuntime', await sharedGuestRuntimeFile());
}
