/**
 * Functions Node makes from C++ templates (`URLPattern` and its getters, `MessageChannel`,
 * `MessagePort`) own `arguments` and `caller` (null, read-only, not configurable); JavaScript's
 * built-ins and strict functions have neither, and the guest runtime is strict. The guest's stand-ins
 * for the former get the two keys here, so `Reflect.ownKeys` answers as in Node.
 */
const NULL_KEY: PropertyDescriptor = { value: null, writable: false, enumerable: false, configurable: false };

export function addApiFunctionKeys(...fns: object[]): void {
  for (const fn of fns) {
    Reflect.defineProperty(fn, 'arguments', NULL_KEY);
    Reflect.defineProperty(fn, 'caller', NULL_KEY);
  }
}
