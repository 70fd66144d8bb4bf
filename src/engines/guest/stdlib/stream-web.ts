/**
 * node:stream's Web-stream adapters (Readable/Writable.toWeb and fromWeb, Duplex.toWeb and fromWeb),
 * after Node's lib/internal/webstreams/adapters.js: readable-stream 4 declares them over an empty
 * adapter table (every call was a TypeError). The Web streams are the sandbox's globals
 * (web-streams-polyfill, streams.ts), read when an adapter is made. S3's
 * `Body.transformToWebStream()` is Readable.toWeb.
 */
import type { QueuingStrategy, ReadableStream, ReadableStreamDefaultController, UnderlyingSink, UnderlyingSource, WritableStream, WritableStreamDefaultController, WritableStreamDefaultWriter } from 'node:stream/web';
import { invalidArgType } from './node-errors.ts';

type Chunk = unknown;
interface NodeReadable {
  readonly _readableState?: unknown;
  readonly readableObjectMode: boolean;
  readonly readableHighWaterMark: number;
  readonly destroyed: boolean;
  readonly readable: boolean;
  pause(): unknown;
  resume(): unknown;
  on(event: string, fn: (...args: never[]) => void): unknown;
  off(event: string, fn: (...args: never[]) => void): unknown;
  destroy(error?: unknown): unknown;
  push(chunk: Chunk): boolean;
}
interface NodeWritable {
  readonly _writableState?: unknown;
  readonly writableObjectMode: boolean;
  readonly writableHighWaterMark: number;
  readonly writableNeedDrain: boolean;
  readonly writableEnded: boolean;
  write(chunk: Chunk): boolean;
  end(): unknown;
  on(event: string, fn: (...args: never[]) => void): unknown;
  destroy(error?: unknown): unknown;
}
type Finished = (stream: unknown, callback: (error?: unknown) => void) => () => void;
type StreamCtor<T> = new (options: Record<string, unknown>) => T;
interface Modules {
  Readable: StreamCtor<NodeReadable>;
  Writable: StreamCtor<NodeWritable>;
  Duplex: StreamCtor<NodeReadable & NodeWritable>;
  finished: Finished;
}
interface Deferred {
  promise: Promise<void>;
  resolve(): void;
  reject(error: unknown): void;
}

const web = globalThis as unknown as {
  ReadableStream: new (source: UnderlyingSource<Chunk>, strategy?: QueuingStrategy<Chunk>) => ReadableStream<Chunk>;
  WritableStream: new (sink: UnderlyingSink<Chunk>, strategy?: QueuingStrategy<Chunk>) => WritableStream<Chunk>;
  CountQueuingStrategy: new (init: { highWaterMark: number }) => QueuingStrategy<Chunk>;
};

function deferred(): Deferred {
  let resolve!: () => void;
  let reject!: (error: unknown) => void;
  const promise = new Promise<void>((res, rej) => {
    resolve = res;
    reject = rej;
  });
  return { promise, resolve, reject };
}

/** Calls a stream's callback; an exception it throws is uncaught, as Node's adapters rethrow it on the next tick. */
function settle(callback: (error?: unknown) => void, error?: unknown): void {
  try {
    callback(error);
  } catch (thrown) {
    globalThis.process.nextTick(() => {
      throw thrown;
    });
  }
}

/** Readable.toWeb: a ReadableStream pulling from a paused Node Readable, its queue sized by the Readable's highWaterMark. */
function readableToWeb(m: Modules, readable: NodeReadable, options?: { strategy?: QueuingStrategy<Chunk> }): ReadableStream<Chunk> {
  if (typeof readable?._readableState !== 'object') throw invalidArgType('streamReadable', 'an stream.Readable', readable);
  if (readable.destroyed || !readable.readable) {
    const stream = new web.ReadableStream({});
    void stream.cancel();
    return stream;
  }
  const objectMode = readable.readableObjectMode;
  const highWaterMark = readable.readableHighWaterMark;
  const strategy = options?.strategy ?? (objectMode ? new web.CountQueuingStrategy({ highWaterMark }) : { highWaterMark, size: (chunk: Chunk) => (chunk as { byteLength?: number; length?: number }).byteLength ?? (chunk as { length: number }).length });
  let controller!: ReadableStreamDefaultController<Chunk>;
  let closed = false;
  const onData = (chunk: Chunk): void => {
    controller.enqueue(chunk); // Node 24 enqueues the Buffer itself (a Uint8Array)
    if ((controller.desiredSize ?? 0) <= 0) readable.pause();
  };
  readable.pause();
  const cleanup = m.finished(readable, (error) => {
    cleanup();
    readable.on('error', () => {}); // a legacy stream's late second 'error' is not uncaught
    if (closed) return;
    closed = true;
    if (error) controller.error(error);
    else controller.close();
  });
  readable.on('data', onData);
  return new web.ReadableStream(
    {
      start(c) {
        controller = c;
      },
      pull() {
        readable.resume();
      },
      cancel(reason) {
        closed = true;
        readable.destroy(reason);
      },
    },
    strategy,
  );
}

/** Readable.fromWeb: a Node Readable reading the stream's reader. */
function readableFromWeb(m: Modules, stream: ReadableStream<Chunk>, options: Record<string, unknown> = {}): NodeReadable {
  if (typeof (stream as { getReader?: unknown })?.getReader !== 'function') throw invalidArgType('readableStream', 'an instance of ReadableStream', stream);
  const { highWaterMark, encoding, objectMode = false, signal } = options;
  const reader = stream.getReader();
  let closed = false;
  const readable: NodeReadable = new m.Readable({
    objectMode, highWaterMark, encoding, signal,
    read() {
      reader.read().then((chunk) => readable.push(chunk.done ? null : chunk.value), (error: unknown) => readable.destroy(error));
    },
    destroy(error: unknown, callback: (error?: unknown) => void) {
      if (closed) settle(callback, error);
      else reader.cancel(error).then(() => settle(callback, error), () => settle(callback, error));
    },
  });
  reader.closed.then(() => void (closed = true), (error: unknown) => {
    closed = true;
    readable.destroy(error);
  });
  return readable;
}

/** Writable.toWeb: a WritableStream writing to a Node Writable, waiting for 'drain' under backpressure. */
function writableToWeb(m: Modules, writable: NodeWritable): WritableStream<Chunk> {
  if (typeof writable?._writableState !== 'object') throw invalidArgType('streamWritable', 'an stream.Writable', writable);
  const highWaterMark = writable.writableHighWaterMark;
  const strategy = writable.writableObjectMode ? new web.CountQueuingStrategy({ highWaterMark }) : { highWaterMark };
  let controller!: WritableStreamDefaultController;
  let backpressure: Deferred | undefined;
  let closed: Deferred | undefined;
  writable.on('drain', () => backpressure?.resolve());
  const cleanup = m.finished(writable, (error) => {
    cleanup();
    writable.on('error', () => {});
    if (error) {
      backpressure?.reject(error);
      closed?.reject(error);
      controller.error(error);
      return;
    }
    closed?.resolve();
  });
  return new web.WritableStream(
    {
      start(c) {
        controller = c;
      },
      write(chunk) {
        if (writable.writableNeedDrain || !writable.write(chunk)) {
          backpressure = deferred();
          return backpressure.promise.finally(() => void (backpressure = undefined));
        }
        return undefined;
      },
      abort(reason) {
        writable.destroy(reason);
      },
      close() {
        if (closed === undefined && !writable.writableEnded) {
          closed = deferred();
          writable.end();
          return closed.promise;
        }
        return Promise.resolve();
      },
    },
    strategy,
  );
}

/** Node's write/final/destroy over a WritableStream's writer (Writable.fromWeb, Duplex.fromWeb). */
function writerMethods(writer: WritableStreamDefaultWriter<Chunk>, options: { decodeStrings?: unknown; objectMode?: unknown }, self: () => NodeWritable): Record<string, unknown> {
  let closed = false;
  writer.closed.then(() => void (closed = true), (error: unknown) => {
    closed = true;
    self().destroy(error);
  });
  return {
    write(chunk: Chunk, encoding: BufferEncoding, callback: (error?: unknown) => void) {
      let value = chunk;
      if (typeof chunk === 'string' && options.decodeStrings !== false && !options.objectMode) {
        const bytes = globalThis.Buffer.from(chunk, encoding);
        value = new Uint8Array(bytes.buffer, bytes.byteOffset, bytes.byteLength);
      }
      const done = (error?: unknown): void => {
        try {
          callback(error);
        } catch (thrown) {
          self().destroy(thrown);
        }
      };
      writer.ready.then(() => writer.write(value).then(() => done(), done), done);
    },
    final(callback: (error?: unknown) => void) {
      if (closed) settle(callback);
      else writer.close().then(() => settle(callback), (error: unknown) => settle(callback, error));
    },
    destroyWriter(error: unknown): Promise<unknown> | undefined {
      if (closed) return undefined;
      return error !== null && error !== undefined ? writer.abort(error) : writer.close();
    },
  };
}

/** Writable.fromWeb: a Node Writable writing to the stream's writer. */
function writableFromWeb(m: Modules, stream: WritableStream<Chunk>, options: Record<string, unknown> = {}): NodeWritable {
  if (typeof (stream as { getWriter?: unknown })?.getWriter !== 'function') throw invalidArgType('writableStream', 'an instance of WritableStream', stream);
  const { highWaterMark, decodeStrings = true, objectMode = false, signal } = options;
  const methods = writerMethods(stream.getWriter(), { decodeStrings, objectMode }, () => writable);
  const { destroyWriter, ...rest } = methods as { destroyWriter: (error: unknown) => Promise<unknown> | undefined };
  const writable: NodeWritable = new m.Writable({
    highWaterMark, decodeStrings, objectMode, signal, ...rest,
    destroy(error: unknown, callback: (error?: unknown) => void) {
      const pending = destroyWriter(error);
      if (pending) pending.then(() => settle(callback, error), () => settle(callback, error));
      else settle(callback, error);
    },
  });
  return writable;
}

/** Duplex.fromWeb: one Duplex over a { readable, writable } pair. */
function duplexFromWeb(m: Modules, pair: { readable?: ReadableStream<Chunk>; writable?: WritableStream<Chunk> }, options: Record<string, unknown> = {}): NodeReadable & NodeWritable {
  if (pair === null || typeof pair !== 'object') throw invalidArgType('pair', 'of type object', pair);
  const { readable: readableStream, writable: writableStream } = pair;
  if (typeof readableStream?.getReader !== 'function') throw invalidArgType('pair.readable', 'an instance of ReadableStream', readableStream);
  if (typeof writableStream?.getWriter !== 'function') throw invalidArgType('pair.writable', 'an instance of WritableStream', writableStream);
  const { allowHalfOpen = false, decodeStrings = true, encoding, highWaterMark, objectMode = false, signal } = options;
  const reader = readableStream.getReader();
  let readerClosed = false;
  const methods = writerMethods(writableStream.getWriter(), { decodeStrings, objectMode }, () => duplex);
  const { destroyWriter, ...rest } = methods as { destroyWriter: (error: unknown) => Promise<unknown> | undefined };
  const duplex: NodeReadable & NodeWritable = new m.Duplex({
    allowHalfOpen, decodeStrings, encoding, highWaterMark, objectMode, signal, ...rest,
    read() {
      reader.read().then((chunk) => duplex.push(chunk.done ? null : chunk.value), (error: unknown) => duplex.destroy(error));
    },
    destroy(error: unknown, callback: (error?: unknown) => void) {
      const pending = [destroyWriter(error), readerClosed ? undefined : reader.cancel(error)].filter((p) => p !== undefined);
      Promise.allSettled(pending).then(() => settle(callback, error), () => settle(callback, error));
    },
  });
  reader.closed.then(() => void (readerClosed = true), (error: unknown) => {
    readerClosed = true;
    duplex.destroy(error);
  });
  return duplex;
}

/** Puts the adapters on readable-stream's classes (their own stubs call an empty table). */
export function installWebAdapters(m: Modules): void {
  const { Readable, Writable, Duplex } = m as unknown as Record<string, Record<string, unknown>>;
  Readable!.toWeb = (readable: NodeReadable, options?: { strategy?: QueuingStrategy<Chunk> }) => readableToWeb(m, readable, options);
  Readable!.fromWeb = (stream: ReadableStream<Chunk>, options?: Record<string, unknown>) => readableFromWeb(m, stream, options);
  Writable!.toWeb = (writable: NodeWritable) => writableToWeb(m, writable);
  Writable!.fromWeb = (stream: WritableStream<Chunk>, options?: Record<string, unknown>) => writableFromWeb(m, stream, options);
  Duplex!.toWeb = (duplex: NodeReadable & NodeWritable) => ({ readable: readableToWeb(m, duplex), writable: writableToWeb(m, duplex) });
  Duplex!.fromWeb = (pair: { readable?: ReadableStream<Chunk>; writable?: WritableStream<Chunk> }, options?: Record<string, unknown>) => duplexFromWeb(m, pair, options);
}
