/**
 * What the Lambda API keeps about a function that the runtime's config does not: the `Role` given
 * at CreateFunction / UpdateFunctionConfiguration, the function's tags (CreateFunction's `Tags`,
 * TagResource, UntagResource) and resource policies (AddPermission, per `name` or
 * `name:qualifier`). Held by the runtime, not by one server, and, when the runtime's store keeps
 * HTTP settings (`dataDir`'s SQLite file, a cluster's Redis), kept there under the kinds
 * `function-role`, `function-tags` and `function-policy` (registry/store.ts `putHttpSetting`): a
 * restarted runtime (or another cluster member) answers GetFunction, ListTags and GetPolicy as
 * before. Deleting a function forgets its three; deleting a version forgets that version's policy.
 *
 * Each is a {@link KeptMap}: a Map whose `set` and `delete` write through to the store first (so a
 * refused write changes nothing), so the API's handlers use them as plain Maps. A value is
 * replaced, never changed in place (a tag map is copied by TagResource and UntagResource).
 * Light on purpose: runtime.ts imports it eagerly.
 */

/** The HTTP setting kinds these are kept under (registry/store.ts HTTP_SETTING_KINDS). */
export const EXTRA_KINDS = ['function-role', 'function-tags', 'function-policy'] as const;
export type ExtraKind = (typeof EXTRA_KINDS)[number];

/** A resource policy's statement (permissions.ts builds them). */
export type PolicyStatement = Record<string, unknown> & { readonly Sid: string };

/** Where a change goes to be kept: `json` undefined removes the key. */
export type PersistExtra = (kind: ExtraKind, key: string, json: string | undefined) => void;

/** A Map that writes each `set` and `delete` through to `persist` before changing itself. */
export class KeptMap<V> extends Map<string, V> {
  readonly #kind: ExtraKind;
  readonly #toJson: (value: V) => unknown;
  readonly #fromJson: (json: unknown) => V;
  readonly #owner: FunctionExtras;

  constructor(owner: FunctionExtras, kind: ExtraKind, toJson: (value: V) => unknown, fromJson: (json: unknown) => V) {
    super();
    this.#owner = owner;
    this.#kind = kind;
    this.#toJson = toJson;
    this.#fromJson = fromJson;
  }

  override set(key: string, value: V): this {
    // Map's constructor calls set only with an iterable; none is given, so the fields are there.
    this.#owner.persist?.(this.#kind, key, JSON.stringify(this.#toJson(value)));
    return super.set(key, value);
  }

  override delete(key: string): boolean {
    if (!super.has(key)) return false;
    this.#owner.persist?.(this.#kind, key, undefined);
    return super.delete(key);
  }

  /** A value as stored (restore, or another cluster member's change): memory only, not kept again. */
  apply(key: string, json: string | undefined): void {
    if (json === undefined) super.delete(key);
    else super.set(key, this.#fromJson(JSON.parse(json)));
  }
}

export class FunctionExtras {
  /** Set by the runtime when its store keeps HTTP settings. */
  persist: PersistExtra | undefined;
  /** Function name → the Role given at CreateFunction / UpdateFunctionConfiguration. */
  readonly roles = new KeptMap<string>(this, 'function-role', (role) => role, (json) => String(json));
  /** Function name → its tags. */
  readonly tags = new KeptMap<Map<string, string>>(this, 'function-tags', (tags) => Object.fromEntries(tags), (json) => new Map(Object.entries(json as Record<string, string>)));
  /** `name` or `name:qualifier` → its resource policy's statements. */
  readonly policies = new KeptMap<readonly PolicyStatement[]>(this, 'function-policy', (statements) => statements, (json) => json as PolicyStatement[]);

  #map(kind: ExtraKind): KeptMap<unknown> {
    return (kind === 'function-role' ? this.roles : kind === 'function-tags' ? this.tags : this.policies) as KeptMap<unknown>;
  }

  /** The settings a store kept, in the order they were first written. */
  restore(settings: readonly { readonly kind: string; readonly key: string; readonly json: string }[]): void {
    for (const { kind, key, json } of settings) if (isExtraKind(kind)) this.#map(kind).apply(key, json);
  }

  /** Another runtime sharing the store changed one (`json` undefined: removed): applied here, not kept again. */
  applyChange(kind: ExtraKind, key: string, json: string | undefined): void {
    this.#map(kind).apply(key, json);
  }

  /** A function was deleted: its Role, tags and every policy of it and its versions and aliases go. */
  forgetFunction(name: string): void {
    this.roles.delete(name);
    this.tags.delete(name);
    for (const key of [...this.policies.keys()]) if (key === name || key.startsWith(`${name}:`)) this.policies.delete(key);
  }

  /** A published version was deleted: its own policy goes. */
  forgetVersion(name: string, version: string): void {
    this.policies.delete(`${name}:${version}`);
  }
}

export function isExtraKind(kind: string): kind is ExtraKind {
  return (EXTRA_KINDS as readonly string[]).includes(kind);
}
