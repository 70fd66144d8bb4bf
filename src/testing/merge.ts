/**
 * Deep partial overrides for the event factories: objects merge key by key, arrays and other
 * values replace. An own key set to `undefined` removes that key (HTTP API v2 events omit `body`
 * and `cookies` when there are none, so a test must be able to take them away).
 */

/** `T` with every property optional, all the way down; array items are deep partials too. */
export type DeepPartial<T> = T extends (...args: never[]) => unknown
  ? T
  : T extends readonly (infer U)[]
    ? DeepPartial<U>[]
    : T extends object
      ? { [K in keyof T]?: DeepPartial<T[K]> }
      : T;

export function isPlainObject(value: unknown): value is Record<string, unknown> {
  if (typeof value !== 'object' || value === null) return false;
  const proto: unknown = Object.getPrototypeOf(value);
  return proto === Object.prototype || proto === null;
}

/**
 * Returns a new value: `base` with `override` merged in. Arrays of objects merge item by item
 * with the base array's item at the same index, or its first item when the override is longer,
 * so `{ Records: [{ body: 'a' }, { body: 'b' }] }` gives two complete records. `replace` names
 * keys whose object values are taken whole rather than merged (an EventBridge `detail`, a
 * DynamoDB image).
 */
export function deepMerge<T>(base: T, override: unknown, replace: ReadonlySet<string> = NO_KEYS): T {
  // `sqsEvent([{ body: 'x' }])` from plain JavaScript (no type check) used to return the array, and
  // the factory then failed with "Cannot read properties of undefined (reading 'forEach')" (issue #12).
  if (override !== undefined && !isPlainObject(override)) {
    throw new TypeError(
      `An event factory takes a deep partial of its event, an object (e.g. sqsEvent({ Records: [{ body: 'x' }] })); got ${describeOverride(override)}`,
    );
  }
  return mergeValue(base, override, replace) as T;
}

function describeOverride(value: unknown): string {
  if (Array.isArray(value)) return 'an array: records go under the event\'s own key';
  if (value === null) return 'null';
  return typeof value === 'object' ? `an instance of ${value.constructor?.name ?? 'a class'}` : `a ${typeof value}`;
}

const NO_KEYS: ReadonlySet<string> = new Set();

function mergeValue(base: unknown, override: unknown, replace: ReadonlySet<string>): unknown {
  if (override === undefined) return clone(base);
  if (Array.isArray(override)) {
    const template = Array.isArray(base) ? base : [];
    return override.map((item: unknown, i) => {
      const baseItem: unknown = template[i] ?? template[0];
      return isPlainObject(item) && isPlainObject(baseItem) ? mergeValue(baseItem, item, replace) : clone(item);
    });
  }
  if (!isPlainObject(override) || !isPlainObject(base)) return clone(override);
  const result: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(base)) result[key] = clone(value);
  for (const [key, value] of Object.entries(override)) {
    if (value === undefined) delete result[key];
    else result[key] = replace.has(key) ? clone(value) : mergeValue(base[key], value, replace);
  }
  return result;
}

function clone(value: unknown): unknown {
  return value === undefined ? undefined : structuredClone(value);
}

/** Whether the override (a deep partial) sets `path`. */
export function overrides(override: unknown, ...path: string[]): boolean {
  let node: unknown = override;
  for (const key of path) {
    if (!isPlainObject(node) || !Object.hasOwn(node, key)) return false;
    node = node[key];
  }
  return true;
}
