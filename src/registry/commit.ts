/**
 * Committing a control-plane change under Lambda's optimistic concurrency (RevisionId), when the
 * registry's store may be shared (a cluster's Redis) and so may have moved on since this runtime
 * read it.
 *
 * A change to a function is computed from the registry's current entry and written with a
 * condition (registry/store.ts `WriteCondition`: the revisionId of what it replaces). When the
 * store refuses it (StoreConflictError: another member changed the function first), the entry is
 * reloaded from the store and the change computed again from the fresh state: a caller that gave
 * a `revisionId` then gets PreconditionFailedException from the change's own check, as Lambda
 * answers a stale RevisionId; one that gave none sees its change applied on top of the other, as
 * Lambda applies an update to the function's current state. After {@link MAX_ATTEMPTS} refusals
 * in a row the call fails with Lambda's ResourceConflictException ("An update is in progress").
 *
 * Lambda: UpdateFunctionConfiguration, UpdateFunctionCode, PublishVersion and UpdateAlias take
 * `RevisionId` ("Update the function only if the revision ID matches the ID that's specified. Use
 * this option to avoid modifying a function that has changed since you last read it.", Lambda API
 * reference) and answer PreconditionFailedException (HTTP 412) when it does not match.
 */
import { ResourceConflictException } from '../errors.ts';
import type { DeployContext } from './deploy.ts';
import { functionArn } from './names.ts';
import { forgetFunction, restoreFunction } from './restore.ts';
import { StoreConflictError } from './store.ts';

/** Tries of one change against a store that keeps refusing it (each refusal: another member won). */
export const MAX_ATTEMPTS = 3;

/**
 * Runs `attempt` (inside `serialise(name)`) until the store accepts its writes. `attempt` reads
 * the registry's entry afresh each time, checks the caller's revisionId against it and writes
 * with a condition.
 * @throws whatever `attempt` throws; ResourceConflictException after MAX_ATTEMPTS conflicts.
 */
export async function optimistic<T>(ctx: DeployContext, name: string, attempt: () => Promise<T>): Promise<T> {
  for (let tries = 1; ; tries++) {
    try {
      const result = await attempt();
      await ctx.store?.confirm?.(name);
      return result;
    } catch (error) {
      if (!(error instanceof StoreConflictError)) throw error;
      await reloadFunction(ctx, name);
      if (tries >= MAX_ATTEMPTS) throw updateInProgress(ctx, name);
    }
  }
}

/**
 * Replaces the registry's entry for `name` with what the store holds now (forgets it when the
 * store does not hold it). Runs inside `serialise(name)`. Versions whose revisionId is unchanged
 * keep their records and warm environments (restore.ts).
 */
export async function reloadFunction(ctx: DeployContext, name: string): Promise<void> {
  const store = ctx.store;
  if (store?.loadFunction === undefined) return;
  const stored = await store.loadFunction(name);
  if (stored === undefined) forgetFunction(ctx, name);
  else await restoreFunction(ctx, stored);
}

/** Lambda's words for an update while another is in progress. */
export function updateInProgress(ctx: DeployContext, name: string): ResourceConflictException {
  return new ResourceConflictException(
    `The operation cannot be performed at this time. An update is in progress for resource: ${functionArn(ctx.options, name)}`,
  );
}
