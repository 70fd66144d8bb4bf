/** Adversarial catalogue (issue #15): loops, each ending at its deadline; see cases.ts and harness.ts. */
import { LOOPS } from './cases.ts';
import { catalogue } from './harness.ts';

/**
 * The one loop with a 5 s deadline runs after the others, on its own runtime: in a shared worker or
 * child its spin held the 250 ms cases queued behind it past their bounds, the pool gave the child up
 * and the spin's own second call ended as Runtime.ExitError "signal: killed" (run together on main at
 * 478c3de, load 5-7, in 2 of 4 runs, v8-process and quickjs-process; alone, 3 of 3 passed).
 */
const ALONE = 'loop: spinning in a timer after the response';
catalogue('adversarial: loops', LOOPS.filter((c) => c.name !== ALONE));
catalogue('adversarial: loops, one at a time', LOOPS.filter((c) => c.name === ALONE), undefined, false);
