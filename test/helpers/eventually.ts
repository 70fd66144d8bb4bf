import { vi } from 'vitest';

/**
 * Retries `check` until it stops throwing (or its promise stops rejecting), every 50 ms for up to
 * 60 s, and returns its value: a hang detector for state that other members or processes apply
 * when their message arrives, never a timing assertion. vitest's `vi.waitFor` does the polling.
 */
export function eventually<T>(check: () => T | Promise<T>): Promise<T> {
  return vi.waitFor(check, { timeout: 60_000, interval: 50 });
}
