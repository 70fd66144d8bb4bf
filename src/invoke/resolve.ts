/**
 * Qualifier resolution: from the name a caller gave (`orders`, `orders:3`, `orders:live`, an ARN,
 * or a separate `qualifier`) to the version record an invocation runs.
 *
 * Contract: synchronous; a plain name costs a string scan and a Map lookup (the warm path calls it
 * on every invoke). An alias with a routing config picks its version here, once per invocation,
 * with the runtime's `random`. Unknown functions, versions and aliases are
 * ResourceNotFoundException with Lambda's message (`Function not found: <arn>`); malformed names
 * and qualifiers InvalidParameterValueException.
 */
import { LATEST_VERSION, type RuntimeOptions } from '../config/index.ts';
import { pickVersion } from '../registry/aliases.ts';
import { functionNotFound, splitFunctionName } from '../registry/names.ts';
import type { AliasRecord, VersionRecord } from '../registry/records.ts';
import type { FunctionRegistry } from '../registry/registry.ts';

/** What an invocation runs, and how it was named. */
export interface InvokeTarget {
  readonly record: VersionRecord;
  /** `context.invokedFunctionArn` for a qualified invoke; undefined: the unqualified ARN. */
  readonly invokedFunctionArn: string | undefined;
  /** The alias invoked through, if any (its counters are updated when the invocation ends). */
  readonly alias: AliasRecord | undefined;
}

export function resolveTarget(
  registry: FunctionRegistry,
  options: RuntimeOptions,
  random: () => number,
  name: string,
  qualifier: string | undefined,
): InvokeTarget {
  const ref = splitFunctionName(name, options, qualifier);
  const entry = registry.get(ref.name);
  if (!entry) throw functionNotFound(options, ref.name);
  const q = ref.qualifier;
  if (q === undefined) return { record: entry.latest, invokedFunctionArn: undefined, alias: undefined };
  const invokedFunctionArn = `${entry.latest.identity.functionArn}:${q}`;
  if (q === LATEST_VERSION) return { record: entry.latest, invokedFunctionArn, alias: undefined };
  const version = entry.versions.get(q);
  if (version) return { record: version, invokedFunctionArn, alias: undefined };
  const alias = entry.aliases.get(q);
  const picked = alias && pickVersion(entry, alias, random);
  if (picked) return { record: picked, invokedFunctionArn, alias };
  throw functionNotFound(options, entry.name, q);
}
