/**
 * Guest functions that stand in for engine builtins (interruptible-sort.ts) print as Node prints a
 * builtin: `String(Array.prototype.sort)` is `function sort() { [native code] }`, as libraries that
 * test for "native" functions (lodash's isNative, core-js) expect. Function.prototype.toString is
 * wrapped once; the wrapper prints as native too, and answers every other function as before.
 */
const nativeToString = Function.prototype.toString;
const { apply, defineProperty, getOwnPropertyDescriptor } = Reflect;
const names = new WeakMap<object, string>();
const lookup = WeakMap.prototype.get;

const wrapper = {
  toString(this: unknown): string {
    const name = typeof this === 'function' ? (apply(lookup, names, [this]) as string | undefined) : undefined;
    return name === undefined ? apply(nativeToString, this, []) : `function ${name}() { [native code] }`;
  },
}.toString;

let installed = false;

/** Makes `fn` print as the builtin `name`. */
export function registerNativeLook(fn: object, name: string): void {
  if (!installed) {
    installed = true;
    const descriptor = getOwnPropertyDescriptor(Function.prototype, 'toString')!;
    defineProperty(Function.prototype, 'toString', { ...descriptor, value: wrapper });
    names.set(wrapper, 'toString');
  }
  names.set(fn, name);
}
