/**
 * Reserved concurrency as its own control-plane calls: Lambda's PutFunctionConcurrency,
 * GetFunctionConcurrency and DeleteFunctionConcurrency. The reservation is the function's, not a
 * version's: "Concurrency settings apply to the function as a whole, including all published
 * versions and the unpublished version" (PutFunctionConcurrency, Lambda API reference). The
 * dispatcher shares it across the pools of `$LATEST` and every version (dispatch/pool.ts,
 * ConcurrencyGroup).
 *
 * It is kept as `$LATEST`'s `reservedConcurrency` (so deploy and updateFunctionConfiguration set
 * it too, and the durable store keeps it with `$LATEST`'s config); changing it here replaces
 * `$LATEST`'s record with the same code, deployment and revisionId, and disposes no environment.
 */
import { CONCURRENCY_MAX, describeValue } from '../config/index.ts';
import { InvalidParameterValueException } from '../errors.ts';
import { persistVersion, type DeployContext } from './deploy.ts';
import { existing, updateInProgress } from './functions.ts';

/** Lambda's Concurrency shape, camelCase. */
export interface FunctionConcurrency {
  /** Absent: the function has no reservation and shares the unreserved pool. */
  readonly reservedConcurrentExecutions?: number;
}

/**
 * Sets the function's reservation: an integer from 0 (every invoke throttled) to 100000.
 * @throws InvalidParameterValueException (the count; Lambda's "Specified ReservedConcurrentExecutions
 *   for function decreases account's UnreservedConcurrentExecution below its minimum value of [N]."
 *   when it would leave too little unreserved; less than the versions' provisioned concurrency),
 *   ResourceNotFoundException, ResourceConflictException (an update in progress).
 */
export function putFunctionConcurrency(ctx: DeployContext, name: string, input: { readonly reservedConcurrentExecutions: number }): FunctionConcurrency {
  ctx.assertOpen();
  const n = (input as { reservedConcurrentExecutions?: unknown } | undefined)?.reservedConcurrentExecutions;
  if (typeof n !== 'number' || !Number.isInteger(n) || n < 0 || n > CONCURRENCY_MAX) {
    throw new InvalidParameterValueException(
      'reservedConcurrentExecutions',
      `Expected \`reservedConcurrentExecutions\` to be an integer from 0 to ${CONCURRENCY_MAX}, got ${describeValue(n)}`,
    );
  }
  setReservation(ctx, name, n);
  return { reservedConcurrentExecutions: n };
}

export function getFunctionConcurrency(ctx: DeployContext, name: string): FunctionConcurrency {
  const n = existing(ctx, name).latest.config.reservedConcurrency;
  return n === undefined ? {} : { reservedConcurrentExecutions: n };
}

/** Removes the reservation: the function shares the unreserved pool again. */
export function deleteFunctionConcurrency(ctx: DeployContext, name: string): void {
  ctx.assertOpen();
  setReservation(ctx, name, undefined);
}

function setReservation(ctx: DeployContext, name: string, n: number | undefined): void {
  const entry = existing(ctx, name);
  if (ctx.registry.changing(entry.name)) throw updateInProgress(ctx, entry.name);
  const latest = entry.latest;
  if (latest.config.reservedConcurrency === n) return;
  ctx.dispatcher.reserve(entry.name, n);
  const { reservedConcurrency: _old, ...rest } = latest.config;
  const config = Object.freeze(n === undefined ? rest : { ...rest, reservedConcurrency: n });
  entry.latest = Object.freeze({ ...latest, config });
  persistVersion(ctx, entry, entry.latest);
}
