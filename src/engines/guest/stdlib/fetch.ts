/**
 * The Fetch API inside the sandbox: Headers, Request, Response, Blob, File, FormData and `fetch`.
 * Written here: the polyfills on npm either wrap XMLHttpRequest and have no streaming bodies
 * (whatwg-fetch) or need Node (undici, node-fetch). Bodies are bytes, or a ReadableStream
 * (web-streams-polyfill) read to the end when consumed.
 *
 * `fetch` goes through the host (environment/host-bridge.ts): the host applies the function's
 * egress policy, runs the request, and keeps the response until the guest takes it. While requests
 * are in flight the guest asks the host to tick it soon (`fetchPollDelay`), so the invocation stays
 * alive and the deadline applies.
 */
import { Buffer } from 'buffer';
import { host, hostCall } from '../bridge.ts';
import { TextDecoder, TextEncoder } from './encoding.ts';
import { streams } from './streams.ts';
import { URL, URLSearchParams } from './url.ts';

const encoder = new TextEncoder();
const NULL_BODY_STATUSES = new Set([101, 103, 204, 205, 304]);
const REDIRECT_STATUSES = new Set([301, 302, 303, 307, 308]);

// ---- Headers ---------------------------------------------------------------------------------

type HeadersInit = Headers | Iterable<readonly [string, string]> | Record<string, string>;

function headerName(name: unknown): string {
  const text = String(name);
  if (!/^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/.test(text)) throw new TypeError(`Headers: invalid header name "${text}"`);
  return text.toLowerCase();
}

function headerValue(value: unknown): string {
  return String(value).replace(/^[\t\n\r ]+|[\t\n\r ]+$/g, '');
}

export class Headers {
  readonly #map = new Map<string, string[]>();

  constructor(init?: HeadersInit) {
    if (init === undefined || init === null) return;
    if (init instanceof Headers) {
      for (const [k, v] of init.#map) this.#map.set(k, [...v]);
    } else if (typeof (init as Iterable<unknown>)[Symbol.iterator] === 'function') {
      for (const pair of init as Iterable<readonly [string, string]>) {
        if (pair.length !== 2) throw new TypeError('Headers: each header pair must have a name and a value');
        this.append(pair[0], pair[1]);
      }
    } else {
      for (const [k, v] of Object.entries(init as Record<string, string>)) this.append(k, v);
    }
  }
  append(name: string, value: string): void {
    const key = headerName(name);
    const list = this.#map.get(key);
    if (list) list.push(headerValue(value));
    else this.#map.set(key, [headerValue(value)]);
  }
  set(name: string, value: string): void {
    this.#map.set(headerName(name), [headerValue(value)]);
  }
  get(name: string): string | null {
    const list = this.#map.get(headerName(name));
    return list ? list.join(', ') : null;
  }
  getSetCookie(): string[] {
    return [...(this.#map.get('set-cookie') ?? [])];
  }
  has(name: string): boolean {
    return this.#map.has(headerName(name));
  }
  delete(name: string): void {
    this.#map.delete(headerName(name));
  }
  forEach(cb: (value: string, key: string, parent: Headers) => void, thisArg?: unknown): void {
    for (const [k, v] of this.entries()) cb.call(thisArg, v, k, this);
  }
  *entries(): IterableIterator<[string, string]> {
    for (const key of [...this.#map.keys()].sort()) {
      if (key === 'set-cookie') for (const v of this.#map.get(key)!) yield [key, v];
      else yield [key, this.#map.get(key)!.join(', ')];
    }
  }
  *keys(): IterableIterator<string> {
    for (const [k] of this.entries()) yield k;
  }
  *values(): IterableIterator<string> {
    for (const [, v] of this.entries()) yield v;
  }
  [Symbol.iterator](): IterableIterator<[string, string]> {
    return this.entries();
  }
  get [Symbol.toStringTag](): string {
    return 'Headers';
  }
}

// ---- Blob, File ------------------------------------------------------------------------------

type BlobPart = string | ArrayBuffer | ArrayBufferView | Blob;

function toBytes(part: ArrayBuffer | ArrayBufferView): Uint8Array {
  return ArrayBuffer.isView(part) ? new Uint8Array(part.buffer, part.byteOffset, part.byteLength) : new Uint8Array(part);
}

function concat(chunks: readonly Uint8Array[]): Uint8Array {
  if (chunks.length === 1) return chunks[0]!;
  const out = new Uint8Array(chunks.reduce((n, c) => n + c.length, 0));
  let at = 0;
  for (const c of chunks) {
    out.set(c, at);
    at += c.length;
  }
  return out;
}

function arrayBufferOf(bytes: Uint8Array): ArrayBuffer {
  return bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength) as ArrayBuffer;
}

/** Each Blob's bytes (a WeakMap rather than a #field, so bodies can read them without a copy). */
const blobData = new WeakMap<Blob, Uint8Array>();

export class Blob {
  readonly #type: string;

  constructor(parts: Iterable<BlobPart> = [], options: { type?: string } = {}) {
    const chunks: Uint8Array[] = [];
    for (const part of parts) {
      if (part instanceof Blob) chunks.push(blobData.get(part)!);
      else if (typeof part === 'string') chunks.push(encoder.encode(part));
      else if (ArrayBuffer.isView(part) || part instanceof ArrayBuffer) chunks.push(toBytes(part).slice());
      else chunks.push(encoder.encode(String(part)));
    }
    blobData.set(this, concat(chunks));
    const type = String(options.type ?? '');
    this.#type = /^[\x20-\x7e]*$/.test(type) ? type.toLowerCase() : '';
  }
  get size(): number {
    return blobData.get(this)!.length;
  }
  get type(): string {
    return this.#type;
  }
  slice(start = 0, end = this.size, type = ''): Blob {
    const norm = (n: number): number => (n < 0 ? Math.max(this.size + n, 0) : Math.min(n, this.size));
    return new Blob([blobData.get(this)!.subarray(norm(start), norm(end))], { type });
  }
  async arrayBuffer(): Promise<ArrayBuffer> {
    return arrayBufferOf(blobData.get(this)!);
  }
  async bytes(): Promise<Uint8Array> {
    return blobData.get(this)!.slice();
  }
  async text(): Promise<string> {
    return new TextDecoder().decode(blobData.get(this));
  }
  stream(): ReadableStream<Uint8Array> {
    return bytesStream(blobData.get(this)!);
  }
  get [Symbol.toStringTag](): string {
    return 'Blob';
  }
}

export class File extends Blob {
  readonly name: string;
  readonly lastModified: number;
  constructor(parts: Iterable<BlobPart>, name: string, options: { type?: string; lastModified?: number } = {}) {
    super(parts, options);
    this.name = String(name);
    this.lastModified = options.lastModified ?? Date.now();
  }
  override get [Symbol.toStringTag](): string {
    return 'File';
  }
}

// ---- FormData --------------------------------------------------------------------------------

type FormValue = string | File;

export class FormData {
  readonly #entries: [string, FormValue][] = [];

  #value(value: string | Blob, filename?: string): FormValue {
    if (value instanceof Blob) {
      if (value instanceof File && filename === undefined) return value;
      return new File([value], filename ?? (value instanceof File ? value.name : 'blob'), { type: value.type });
    }
    return String(value);
  }
  append(name: string, value: string | Blob, filename?: string): void {
    this.#entries.push([String(name), this.#value(value, filename)]);
  }
  set(name: string, value: string | Blob, filename?: string): void {
    const key = String(name);
    const at = this.#entries.findIndex(([k]) => k === key);
    const entry: [string, FormValue] = [key, this.#value(value, filename)];
    if (at < 0) {
      this.#entries.push(entry);
      return;
    }
    this.#entries[at] = entry;
    for (let i = this.#entries.length - 1; i > at; i--) if (this.#entries[i]![0] === key) this.#entries.splice(i, 1);
  }
  get(name: string): FormValue | null {
    return this.#entries.find(([k]) => k === String(name))?.[1] ?? null;
  }
  getAll(name: string): FormValue[] {
    return this.#entries.filter(([k]) => k === String(name)).map(([, v]) => v);
  }
  has(name: string): boolean {
    return this.#entries.some(([k]) => k === String(name));
  }
  delete(name: string): void {
    for (let i = this.#entries.length - 1; i >= 0; i--) if (this.#entries[i]![0] === String(name)) this.#entries.splice(i, 1);
  }
  forEach(cb: (value: FormValue, key: string, parent: FormData) => void, thisArg?: unknown): void {
    for (const [k, v] of this.#entries) cb.call(thisArg, v, k, this);
  }
  *entries(): IterableIterator<[string, FormValue]> {
    for (const [k, v] of this.#entries) yield [k, v];
  }
  *keys(): IterableIterator<string> {
    for (const [k] of this.#entries) yield k;
  }
  *values(): IterableIterator<FormValue> {
    for (const [, v] of this.#entries) yield v;
  }
  [Symbol.iterator](): IterableIterator<[string, FormValue]> {
    return this.entries();
  }
  get [Symbol.toStringTag](): string {
    return 'FormData';
  }
}

function newBoundary(): string {
  return `----lambdalet${Math.random().toString(16).slice(2)}${Math.random().toString(16).slice(2)}`;
}

async function encodeMultipart(form: FormData, boundary: string): Promise<{ bytes: Uint8Array; type: string }> {
  const chunks: Uint8Array[] = [];
  const escape = (s: string): string => s.replace(/\n/g, '%0A').replace(/\r/g, '%0D').replace(/"/g, '%22');
  for (const [name, value] of form) {
    let head = `--${boundary}\r\nContent-Disposition: form-data; name="${escape(name)}"`;
    if (typeof value === 'string') {
      chunks.push(encoder.encode(`${head}\r\n\r\n${value.replace(/\r(?!\n)|(?<!\r)\n/g, '\r\n')}\r\n`));
    } else {
      head += `; filename="${escape(value.name)}"\r\nContent-Type: ${value.type || 'application/octet-stream'}\r\n\r\n`;
      chunks.push(encoder.encode(head), new Uint8Array(await value.arrayBuffer()), encoder.encode('\r\n'));
    }
  }
  chunks.push(encoder.encode(`--${boundary}--\r\n`));
  return { bytes: concat(chunks), type: `multipart/form-data; boundary=${boundary}` };
}

function parseMultipart(bytes: Uint8Array, boundary: string): FormData {
  const form = new FormData();
  const text = Buffer.from(bytes).toString('latin1');
  for (const part of text.split(`--${boundary}`).slice(1)) {
    if (part.startsWith('--')) break;
    const split = part.indexOf('\r\n\r\n');
    if (split < 0) continue;
    const head = part.slice(2, split);
    const body = part.slice(split + 4, part.endsWith('\r\n') ? -2 : undefined);
    const name = /name="([^"]*)"/i.exec(head)?.[1];
    if (name === undefined) continue;
    const filename = /filename="([^"]*)"/i.exec(head)?.[1];
    const data = Buffer.from(body, 'latin1');
    if (filename === undefined) form.append(name, data.toString('utf8'));
    else form.append(name, new File([data], filename, { type: /content-type:\s*([^\r\n]+)/i.exec(head)?.[1] ?? '' }));
  }
  return form;
}

// ---- bodies ----------------------------------------------------------------------------------

type BodyInit = string | ArrayBuffer | ArrayBufferView | Blob | URLSearchParams | FormData | ReadableStream<Uint8Array> | null;

function bytesStream(bytes: Uint8Array): ReadableStream<Uint8Array> {
  return new streams.ReadableStream<Uint8Array>({
    start(controller) {
      if (bytes.length > 0) controller.enqueue(bytes.slice());
      controller.close();
    },
  }) as unknown as ReadableStream<Uint8Array>;
}

/** What a Request or Response body holds: bytes, a stream, or a form to serialise when read. */
interface BodyState {
  bytes: Uint8Array | null;
  stream: ReadableStream<Uint8Array> | null;
  form: FormData | null;
  /** With `form`: the multipart boundary already announced in the content-type header. */
  boundary: string;
  used: boolean;
}

function extractBody(init: BodyInit | undefined, headers: Headers): BodyState {
  const state: BodyState = { bytes: null, stream: null, form: null, boundary: '', used: false };
  const type = (t: string): void => {
    if (!headers.has('content-type') && t !== '') headers.set('content-type', t);
  };
  if (init === undefined || init === null) return state;
  if (typeof init === 'string') {
    state.bytes = encoder.encode(init);
    type('text/plain;charset=UTF-8');
  } else if (init instanceof URLSearchParams) {
    state.bytes = encoder.encode(init.toString());
    type('application/x-www-form-urlencoded;charset=UTF-8');
  } else if (init instanceof Blob) {
    state.bytes = blobData.get(init)!;
    type(init.type);
  } else if (init instanceof FormData) {
    state.form = init;
    state.boundary = newBoundary();
    type(`multipart/form-data; boundary=${state.boundary}`);
  } else if (ArrayBuffer.isView(init) || init instanceof ArrayBuffer) {
    state.bytes = toBytes(init).slice();
  } else if (typeof (init as ReadableStream).getReader === 'function') {
    state.stream = init;
  } else {
    // As fetch does: anything else is stringified.
    // eslint-disable-next-line @typescript-eslint/no-base-to-string
    state.bytes = encoder.encode(String(init));
    type('text/plain;charset=UTF-8');
  }
  return state;
}

async function readAll(state: BodyState, headers: Headers): Promise<Uint8Array> {
  if (state.used) throw new TypeError('Body is unusable: Body has already been read');
  state.used = true;
  if (state.form) {
    void headers;
    return (await encodeMultipart(state.form, state.boundary)).bytes;
  }
  if (state.bytes) return state.bytes;
  if (!state.stream) return new Uint8Array(0);
  const reader = state.stream.getReader();
  const chunks: Uint8Array[] = [];
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    chunks.push(typeof value === 'string' ? encoder.encode(value) : toBytes(value));
  }
  return concat(chunks);
}

/** The body mixin shared by Request and Response. */
abstract class Body {
  protected abstract readonly state: BodyState;
  abstract readonly headers: Headers;

  get bodyUsed(): boolean {
    return this.state.used;
  }
  get body(): ReadableStream<Uint8Array> | null {
    const s = this.state;
    if (s.stream) return s.stream;
    if (s.bytes === null && s.form === null) return null;
    if (s.form) {
      const form = s.form;
      s.form = null;
      s.stream = new streams.ReadableStream<Uint8Array>({
        start: async (controller) => {
          const { bytes } = await encodeMultipart(form, s.boundary);
          controller.enqueue(bytes);
          controller.close();
        },
      }) as unknown as ReadableStream<Uint8Array>;
      return s.stream;
    }
    s.stream = bytesStream(s.bytes!);
    s.bytes = null;
    return s.stream;
  }
  async arrayBuffer(): Promise<ArrayBuffer> {
    return arrayBufferOf(await readAll(this.state, this.headers));
  }
  async bytes(): Promise<Uint8Array> {
    return (await readAll(this.state, this.headers)).slice();
  }
  async text(): Promise<string> {
    return new TextDecoder().decode(await readAll(this.state, this.headers));
  }
  async json(): Promise<unknown> {
    return JSON.parse(await this.text());
  }
  async blob(): Promise<Blob> {
    return new Blob([await readAll(this.state, this.headers)], { type: this.headers.get('content-type') ?? '' });
  }
  async formData(): Promise<FormData> {
    const type = this.headers.get('content-type') ?? '';
    const bytes = await readAll(this.state, this.headers);
    if (/^application\/x-www-form-urlencoded/i.test(type)) {
      const form = new FormData();
      for (const [k, v] of new URLSearchParams(new TextDecoder().decode(bytes))) form.append(k, v);
      return form;
    }
    const boundary = /multipart\/form-data;.*boundary=(?:"([^"]+)"|([^;]+))/i.exec(type);
    if (boundary) return parseMultipart(bytes, (boundary[1] ?? boundary[2])!.trim());
    throw new TypeError('Could not parse content as FormData.');
  }
  protected cloneState(): BodyState {
    if (this.state.used) throw new TypeError('Body has already been consumed.');
    const s = this.state;
    if (s.stream) {
      const [a, b] = (s.stream as unknown as { tee(): [ReadableStream<Uint8Array>, ReadableStream<Uint8Array>] }).tee();
      s.stream = a;
      return { bytes: null, stream: b, form: null, boundary: '', used: false };
    }
    return { bytes: s.bytes, stream: null, form: s.form, boundary: s.boundary, used: false };
  }
}

// ---- Request, Response -----------------------------------------------------------------------

interface RequestInit {
  method?: string;
  headers?: HeadersInit;
  body?: BodyInit;
  redirect?: 'follow' | 'manual' | 'error';
  signal?: AbortSignal | null;
  duplex?: 'half';
  [key: string]: unknown;
}

export class Request extends Body {
  readonly url: string;
  readonly method: string;
  readonly headers: Headers;
  readonly redirect: 'follow' | 'manual' | 'error';
  readonly signal: AbortSignal;
  protected readonly state: BodyState;

  constructor(input: string | URL | Request, init: RequestInit = {}) {
    super();
    const base = input instanceof Request ? input : undefined;
    this.url = base ? base.url : new URL(typeof input === 'string' ? input : (input as URL).href).href;
    this.method = String(init.method ?? base?.method ?? 'GET').toUpperCase();
    this.headers = new Headers(init.headers ?? base?.headers);
    this.redirect = init.redirect ?? base?.redirect ?? 'follow';
    this.signal = init.signal ?? base?.signal ?? new globalThis.AbortController().signal;
    if ((this.method === 'GET' || this.method === 'HEAD') && init.body !== undefined && init.body !== null) {
      throw new TypeError('Request with GET/HEAD method cannot have body.');
    }
    this.state = init.body !== undefined ? extractBody(init.body, this.headers) : base ? base.cloneState() : extractBody(null, this.headers);
  }
  get cache(): string { return 'default'; }
  get credentials(): string { return 'same-origin'; }
  get mode(): string { return 'cors'; }
  get destination(): string { return ''; }
  get referrer(): string { return 'about:client'; }
  get integrity(): string { return ''; }
  get keepalive(): boolean { return false; }
  get duplex(): string { return 'half'; }
  clone(): Request {
    const copy = new Request(this);
    return copy;
  }
  get [Symbol.toStringTag](): string {
    return 'Request';
  }
}

interface ResponseInit {
  status?: number;
  statusText?: string;
  headers?: HeadersInit;
}

export class Response extends Body {
  readonly status: number;
  readonly statusText: string;
  readonly headers: Headers;
  protected readonly state: BodyState;
  #type: string = 'default';
  #url = '';
  #redirected = false;

  constructor(body: BodyInit = null, init: ResponseInit = {}) {
    super();
    const status = init.status ?? 200;
    if (!Number.isInteger(status) || status < 200 || status > 599) {
      throw new RangeError(`init["status"] must be in the range of 200 to 599, inclusive.`);
    }
    if (body !== null && body !== undefined && NULL_BODY_STATUSES.has(status)) {
      throw new TypeError('Response constructor: Invalid response status code ' + status);
    }
    this.status = status;
    this.statusText = String(init.statusText ?? '');
    this.headers = new Headers(init.headers);
    this.state = extractBody(body, this.headers);
  }
  get ok(): boolean {
    return this.status >= 200 && this.status < 300;
  }
  get type(): string {
    return this.#type;
  }
  get url(): string {
    return this.#url;
  }
  get redirected(): boolean {
    return this.#redirected;
  }
  clone(): Response {
    const copy = new Response(null, { status: this.status, statusText: this.statusText, headers: this.headers });
    Object.assign(copy.state, this.cloneState());
    copy.#url = this.#url;
    copy.#type = this.#type;
    copy.#redirected = this.#redirected;
    return copy;
  }
  static json(data: unknown, init: ResponseInit = {}): Response {
    const headers = new Headers(init.headers);
    if (!headers.has('content-type')) headers.set('content-type', 'application/json');
    return new Response(JSON.stringify(data), { ...init, headers });
  }
  static error(): Response {
    const response = new Response(null, { status: 200 });
    (response as unknown as { status: number }).status = 0;
    response.#type = 'error';
    return response;
  }
  static redirect(url: string | URL, status = 302): Response {
    if (!REDIRECT_STATUSES.has(status)) throw new RangeError('Invalid status code');
    return new Response(null, { status, headers: { location: new URL(String(url)).href } });
  }
  /** A response that came from the network (fetch). */
  static fromNetwork(meta: NetworkMeta, bytes: Uint8Array): Response {
    const nullBody = NULL_BODY_STATUSES.has(meta.status) || meta.status < 200;
    const response = new Response(nullBody ? null : bytes, {
      status: meta.status < 200 || meta.status > 599 ? 200 : meta.status,
      statusText: meta.statusText,
      headers: meta.headers,
    });
    if (meta.status < 200) (response as unknown as { status: number }).status = meta.status;
    response.#url = meta.url;
    response.#type = 'basic';
    response.#redirected = meta.redirected;
    return response;
  }
  get [Symbol.toStringTag](): string {
    return 'Response';
  }
}

interface NetworkMeta {
  status: number;
  statusText: string;
  headers: [string, string][];
  url: string;
  redirected: boolean;
}

// ---- fetch -----------------------------------------------------------------------------------

interface InFlight {
  resolve(response: Response): void;
  reject(error: unknown): void;
}

const inFlight = new Map<number, InFlight>();
const POLL_MIN_MS = 1;
const POLL_MAX_MS = 8;
let pollDelay = POLL_MIN_MS;

export function fetch(input: string | URL | Request, init?: RequestInit): Promise<Response> {
  return send(input, init, false);
}

/**
 * fetch for node:http's client (http-client.ts): the same host call, marked so that the host sends
 * it even to a port the Fetch standard's "bad port" list refuses (Node's http has no such list).
 */
export function fetchForHttp(input: string | URL, init: RequestInit): Promise<Response> {
  return send(input, init, true);
}

async function send(input: string | URL | Request, init: RequestInit | undefined, node: boolean): Promise<Response> {
  const request = new Request(input, init);
  request.signal.throwIfAborted();
  const body = request.method === 'GET' || request.method === 'HEAD' ? undefined : await readAll(request['state'], request.headers);
  request.signal.throwIfAborted();
  const shape = { url: request.url, method: request.method, headers: [...request.headers], redirect: request.redirect, ...(node ? { node } : {}) };
  const id = hostCall('fetch.start', [shape], body).value as number;
  host.pending++;
  pollDelay = POLL_MIN_MS;
  try {
    return await settled(id, request);
  } catch (error) {
    // The host's failure was made in the poll's timer tick, so its stack held only the runtime's
    // frames; taken again here, in fetch's own continuation, it shows the handler that awaited it
    // (V8: `at async handler (/var/task/index.mjs:…)`, as Node's undici error does). An abort's
    // reason is the caller's own object and is rejected untouched.
    if (typeof error === 'object' && error !== null && hostFailures.has(error)) Error.captureStackTrace(error, send);
    throw error;
  }
}

/** Failures revived from the host (fetch.take), as opposed to an abort's reason. */
const hostFailures = new WeakSet<object>();

function settled(id: number, request: Request): Promise<Response> {
  return new Promise<Response>((resolve, reject) => {
    inFlight.set(id, { resolve, reject });
    request.signal.addEventListener('abort', () => {
      if (!inFlight.delete(id)) return;
      host.pending--;
      // The host stops receiving the body (or drops it if it has finished): it holds host memory.
      hostCall('fetch.abort', [id]);
      // The signal's reason, whatever it is, as fetch rejects.
      // eslint-disable-next-line @typescript-eslint/prefer-promise-reject-errors
      reject(request.signal.reason);
    }, { once: true });
  });
}

/**
 * Takes the responses the host has finished (called on the guest's timer tick while requests are
 * in flight) and settles their promises. Returns the next poll delay, or -1 when none is in flight.
 */
export function pollFetches(): number {
  if (inFlight.size === 0) return -1;
  const done = hostCall('fetch.done', []).value as number[];
  for (const id of done) {
    const waiting = inFlight.get(id);
    let response: Response | undefined;
    let failure: unknown;
    try {
      const { value, payload } = hostCall('fetch.take', [id]);
      response = Response.fromNetwork(value as NetworkMeta, payload ?? new Uint8Array(0));
    } catch (error) {
      failure = error;
      if (typeof error === 'object' && error !== null) hostFailures.add(error);
    }
    if (!waiting) continue; // aborted meanwhile: the host's answer is dropped
    inFlight.delete(id);
    host.pending--;
    if (response) waiting.resolve(response);
    else waiting.reject(failure);
  }
  pollDelay = done.length > 0 ? POLL_MIN_MS : Math.min(POLL_MAX_MS, pollDelay * 2);
  return inFlight.size === 0 ? -1 : pollDelay;
}

/** Milliseconds until the guest wants to poll again, or -1. */
export function fetchPollDelay(): number {
  return inFlight.size === 0 ? -1 : pollDelay;
}

host.pollers.push({ poll: () => void pollFetches(), delay: fetchPollDelay, keepsAlive: () => true });

export const fetchGlobals = { Headers, Request, Response, FormData, Blob, File, fetch };
