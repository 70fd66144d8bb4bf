/**
 * Guest replies come from a sandbox that runs hostile code: check their shape before trusting a
 * single field (a guest that tampered with its runtime could send anything).
 */
import { SandboxFault } from '../engines/engine.ts';
import type { ErrorShape, GuestReply } from '../engines/guest/protocol.ts';

export function checkReply(value: unknown): GuestReply {
  if (typeof value !== 'object' || value === null) throw malformed('not an object');
  const r = value as Record<string, unknown>;
  if (typeof r.done !== 'boolean') throw malformed('`done` is not a boolean');
  if (typeof r.nextTimerInMs !== 'number' || Number.isNaN(r.nextTimerInMs)) throw malformed('`nextTimerInMs` is not a number');
  if (typeof r.logCount !== 'number' || !Number.isSafeInteger(r.logCount)) throw malformed('`logCount` is not an integer');
  if (r.done) {
    if (typeof r.ok !== 'boolean') throw malformed('`ok` is not a boolean');
    if (r.payload !== undefined && typeof r.payload !== 'string') throw malformed('`payload` is not a string');
    if (!r.ok) r.error = checkErrorShape(r.error);
  }
  return value as GuestReply;
}

function checkErrorShape(value: unknown): ErrorShape {
  if (typeof value !== 'object' || value === null) throw malformed('`error` is not an object');
  const e = value as Record<string, unknown>;
  const trace = Array.isArray(e.trace) ? e.trace.filter((l): l is string => typeof l === 'string') : [];
  return { errorType: String(e.errorType), errorMessage: String(e.errorMessage), trace };
}

function malformed(what: string): SandboxFault {
  return new SandboxFault('crashed', `The guest runtime sent a malformed reply: ${what}`);
}
