/** The guest standard library: the same answers on every engine. */
import { StringDecoder } from 'node:string_decoder';
import { brotliCompressSync, brotliDecompressSync, deflateRawSync, deflateSync, gunzipSync, gzipSync, inflateRawSync, inflateSync } from 'node:zlib';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { deployAndInvoke, deployFiles, forEachEngine } from '../helpers/runtime.ts';
import { runInNode } from '../compat/node-baseline.ts';

/**
 * Buffer's `base64url` (Node >= 15.7), which feross/buffer lacks (issue #12: `Buffer.from(segment,
 * 'base64url')`, how a handler reads a JWT's parts, threw "Unknown encoding"). Run here too: the
 * answers are this Node's.
 */
function base64UrlFacts(B: typeof Buffer, Decoder: typeof StringDecoder): unknown {
  const bytes = B.from([0xfb, 0xff, 0xbf, 0x00, 0x3e, 0x3f]);
  const jwtPart = B.from(JSON.stringify({ sub: 'ada', n: 'ü?>' })).toString('base64url');
  const written = B.alloc(6);
  const filled = B.alloc(4);
  filled.fill('-_8', 'base64url');
  return {
    encode: bytes.toString('base64url'), encodeSlice: bytes.toString('base64url', 1, 4), upper: bytes.toString('BASE64URL' as BufferEncoding),
    locale: bytes.toLocaleString('base64url' as never), jwtPart, decoded: B.from(jwtPart, 'base64url').toString(),
    padded: B.from('-_8=', 'base64url').toString('hex'), isEncoding: [B.isEncoding('base64url'), B.isEncoding('BASE64URL'), B.isEncoding('base64urls')],
    byteLength: B.byteLength('-_8', 'base64url'), written: [written.write('-_8', 1, 'base64url'), written.toString('hex')], filled: filled.toString('hex'),
    alloc: B.alloc(3, '-_8', 'base64url').toString('hex'), indexOf: bytes.indexOf('v_8', 0, 'base64url'), includes: bytes.includes('-_8', 'base64url'),
    empty: B.alloc(0).toString('base64url'),
    decoder: ((d) => [(d as unknown as { encoding: string }).encoding, d.write(B.from([1, 2, 3, 4, 0xfb])), d.write(B.from([0xff])), d.end()])(new Decoder('base64url')),
  };
}

/**
 * TextDecoderStream and TextEncoderStream, Node's globals since 18 (issue #12: `res.body.pipeThrough(
 * new TextDecoderStream())` was a ReferenceError). Multi-byte characters and a surrogate pair split
 * across chunks; run here too, the answers are this Node's.
 */
async function textStreamFacts(): Promise<unknown> {
  const readAll = async (readable: ReadableStream<unknown>): Promise<unknown[]> => {
    const out: unknown[] = [];
    for (const reader = readable.getReader(); ;) {
      const { done, value } = await reader.read();
      if (done) return out;
      out.push(value instanceof Uint8Array ? [...value] : value);
    }
  };
  const decoder = new TextDecoderStream('utf-8', { fatal: false });
  const euro = new TextEncoder().encode('a€b');
  const writer = decoder.writable.getWriter();
  void writer.write(euro.subarray(0, 2)).then(() => writer.write(euro.subarray(2))).then(() => writer.close());
  const decoded = await readAll(decoder.readable);
  const encoder = new TextEncoderStream();
  const encWriter = encoder.writable.getWriter();
  void encWriter.write('x\ud83d').then(() => encWriter.write('\ude00y')).then(() => encWriter.write('\ud83d')).then(() => encWriter.close());
  const encoded = await readAll(encoder.readable);
  return { decoded: decoded.join(''), props: [decoder.encoding, decoder.fatal, decoder.ignoreBOM, encoder.encoding], encoded: encoded.flat() };
}

/**
 * CompressionStream and DecompressionStream, Node's globals since 18 (issue #12: a ReferenceError).
 * Each format compressed and read back in the same place; `given` (base64, one per format) is
 * decompressed too; an unknown format's error. Run here too: the answers are this Node's, except the
 * compressed bytes, which the test decompresses with node:zlib.
 */
async function compressionFacts(given: Record<string, string>): Promise<unknown> {
  const text = 'lambdalet '.repeat(50);
  const pipe = async (bytes: Uint8Array, through: { readable: ReadableStream<Uint8Array>; writable: WritableStream<Uint8Array> }): Promise<Uint8Array> => {
    const writer = through.writable.getWriter();
    void writer.write(bytes.subarray(0, 7)).then(() => writer.write(bytes.subarray(7))).then(() => writer.close());
    const parts: number[] = [];
    for (const reader = through.readable.getReader(); ;) {
      const { done, value } = await reader.read();
      if (done) return new Uint8Array(parts);
      parts.push(...value);
    }
  };
  const out: Record<string, unknown> = {};
  for (const format of ['gzip', 'deflate', 'deflate-raw', 'brotli'] as const) {
    const packed = await pipe(new TextEncoder().encode(text), new CompressionStream(format));
    const back = new TextDecoder().decode(await pipe(packed, new DecompressionStream(format)));
    const theirs = new TextDecoder().decode(await pipe(Uint8Array.from(atob(given[format]!), (c) => c.charCodeAt(0)), new DecompressionStream(format)));
    out[format] = { roundTrip: back === text, theirs: theirs === text, packed: btoa(String.fromCharCode(...packed)) };
  }
  try {
    new CompressionStream('zip' as never);
  } catch (error) {
    out.unknown = [(error as Error).name, (error as { code?: string }).code, (error as Error).message];
  }
  return out;
}

forEachEngine(({ withRuntime }) => {
  describe('compression streams', () => {
    it('CompressionStream and DecompressionStream are globals: gzip, deflate, deflate-raw and brotli both ways, as Node\'s', () =>
      withRuntime(async ({ rt }) => {
        const text = 'lambdalet '.repeat(50);
        const given = {
          gzip: gzipSync(text).toString('base64'), deflate: deflateSync(text).toString('base64'),
          'deflate-raw': deflateRawSync(text).toString('base64'), brotli: brotliCompressSync(text).toString('base64'),
        };
        const result = await deployAndInvoke(rt, `export const handler = async (event) => (${compressionFacts.toString()})(event);`, given);
        expect(result.functionError, JSON.stringify(result.payload)).toBeUndefined();
        const node = (await compressionFacts(given)) as Record<string, { packed: string }>;
        const payload = result.payload as Record<string, { packed: string }>;
        const unpack = { gzip: gunzipSync, deflate: inflateSync, 'deflate-raw': inflateRawSync, brotli: brotliDecompressSync } as const;
        for (const format of Object.keys(unpack) as (keyof typeof unpack)[]) {
          // Compressors may differ in their bytes, never in what the bytes hold.
          expect(unpack[format](Buffer.from(payload[format]!.packed, 'base64')).toString()).toBe(text);
          expect({ ...payload[format], packed: '' }).toEqual({ ...node[format], packed: '' });
          expect(node[format]).toMatchObject({ roundTrip: true, theirs: true });
        }
        expect(payload.unknown).toEqual(node.unknown);
      }));
  });

  describe('node:stream/web', () => {
    it("exports what Node's does, its CompressionStream and DecompressionStream the globals", () =>
      withRuntime(async ({ rt }) => {
        const facts = `const web = require('stream/web');
          exports.handler = async () => [Object.keys(web).sort(), web.CompressionStream === CompressionStream, web.DecompressionStream === DecompressionStream, web.TextDecoderStream === TextDecoderStream];`;
        const result = await deployAndInvoke(rt, facts, {}, { file: 'index.js' });
        expect(result.functionError, JSON.stringify(result.payload)).toBeUndefined();
        // Less Node's ReadableStreamTee: an internal helper lib/stream/web.js exports by accident
        // (tee(stream, cloneForBranch2), undocumented), which the guest does not offer.
        const [names, ...same] = (await runInNode(facts)) as [string[], ...boolean[]];
        expect(names).toContain('ReadableStreamTee');
        expect(result.payload).toEqual([names.filter((n) => n !== 'ReadableStreamTee'), ...same]);
      }));
  });

  describe('encoding streams', () => {
    it('TextDecoderStream and TextEncoderStream are globals and behave as Node\'s', () =>
      withRuntime(async ({ rt }) => {
        const result = await deployAndInvoke(rt, `export const handler = async () => (${textStreamFacts.toString()})();`);
        expect(result.functionError, JSON.stringify(result.payload)).toBeUndefined();
        const node = await textStreamFacts();
        expect((node as { decoded: string }).decoded).toBe('a€b');
        expect(result.payload).toEqual(node);
      }));
  });

  describe('Buffer', () => {
    it("base64url: from, toString, byteLength, write, fill, alloc, indexOf, isEncoding and StringDecoder as Node's", () =>
      withRuntime(async ({ rt }) => {
        const result = await deployAndInvoke(rt, `import { StringDecoder } from 'node:string_decoder';\nexport const handler = async () => (${base64UrlFacts.toString()})(Buffer, StringDecoder);`);
        expect(result.functionError, JSON.stringify(result.payload)).toBeUndefined();
        const node = base64UrlFacts(Buffer, StringDecoder);
        expect((node as { encode: string }).encode).toBe('-_-_AD4_');
        expect(result.payload).toEqual(node);
      }));
  });

  describe('globals', () => {
    it('Stdlib: Web globals (encoding, URL, base64, structuredClone, crypto, events, abort, streams) behave as in Node', () =>
      withRuntime(async ({ rt }) => {
        const result = await deployAndInvoke(rt, `
          export const handler = async () => {
            const enc = new TextEncoder().encode('héllo €');
            const dec = new TextDecoder();
            const split = dec.decode(enc.subarray(0, 8), { stream: true }) + dec.decode(enc.subarray(8));
            const url = new URL('../x/y?a=1&b=two#frag', 'https://example.com/base/path');
            url.searchParams.append('c', 'd e');
            const clone = structuredClone({ d: new Date(0), m: new Map([['k', [1, 2]]]), s: new Set([1]), r: /x/g });
            let cloneFn; try { structuredClone(() => 1); } catch (e) { cloneFn = e.name; }
            const bytes = crypto.getRandomValues(new Uint8Array(32));
            const digest = Buffer.from(await crypto.subtle.digest('SHA-256', new TextEncoder().encode('abc'))).toString('hex');
            const target = new EventTarget();
            let got = null;
            target.addEventListener('ping', (e) => { got = e.type; });
            target.dispatchEvent(new Event('ping'));
            const ac = new AbortController();
            let aborted = null;
            ac.signal.addEventListener('abort', () => { aborted = ac.signal.reason.name; });
            ac.abort();
            const stream = new ReadableStream({ start(c) { c.enqueue('a'); c.enqueue('b'); c.close(); } });
            const chunks = [];
            for (const reader = stream.getReader();;) { const { done, value } = await reader.read(); if (done) break; chunks.push(value); }
            const ticks = [];
            process.nextTick(() => ticks.push('tick'));
            queueMicrotask(() => ticks.push('micro'));
            await null; await null;
            const [s, ns] = process.hrtime();
            return {
              enc: enc.length, dec: new TextDecoder().decode(enc), split, bom: new TextDecoder().decode(new Uint8Array([0xef, 0xbb, 0xbf, 0x41])),
              url: url.href, host: url.host, params: [...url.searchParams.keys()], b: url.searchParams.get('b'),
              usp: new URLSearchParams({ q: 'a&b', n: '1' }).toString(),
              b64: btoa('hi!'), unb64: atob('aGkh'),
              clone: [clone.d instanceof Date, clone.m.get('k'), clone.s.has(1), clone.r.flags], cloneFn,
              random: bytes.some((b) => b !== 0), uuid: /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/.test(crypto.randomUUID()),
              digest, got, aborted, timeoutSignal: typeof AbortSignal.timeout(1000).aborted, chunks, ticks,
              hrtime: Number.isInteger(s) && Number.isInteger(ns), buffer: Buffer.from('hello').toString('base64'),
              isBuffer: Buffer.isBuffer(Buffer.alloc(1)), concat: Buffer.concat([Buffer.from('a'), Buffer.from('b')]).toString(),
            };
          };`);
        expect(result.payload).toEqual({
          enc: 10, dec: 'héllo €', split: 'héllo €', bom: 'A',
          url: 'https://example.com/x/y?a=1&b=two&c=d+e#frag', host: 'example.com', params: ['a', 'b', 'c'], b: 'two',
          usp: 'q=a%26b&n=1', b64: 'aGkh', unb64: 'hi!',
          clone: [true, [1, 2], true, 'g'], cloneFn: 'DataCloneError',
          random: true, uuid: true, digest: 'ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad',
          got: 'ping', aborted: 'AbortError', timeoutSignal: 'boolean', chunks: ['a', 'b'], ticks: ['tick', 'micro'],
          hrtime: true, buffer: 'aGVsbG8=', isBuffer: true, concat: 'ab',
        });
      }));
  });

  describe('modules', () => {
    it('Stdlib: node:path, buffer, events, util, crypto, os, url and timers/promises', () =>
      withRuntime(async ({ rt }) => {
        const result = await deployAndInvoke(rt, `
          import path from 'node:path';
          import { Buffer as B } from 'node:buffer';
          import { EventEmitter, once } from 'node:events';
          import util from 'node:util';
          import crypto from 'node:crypto';
          import os from 'node:os';
          import { fileURLToPath, pathToFileURL } from 'node:url';
          import { setTimeout as sleep } from 'node:timers/promises';
          export const handler = async () => {
            const em = new EventEmitter();
            const seen = [];
            em.on('x', (v) => seen.push(v));
            em.emit('x', 1);
            setTimeout(() => em.emit('later', 'done'), 1);
            const [later] = await once(em, 'later');
            const cb = (a, done) => done(null, a * 2);
            const slept = await sleep(1, 'slept');
            return {
              join: path.join('/a/b', '../c', './d.txt'), ext: path.extname('x/y.tar.gz'), rel: path.relative('/a/b', '/a/c/d'),
              resolve: path.resolve('x'), parse: path.parse('/home/u/f.txt').name, sep: path.sep,
              buf: B.from('ff00', 'hex').readUInt16BE(0), same: B === Buffer,
              seen, later,
              format: util.format('%s=%d %j', 'a', 42, { b: 1 }), inspect: util.inspect({ a: [1, { b: 2 }] }),
              promisified: await util.promisify(cb)(21), isDate: util.types.isDate(new Date()), isPromise: util.types.isPromise(Promise.resolve()),
              md5: crypto.createHash('md5').update('abc').digest('hex'),
              sha1: crypto.createHash('sha1').update('abc').digest('base64'),
              sha256: crypto.createHash('sha256').update('a').update('bc').digest('hex'),
              hmac: crypto.createHmac('sha256', 'key').update('The quick brown fox jumps over the lazy dog').digest('hex'),
              randomBytes: crypto.randomBytes(16).length, randomUUID: crypto.randomUUID().length,
              tmpdir: os.tmpdir(), eol: os.EOL, file: fileURLToPath('file:///var/task/a%20b.js'), url: pathToFileURL('/tmp/x y').href, slept,
            };
          };`);
        expect(result.payload).toEqual({
          join: '/a/c/d.txt', ext: '.gz', rel: '../c/d', resolve: '/var/task/x', parse: 'f', sep: '/',
          buf: 0xff00, same: true, seen: [1], later: 'done',
          format: 'a=42 {"b":1}', inspect: '{ a: [ 1, { b: 2 } ] }', promisified: 42, isDate: true, isPromise: true,
          md5: '900150983cd24fb0d6963f7d28e17f72', sha1: 'qZk+NkcGgWq6PiVxeFDCbJzQ2J0=',
          sha256: 'ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad',
          hmac: 'f7bc83f430538424b13298e6aa6fb143ef4d59a14946175997479dbc2d1a3cd8',
          randomBytes: 16, randomUUID: 36, tmpdir: '/tmp', eol: '\n', file: '/var/task/a b.js', url: 'file:///tmp/x%20y', slept: 'slept',
        });
      }));

    it('Stdlib: child_process, net servers, dgram and the like load with Node\'s export shapes; only an operation fails, with a clear "not available in lambdalet" error', () =>
      withRuntime(async ({ rt }) => {
        const result = await deployAndInvoke(rt, `
          const attempt = (use) => { try { use(); return 'worked'; } catch (e) { return e.code + ' ' + e.message.split(':')[0]; } };
          const net = require('net');
          const socket = new net.Socket();
          socket.on('error', () => {});
          exports.handler = async () => ({
            failures: [
              attempt(() => require('child_process').spawn('sh')), attempt(() => net.createServer()), attempt(() => new net.Server().listen(80)),
              attempt(() => require('dgram').createSocket('udp4')), attempt(() => require('vm').runInNewContext('1')),
              attempt(() => require('node:cluster').fork()), attempt(() => require('tls').createServer()), attempt(() => require('http2').connect('https://x')),
            ],
            constructed: socket instanceof require('events').EventEmitter,
            data: [require('http2').constants.HTTP2_HEADER_STATUS, require('dns').NOTFOUND, typeof require('child_process').ChildProcess],
            worker: attempt(() => new (require('worker_threads').Worker)('/var/task/x.js')),
          });`, {}, { file: 'index.js' });
        const payload = result.payload as { failures: string[]; constructed: boolean; data: unknown[]; worker: string };
        expect(payload.failures).toHaveLength(8); // dns is no stub: test/compat/stdlib-gaps.test.ts
        for (const line of payload.failures) {
          expect(line).toMatch(/^ERR_LAMBDALET_MODULE_UNAVAILABLE The Node.js module '[a-z_/0-9]+' \([\w/.]+\) is not available in lambdalet$/);
        }
        expect(payload.failures[2]).toContain('(net.Server.listen)'); // client sockets are the host's: test/compat/net.test.ts
        expect(payload.constructed).toBe(true);
        expect(payload.data).toEqual([':status', 'ENOTFOUND', 'function']);
        expect(payload.worker).toBe('ERR_LAMBDALET_MODULE_UNAVAILABLE worker_threads.Worker (starting a worker thread) is not available in lambdalet');
      }));
  });

  describe('fetch', () => {
    const FETCHER = `
      export const handler = async (event) => {
        try {
          const res = await fetch(event.url, { method: event.method ?? 'GET', headers: { 'x-test': '1' }, body: event.body });
          return { status: res.status, ok: res.ok, type: res.headers.get('content-type'), body: await res.text(), url: res.url };
        } catch (e) {
          return { error: e.name + ': ' + e.message, cause: e.cause?.message };
        }
      };`;

    it('fetch: denied by default, with a network error that names the egress policy', () =>
      withRuntime(async ({ rt }) => {
        const result = await deployAndInvoke(rt, FETCHER, { url: 'https://example.com/' });
        // The reason is in the message too, not only in err.cause (issue #12).
        expect(result.payload).toEqual({
          error: 'TypeError: fetch failed: lambdalet egress policy denied https://example.com: add "example.com" to the function\'s egress.allowHosts',
          cause: 'lambdalet egress policy denied https://example.com: add "example.com" to the function\'s egress.allowHosts',
        });
      }));

    it('fetch: an allowed host is fetched through the host (here a host-supplied fetch); others stay denied, redirects included', () =>
      withRuntime(async ({ rt }) => {
        const seen: string[] = [];
        const hostFetch = async (request: Request): Promise<Response> => {
          seen.push(`${request.method} ${request.url} ${request.headers.get('x-test')} ${request.body ? await request.text() : ''}`);
          if (request.url.endsWith('/away')) return new Response(null, { status: 302, headers: { location: 'https://evil.example.net/' } });
          await new Promise((r) => setTimeout(r, 20));
          return new Response(JSON.stringify({ echo: request.url }), { status: 201, headers: { 'content-type': 'application/json' } });
        };
        const egress = { allowHosts: ['api.example.com'], fetch: hostFetch };
        const ok = await deployAndInvoke(rt, FETCHER, { url: 'https://api.example.com/items?x=1', method: 'POST', body: 'payload' }, { egress });
        expect(ok.payload).toEqual({
          status: 201, ok: true, type: 'application/json', body: '{"echo":"https://api.example.com/items?x=1"}', url: 'https://api.example.com/items?x=1',
        });
        expect(seen).toEqual(['POST https://api.example.com/items?x=1 1 payload']);
        const redirected = await deployAndInvoke(rt, FETCHER, { url: 'https://api.example.com/away' }, { egress });
        expect(redirected.payload).toMatchObject({
          error: expect.stringMatching(/^TypeError: fetch failed: lambdalet egress policy denied https:\/\/evil\.example\.net/),
          cause: expect.stringContaining('denied https://evil.example.net'),
        });
        const other = await deployAndInvoke(rt, FETCHER, { url: 'http://169.254.169.254/latest/meta-data' }, { egress });
        expect(other.payload).toMatchObject({ error: 'TypeError: fetch failed: lambdalet egress policy denied http://169.254.169.254: add "169.254.169.254" to the function\'s egress.allowHosts' });
      }));

    it('fetch: time in flight counts against the invocation', () =>
      withRuntime(async ({ rt }) => {
        const egress = { allowHosts: ['slow.example.com'], fetch: () => new Promise<Response>(() => {}) };
        const result = await deployAndInvoke(rt, FETCHER, { url: 'https://slow.example.com/' }, { egress, timeoutMs: 200 });
        expect(result.payload).toMatchObject({ errorType: 'Sandbox.Timedout' });
      }));

    it('fetch: aborting a request stops it on the host too (its body would be host memory)', () =>
      withRuntime(async ({ rt }) => {
        const abortedOnHost: string[] = [];
        const hostFetch = (request: Request): Promise<Response> =>
          new Promise<Response>((_resolve, reject) => {
            request.signal.addEventListener('abort', () => {
              abortedOnHost.push(request.url);
              reject(new DOMException('This operation was aborted', 'AbortError'));
            });
          });
        const code = `
          export const handler = async (event) => {
            const ac = new AbortController();
            const pending = fetch(event.url, { signal: ac.signal }).catch((e) => e.name);
            await new Promise((r) => setTimeout(r, 20));
            ac.abort();
            return { result: await pending };
          };`;
        // 30 s, not Lambda's 3 s default: the deadline is not under test, and a loaded machine took 3 s once.
        const result = await deployAndInvoke(rt, code, { url: 'https://slow.example.com/a' }, { egress: { allowHosts: ['slow.example.com'], fetch: hostFetch }, timeoutMs: 30_000 });
        expect(result.payload).toEqual({ result: 'AbortError' });
        expect(abortedOnHost).toEqual(['https://slow.example.com/a']);
      }));

    it('fetch: a request started at INIT is read by later invocations (Lambda resumes unfinished work in a reused environment)', () =>
      withRuntime(async ({ rt }) => {
        const hostFetch = (): Promise<Response> => Promise.resolve(new Response('prefetched'));
        const code = `
          const prefetch = fetch('https://api.example.com/config').then((r) => r.text());
          export const handler = async () => ({ config: await prefetch });`;
        await deployFiles(rt, 'prefetch', code, { egress: { allowHosts: ['api.example.com'], fetch: hostFetch } });
        const first = await rt.invoke('prefetch', {});
        expect(first.payload).toEqual({ config: 'prefetched' });
        const second = await rt.invoke('prefetch', {});
        expect(second.payload).toEqual({ config: 'prefetched' });
      }));
  });

  describe('fetch API classes', () => {
    it('Stdlib: Headers, Request, Response, FormData and Blob', () =>
      withRuntime(async ({ rt }) => {
        const result = await deployAndInvoke(rt, `
          export const handler = async () => {
            const h = new Headers({ 'Content-Type': 'text/plain', 'X-A': '1' });
            h.append('x-a', '2');
            h.append('set-cookie', 'a=1'); h.append('set-cookie', 'b=2');
            const req = new Request('https://x.test/p?q=1', { method: 'post', body: JSON.stringify({ a: 1 }), headers: { 'content-type': 'application/json' } });
            const form = new FormData();
            form.append('name', 'value');
            form.append('file', new Blob(['filedata'], { type: 'text/plain' }), 'f.txt');
            const multipart = new Request('https://x.test/', { method: 'POST', body: form });
            const parsed = await multipart.formData();
            const res = Response.json({ ok: true }, { status: 202 });
            const clone = res.clone();
            const blob = new Blob(['ab', new Uint8Array([99])], { type: 'Text/Plain' });
            const streamed = new Response(new ReadableStream({ start(c) { c.enqueue(new TextEncoder().encode('str')); c.enqueue(new TextEncoder().encode('eam')); c.close(); } }));
            return {
              headers: [...h], cookies: h.getSetCookie(), xa: h.get('X-A'),
              method: req.method, json: await req.json(), used: req.bodyUsed,
              parsed: [parsed.get('name'), parsed.get('file').name, await parsed.get('file').text()],
              status: res.status, resJson: await res.json(), cloneText: await clone.text(),
              blob: [blob.size, blob.type, await blob.slice(1).text()], streamed: await streamed.text(),
              redirect: Response.redirect('https://x.test/a', 301).headers.get('location'),
            };
          };`);
        expect(result.payload).toEqual({
          headers: [['content-type', 'text/plain'], ['set-cookie', 'a=1'], ['set-cookie', 'b=2'], ['x-a', '1, 2']],
          cookies: ['a=1', 'b=2'], xa: '1, 2', method: 'POST', json: { a: 1 }, used: true,
          parsed: ['value', 'f.txt', 'filedata'], status: 202, resJson: { ok: true }, cloneText: '{"ok":true}',
          blob: [3, 'text/plain', 'bc'], streamed: 'stream', redirect: 'https://x.test/a',
        });
      }));

    it('Hono: an app served through hono/aws-lambda handle(), bundled unchanged, answers an API Gateway v2 event', () =>
      withRuntime(async ({ rt }) => {
        const entry = fileURLToPath(new URL('./fixtures/hono-app.ts', import.meta.url));
        await rt.deploy({ name: 'hono', code: { entry }, handler: 'hono-app.handler' });
        const event = (method: string, rawPath: string, rawQueryString = '', body?: string) => ({
          version: '2.0', routeKey: '$default', rawPath, rawQueryString, headers: { host: 'abc.execute-api.us-east-1.amazonaws.com', 'content-type': 'text/plain' },
          requestContext: {
            accountId: '123456789012', apiId: 'abc', domainName: 'abc.execute-api.us-east-1.amazonaws.com', domainPrefix: 'abc',
            http: { method, path: rawPath, protocol: 'HTTP/1.1', sourceIp: '1.2.3.4', userAgent: 'test' },
            requestId: 'r', routeKey: '$default', stage: '$default', time: '01/Jan/2026:00:00:00 +0000', timeEpoch: 0,
          },
          isBase64Encoded: false, ...(body === undefined ? {} : { body }),
        });
        const hello = await rt.invoke('hono', event('GET', '/hello/world', 'q=1'));
        expect(hello.functionError, JSON.stringify(hello.payload)).toBeUndefined();
        expect(hello.payload).toMatchObject({
          statusCode: 200, body: '{"hello":"world","q":"1"}', isBase64Encoded: false,
          headers: expect.objectContaining({ 'content-type': 'application/json', 'x-app': 'hono' }),
        });
        const echo = await rt.invoke('hono', event('POST', '/echo', '', 'ping'));
        expect(echo.payload).toMatchObject({ statusCode: 200, body: 'echo:ping' });
        const missing = await rt.invoke('hono', event('GET', '/nope'));
        expect(missing.payload).toMatchObject({ statusCode: 404, body: '{"error":"not found"}' });
      }));
  });
});
