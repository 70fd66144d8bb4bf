/** Adversarial catalogue (issue #15): hostile values thrown or returned fail at once; see cases.ts. */
import { THROWN } from './cases.ts';
import { catalogue } from './harness.ts';

catalogue('adversarial: thrown and returned values', THROWN);
