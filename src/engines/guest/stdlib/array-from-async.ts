/**
 * `Array.fromAsync` (ES2024; Node 22+) where the engine lacks it (QuickJS): core-js-pure's, which
 * patches no global. A chunk of its own, loaded by the boot stub (guest/lazy-apis.ts) on the first
 * call: most functions never call it, and QuickJS parses the boot script on every cold start.
 */
import fromAsync from 'core-js-pure/stable/array/from-async.js';

export { fromAsync };
