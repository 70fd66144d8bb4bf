/** Adversarial catalogue (issue #15): console floods, /tmp abuse, timers left running; see cases.ts. */
import { RESOURCES } from './cases.ts';
import { catalogue, MODES } from './harness.ts';

// quickjs `shared` reaches the log collector, the vfs and the timers by the same host paths as
// `instance` (measured there); skipped visibly to keep the catalogue's wall time modest.
catalogue(
  'adversarial: logs, /tmp and timers',
  RESOURCES,
  MODES.map((m) => (m.name === 'quickjs-shared' ? { ...m, skip: m.skip ?? 'same host paths as quickjs (instance), which runs these' } : m)),
  // One at a time: these cases are long synchronous runs of host calls, and quickjs sandboxes share
  // worker threads, so concurrent cases would push each other's INIT past its 10 s limit.
  false,
);
