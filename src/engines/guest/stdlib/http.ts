/**
 * node:http and node:https: clients over the sandbox's fetch (http-client.ts), the server-side
 * objects Lambda adapters construct (http-server.ts, http-outgoing.ts), and Node's data
 * (METHODS and STATUS_CODES read from Node at build time). A server cannot listen: a sandbox
 * has no sockets, so `createServer()` returns a Server whose `listen()` throws the clear error.
 */
import { nodeError } from '../bridge.ts';
import { events } from './events.ts';
import { Agent, ClientRequest, HttpsAgent, type RequestOptions } from './http-client.ts';
import { OutgoingMessage, validateHeaderName, validateHeaderValue } from './http-outgoing.ts';
import { IncomingMessage, ServerResponse, STATUS_CODES } from './http-server.ts';

declare const LAMBDALET_HTTP_METHODS: readonly string[];
const METHODS: readonly string[] = [...LAMBDALET_HTTP_METHODS];

type Callback = (res: IncomingMessage) => void;
type EventEmitterLike = InstanceType<typeof import('node:events').EventEmitter>;
const EventEmitter = events.EventEmitter as new () => EventEmitterLike;

class Server extends EventEmitter {
  listening = false;
  constructor(options?: unknown, listener?: (req: IncomingMessage, res: ServerResponse) => void) {
    super();
    const handler = typeof options === 'function' ? options : listener;
    if (typeof handler === 'function') this.on('request', handler as (...args: unknown[]) => void);
  }
  listen(): never {
    throw nodeError(
      Error,
      'ERR_LAMBDALET_MODULE_UNAVAILABLE',
      'http.Server.listen (listening on a socket) is not available in lambdalet: a function answers events; use an adapter such as serverless-http',
    );
  }
  close(callback?: () => void): this {
    if (callback) globalThis.process.nextTick(callback);
    return this;
  }
  address(): null {
    return null;
  }
  setTimeout(): this {
    return this;
  }
  closeAllConnections(): void {}
  closeIdleConnections(): void {}
}

function makeModule(protocol: 'http:' | 'https:', AgentClass: typeof Agent): Record<string, unknown> {
  const globalAgent = new AgentClass({ keepAlive: true, scheduling: 'lifo', timeout: 5000 });
  const request = (input: string | URL | RequestOptions, options?: RequestOptions | Callback, callback?: Callback): ClientRequest => {
    const o = typeof options === 'object' ? options : undefined;
    const withAgent = o?.agent === undefined && (typeof input !== 'object' || input instanceof URL || input.agent === undefined)
      ? { ...(o ?? {}), agent: globalAgent }
      : o;
    return new ClientRequest(input, withAgent ?? (options), typeof options === 'function' ? options : callback, protocol);
  };
  const get = (input: string | URL | RequestOptions, options?: RequestOptions | Callback, callback?: Callback): ClientRequest => {
    const req = request(input, options, callback);
    req.end();
    return req;
  };
  return {
    METHODS,
    STATUS_CODES,
    Agent: AgentClass,
    globalAgent,
    ClientRequest,
    IncomingMessage,
    OutgoingMessage,
    Server,
    ServerResponse,
    createServer: (options?: unknown, listener?: (req: IncomingMessage, res: ServerResponse) => void) => new Server(options, listener),
    request,
    get,
    validateHeaderName,
    validateHeaderValue,
    maxHeaderSize: 16384,
    setMaxIdleHTTPParsers: (): void => {},
  };
}

export const http = makeModule('http:', Agent);
export const https = makeModule('https:', HttpsAgent);
