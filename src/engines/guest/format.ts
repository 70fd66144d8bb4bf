/**
 * util.format for console output inside the sandbox. Node's own formatter (node-inspect-extracted,
 * stdlib/inspect.ts) is loaded on the first call that needs it; a call whose arguments are all
 * primitives and whose first string has no `%` is formatted here, with the result Node gives
 * (inspect of a number, bigint, boolean, symbol, null or undefined is its plain text, `-0` kept),
 * so a handler that logs strings never loads it.
 */
import { stdlib } from './stdlib-loader.ts';

function primitive(value: unknown): boolean {
  return value === null || (typeof value !== 'object' && typeof value !== 'function');
}

function plain(value: unknown): string {
  if (typeof value === 'string') return value;
  if (typeof value === 'number') return Object.is(value, -0) ? '-0' : String(value);
  if (typeof value === 'bigint') return `${value}n`;
  return String(value);
}

export function format(args: readonly unknown[]): string {
  const first = args[0];
  if (args.every(primitive) && !(typeof first === 'string' && first.includes('%'))) return args.map(plain).join(' ');
  try {
    return stdlib<typeof import('./stdlib/inspect.ts')>('inspect').format(...args);
  } catch {
    // A Proxy's traps (or a patched intrinsic) threw: console.log must not throw into user code.
    return '[uninspectable]';
  }
}
