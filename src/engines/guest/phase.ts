/**
 * One phase of the environment's life — INIT or one invocation — and its single outcome.
 * The first outcome wins, as in Lambda's runtime client; later ones are logged and ignored.
 */
import type { ErrorShape } from './protocol.ts';

export interface PhaseOutcome {
  readonly ok: boolean;
  readonly payload?: string;
  readonly error?: ErrorShape;
  readonly fatal?: boolean;
}

export class Phase {
  // `declare`d: assigned in the constructor only (a class field is one more property definition per
  // phase, interpreted in QuickJS).
  declare outcome: PhaseOutcome | undefined;
  /** What an empty event loop means for this phase (Node's `beforeExit`). */
  declare onDrain: () => void;

  constructor(onDrain: () => void) {
    this.outcome = undefined;
    this.onDrain = onDrain;
  }

  get done(): boolean {
    return this.outcome !== undefined;
  }

  /** Records the outcome unless one is already recorded; returns whether this call set it. */
  settle(outcome: PhaseOutcome): boolean {
    if (this.outcome) return false;
    this.outcome = outcome;
    return true;
  }
}
