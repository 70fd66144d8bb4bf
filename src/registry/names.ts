/**
 * Function names as callers give them, and the errors about them: `orders`, `orders:3`,
 * `orders:live`, a function ARN with or without a qualifier, or a partial ARN
 * (`123456789012:function:orders`), as Lambda's FunctionName accepts; a separate `qualifier`
 * must agree with one in the name.
 *
 * Contract: `splitFunctionName` is synchronous and cheap (the invoke path calls it every time): a
 * plain name costs one `indexOf`. Syntax is checked here; whether the function exists is the
 * registry's business.
 */
import { FUNCTION_NAME_PATTERN, QUALIFIER_PATTERN, describeValue, type RuntimeOptions } from '../config/index.ts';
import { InvalidParameterValueException, ResourceNotFoundException } from '../errors.ts';

export interface FunctionRef {
  readonly name: string;
  /** The version or alias named, if any. */
  readonly qualifier: string | undefined;
}

/** `arn:aws:lambda:<region>:<account>:function:<name>[:<qualifier>]`, or its partial form `<account>:function:<name>[:<qualifier>]`. */
const ARN = /^(?:arn:aws[a-zA-Z-]*:lambda:([a-z]{2}(?:-gov)?-[a-z]+-\d):)?(\d{12}):function:([^:]+)(?::([^:]+))?$/;

/**
 * Splits what a caller named into a function name and a qualifier.
 * @throws InvalidParameterValueException for a malformed name, ARN or qualifier, or a `qualifier`
 *   that disagrees with the name's; ResourceNotFoundException for an ARN of another region or account.
 */
export function splitFunctionName(input: unknown, options: Pick<RuntimeOptions, 'region' | 'accountId'>, qualifier?: string): FunctionRef {
  if (typeof input !== 'string') {
    throw new InvalidParameterValueException('functionName', `Expected the function name to be a string, got ${describeValue(input)}`);
  }
  const colon = input.indexOf(':');
  let name: string;
  let own: string | undefined;
  if (colon < 0) {
    name = input;
  } else if (input.indexOf(':', colon + 1) < 0) {
    name = input.slice(0, colon);
    own = input.slice(colon + 1);
  } else {
    const match = ARN.exec(input);
    if (match === null) throw malformedName(input);
    const [, region, account, arnName, arnQualifier] = match;
    if ((region !== undefined && region !== options.region) || account !== options.accountId) {
      throw new ResourceNotFoundException(`Function not found: ${input}`);
    }
    name = arnName!;
    own = arnQualifier;
  }
  if (!FUNCTION_NAME_PATTERN.test(name)) throw malformedName(input);
  if (own !== undefined && !QUALIFIER_PATTERN.test(own)) throw malformedQualifier(own);
  if (qualifier !== undefined) {
    if (!QUALIFIER_PATTERN.test(qualifier)) throw malformedQualifier(qualifier);
    if (own !== undefined && own !== qualifier) {
      // Lambda's words (Invoke, GetFunction with both a qualified name and a Qualifier).
      throw new InvalidParameterValueException('qualifier', 'The derived qualifier from the function name does not match the specified qualifier.');
    }
    own = qualifier;
  }
  return { name, qualifier: own };
}

function malformedName(input: string): InvalidParameterValueException {
  return new InvalidParameterValueException(
    'functionName',
    `Expected the function name to be a name ([a-zA-Z0-9-_]{1,64}), name:qualifier or a function ARN, got ${describeValue(input)}`,
  );
}

function malformedQualifier(qualifier: string): InvalidParameterValueException {
  return new InvalidParameterValueException(
    'qualifier',
    `Expected \`qualifier\` to be a version or alias name of 1 to 128 characters from [a-zA-Z0-9$_-], got ${describeValue(qualifier)}`,
  );
}

/** arn:aws:lambda:<region>:<account>:function:<name>[:<qualifier>] */
export function functionArn(options: Pick<RuntimeOptions, 'region' | 'accountId'>, name: string, qualifier?: string): string {
  const arn = `arn:aws:lambda:${options.region}:${options.accountId}:function:${name}`;
  return qualifier === undefined ? arn : `${arn}:${qualifier}`;
}

/** Lambda's "Function not found: <arn>" (Invoke, GetFunction, PublishVersion, ...). */
export function functionNotFound(options: Pick<RuntimeOptions, 'region' | 'accountId'>, name: string, qualifier?: string): ResourceNotFoundException {
  return new ResourceNotFoundException(`Function not found: ${functionArn(options, name, qualifier)}`);
}
