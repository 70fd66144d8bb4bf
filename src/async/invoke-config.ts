/**
 * Lambda's asynchronous invocation settings per function and qualifier:
 * Put/Get/Update/Delete/ListFunctionEventInvokeConfig (API reference) and
 * Put/GetFunctionRecursionConfig. Ranges and defaults are Lambda's: `maximumRetryAttempts` 0-2
 * (default 2), `maximumEventAgeInSeconds` 60-21600 (default 21600); `recursiveLoop` 'Terminate'
 * (default) or 'Allow', one per function (not per version: the recursion calls take an unqualified
 * name). A config on a qualifier applies to events invoked through that qualifier
 * (an unqualified invoke: `$LATEST`). Put replaces the whole config; update changes only the
 * fields given. Kept in the config store (durable with `dataDir`); removed with the function.
 */
import { LATEST_VERSION, type RuntimeOptions } from '../config/index.ts';
import { InvalidParameterValueException, ResourceNotFoundException } from '../errors.ts';
import { functionArn, functionNotFound, splitFunctionName } from '../registry/names.ts';
import type { FunctionRegistry } from '../registry/registry.ts';
import type { ConfigStore } from './config-store.ts';
import type { AsyncSettings } from './context.ts';

export const MAX_RETRY_ATTEMPTS = 2;
export const EVENT_AGE_MIN_S = 60;
export const EVENT_AGE_MAX_S = 21_600;
/** Lambda stops a function invoked more than 16 times in one chain of requests. */
export const RECURSION_LIMIT = 16;

export interface DestinationConfigInput {
  readonly onSuccess?: { readonly destination?: string };
  readonly onFailure?: { readonly destination?: string };
}

export interface EventInvokeConfigInput {
  /** A version or alias; default `$LATEST`. */
  readonly qualifier?: string;
  readonly maximumRetryAttempts?: number;
  readonly maximumEventAgeInSeconds?: number;
  readonly destinationConfig?: DestinationConfigInput;
}

/** What the calls return (Lambda's FunctionEventInvokeConfig, camelCased). */
export interface FunctionEventInvokeConfig {
  readonly functionArn: string;
  readonly maximumRetryAttempts?: number;
  readonly maximumEventAgeInSeconds?: number;
  /** Epoch seconds, as Lambda's LastModified. */
  readonly lastModified: number;
  readonly destinationConfig: { readonly onSuccess: { readonly destination?: string }; readonly onFailure: { readonly destination?: string } };
}

export type RecursiveLoop = 'Terminate' | 'Allow';

/** Checks a destination ARN (destinations.ts's parseDestination, bound to the runtime's registries). */
export type DestinationCheck = (arn: unknown, field: string) => void;

export class EventInvokeConfigs {
  readonly #configs = new Map<string, FunctionEventInvokeConfig>();
  readonly #recursion = new Map<string, RecursiveLoop>();
  readonly #options: RuntimeOptions;
  readonly #registry: FunctionRegistry;
  readonly #store: ConfigStore;
  readonly #check: DestinationCheck;
  readonly #now: () => number;

  constructor(options: RuntimeOptions, registry: FunctionRegistry, store: ConfigStore, check: DestinationCheck, now: () => number) {
    this.#options = options;
    this.#registry = registry;
    this.#store = store;
    this.#check = check;
    this.#now = now;
    this.reload();
  }

  /** Reads the configs again from the store (at restore; another runtime changed one). */
  reload(): void {
    this.#configs.clear();
    this.#recursion.clear();
    for (const [key, value] of this.#store.all('event-invoke-config')) this.#configs.set(key, Object.freeze(value as FunctionEventInvokeConfig));
    for (const [key, value] of this.#store.all('recursion')) this.#recursion.set(key, value as RecursiveLoop);
  }

  put(name: string, input: EventInvokeConfigInput): FunctionEventInvokeConfig {
    const key = this.#key(name, input.qualifier);
    return this.#set(key, this.#build(key, input));
  }

  update(name: string, input: EventInvokeConfigInput): FunctionEventInvokeConfig {
    const key = this.#key(name, input.qualifier);
    const old = this.#get(key);
    const merged: EventInvokeConfigInput = {
      maximumRetryAttempts: input.maximumRetryAttempts ?? old.maximumRetryAttempts,
      maximumEventAgeInSeconds: input.maximumEventAgeInSeconds ?? old.maximumEventAgeInSeconds,
      destinationConfig: {
        onSuccess: input.destinationConfig?.onSuccess ?? old.destinationConfig.onSuccess,
        onFailure: input.destinationConfig?.onFailure ?? old.destinationConfig.onFailure,
      },
    };
    return this.#set(key, this.#build(key, merged));
  }

  get(name: string, qualifier?: string): FunctionEventInvokeConfig {
    return this.#get(this.#key(name, qualifier));
  }

  delete(name: string, qualifier?: string): void {
    const key = this.#key(name, qualifier);
    this.#get(key);
    this.#configs.delete(key);
    this.#store.delete('event-invoke-config', key);
  }

  /** Every config of a function, one per qualifier. */
  list(name: string): FunctionEventInvokeConfig[] {
    const fn = this.#function(name);
    return [...this.#configs.entries()].filter(([key]) => key.startsWith(`${fn}:`)).map(([, value]) => value);
  }

  putRecursion(name: string, recursiveLoop: unknown): { recursiveLoop: RecursiveLoop } {
    if (recursiveLoop !== 'Terminate' && recursiveLoop !== 'Allow') {
      throw new InvalidParameterValueException('recursiveLoop', `Expected \`recursiveLoop\` to be one of \`Allow\`, \`Terminate\`, got ${JSON.stringify(recursiveLoop)}`);
    }
    const fn = this.#unqualified(name);
    this.#recursion.set(fn, recursiveLoop);
    this.#store.put('recursion', fn, recursiveLoop);
    return { recursiveLoop };
  }

  getRecursion(name: string): { recursiveLoop: RecursiveLoop } {
    return { recursiveLoop: this.#recursion.get(this.#unqualified(name)) ?? 'Terminate' };
  }

  /** The function was deleted (or one version): its configs go with it, as on Lambda. */
  forget(name: string, qualifier?: string): void {
    for (const key of [...this.#configs.keys()]) {
      if (qualifier === undefined ? key.startsWith(`${name}:`) : key === `${name}:${qualifier}`) {
        this.#configs.delete(key);
        this.#store.delete('event-invoke-config', key);
      }
    }
    if (qualifier === undefined && this.#recursion.delete(name)) this.#store.delete('recursion', name);
  }

  /** The settings an event invoked as `name[:qualifier]` runs with. */
  settings(name: string, qualifier: string | undefined, deadLetterArn: string | undefined): AsyncSettings {
    const config = this.#configs.get(`${name}:${qualifier ?? LATEST_VERSION}`);
    return {
      maximumRetryAttempts: config?.maximumRetryAttempts ?? MAX_RETRY_ATTEMPTS,
      maximumEventAgeMs: (config?.maximumEventAgeInSeconds ?? EVENT_AGE_MAX_S) * 1000,
      onSuccess: config?.destinationConfig.onSuccess.destination,
      onFailure: config?.destinationConfig.onFailure.destination,
      deadLetterArn,
      recursiveLoop: this.#recursion.get(name) ?? 'Terminate',
    };
  }

  #build(key: string, input: EventInvokeConfigInput): FunctionEventInvokeConfig {
    const { maximumRetryAttempts, maximumEventAgeInSeconds, destinationConfig } = input;
    checkRange('maximumRetryAttempts', maximumRetryAttempts, 0, MAX_RETRY_ATTEMPTS);
    checkRange('maximumEventAgeInSeconds', maximumEventAgeInSeconds, EVENT_AGE_MIN_S, EVENT_AGE_MAX_S);
    const onSuccess = destinationConfig?.onSuccess?.destination;
    const onFailure = destinationConfig?.onFailure?.destination;
    if (onSuccess !== undefined) this.#check(onSuccess, 'destinationConfig.onSuccess.destination');
    if (onFailure !== undefined) this.#check(onFailure, 'destinationConfig.onFailure.destination');
    const [fn, qualifier] = splitKey(key);
    return Object.freeze({
      functionArn: functionArn(this.#options, fn, qualifier),
      ...(maximumRetryAttempts !== undefined ? { maximumRetryAttempts } : {}),
      ...(maximumEventAgeInSeconds !== undefined ? { maximumEventAgeInSeconds } : {}),
      lastModified: Math.floor(this.#now() / 1000),
      destinationConfig: {
        onSuccess: onSuccess === undefined ? {} : { destination: onSuccess },
        onFailure: onFailure === undefined ? {} : { destination: onFailure },
      },
    });
  }

  #set(key: string, config: FunctionEventInvokeConfig): FunctionEventInvokeConfig {
    this.#configs.set(key, config);
    this.#store.put('event-invoke-config', key, config);
    return config;
  }

  #get(key: string): FunctionEventInvokeConfig {
    const config = this.#configs.get(key);
    if (config === undefined) {
      const [fn, qualifier] = splitKey(key);
      throw new ResourceNotFoundException(`The function ${functionArn(this.#options, fn, qualifier)} doesn't have an EventInvokeConfig`);
    }
    return config;
  }

  /** `name:qualifier` of an existing function and version or alias. @throws ResourceNotFoundException. */
  #key(name: string, qualifier: string | undefined): string {
    const ref = splitFunctionName(name, this.#options, qualifier);
    const entry = this.#registry.get(ref.name);
    if (!entry) throw functionNotFound(this.#options, ref.name);
    const q = ref.qualifier ?? LATEST_VERSION;
    if (q !== LATEST_VERSION && !entry.versions.has(q) && !entry.aliases.has(q)) throw functionNotFound(this.#options, ref.name, q);
    return `${ref.name}:${q}`;
  }

  /**
   * The recursion config is the function's, for every version and alias: Put/GetFunctionRecursionConfig
   * take an UnqualifiedFunctionName (API reference), so a qualifier is refused rather than ignored.
   */
  #unqualified(name: string): string {
    const ref = splitFunctionName(name, this.#options);
    if (ref.qualifier !== undefined) {
      throw new InvalidParameterValueException(
        'functionName',
        `The recursion config is the function's, for all its versions and aliases (PutFunctionRecursionConfig takes an unqualified name); got ${JSON.stringify(name)}`,
      );
    }
    return this.#function(name);
  }

  #function(name: string): string {
    const ref = splitFunctionName(name, this.#options);
    if (!this.#registry.get(ref.name)) throw functionNotFound(this.#options, ref.name);
    return ref.name;
  }
}

function splitKey(key: string): [string, string] {
  const colon = key.indexOf(':');
  return [key.slice(0, colon), key.slice(colon + 1)];
}

function checkRange(field: string, value: unknown, min: number, max: number): void {
  if (value === undefined) return;
  if (typeof value !== 'number' || !Number.isInteger(value) || value < min || value > max) {
    throw new InvalidParameterValueException(field, `Expected \`${field}\` to be an integer from ${min} to ${max}, got ${JSON.stringify(value)}`);
  }
}
