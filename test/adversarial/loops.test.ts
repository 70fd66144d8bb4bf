/** Adversarial catalogue (issue #15): loops, each ending at its deadline; see cases.ts and harness.ts. */
import { LOOPS } from './cases.ts';
import { catalogue } from './harness.ts';

catalogue('adversarial: loops', LOOPS);
