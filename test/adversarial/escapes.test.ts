/** Adversarial catalogue (issue #15): escape attempts; see cases.ts and harness.ts. */
import { ESCAPES } from './cases.ts';
import { catalogue } from './harness.ts';

catalogue('adversarial: escape attempts', ESCAPES);
