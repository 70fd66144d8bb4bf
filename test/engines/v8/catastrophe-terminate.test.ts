/**
 * isolated-vm's other catastrophic error, "Script failed to terminate" (issue #15), provoked for
 * real by guest code: the same degradation (in-process v8) and recovery (a process-isolation child
 * replaced) as the heap case (catastrophe-degrade.test.ts, ../process/catastrophe-recovery.test.ts).
 *
 * When isolated-vm raises it (isolated-vm 7.0.1, src/isolate/run_with_timeout.h, RunWithTimeout):
 * a call made with a `timeout` (lambdalet's every guest call: v8-sandbox.ts `apply(..., { timeout })`)
 * arms a timer; when it fires, isolated-vm queues a TimeoutRunner as an isolate interrupt
 * (`lock->interrupts.push(...); lock->InterruptIsolate()`, lines 95-100) and sets
 * `deadline = now + 5 s` (line 77). With an `onCatastrophicError` handler (lambdalet sets one), if the
 * interrupt has neither run nor been released by then (line 109) — or it ran, but the call has not
 * returned though `TerminateExecution()` is repeated until then (lines 123-130) — it calls
 * `RaiseCatastrophicError(isolate.error_handler, "Script failed to terminate")` and parks the
 * isolate's thread for good (`thread_suspend.suspend()`, lib/suspend.h: a signal handler that sleeps
 * for ever). The `assert(...)` around the call is compiled in: the shipped linux-x64 prebuilds hold
 * the assert's text.
 *
 * How a guest provokes it: a single V8 built-in that polls no interrupt for 5 s. V8 services
 * isolated-vm's interrupt (an API interrupt) only at JavaScript stack checks; its BigInt algorithms
 * poll only for a termination request (v8 src/objects/bigint.cc BigIntPlatform::InterruptRequested:
 * `interrupt_check.InterruptRequested() && stack_guard()->HasTerminationRequest()`), which
 * isolated-vm does not make until its interrupt has run. So one `(3n ** 100000000n).toString()` (the
 * power alone is seconds, its decimal string far more) holds the interrupt off past the 5 s.
 * Measured raw (isolated-vm, timeout 200 ms, load ~11): "Script failed to terminate" 5.2 s after the
 * call began. lambdalet's interruptible sort already took `Array/TypedArray.prototype.sort` out of
 * this class (guest/interruptible-sort.ts); a loop of shorter BigInt operations is terminated (the
 * interrupt runs between them).
 *
 * The bombed invocation itself is answered at its deadline (environment/event-loop.ts
 * answerByDeadline) as Lambda's timeout, Sandbox.Timedout "Task timed out after 1.00 seconds"; the
 * catastrophe comes ~5 s later, so the script waits for it (in-process: `rt.metrics().isolation`
 * turns `process`; process isolation: the bombed child leaves `engineProcessIds()`) before the
 * neighbours are invoked. Not covered here: a SnapStart restore server's isolate (the heap case
 * covers that path; the error's wording does not change it).
 *
 * Cost: each catastrophe holds one core for the call's 1 s timeout + isolated-vm's 5 s (then its
 * thread is parked): two here, the in-process one and the same bomb in the degraded runtime's child,
 * in one child process of the test's own (a parked thread must not stay in a test runner's process).
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { catastropheChildPrelude, runUntilDone, taggedLine } from '../../helpers/process.ts';
import { GENEROUS_TIMEOUT_MS, SLOW_CASE_LIMIT_MS } from '../../helpers/runtime.ts';


/** One BigInt built-in call of far more than isolated-vm's 5 s (memoryMb 1024: never out of memory first). */
const TERMINATE_BOMB = 'export const handler = async () => (3n ** 100000000n).toString().length';
const NEIGHBOUR = 'export const handler = async (e) => ({ neighbour: e.n })';

function script(): string {
  return `
    ${catastropheChildPrelude()}
    const until = async (tag, done) => {
      while (!done()) await new Promise((resolve) => setTimeout(resolve, 50));
      console.log(tag + ' true');
    };
    const files = (code) => ({ files: { 'index.mjs': code } });
    const rt = await createRuntime({ logSink: silentSink, engineProcesses: 1 });
    const other = await createRuntime({ logSink: silentSink, engineProcesses: 1 });
    await rt.deploy({ name: 'warm', code: files(${JSON.stringify(NEIGHBOUR)}) });
    await rt.deploy({ name: 'qjs', engine: 'quickjs', code: files(${JSON.stringify(NEIGHBOUR)}) });
    await other.deploy({ name: 'other', code: files(${JSON.stringify(NEIGHBOUR)}) });
    await rt.deploy({ name: 'bomb', memoryMb: 1024, timeoutMs: 1000, code: files(${JSON.stringify(TERMINATE_BOMB)}) });
    await show('WARM0', () => rt.invoke('warm', { n: 0 }));
    await show('OTHER0', () => other.invoke('other', { n: 0 }));
    console.log('CHILDREN0 ' + JSON.stringify(engineProcessIds().length));
    await show('BOMB', () => rt.invoke('bomb'));
    await until('DEGRADED', () => rt.metrics().isolation.v8 === 'process');
    await show('WARM1', () => rt.invoke('warm', { n: 1 }));
    await show('OTHER1', () => other.invoke('other', { n: 1 }));
    await show('QJS1', () => rt.invoke('qjs', { n: 1 }));
    await rt.deploy({ name: 'later', code: files(${JSON.stringify(NEIGHBOUR)}) });
    await show('LATER1', () => rt.invoke('later', { n: 1 }));
    console.log('ISOLATION ' + JSON.stringify({ rt: rt.metrics().isolation, other: other.metrics().isolation }));
    // The same bomb again, now in a child process (v8 degraded): that child's catastrophe.
    const before = engineProcessIds();
    console.log('CHILDREN1 ' + JSON.stringify(before.length));
    await show('BOMBAGAIN', () => rt.invoke('bomb'));
    await until('REPLACED', () => before.some((pid) => !engineProcessIds().includes(pid)));
    await show('WARM2', () => rt.invoke('warm', { n: 2 }));
    await show('OTHER2', () => other.invoke('other', { n: 2 }));
    await show('LATER2', () => rt.invoke('later', { n: 2 }));
    console.log('WARNINGS ' + JSON.stringify(warnings));
    console.log('DONE');`;
}

type Shown = { payload?: unknown; functionError?: string | null; name?: string; message?: string };

describe('"Script failed to terminate" (isolated-vm\'s other catastrophic error), provoked by a guest', () => {
  it('in-process v8 degrades to process isolation (every neighbour answers); the same bomb in a child ends only that child, which is replaced', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'lambdalet-terminate-'));
    const file = join(dir, 'host.mjs');
    writeFileSync(file, script());
    let run: { stdout: string; stderr: string };
    try {
      run = await runUntilDone([file], GENEROUS_TIMEOUT_MS);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
    const { stdout, stderr } = run;
    const timedOut = (tag: string): void => {
      const shown = taggedLine(stdout, tag) as Shown | undefined;
      expect(shown?.functionError, `${tag}; stderr: ${stderr.slice(-2000)}`).toBe('Unhandled');
      // Lambda's timeout (the runtime client's words), answered at the deadline as for any runaway.
      expect(shown?.payload).toMatchObject({ errorType: 'Sandbox.Timedout', errorMessage: expect.stringMatching(/Task timed out after 1\.00 seconds$/) as unknown });
    };
    expect(taggedLine(stdout, 'CHILDREN0')).toBe(0);
    timedOut('BOMB');
    expect(taggedLine(stdout, 'DEGRADED')).toBe(true);
    for (const [tag, n] of [
      ['WARM0', 0],
      ['OTHER0', 0],
      ['WARM1', 1],
      ['OTHER1', 1],
      ['QJS1', 1],
      ['LATER1', 1],
      ['WARM2', 2],
      ['OTHER2', 2],
      ['LATER2', 2],
    ] as const) {
      expect(taggedLine(stdout, tag), `${tag}; stderr: ${stderr.slice(-2000)}`).toEqual({ payload: { neighbour: n }, functionError: null });
    }
    // Degraded by this error, every runtime of the process; one warning.
    const isolation = taggedLine(stdout, 'ISOLATION') as { rt: unknown; other: unknown };
    for (const each of [isolation.rt, isolation.other]) expect(each).toEqual({ v8: 'process', v8DegradedBy: 'Script failed to terminate' });
    const warnings = taggedLine(stdout, 'WARNINGS') as string[];
    expect(warnings.filter((code) => code === 'LAMBDALET_V8_DEGRADED')).toHaveLength(1);
    expect(warnings).not.toContain('LAMBDALET_V8_CATASTROPHIC');
    // In process isolation: the bomb is a timeout again, its child is replaced, the neighbours answer.
    expect(taggedLine(stdout, 'CHILDREN1')).toBeGreaterThan(0);
    timedOut('BOMBAGAIN');
    expect(taggedLine(stdout, 'REPLACED')).toBe(true);
  }, SLOW_CASE_LIMIT_MS);
});
