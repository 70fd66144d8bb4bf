/**
 * Qualifier resolution: from the name a caller gave to the function record an invocation runs.
 *
 * Contract: synchronous and allocation-free on success (the warm path calls it on every invoke);
 * an unknown function is ResourceNotFoundException with Lambda's message (the function's ARN).
 * Today only unqualified names ($LATEST) exist; versions, aliases, `name:qualifier` and ARNs are
 * resolved here when the registry has them.
 */
import type { RuntimeOptions } from '../config/index.ts';
import { ResourceNotFoundException } from '../errors.ts';
import type { DeployedFunction } from '../registry/deployment.ts';
import type { FunctionRegistry } from '../registry/registry.ts';

export function resolveFunction(registry: FunctionRegistry, options: RuntimeOptions, name: string): DeployedFunction {
  const fn = registry.get(name);
  if (!fn) {
    throw new ResourceNotFoundException(`Function not found: arn:aws:lambda:${options.region}:${options.accountId}:function:${name}`);
  }
  return fn;
}
