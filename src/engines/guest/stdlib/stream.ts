/**
 * node:stream, node:stream/promises and node:string_decoder: readable-stream 4 (the Node.js
 * project's own user-land copy of lib/stream.js and lib/internal/streams, kept in step with Node)
 * and string_decoder (Node's lib/string_decoder.js, same maintainers). The module object is
 * Node's legacy `Stream` constructor with Readable, Writable, ... attached, as `require('stream')`
 * is in Node, so `util.inherits(X, require('stream'))` works.
 */
// readable-stream's emitters are the `events` package's: errorMonitor must be installed first.
import './events.ts';
// readable-stream ships no types; its shape is Node's.
// eslint-disable-next-line @typescript-eslint/ban-ts-comment
// @ts-ignore
import StreamImpl from 'readable-stream/lib/stream.js';
// eslint-disable-next-line @typescript-eslint/ban-ts-comment
// @ts-ignore
import StringDecoderImpl from 'string_decoder';
import { installWebAdapters } from './stream-web.ts';

type StreamModule = typeof import('node:stream') & Record<string, unknown>;

export const stream = StreamImpl as unknown as StreamModule;
installWebAdapters(stream as unknown as Parameters<typeof installWebAdapters>[0]);
export const streamPromises = stream.promises;
/** node:string_decoder's exports. */
export const stringDecoderModule = StringDecoderImpl;

type Chunks = AsyncIterable<Uint8Array | string> | ReadableStream<Uint8Array | string>;

async function bytes(source: Chunks): Promise<Uint8Array> {
  const parts: Uint8Array[] = [];
  for await (const chunk of source as AsyncIterable<Uint8Array | string>) {
    parts.push(typeof chunk === 'string' ? globalThis.Buffer.from(chunk) : chunk);
  }
  return globalThis.Buffer.concat(parts);
}

/** node:stream/consumers: whole-stream readers for Node streams, Web streams and async iterables. */
export const streamConsumers = {
  buffer: async (source: Chunks) => globalThis.Buffer.from(await bytes(source)),
  arrayBuffer: async (source: Chunks) => {
    const all = await bytes(source);
    return all.buffer.slice(all.byteOffset, all.byteOffset + all.byteLength);
  },
  bytes,
  text: async (source: Chunks) => new TextDecoder().decode(await bytes(source)),
  json: async (source: Chunks): Promise<unknown> => JSON.parse(new TextDecoder().decode(await bytes(source))),
  blob: async (source: Chunks) => new Blob([await bytes(source)]),
};
