/**
 * Issue #15, tenant isolation of host calls: many tenants beside a flood of synchronous host calls,
 * in engine servers shared by all of them (engineThreads 1, engineProcesses 1). Every host call's
 * answer must be its own: each tenant reads back only what it wrote to its own /tmp, and no call
 * fails with "the host did not answer". Before the handshake named its calls (host-answer.ts), a
 * late notify shifted a worker's answers by one after some thousands of calls, and the next
 * tenant's read returned the previous call's answer (/work/breaker/4-quickjs-host-answer-shift:
 * another tenant's SECRET-OF-<id>). The invariant is asserted, not the race: it holds or not
 * whichever way the threads interleave.
 *
 * That the tenants' calls do run beside the floods' is asserted too (FloodWitness). Until this
 * check, both quickjs cases ran exactly one round: the tenants cold-started with the floods, those
 * placed in a flood's server (4-6 of 8) waited for its whole call and ran after it, and the others
 * ran at most partly beside it (instrumented at load 7-12: all of them before the floods' first
 * calls; with this witness at load 5: 1 of 8 calls in-process, 4 of 8 in process, beside both).
 */
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { createRuntime, silentSink, type InvokeResult, type Runtime } from '../../../src/index.ts';
import { GENEROUS_TIMEOUT_MS, SLOW_CASE_LIMIT_MS } from '../../helpers/runtime.ts';

/**
 * How long each flood makes host calls (each a full round trip through the server's handshake).
 * The reproduction's 8 s loop shifted the answers after 6,000-115,000 calls in 4 of 5 runs. 6 s
 * here (was 8), with the tenants' calls now made beside the floods' rather than after them, so
 * the file's CPU is no larger than before (same run, load 6-7: 12.6 and 12.0 CPU-s against 14.7 and
 * 16.2, vitest included). Per case at that load: in-process 51,000 flood calls and 19,000 tenant
 * calls beside them; process 21,000-26,000 and 7,000-15,000.
 */
const FLOOD_MS = 6000;
const TENANTS = 8;
/** A flood logs a line every this many host calls: the test's count of its answered calls. */
const FLOOD_LINE_CALLS = 16;
/** Host calls of one tenant invocation (a write and a read each). */
const TENANT_PAIRS = 30;

const FLOOD = `
import fs from 'node:fs';
export const handler = async (event) => {
  const mine = 'FLOOD-' + event.n;
  fs.writeFileSync('/tmp/flood.txt', mine);
  let wrong = 0;
  let calls = 0;
  for (const end = Date.now() + event.ms; Date.now() < end; ) {
    const i = ++calls;
    // Mostly cheap calls; every 64th reads the file back, whose bytes only this environment knows.
    if (i % 64 === 0) { if (fs.readFileSync('/tmp/flood.txt', 'latin1') !== mine) wrong++; }
    else if (fs.statSync('/tmp/flood.txt').size !== mine.length) wrong++;
    // Logged after the call's answer came back: the host counts these lines as they arrive.
    if (i % ${FLOOD_LINE_CALLS} === 0) console.log('flood-line ' + event.n);
  }
  return { calls, wrong };
};`;

const TENANT = `
import fs from 'node:fs';
export const handler = async (event, context) => {
  const secret = 'SECRET-OF-' + context.tenantId + '-' + event.round;
  const seen = [];
  console.log('tenant-start ' + context.tenantId + ' ' + event.round);
  for (let i = 0; i < ${TENANT_PAIRS}; i++) {
    fs.writeFileSync('/tmp/secret.txt', secret + '-' + i);
    const back = fs.readFileSync('/tmp/secret.txt', 'latin1');
    if (back !== secret + '-' + i) seen.push(back);
  }
  console.log('tenant-end ' + context.tenantId + ' ' + event.round);
  return { foreign: seen };
};`;

/**
 * Counts, from the log lines as the host receives them, each flood's lines received while each
 * tenant invocation ran (between its start and end lines). A server's log lines and host calls
 * reach the host in the order its guest made them, so two lines of flood n received between a
 * tenant's start and end prove that the host answered that flood's calls between them
 * (FLOOD_LINE_CALLS of them, made after the first line and before the second) while the tenant's
 * own calls were being made: the tenant ran beside the flood, not before or after it.
 */
class FloodWitness {
  /** Lines received so far, per flood (1, 2). */
  readonly lines = [0, 0, 0];
  /** Per tenant invocation (`tenantId round`): each flood's line count at its start, then lines during it. */
  readonly #started = new Map<string, number[]>();
  readonly during = new Map<string, number[]>();
  #flowing: (() => void) | undefined;
  /** Settles once both floods have logged a line: both are making host calls. */
  readonly flowing = new Promise<void>((resolve) => (this.#flowing = resolve));

  write(line: string): void {
    const match = /(flood-line|tenant-start|tenant-end) (\S+)(?: (\d+))?$/.exec(line);
    if (!match) return;
    const [, kind, who, round] = match;
    if (kind === 'flood-line') {
      this.lines[Number(who)]!++;
      if (this.lines[1]! > 0 && this.lines[2]! > 0) this.#flowing?.();
    } else if (kind === 'tenant-start') this.#started.set(`${who} ${round}`, [...this.lines]);
    else {
      const at = this.#started.get(`${who} ${round}`)!;
      this.during.set(`${who} ${round}`, this.lines.map((n, i) => n - at[i]!));
    }
  }
}

/**
 * At most this many flood phases: each runs two floods of FLOOD_MS and tenant rounds beside them.
 * A second phase runs only when the first did not witness TENANTS invocations beside both floods:
 * on a saturated machine (load 15-18) the floods' threads were descheduled through most tenants'
 * short invocations and a phase saw 1 (issue #12, a test may not depend on the machine's speed).
 */
const MAX_PHASES = 4;

async function tenantsBesideFlood(isolation: 'in-process' | 'process'): Promise<void> {
  let witness = new FloodWitness();
  const rt: Runtime = await createRuntime({ logSink: { write: (line: string) => witness.write(line) }, isolation, engineThreads: 1, engineProcesses: 1 });
  try {
    await rt.deploy({ name: 'flood', engine: 'quickjs', timeoutMs: 300_000, code: { files: { 'index.mjs': FLOOD } } });
    await rt.deploy({ name: 'saas', engine: 'quickjs', timeoutMs: 300_000, tenancy: { isolationMode: 'PER_TENANT' }, code: { files: { 'index.mjs': TENANT } } });
    const tenants = Array.from({ length: TENANTS }, (_, i) => `customer-${i + 1}`);
    let beside = 0;
    let round = 0;
    for (let phase = 1; phase <= MAX_PHASES && beside < TENANTS; phase++) {
      if (phase > 1) witness = new FloodWitness();
      let flooding = true;
      const floods = Promise.all(
        [1, 2].map((n) => rt.invoke('flood', { n, ms: FLOOD_MS }).finally(() => (flooding = false))),
      );
      // The tenants start once both floods make host calls, one cold start at a time: a QuickJS
      // server runs one call at a time, so a tenant placed in a flood's server would wait for the
      // whole flood. With the floods' servers busy, each cold start goes to a server without a call in
      // flight (engine-pool.ts / child-servers.ts `#pick`): the tenants share the pool's (or the
      // child's) other servers, beside the floods' servers, and every round runs while they flood.
      await Promise.race([witness.flowing, floods.then(() => Promise.reject(new Error('a flood ended before both made host calls')))]);
      const rounds: { tenantId: string; functionError?: string; payload: unknown }[] = [];
      const first = round + 1;
      do {
        round++;
        const event = { round };
        const results =
          round === first
            ? await tenants.reduce<Promise<InvokeResult[]>>(async (done, tenantId) => [...(await done), await rt.invoke('saas', event, { tenantId })], Promise.resolve([]))
            : await Promise.all(tenants.map((tenantId) => rt.invoke('saas', event, { tenantId })));
        results.forEach((result, i) => rounds.push({ tenantId: tenants[i]!, functionError: result.functionError, payload: result.payload }));
        // A pause between rounds: the race this guards against needs a host thread quick to answer
        // (an answer flagged before the worker waits, its notify late), as the reproduction's was.
        await new Promise((resolve) => setTimeout(resolve, 20));
      } while (flooding);
      for (const flood of await floods) {
        expect(flood.functionError).toBeUndefined();
        expect(flood.payload).toEqual({ calls: expect.any(Number), wrong: 0 });
      }
      for (const entry of rounds) expect(entry).toEqual({ tenantId: entry.tenantId, functionError: undefined, payload: { foreign: [] } });
      expect(witness.during.size).toBe(rounds.length);
      // Tenant invocations that saw the host answer each flood's host calls while they made their
      // own (FloodWitness): they ran beside both floods.
      beside += [...witness.during.values()].filter(([, one, two]) => one! >= 2 && two! >= 2).length;
    }
    // What makes the answers above a test of the race: at least a round's worth of tenant
    // invocations ran beside both floods.
    expect(beside).toBeGreaterThanOrEqual(TENANTS);
  } finally {
    await rt.close();
  }
}

describe('host calls under a flood: every answer reaches its own call (issue #15)', () => {
  it('quickjs in-process: tenants read only their own /tmp beside two floods of host calls', () => tenantsBesideFlood('in-process'), SLOW_CASE_LIMIT_MS);

  it('quickjs, isolation process: the same through a child process', () => tenantsBesideFlood('process'), SLOW_CASE_LIMIT_MS);

  it('wasm: components beside each other in one server keep their own /tmp (the C probe)', async () => {
    const probe = join(import.meta.dirname, '../../../native/components/probe.wasm');
    const rt = await createRuntime({ logSink: silentSink, engineThreads: 1 });
    try {
      // A generous deadline: the 8 tenants' calls take turns in the one server, and under load a call
      // queued behind the others passed Lambda's default 3 s (functionError 'Unhandled', twice at load
      // 15-20). This case is about /tmp, not deadlines.
      await rt.deploy({ name: 'probe', engine: 'wasm', timeoutMs: GENEROUS_TIMEOUT_MS, tenancy: { isolationMode: 'PER_TENANT' }, code: { component: probe } });
      const tenants = Array.from({ length: TENANTS }, (_, i) => `customer-${i + 1}`);
      // Each environment appends 5 bytes to its /tmp/probe.txt per invocation and reads the file
      // back: a tenant's nth invocation in one environment sees 5n bytes, whatever its neighbours do.
      const appended = new Map<string, number>();
      for (let round = 1; round <= 25; round++) {
        const results = await Promise.all(tenants.map((tenantId) => rt.invoke('probe', 'tmp', { tenantId })));
        results.forEach((result, i) => {
          const tenantId = tenants[i]!;
          const before = result.coldStart ? 0 : appended.get(tenantId)!;
          appended.set(tenantId, before + 5);
          expect(result.functionError, JSON.stringify(result.payload)).toBeUndefined();
          expect(result.payload).toEqual({ bytes: before + 5, hostPasswd: false, escape: false });
        });
      }
    } finally {
      await rt.close();
    }
  }, SLOW_CASE_LIMIT_MS);
});
