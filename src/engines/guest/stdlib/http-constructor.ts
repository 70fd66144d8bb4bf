/**
 * node:http's classes as Node defines them: function constructors (lib/_http_server.js
 * `function ServerResponse(req, options) { OutgoingMessage.call(this, options); … }`, and so
 * IncomingMessage, OutgoingMessage, Agent, https.Agent). Code relies on it: light-my-request
 * (Fastify's `inject`, which @fastify/aws-lambda answers every event with) makes its response with
 * `http.ServerResponse.call(this, req)` on an object of its own, which an ES class refuses
 * ("Class constructor ServerResponse cannot be invoked without 'new'", issue #12).
 *
 * So each class keeps its methods and accessors in a class body whose constructor never runs (its
 * fields are `declare`d, not initialised), and `init` sets an instance up as Node's constructor
 * does — reached by `new C()`, by `class X extends C` (super()), or by `C.call(obj, …)` alike.
 * The function has the body's prototype (instanceof, the prototype chain), Node's `name` and
 * `length`, and the parent constructor as its prototype (static inheritance, as Node's
 * ObjectSetPrototypeOf(ServerResponse, OutgoingMessage)).
 */

/** A function constructor for instances of T: `new`, `extends` and `.call(this, …)` all work. */
export interface FunctionConstructorOf<T extends object, A extends unknown[]> {
  new (...args: A): T;
  (this: T, ...args: A): void;
  readonly prototype: T;
}

export function functionConstructor<T extends object, A extends unknown[]>(
  Body: abstract new (...args: never[]) => T,
  parent: object,
  name: string,
  length: number,
  init: (this: T, ...args: A) => void,
): FunctionConstructorOf<T, A> {
  const constructor = function (this: T, ...args: A): void {
    init.apply(this, args);
  };
  Object.defineProperty(constructor, 'name', { value: name, configurable: true });
  Object.defineProperty(constructor, 'length', { value: length, configurable: true });
  constructor.prototype = Body.prototype as unknown;
  Object.defineProperty(Body.prototype, 'constructor', { value: constructor, writable: true, enumerable: false, configurable: true });
  Object.setPrototypeOf(constructor, parent);
  return constructor as unknown as FunctionConstructorOf<T, A>;
}

/** `Parent.call(self, …args)`: a parent constructor's setup of an instance (Node's `OutgoingMessage.call(this, options)`). */
export function callParent(parent: object, self: object, ...args: unknown[]): void {
  (parent as (this: object, ...rest: unknown[]) => void).call(self, ...args);
}
