/**
 * The seam between a response-streaming invocation's guest and whoever reads its bytes on the host
 * (invoke/response-stream.ts implements it). The guest's `stream.write` / `stream.room` /
 * `stream.end` host calls (host-bridge.ts) land here while the invocation runs; from any engine and
 * isolation mode, since host calls always reach the host's own thread.
 *
 * Backpressure contract: the guest never sends more bytes than the last `room` it was given, and
 * waits (polling `stream.room` from its timer ticks) while the room is 0, so the bytes held on the
 * host for a slow reader are bounded by the sink, not by the guest.
 */
export interface ResponseSink {
  /** Bytes the guest may send now: the sink's in-flight bound minus what the reader has not taken; -1 once the response was cut. */
  room(): number;
  /**
   * Takes the next bytes the guest wrote (at most the last room given). `contentType` is the
   * stream's, fixed by its first write. Returns the room left, or -1 when the response was cut
   * (over its size limit): the guest's stream then fails and sends nothing more.
   */
  write(contentType: string, bytes: Buffer): number;
  /** The guest's stream finished: every byte written has been delivered. */
  end(contentType: string): void;
}
