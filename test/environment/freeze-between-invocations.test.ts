/**
 * Issue #15 (red team: "timers left after a response only advance during later invocations").
 * That is Lambda's behaviour: once the runtime posts the response, the execution environment is
 * frozen until its next invocation; "background processes or callbacks that were initiated by your
 * Lambda function and did not complete when the function ended resume if Lambda reuses the
 * execution environment" (AWS Lambda Developer Guide, "Lambda execution environment lifecycle",
 * Invoke phase; lambda-compat.md on callbackWaitsForEmptyEventLoop = false: "the environment is
 * frozen with pending work"). lambdalet matches it: the host drives a guest's timers only while an
 * invocation runs (docs/architecture.md). Invariants, no timing: a timer due 1 ms after a response
 * has not fired when the next invocation starts however long the host waited, and fires in it.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { expect, it } from 'vitest';
import { deployFiles, forEachEngine } from '../helpers/runtime.ts';

const LEAVES_A_TIMER = `
  let fired = 0;
  let armed = 0;
  export const handler = async () => {
    const firedBefore = fired;
    await new Promise((resolve) => setTimeout(resolve, 1)); // this invocation's own timers run
    const firedInside = fired;
    setTimeout(() => { fired++; }, 1); // left pending by the response
    armed++;
    return { armed, firedBefore, firedInside };
  };`;

forEachEngine(({ withRuntime }) => {
  it('a timer left pending by a response is frozen until the next invocation, then fires in it', () =>
    withRuntime(async ({ rt }) => {
      await deployFiles(rt, 'leaves-a-timer', LEAVES_A_TIMER, { timeoutMs: 60_000 });
      expect((await rt.invoke('leaves-a-timer', {})).payload).toEqual({ armed: 1, firedBefore: 0, firedInside: 0 });
      // Time for the timer to fire were the environment not frozen (not an assertion on time).
      await sleep(100);
      const second = await rt.invoke('leaves-a-timer', {});
      expect(second.coldStart).toBe(false);
      // Frozen while idle: nothing fired before the second invocation began; thawed, it fired in it.
      expect(second.payload).toEqual({ armed: 2, firedBefore: 0, firedInside: 1 });
    }));
});
