/**
 * `lambdalet/snapstart`: SnapStart's runtime hooks, for handler code.
 *
 *   import { registerBeforeSnapshot, registerAfterRestore } from 'lambdalet/snapstart';
 *   registerBeforeSnapshot(async () => { await pool.drain(); });      // before the snapshot, at deploy
 *   registerAfterRestore(() => { connection = connect(); });          // in every restored environment
 *
 * Inside lambdalet's sandboxes the bundler routes this import to the guest runtime's own module,
 * which runs the hooks (before-snapshot: last registered first, as CRaC does; after-restore: in
 * registration order; each may return a promise). A hook that throws fails the deploy
 * (before-snapshot) or the restoring invoke (after-restore, SnapStartException).
 *
 * This host-side module is what Node loads when the handler runs outside lambdalet (plain unit
 * tests): it records the hooks and never calls them, as Lambda without SnapStart never does.
 */

/** A SnapStart runtime hook. */
export type SnapStartHook = () => void | Promise<void>;

const registered: { readonly beforeSnapshot: SnapStartHook[]; readonly afterRestore: SnapStartHook[] } = {
  beforeSnapshot: [],
  afterRestore: [],
};

function checked(hook: unknown): SnapStartHook {
  if (typeof hook !== 'function') {
    throw new TypeError(`The "hook" argument must be of type function. Received ${hook === null ? 'null' : typeof hook}`);
  }
  return hook as SnapStartHook;
}

/** Registers a hook that runs before the snapshot is taken. */
export function registerBeforeSnapshot(hook: SnapStartHook): void {
  registered.beforeSnapshot.push(checked(hook));
}

/** Registers a hook that runs in each environment restored from the snapshot, before its first invoke. */
export function registerAfterRestore(hook: SnapStartHook): void {
  registered.afterRestore.push(checked(hook));
}
