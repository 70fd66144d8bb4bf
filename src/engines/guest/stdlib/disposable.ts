/**
 * Explicit resource management's globals (ES2026; V8 13.4, so Node 24) where the engine lacks them
 * (QuickJS): `DisposableStack`, `AsyncDisposableStack` and `SuppressedError`, core-js-pure's (which
 * patches no global and takes the engine's `Symbol.dispose` / `Symbol.asyncDispose`: the boot
 * defines Node's where QuickJS has none, globals.ts). A chunk of its own, loaded on the first read
 * of one of them. `using` declarations themselves are lowered by the deploy's bundler.
 *
 * Node's shape on top: the constructors' names (the bundle renames core-js's inner ones), the
 * prototypes' keys in V8's order, and the message of a SuppressedError a disposal makes (a build
 * patch, guest-bundle.ts). A misused stack's errors keep core-js's words (V8: "Cannot call
 * DisposableStack.prototype.use on an already-disposed DisposableStack"; core-js: "DisposableStack
 * already disposed"), asserted in test/compat/disposable.test.ts so that a fix shows.
 */
import AsyncDisposableStack from 'core-js-pure/actual/async-disposable-stack/index.js';
import DisposableStack from 'core-js-pure/actual/disposable-stack/index.js';
import SuppressedError from 'core-js-pure/actual/suppressed-error.js';

/** Names and prototype key order as V8 13.6 (Node 24.22.3) has them. */
const SHAPES: [unknown, string, (string | symbol)[]][] = [
  [DisposableStack, 'DisposableStack', ['constructor', 'use', 'dispose', 'adopt', 'defer', 'move', 'disposed', Symbol.dispose, Symbol.toStringTag]],
  [AsyncDisposableStack, 'AsyncDisposableStack', ['constructor', 'use', 'disposeAsync', 'adopt', 'defer', 'move', 'disposed', Symbol.asyncDispose, Symbol.toStringTag]],
  [SuppressedError, 'SuppressedError', ['constructor', 'name', 'message']],
];

for (const [ctor, name, order] of SHAPES) {
  const fn = ctor as { prototype: object };
  Object.defineProperty(fn, 'name', { value: name, configurable: true });
  const prototype = fn.prototype;
  const descriptors = order.map((key) => [key, Object.getOwnPropertyDescriptor(prototype, key)] as const);
  for (const [key, descriptor] of descriptors) if (descriptor?.configurable) delete (prototype as Record<string | symbol, unknown>)[key];
  for (const [key, descriptor] of descriptors) if (descriptor?.configurable) Object.defineProperty(prototype, key, descriptor);
}

export { AsyncDisposableStack, DisposableStack, SuppressedError };
