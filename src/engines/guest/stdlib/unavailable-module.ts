/**
 * Node built-ins a sandbox cannot offer (sockets, processes, native code): each loads with Node's
 * export names, so a library that imports one for an optional feature still loads. Data exports
 * keep their real values (read from Node at build time: guest-bundle.ts), classes construct
 * harmlessly (EventEmitters, so listeners can be attached), and only an actual operation —
 * calling a function or a method — throws ERR_LAMBDALET_MODULE_UNAVAILABLE naming it.
 */
import { nodeError } from '../bridge.ts';
import { events } from './events.ts';

/** 'f': a function; `{ c: methods }`: a class and its own prototype methods; `{ v: value }`: data. */
export type ExportShape = 'f' | { readonly c: readonly string[] } | { readonly v: unknown };

export function unavailableError(operation: string): Error {
  return nodeError(
    Error,
    'ERR_LAMBDALET_MODULE_UNAVAILABLE',
    `${operation} is not available in lambdalet: handlers run in a sandbox without processes, sockets or native modules`,
  );
}

function thrower(operation: string): () => never {
  return function unavailable(): never {
    throw unavailableError(operation);
  };
}

const EventEmitter = events.EventEmitter as new () => object;

function stubClass(moduleName: string, name: string, methods: readonly string[]): unknown {
  const Stub = class extends EventEmitter {};
  Object.defineProperty(Stub, 'name', { value: name });
  for (const method of methods) {
    Object.defineProperty(Stub.prototype, method, {
      value: thrower(`The Node.js module '${moduleName}' (${moduleName}.${name}.${method})`),
      writable: true,
      configurable: true,
    });
  }
  return Stub;
}

function clone(value: unknown): unknown {
  return value !== null && typeof value === 'object' ? JSON.parse(JSON.stringify(value)) : value;
}

/** The module object for `moduleName`, from its export shapes. */
export function unavailableModule(moduleName: string, shapes: Readonly<Record<string, ExportShape>>): object {
  const out: Record<string, unknown> = {};
  for (const [name, shape] of Object.entries(shapes)) {
    if (shape === 'f') out[name] = thrower(`The Node.js module '${moduleName}' (${moduleName}.${name})`);
    else if ('c' in shape) out[name] = stubClass(moduleName, name, shape.c);
    else out[name] = clone(shape.v);
  }
  return out;
}
