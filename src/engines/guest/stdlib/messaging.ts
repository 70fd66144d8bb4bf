/**
 * MessageChannel / MessagePort / BroadcastChannel inside one sandbox (there is no other thread to
 * talk to): messages are structured-cloned and delivered as a later macrotask, as in Node. Ports
 * are Web EventTargets and, like Node's, also take `on('message', (data) => ...)`.
 */
import { Event, EventTarget } from './abort.ts';
import { addApiFunctionKeys } from './api-function.ts';
import { structuredClone } from './clone.ts';

class MessageEvent extends Event {
  readonly data: unknown;
  readonly ports: readonly MessagePort[] = [];
  constructor(type: string, init?: { data?: unknown }) {
    super(type);
    this.data = init?.data;
  }
}

type Listener = (data: unknown) => void;
const kCreate = Symbol('create');

export class MessagePort extends EventTarget {
  #peer: MessagePort | undefined;
  #started = false;
  #closed = false;
  #queue: unknown[] = [];
  #onmessage: ((event: MessageEvent) => void) | null = null;
  readonly #wrapped = new Map<Listener, (event: Event) => void>();

  constructor(key?: symbol) {
    super();
    if (key !== kCreate) throw new TypeError('Illegal constructor');
  }

  static pair(): [MessagePort, MessagePort] {
    const a = new MessagePort(kCreate);
    const b = new MessagePort(kCreate);
    a.#peer = b;
    b.#peer = a;
    return [a, b];
  }

  postMessage(message: unknown): void {
    const peer = this.#peer;
    if (this.#closed || !peer || peer.#closed) return;
    peer.#queue.push(structuredClone(message));
    peer.#flushSoon();
  }

  start(): void {
    this.#started = true;
    this.#flushSoon();
  }

  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#queue = [];
    const peer = this.#peer;
    this.#peer = undefined;
    if (peer) peer.close();
    this.dispatchEvent(new Event('close'));
  }

  get onmessage(): ((event: MessageEvent) => void) | null {
    return this.#onmessage;
  }

  set onmessage(fn: ((event: MessageEvent) => void) | null) {
    if (this.#onmessage) this.removeEventListener('message', this.#onmessage as (event: Event) => void);
    this.#onmessage = typeof fn === 'function' ? fn : null;
    if (this.#onmessage) {
      this.addEventListener('message', this.#onmessage as (event: Event) => void);
      this.start();
    }
  }

  on(type: string, listener: Listener): this {
    const wrapped = (event: Event): void => listener(type === 'message' ? (event as MessageEvent).data : event);
    this.#wrapped.set(listener, wrapped);
    this.addEventListener(type, wrapped);
    if (type === 'message') this.start();
    return this;
  }

  once(type: string, listener: Listener): this {
    const wrapped = (event: Event): void => {
      this.off(type, listener);
      listener(type === 'message' ? (event as MessageEvent).data : event);
    };
    this.#wrapped.set(listener, wrapped);
    this.addEventListener(type, wrapped);
    if (type === 'message') this.start();
    return this;
  }

  off(type: string, listener: Listener): this {
    const wrapped = this.#wrapped.get(listener);
    if (wrapped) this.removeEventListener(type, wrapped);
    this.#wrapped.delete(listener);
    return this;
  }

  ref(): this {
    return this;
  }

  unref(): this {
    return this;
  }

  #flushSoon(): void {
    if (!this.#started || this.#queue.length === 0) return;
    globalThis.setTimeout(() => {
      while (this.#started && !this.#closed && this.#queue.length > 0) {
        this.dispatchEvent(new MessageEvent('message', { data: this.#queue.shift() }));
      }
    }, 0);
  }
}

export class MessageChannel {
  readonly port1: MessagePort;
  readonly port2: MessagePort;
  constructor() {
    [this.port1, this.port2] = MessagePort.pair();
  }
}

addApiFunctionKeys(MessagePort, MessageChannel);

const broadcast = new Map<string, Set<BroadcastChannel>>();

export class BroadcastChannel extends EventTarget {
  readonly name: string;
  #closed = false;
  constructor(name: string) {
    super();
    this.name = String(name);
    let members = broadcast.get(this.name);
    if (!members) broadcast.set(this.name, (members = new Set()));
    members.add(this);
  }
  postMessage(message: unknown): void {
    if (this.#closed) throw new Error('BroadcastChannel is closed.');
    for (const member of broadcast.get(this.name) ?? []) {
      if (member === this) continue;
      const data = structuredClone(message);
      globalThis.setTimeout(() => {
        if (!member.#closed) member.dispatchEvent(new MessageEvent('message', { data }));
      }, 0);
    }
  }
  close(): void {
    this.#closed = true;
    broadcast.get(this.name)?.delete(this);
  }
  ref(): this {
    return this;
  }
  unref(): this {
    return this;
  }
}

export { MessageEvent };
