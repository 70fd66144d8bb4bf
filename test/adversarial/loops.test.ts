/** Adversarial catalogue (issue #15): loops, each ending at its deadline; see cases.ts and harness.ts. */
import { LOOPS, type HostileCase } from './cases.ts';
import { catalogue } from './harness.ts';

/**
 * Loops that hold their worker or child well past the deadline run after the others, one at a time,
 * on their own runtime. Run together in a shared worker or child (v8-process, quickjs-process):
 * - the timer spin (5 s deadline; it then spun all of it) held the 250 ms cases queued behind it past
 *   their bounds, the pool gave the child up and the spin's own second call ended as
 *   Runtime.ExitError "signal: killed" (main at 478c3de, load 5-7, 2 of 4 runs; alone, 3 of 3 passed);
 * - the uninterruptible built-ins each get their worker terminated about 1 s past the deadline
 *   (worker-host.ts STUCK_GRACE_MS), so a neighbour's call and its one retry could both land on
 *   workers being terminated (CI at c275e1d, Node 24, v8-process: "the engine worker was stuck
 *   1000 ms past a deadline and was terminated" twice). One at a time, one retry covers the one
 *   termination a case causes.
 */
const holdsItsWorker = (c: HostileCase): boolean =>
  c.name === 'loop: spinning in a timer after the response' || c.name.startsWith('loop: an uninterruptible built-in');
catalogue('adversarial: loops', LOOPS.filter((c) => !holdsItsWorker(c)));
catalogue('adversarial: loops, one at a time', LOOPS.filter(holdsItsWorker), undefined, false);
