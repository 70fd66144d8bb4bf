/**
 * The scale-up rule: a token bucket per function. Each new environment takes a token; tokens come
 * back at `ratePerSecond`, up to `burst`. Lambda's rule is 1000 new environments per function per
 * 10 s; the runtime scales it to one host (`scaleUpRate`, `scaleUpBurst`).
 */
export class TokenBucket {
  readonly #ratePerMs: number;
  readonly #burst: number;
  #tokens: number;
  #updatedAt: number;

  constructor(ratePerSecond: number, burst: number, now: number) {
    this.#ratePerMs = ratePerSecond / 1000;
    this.#burst = burst;
    this.#tokens = burst;
    this.#updatedAt = now;
  }

  /** Whether a token is available at `now` (takes none). */
  available(now: number): boolean {
    this.#refill(now);
    return this.#tokens >= 1;
  }

  /** Takes a token; call only after {@link available} said yes at the same `now`. */
  take(): void {
    this.#tokens -= 1;
  }

  /** Milliseconds from `now` until the next token (0 when one is available). */
  msUntilToken(now: number): number {
    this.#refill(now);
    return this.#tokens >= 1 ? 0 : Math.ceil((1 - this.#tokens) / this.#ratePerMs);
  }

  #refill(now: number): void {
    const elapsed = now - this.#updatedAt;
    if (elapsed <= 0) return;
    this.#tokens = Math.min(this.#burst, this.#tokens + elapsed * this.#ratePerMs);
    this.#updatedAt = now;
  }
}
