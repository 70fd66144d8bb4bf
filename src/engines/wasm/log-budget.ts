/**
 * What one phase of a component may send to the host's log (issue #15). The host keeps
 * LOG_CHARS_PER_PHASE characters of a phase's output, each line cut at 256 Ki characters
 * (environment/log-collector.ts: the same figures, held equal by test/engines/wasm/log-budget.test.ts);
 * every line an engine server sends crosses to the host's thread first (a message per line), so a
 * component logging 1 MiB lines for 5 s (memoryMb 128) sent 541 MB there and a neighbour's p99 rose
 * to 1,352 ms. Lines are sent cut at one character past the host's bound (the host cuts and marks
 * them), and for SLACK_CHARS past the phase's bound (the host's own count then passes its bound and
 * it writes its notice); after that nothing is sent, and what is not sent is not counted.
 */
export const PHASE_LOG_CHARS = 10 * 1024 * 1024;
export const LOG_LINE_CHARS = 256 * 1024;
export const SLACK_CHARS = 1024 * 1024;
/** What a line costs beyond its text (the host counts the prefixed line it writes): an empty line is not free. */
export const LINE_OVERHEAD_CHARS = 64;

export class PhaseLogBudget {
  #chars = 0;

  /** A new phase (INIT, an invocation, a snapshot or restore). */
  reset(): void {
    this.#chars = 0;
  }

  /** The text to send for a line, cut to what the host keeps, or undefined to send nothing. */
  admit(text: string): string | undefined {
    if (this.#chars > PHASE_LOG_CHARS + SLACK_CHARS) return undefined;
    const sent = text.length > LOG_LINE_CHARS + 1 ? text.slice(0, LOG_LINE_CHARS + 1) : text;
    this.#chars += sent.length + LINE_OVERHEAD_CHARS;
    return sent;
  }
}
