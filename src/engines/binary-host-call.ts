/**
 * Binary payloads between an engine and its guest (guest/protocol.ts, "Host calls"): the host's
 * side (environment/host-bridge.ts) speaks text — JSON, then '\n' and the payload one char per
 * byte (latin1) — while a guest whose host function is marked binary passes a request's payload as
 * an ArrayBuffer and receives an answer's payload as `[head, ArrayBuffer]`. Turning latin1 text
 * into bytes inside the guest ran one JavaScript step per byte (interpreted, on QuickJS); here it
 * is Buffer's latin1 codec on the host (issue 21). In-process v8 goes one step further: the
 * environment's `hostCallBytes` (environment/host-bridge.ts `callBytes`) takes and gives file
 * contents as bytes, so an 8 MiB /tmp read or write is never turned into text at all.
 */
import { Buffer } from 'node:buffer';
import { encodePayload } from './guest/protocol.ts';

/** What a binary host function answers the guest. */
export type BinaryAnswer = string | [head: string, bytes: ArrayBuffer];

/** The text request the host side expects: `args`, plus '\n' and the payload as latin1 when there is one. */
export function textRequest(args: string, bytes: Uint8Array | undefined): string {
  if (bytes === undefined) return args;
  return `${args}\n${Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('latin1')}`;
}

/**
 * The host side's text answer for the guest: unchanged without a payload (or for an error);
 * `[head, bytes]` with one. latin1 keeps each char's low byte, so the wire's U+0100 (a zero byte)
 * becomes 0 again.
 */
export function binaryAnswer(answer: string): BinaryAnswer {
  const at = answer.indexOf('\n');
  if (at < 0 || answer[0] !== 'o') return answer;
  const payload = Buffer.from(answer.slice(at + 1), 'latin1');
  return [answer.slice(0, at), payload.buffer.slice(payload.byteOffset, payload.byteOffset + payload.byteLength)];
}

/** The text form of a binary answer (the inverse of {@link binaryAnswer}), for a channel that carries only text. */
export function textAnswer([head, bytes]: [head: string, bytes: ArrayBuffer]): string {
  return `${head}\n${encodePayload(Buffer.from(bytes))}`;
}
