import { vi } from 'vitest';

/**
 * Retries `check` until it stops throwing (or its promise stops rejecting), every 50 ms for up to
 * `timeoutMs` (60 s by default), and returns its value: a hang detector for state that other
 * members or processes apply when their message arrives, never a timing assertion. vitest's
 * `vi.waitFor` does the polling. A case that waits on a child process it spawned (its start-up, a
 * lock lapsing) passes a longer bound, with SLOW_CASE_LIMIT_MS as its vitest limit: a busy machine
 * can take a Node start-up far past 60 s (issue #12).
 */
export function eventually<T>(check: () => T | Promise<T>, timeoutMs = 60_000): Promise<T> {
  return vi.waitFor(check, { timeout: timeoutMs, interval: 50 });
}
