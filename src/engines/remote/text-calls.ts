/**
 * A worker server's calls and their plain replies as one string each across its port (issue #21),
 * instead of the objects of protocol.ts: a thread's `postMessage` clones one string for less than
 * an object (a call is ten fields in two objects, a reply up to six). Same-run A/B, in a worker
 * round trip of Node 24 (load ~9): objects 10.3 µs, strings 8.6 µs, wall and CPU alike.
 *
 * Only what is common and simple is encoded: `invoke`, `status`, `tick` and `drain` calls not sent
 * behind a restore, and replies without a fault; anything else (and an invoke whose request id or
 * extras hold a newline, which the format cannot carry) crosses as the object it is. The encoded
 * forms decode to exactly the objects they were made from, at the two ends of the port
 * (worker-host.ts, server.ts): nothing else sees them.
 *
 *   call:  "C" id "\n" sb "\n" deadline "\n" type [ "\n" requestId "\n" deadlineMs "\n" extras "\n" event ]
 *   reply: "R" id "\n" memoryBytes "\n" busyMs "\n" cpuMs "\n" statusLength "\n" status reply
 *          (busyMs, cpuMs: empty when absent; statusLength -1 when there is no status)
 */
import type { HostMessage } from '../guest/protocol.ts';
import type { ServerEvent, ServerRequest } from './protocol.ts';

type Call = Extract<ServerRequest, { t: 'call' }>;
type Reply = Extract<ServerEvent, { t: 'reply' }>;

/** A call as one string, or undefined when it crosses as an object. */
export function encodeCall(call: Call): string | undefined {
  if (call.budgetMs !== undefined) return undefined;
  const message = call.message;
  const head = `C${call.id}\n${call.sb}\n${call.deadline}\n`;
  switch (message.type) {
    case 'invoke':
      if (message.requestId.includes('\n') || message.extras.includes('\n')) return undefined;
      return `${head}invoke\n${message.requestId}\n${message.deadlineMs}\n${message.extras}\n${message.event}`;
    case 'status':
    case 'tick':
    case 'drain':
      return head + message.type;
    default:
      return undefined;
  }
}

/** The call {@link encodeCall} made `text` from. */
export function decodeCall(text: string): Call {
  const a = text.indexOf('\n');
  const b = text.indexOf('\n', a + 1);
  const c = text.indexOf('\n', b + 1);
  const id = Number(text.slice(1, a));
  const sb = Number(text.slice(a + 1, b));
  const deadline = Number(text.slice(b + 1, c));
  const d = text.indexOf('\n', c + 1);
  if (d < 0) {
    const type = text.slice(c + 1) as 'status' | 'tick' | 'drain';
    return { t: 'call', id, sb, message: { type }, deadline };
  }
  const e = text.indexOf('\n', d + 1);
  const f = text.indexOf('\n', e + 1);
  const g = text.indexOf('\n', f + 1);
  const message: HostMessage = {
    type: 'invoke',
    requestId: text.slice(d + 1, e),
    deadlineMs: Number(text.slice(e + 1, f)),
    extras: text.slice(f + 1, g),
    event: text.slice(g + 1),
  };
  return { t: 'call', id, sb, message, deadline };
}

/** A reply as one string, or undefined when it crosses as an object (a fault, or a status that is one). */
export function encodeReply(reply: Reply): string | undefined {
  const { status } = reply;
  if (reply.fault !== undefined || reply.reply === undefined || (status !== undefined && typeof status !== 'string')) return undefined;
  return `R${reply.id}\n${reply.memoryBytes}\n${reply.busyMs ?? ''}\n${reply.cpuMs ?? ''}\n${status === undefined ? -1 : status.length}\n${status ?? ''}${reply.reply}`;
}

/** The reply {@link encodeReply} made `text` from. */
export function decodeReply(text: string): Reply {
  const a = text.indexOf('\n');
  const b = text.indexOf('\n', a + 1);
  const c = text.indexOf('\n', b + 1);
  const d = text.indexOf('\n', c + 1);
  const e = text.indexOf('\n', d + 1);
  const busy = text.slice(b + 1, c);
  const cpu = text.slice(c + 1, d);
  const statusLength = Number(text.slice(d + 1, e));
  const rest = e + 1;
  const reply: { -readonly [K in keyof Reply]: Reply[K] } = {
    t: 'reply',
    id: Number(text.slice(1, a)),
    reply: statusLength < 0 ? text.slice(rest) : text.slice(rest + statusLength),
    memoryBytes: Number(text.slice(a + 1, b)),
  };
  if (statusLength >= 0) reply.status = text.slice(rest, rest + statusLength);
  if (busy !== '') reply.busyMs = Number(busy);
  if (cpu !== '') reply.cpuMs = Number(cpu);
  return reply;
}
