/**
 * node:http's classes are function constructors in Node (issue #12): light-my-request — Fastify's
 * `inject`, which @fastify/aws-lambda answers every event with — makes its response with
 * `http.ServerResponse.call(this, req)` and `util.inherits(Response, http.ServerResponse)`, which
 * an ES class refuses ("Class constructor ServerResponse cannot be invoked without 'new'"). The
 * handler below checks each class's name, length, parent and prototype chain, `C.call` on
 * `Object.create(C.prototype)`, `class X extends C` and `new C()`, then runs light-my-request's own
 * pattern (its lib/response.js, trimmed) end to end; its answer in plain Node
 * (test/compat/node-baseline.ts) and on every engine must be equal.
 */
import { expect, it } from 'vitest';
import { deployFiles, forEachEngine, GENEROUS_TIMEOUT_MS } from '../helpers/runtime.ts';
import { runInNode } from './node-baseline.ts';

const SOURCE = `
  const http = require('http');
  const https = require('https');
  const util = require('util');
  const { Writable } = require('stream');
  const attempt = (fn) => { try { return fn(); } catch (e) { return e.name + ': ' + e.message; } };
  // Up to EventEmitter's prototype, by identity (its name is the events package's business).
  const chain = (o) => { const names = []; for (let p = Object.getPrototypeOf(o); p && p !== require('events').prototype; p = Object.getPrototypeOf(p)) names.push(p.constructor.name); return names.join(' < '); };
  const classes = { ServerResponse: [http.ServerResponse, { method: 'GET' }], IncomingMessage: [http.IncomingMessage, null],
    OutgoingMessage: [http.OutgoingMessage], Agent: [http.Agent, { keepAlive: true }], httpsAgent: [https.Agent, { keepAlive: true }] };

  // light-my-request's Response (lib/response.js), trimmed to what it does with ServerResponse.
  function Response(req, onEnd) {
    http.ServerResponse.call(this, req);
    this._lightMyRequest = { headers: null, payloadChunks: [] };
    this.setHeader('foo', 'bar'); this.removeHeader('foo');
    this.assignSocket(new Writable({ write: (chunk, encoding, callback) => callback() }));
    this.once('finish', () => onEnd({ statusCode: this.statusCode, statusMessage: this.statusMessage, headers: this._lightMyRequest.headers,
      payload: Buffer.concat(this._lightMyRequest.payloadChunks).toString(), headersSent: this.headersSent, finished: this.finished }));
  }
  util.inherits(Response, http.ServerResponse);
  Response.prototype.writeHead = function () {
    const result = http.ServerResponse.prototype.writeHead.apply(this, arguments);
    this._lightMyRequest.headers = this.getHeaders();
    return result;
  };
  Response.prototype.write = function (data, encoding, callback) {
    http.ServerResponse.prototype.write.call(this, data, encoding, callback);
    if (!this._hasBody) return true;
    this._lightMyRequest.payloadChunks.push(Buffer.from(data, encoding));
    return true;
  };
  Response.prototype.end = function (data, encoding, callback) {
    if (data) this.write(data, encoding);
    http.ServerResponse.prototype.end.call(this, callback);
  };

  exports.handler = async () => {
    const out = {};
    for (const [key, [C, ...args]] of Object.entries(classes)) {
      out[key] = {
        name: C.name, length: C.length, parent: Object.getPrototypeOf(C) === require('events') ? 'EventEmitter' : Object.getPrototypeOf(C).name, isClass: Function.prototype.toString.call(C).startsWith('class'),
        constructorOfPrototype: C.prototype.constructor === C, constructorEnumerable: Object.getOwnPropertyDescriptor(C.prototype, 'constructor').enumerable,
        call: attempt(() => { const o = Object.create(C.prototype); C.call(o, ...args); return [o instanceof C, chain(o)]; }),
        extends: attempt(() => { class X extends C { constructor(...a) { super(...a); this.extra = 1; } } const o = new X(...args); return [o instanceof C, o instanceof X, o.extra, chain(o)]; }),
        new: attempt(() => { const o = new C(...args); return [o instanceof C, chain(o)]; }),
      };
    }
    const agent = new http.Agent({ keepAlive: true, maxSockets: 4 });
    out.agentFields = [agent.keepAlive, agent.maxSockets, agent.defaultPort, agent.protocol, new https.Agent().defaultPort, new https.Agent().protocol, agent instanceof require('events')];
    const incoming = Object.create(http.IncomingMessage.prototype);
    http.IncomingMessage.call(incoming, null);
    out.incoming = [incoming.complete, incoming.readable, incoming.url, incoming.method, incoming.statusCode, incoming.socket, incoming.aborted];
    const req = { method: 'GET', headers: {} };
    out.inject = await new Promise((resolve) => {
      const res = new Response(req, resolve);
      res.setHeader('content-type', 'application/json');
      res.writeHead(201, { 'x-y': '1' });
      res.write('{"a":');
      res.end('1}');
    });
    out.injectHead = await new Promise((resolve) => {
      const res = new Response({ method: 'HEAD', headers: {} }, resolve);
      res.end('ignored');
    });
    return out;
  };
`;

let nodeAnswer: Promise<unknown> | undefined;
const inNode = (): Promise<unknown> => (nodeAnswer ??= runInNode(SOURCE));

it('the baseline: in plain Node the classes are function constructors light-my-request can call', async () => {
  const node = (await inNode()) as Record<string, { isClass?: boolean; call?: unknown }>;
  expect(node.ServerResponse).toMatchObject({ isClass: false, call: [true, 'ServerResponse < OutgoingMessage < Stream'] });
  expect(node.inject).toMatchObject({ statusCode: 201, payload: '{"a":1}' });
});

forEachEngine(({ withRuntime }) => {
  it('ServerResponse, IncomingMessage, OutgoingMessage, Agent and https.Agent are Node\'s function constructors; light-my-request\'s pattern answers as in Node', () =>
    withRuntime(async ({ rt }) => {
      const expected = await inNode();
      await deployFiles(rt, 'http-ctors', SOURCE, { file: 'index.js', handler: 'index.handler' });
      const result = await rt.invoke('http-ctors', {});
      expect(result.functionError, JSON.stringify(result.payload)).toBeUndefined();
      expect(result.payload).toEqual(expected);
    }), GENEROUS_TIMEOUT_MS);
});
