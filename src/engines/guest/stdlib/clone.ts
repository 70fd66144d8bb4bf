/** structuredClone: core-js's implementation (the HTML structured clone algorithm, without transfer of host objects). */
import structuredCloneImpl from 'core-js-pure/stable/structured-clone.js';

const UNCLONEABLE = 'Uncloneable type: ';

/** The first function or symbol in `value`, depth first (where core-js's walk stops), if any. */
function culprit(value: unknown, seen: Set<object>): unknown {
  if (typeof value === 'function' || typeof value === 'symbol') return value;
  if (value === null || typeof value !== 'object' || seen.has(value)) return undefined;
  seen.add(value);
  const children = value instanceof Map ? [...value].flat() : value instanceof Set ? [...value] : Object.keys(value).map((k) => (value as Record<string, unknown>)[k]);
  for (const child of children) {
    const found = culprit(child, seen);
    if (found !== undefined) return found;
  }
  return undefined;
}

/**
 * core-js's, with V8's DataCloneError wording, which Node shows: "function f() {} could not be
 * cloned.", "Symbol(q) could not be cloned.", "#<Promise> could not be cloned." (core-js says
 * "Uncloneable type: Function").
 */
export function structuredClone(value: unknown, options?: { transfer?: unknown[] }): unknown {
  try {
    return structuredCloneImpl(value, options);
  } catch (err) {
    if (!(err instanceof Error) || err.name !== 'DataCloneError' || !err.message.startsWith(UNCLONEABLE)) throw err;
    const found = culprit(value, new Set());
    const text = typeof found === 'symbol' ? String(found) : typeof found === 'function' ? Function.prototype.toString.call(found) : `#<${err.message.slice(UNCLONEABLE.length)}>`;
    throw new DOMException(`${text} could not be cloned.`, 'DataCloneError');
  }
}
