/**
 * Node's `navigator` global (Node 21+, lib/internal/navigator.js; Lambda's nodejs22.x and
 * nodejs24.x have it): a Navigator whose enumerable getters read hardwareConcurrency, locks,
 * language, languages, userAgent and platform, as Node 24 orders them. Libraries tell Node from a
 * browser by it (`navigator.userAgent.startsWith('Node.js/')`), and size pools from
 * hardwareConcurrency. Values as a Lambda environment reads them: its vCPUs for its memory (os.ts),
 * 'en-US' (Lambda's locale: LANG=en_US.UTF-8; Node reads it from ICU's default locale),
 * `Node.js/<major>` of the emulated runtime, 'Linux x86_64'.
 *
 * `navigator.locks` is the Web Locks API (Node 24.5+, lib/internal/locks.js), scoped as Node's is to
 * its process — here the environment: requests queue per name in order, an exclusive lock excludes
 * every other, shared ones share; `ifAvailable`, `steal`, `signal` and `query()` as the spec says
 * (https://w3c.github.io/web-locks/), with Node's error names, codes and messages.
 */
import { lambdaVcpus } from './os.ts';
import { invalidArgType } from './node-errors.ts';
import { nodeError } from '../bridge.ts';

type LockMode = 'exclusive' | 'shared';

/** The global DOMException (the encoding chunk's, installed lazily): `instanceof DOMException` holds. */
function domException(message: string, name: string): Error {
  const Ctor = (globalThis as unknown as { DOMException: new (message: string, name: string) => Error }).DOMException;
  return new Ctor(message, name);
}

const kConstruct = Symbol('kConstruct');

/**
 * What `new` of Lock or LockManager throws in Node 24: "ERR_ILLEGAL_CONSTRUCTOR is not a
 * constructor", a TypeError without a code (lib/internal/locks.js news the error code's name as
 * if it were a class). Navigator's own is Node's proper ERR_ILLEGAL_CONSTRUCTOR.
 */
function illegalLockConstructor(): TypeError {
  return new TypeError('ERR_ILLEGAL_CONSTRUCTOR is not a constructor');
}
const kName = Symbol('kName');
const kMode = Symbol('kMode');

export class Lock {
  declare [kName]: string;
  declare [kMode]: LockMode;
  constructor(key?: unknown, name?: string, mode?: LockMode) {
    if (key !== kConstruct) throw illegalLockConstructor();
    // Own symbol properties, as Node's (util.inspect shows `Lock { Symbol(kName): 'a', Symbol(kMode): 'exclusive' }`).
    this[kName] = name!;
    this[kMode] = mode!;
  }
  get name(): string {
    return this[kName];
  }
  get mode(): LockMode {
    return this[kMode];
  }
}

interface Request {
  readonly name: string;
  readonly mode: LockMode;
  readonly callback: (lock: Lock | null) => unknown;
  readonly resolve: (value: unknown) => void;
  readonly reject: (reason: unknown) => void;
  readonly signal: AbortSignal | undefined;
  onAbort?: () => void;
}

interface Held {
  readonly lock: Lock;
  /** Rejects the request's promise with AbortError when the lock is stolen. */
  readonly steal: () => void;
}

export class LockManager {
  readonly #queues = new Map<string, Request[]>();
  /** Every held lock, the latest granted first: the order Node's query() lists them in. */
  readonly #granted: Held[] = [];
  readonly #clientId: string;

  constructor(key?: unknown, clientId?: string) {
    if (key !== kConstruct) throw illegalLockConstructor();
    this.#clientId = clientId!;
  }

  request(name: unknown, options: unknown, callback?: unknown): Promise<unknown> {
    try {
      if (callback === undefined) {
        callback = options;
        options = undefined;
      }
      // WebIDL's DOMString conversion, in Node's words for a Symbol.
      if (typeof name === 'symbol') throw nodeError(TypeError, 'ERR_INVALID_ARG_TYPE', 'Value is a Symbol and cannot be converted to a string.');
      const text = `${name as string}`;
      if (typeof callback !== 'function') throw invalidArgType('callback', 'of type function', callback);
      const opts = (options ?? {}) as { mode?: unknown; ifAvailable?: unknown; steal?: unknown; signal?: unknown };
      const mode = opts.mode === undefined ? 'exclusive' : `${opts.mode as string}`;
      if (mode !== 'exclusive' && mode !== 'shared') throw nodeError(TypeError, 'ERR_INVALID_ARG_VALUE', `mode '${mode}' is not a valid enum value of type LockMode.`);
      const ifAvailable = Boolean(opts.ifAvailable);
      const steal = Boolean(opts.steal);
      const signal = opts.signal as AbortSignal | undefined;
      if (text.startsWith('-')) throw domException('Lock name may not start with hyphen', 'NotSupportedError');
      if (steal && ifAvailable) throw domException('ifAvailable and steal are mutually exclusive', 'NotSupportedError');
      if (steal && mode === 'shared') throw domException('mode: "shared" and steal are mutually exclusive', 'NotSupportedError');
      if (signal !== undefined && (steal || ifAvailable)) throw domException('signal cannot be used with steal or ifAvailable', 'NotSupportedError');
      if (signal?.aborted) throw domException('This operation was aborted', 'AbortError');
      return new Promise((resolve, reject) => {
        const request: Request = { name: text, mode, callback: callback as Request['callback'], resolve, reject, signal };
        const queue = this.#queues.get(text) ?? [];
        if (steal) {
          for (const held of this.#heldAs(text)) {
            held.steal();
            this.#ungrant(held);
          }
          this.#grant(request);
          return;
        }
        if (ifAvailable && !(queue.length === 0 && this.#grantable(request))) {
          this.#settle(request, () => request.callback(null));
          return;
        }
        queue.push(request);
        this.#queues.set(text, queue);
        if (signal !== undefined) {
          request.onAbort = () => {
            const waiting = this.#queues.get(text);
            const at = waiting?.indexOf(request) ?? -1;
            if (at < 0) return;
            waiting!.splice(at, 1);
            if (waiting!.length === 0) this.#queues.delete(text);
            // eslint-disable-next-line @typescript-eslint/prefer-promise-reject-errors -- the signal's reason or the callback's own, as the spec passes them on
            reject(signal.reason);
            this.#process(text);
          };
          signal.addEventListener('abort', request.onAbort, { once: true });
        }
        this.#process(text);
      });
    } catch (error) {
      // eslint-disable-next-line @typescript-eslint/prefer-promise-reject-errors -- an argument error above, as a rejection (as Node's request)
      return Promise.reject(error);
    }
  }

  query(): Promise<{ held: { name: string; mode: LockMode; clientId: string }[]; pending: { name: string; mode: LockMode; clientId: string }[] }> {
    const clientId = this.#clientId;
    const held = this.#granted.map(({ lock }) => ({ name: lock.name, mode: lock.mode, clientId }));
    const pending = [...this.#queues.values()].flat().map(({ name, mode }) => ({ name, mode, clientId }));
    return Promise.resolve({ held, pending });
  }

  #heldAs(name: string): Held[] {
    return this.#granted.filter(({ lock }) => lock.name === name);
  }

  /** The spec's "grantable", ignoring the queue: no held lock of the name conflicts. */
  #grantable(request: Request): boolean {
    const held = this.#heldAs(request.name);
    return request.mode === 'exclusive' ? held.length === 0 : held.every(({ lock }) => lock.mode === 'shared');
  }

  /** Grants the queue's requests in order while the first one is grantable. */
  #process(name: string): void {
    const queue = this.#queues.get(name);
    while (queue !== undefined && queue.length > 0 && this.#grantable(queue[0]!)) {
      const request = queue.shift()!;
      if (request.onAbort) request.signal!.removeEventListener('abort', request.onAbort);
      this.#grant(request);
    }
    if (queue?.length === 0) this.#queues.delete(name);
  }

  #grant(request: Request): void {
    const lock = new Lock(kConstruct, request.name, request.mode);
    let stolen = false;
    const entry: Held = {
      lock,
      steal: () => {
        stolen = true;
        request.reject(domException('The operation was aborted', 'AbortError'));
      },
    };
    this.#granted.unshift(entry);
    this.#settle(request, () => request.callback(lock), () => {
      if (stolen) return;
      this.#ungrant(entry);
      this.#process(request.name);
    });
  }

  #ungrant(entry: Held): void {
    const at = this.#granted.indexOf(entry);
    if (at >= 0) this.#granted.splice(at, 1);
  }

  /**
   * Runs the callback; the request settles as its result does, after `release`. A callback that
   * throws synchronously rejects the request and its lock is never released — as Node 24 and 26 do
   * (lib/internal/locks.js: `query()` lists it held for good, later requests for the name wait
   * forever): a handler that does this deadlocks on Lambda, so it does here too.
   */
  #settle(request: Request, run: () => unknown, release = (): void => {}): void {
    let result: Promise<unknown>;
    try {
      result = Promise.resolve(run());
    } catch (error) {
      request.reject(error);
      return;
    }
    result.then(
      (value) => {
        release();
        request.resolve(value);
      },
      (error: unknown) => {
        release();
        request.reject(error);
      },
    );
  }
}
Object.defineProperty(Lock.prototype, Symbol.toStringTag, { value: 'Lock', configurable: true });
Object.defineProperties(Lock.prototype, { name: { enumerable: true }, mode: { enumerable: true } });
Object.defineProperty(LockManager.prototype, Symbol.toStringTag, { value: 'LockManager', configurable: true });
Object.defineProperties(LockManager.prototype, { request: { enumerable: true }, query: { enumerable: true } });

export class Navigator {
  #locks: LockManager | undefined;
  #languages: readonly string[] | undefined;
  constructor(key?: unknown) {
    if (key !== kConstruct) throw nodeError(TypeError, 'ERR_ILLEGAL_CONSTRUCTOR', 'Illegal constructor');
  }
  get hardwareConcurrency(): number {
    return lambdaVcpus();
  }
  get locks(): LockManager {
    const pid = (globalThis as { process?: { pid?: number } }).process?.pid ?? 1;
    this.#locks ??= new LockManager(kConstruct, `node-${pid}-0`);
    return this.#locks;
  }
  get language(): string {
    return 'en-US';
  }
  get languages(): readonly string[] {
    this.#languages ??= Object.freeze([this.language]);
    return this.#languages;
  }
  get userAgent(): string {
    const version = (globalThis as { process?: { version?: string } }).process?.version ?? 'v24.0.0';
    return `Node.js/${version.slice(1, version.indexOf('.'))}`;
  }
  get platform(): string {
    return 'Linux x86_64';
  }
}
Object.defineProperties(Navigator.prototype, {
  hardwareConcurrency: { enumerable: true },
  locks: { enumerable: true },
  language: { enumerable: true },
  languages: { enumerable: true },
  userAgent: { enumerable: true },
  platform: { enumerable: true },
});

// Web Locks came with Node 24.5: the nodejs22.x runtime's Node (22.23.5) has no `locks`.
const major = Number(/^v(\d+)/.exec((globalThis as { process?: { version?: string } }).process?.version ?? '')?.[1] ?? 24);
if (major < 24) delete (Navigator.prototype as { locks?: unknown }).locks;

export const navigator = new Navigator(kConstruct);
