/**
 * util.format and a compact util.inspect for console output inside the sandbox, close to Node's
 * output for the values handlers usually log. (The full node:util arrives with the guest
 * standard library; this is what console needs.)
 */
import { stackText } from './errors.ts';

const MAX_DEPTH = 2;
const MAX_ITEMS = 100;
const MAX_STRING = 10_000;

export function format(args: readonly unknown[]): string {
  const first = args[0];
  if (typeof first !== 'string') return args.map((a) => inspect(a)).join(' ');
  let index = 1;
  let out = first.replace(/%[sdifjoOc%]/g, (token) => {
    if (token === '%%') return '%';
    if (index >= args.length) return token;
    const value = args[index++];
    switch (token) {
      case '%s':
        return typeof value === 'string' ? value : typeof value === 'bigint' ? `${value}n` : inspect(value, 1, false);
      case '%d':
        return typeof value === 'bigint' ? `${value}n` : typeof value === 'object' ? 'NaN' : String(Number(value));
      case '%i':
        return typeof value === 'bigint' ? `${value}n` : String(parseInt(String(value), 10));
      case '%f':
        return String(parseFloat(String(value)));
      case '%j':
        try {
          return JSON.stringify(value);
        } catch {
          return '[Circular]';
        }
      case '%c':
        return '';
      default:
        return inspect(value);
    }
  });
  for (; index < args.length; index++) {
    const value = args[index];
    out += ' ' + (typeof value === 'string' ? value : inspect(value));
  }
  return out;
}

export function inspect(value: unknown, depth = MAX_DEPTH, quoteStrings = false): string {
  try {
    return render(value, depth, quoteStrings, new Set());
  } catch {
    // A Proxy's traps (or a patched intrinsic) threw: console.log must not throw into user code,
    // as Node's never does for a value it cannot look into.
    return '[uninspectable]';
  }
}

function render(value: unknown, depth: number, quote: boolean, seen: Set<object>): string {
  switch (typeof value) {
    case 'string': {
      const s = value.length > MAX_STRING ? value.slice(0, MAX_STRING) + '...' : value;
      return quote ? `'${s.replace(/\\/g, '\\\\').replace(/'/g, "\\'").replace(/\n/g, '\\n')}'` : s;
    }
    case 'number':
      return Object.is(value, -0) ? '-0' : String(value);
    case 'bigint':
      return `${value}n`;
    case 'undefined':
      return 'undefined';
    case 'boolean':
      return String(value);
    case 'symbol':
      return value.toString();
    case 'function':
      return value.name ? `[Function: ${value.name}]` : '[Function (anonymous)]';
  }
  if (value === null) return 'null';
  const object = value as object;
  if (seen.has(object)) return '[Circular]';
  if (object instanceof Error) return stackText(object);
  if (object instanceof Date) return Number.isNaN(object.getTime()) ? 'Invalid Date' : object.toISOString();
  if (object instanceof RegExp) return String(object);
  if (object instanceof Promise) return 'Promise { <unknown> }';
  seen.add(object);
  try {
    if (Array.isArray(object)) {
      if (depth < 0) return '[Array]';
      const items = object.slice(0, MAX_ITEMS).map((item) => render(item, depth - 1, true, seen));
      if (object.length > MAX_ITEMS) items.push(`... ${object.length - MAX_ITEMS} more items`);
      return wrap('[', items, ']');
    }
    if (object instanceof Map) {
      if (depth < 0) return '[Map]';
      const items = [...object].slice(0, MAX_ITEMS).map(
        ([k, v]) => `${render(k, depth - 1, true, seen)} => ${render(v, depth - 1, true, seen)}`,
      );
      return `Map(${object.size}) ` + wrap('{', items, '}');
    }
    if (object instanceof Set) {
      if (depth < 0) return '[Set]';
      const items = [...object].slice(0, MAX_ITEMS).map((v) => render(v, depth - 1, true, seen));
      return `Set(${object.size}) ` + wrap('{', items, '}');
    }
    const name = constructorName(object);
    if (depth < 0) return `[${name ?? 'Object'}]`;
    const keys = Object.keys(object);
    const items = keys.slice(0, MAX_ITEMS).map((key) => {
      const shown = /^[A-Za-z_$][\w$]*$/.test(key) ? key : render(key, 0, true, seen);
      // Node shows accessors without calling them: a getter may throw or have side effects.
      const descriptor = Object.getOwnPropertyDescriptor(object, key);
      if (descriptor && !('value' in descriptor)) {
        const kind = descriptor.get && descriptor.set ? 'Getter/Setter' : descriptor.get ? 'Getter' : 'Setter';
        return `${shown}: [${kind}]`;
      }
      return `${shown}: ${render(descriptor?.value, depth - 1, true, seen)}`;
    });
    if (keys.length > MAX_ITEMS) items.push(`... ${keys.length - MAX_ITEMS} more items`);
    const prefix = name === 'Object' ? '' : `${name ?? '[Object: null prototype]'} `;
    return prefix + wrap('{', items, '}');
  } finally {
    seen.delete(object);
  }
}

function constructorName(object: object): string | undefined {
  const proto: unknown = Object.getPrototypeOf(object);
  if (proto === null) return undefined;
  const ctor = (proto as { constructor?: { name?: unknown } }).constructor;
  return typeof ctor?.name === 'string' && ctor.name ? ctor.name : 'Object';
}

function wrap(open: string, items: string[], close: string): string {
  if (items.length === 0) return open + close;
  const single = `${open} ${items.join(', ')} ${close}`;
  if (single.length <= 72 && !single.includes('\n')) return single;
  return `${open}\n  ${items.map((i) => i.replace(/\n/g, '\n  ')).join(',\n  ')}\n${close}`;
}
