/**
 * node:zlib: browserify-zlib (Node's lib/zlib.js of the 0.x line over pako 1, the zlib port that
 * JSZip and browserify ship) for deflate, inflate, gzip, gunzip, raw and unzip in their sync,
 * callback and stream forms; its streams are readable-stream Transforms. Compression runs inside
 * the sandbox, on the function's own time and memory. Brotli (`brotliCompress*`) is served by the
 * host's node:zlib over the bridge (no maintained pure-JS Brotli encoder exists): bytes in, bytes
 * out, the output capped by the function's memory.
 */
// browserify-zlib ships no types; its shape is Node's.
// eslint-disable-next-line @typescript-eslint/ban-ts-comment
// @ts-ignore
import browserifyZlib from 'browserify-zlib';
// eslint-disable-next-line @typescript-eslint/ban-ts-comment
// @ts-ignore
import pakoCrc32 from 'pako/lib/zlib/crc32.js';
import { hostCall, nodeError } from '../bridge.ts';
import { Buffer } from './buffer.ts';
import { stream } from './stream.ts';

type Bytes = Uint8Array | ArrayBuffer | string;
type Callback = (error: Error | null, result?: Buffer) => void;
interface BrotliOptions {
  readonly params?: Readonly<Record<number, number | boolean>>;
  readonly maxOutputLength?: number;
}

const base = browserifyZlib as unknown as Record<string, unknown>;

/** Node's zlib.constants (the Z_* values browserify-zlib has, plus Node's Brotli ones). */
const constants: Record<string, number> = {};
for (const [key, value] of Object.entries(base)) if (/^Z_/.test(key) && typeof value === 'number') constants[key] = value;
Object.assign(constants, {
  DEFLATE: 1, INFLATE: 2, GZIP: 3, GUNZIP: 4, DEFLATERAW: 5, INFLATERAW: 6, UNZIP: 7, BROTLI_DECODE: 8, BROTLI_ENCODE: 9,
  Z_MIN_WINDOWBITS: 8, Z_MAX_WINDOWBITS: 15, Z_DEFAULT_WINDOWBITS: 15, Z_MIN_CHUNK: 64, Z_MAX_CHUNK: Infinity, Z_DEFAULT_CHUNK: 16384,
  Z_MIN_MEMLEVEL: 1, Z_MAX_MEMLEVEL: 9, Z_DEFAULT_MEMLEVEL: 8, Z_MIN_LEVEL: -1, Z_MAX_LEVEL: 9, Z_DEFAULT_LEVEL: -1,
  BROTLI_OPERATION_PROCESS: 0, BROTLI_OPERATION_FLUSH: 1, BROTLI_OPERATION_FINISH: 2, BROTLI_OPERATION_EMIT_METADATA: 3,
  BROTLI_PARAM_MODE: 0, BROTLI_MODE_GENERIC: 0, BROTLI_MODE_TEXT: 1, BROTLI_MODE_FONT: 2, BROTLI_DEFAULT_MODE: 0,
  BROTLI_PARAM_QUALITY: 1, BROTLI_MIN_QUALITY: 0, BROTLI_MAX_QUALITY: 11, BROTLI_DEFAULT_QUALITY: 11,
  BROTLI_PARAM_LGWIN: 2, BROTLI_MIN_WINDOW_BITS: 10, BROTLI_MAX_WINDOW_BITS: 24, BROTLI_LARGE_MAX_WINDOW_BITS: 30,
  BROTLI_DEFAULT_WINDOW: 22, BROTLI_PARAM_LGBLOCK: 3, BROTLI_MIN_INPUT_BLOCK_BITS: 16, BROTLI_MAX_INPUT_BLOCK_BITS: 24,
  BROTLI_PARAM_DISABLE_LITERAL_CONTEXT_MODELING: 4, BROTLI_PARAM_SIZE_HINT: 5, BROTLI_PARAM_LARGE_WINDOW: 6,
  BROTLI_PARAM_NPOSTFIX: 7, BROTLI_PARAM_NDIRECT: 8, BROTLI_DECODER_PARAM_DISABLE_RING_BUFFER_REALLOCATION: 0,
  BROTLI_DECODER_PARAM_LARGE_WINDOW: 1,
});

function toBytes(input: Bytes): Uint8Array {
  if (typeof input === 'string') return Buffer.from(input);
  if (input instanceof ArrayBuffer) return new Uint8Array(input);
  if (ArrayBuffer.isView(input)) return new Uint8Array(input.buffer, input.byteOffset, input.byteLength);
  throw nodeError(TypeError, 'ERR_INVALID_ARG_TYPE', 'The "buffer" argument must be of type string or an instance of Buffer, TypedArray, DataView, or ArrayBuffer.');
}

function brotliSync(mode: 'compress' | 'decompress', input: Bytes, options?: BrotliOptions): Buffer {
  const params: Record<string, number | boolean> = {};
  for (const [key, value] of Object.entries(options?.params ?? {})) params[key] = value;
  const answer = hostCall('zlib.brotli', [mode, params, options?.maxOutputLength ?? null], toBytes(input));
  const bytes = answer.payload ?? new Uint8Array(0);
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
}

function brotliCallback(mode: 'compress' | 'decompress') {
  return (input: Bytes, options: BrotliOptions | Callback | undefined, callback?: Callback): void => {
    const cb = (typeof options === 'function' ? options : callback)!;
    const opts = typeof options === 'function' ? undefined : options;
    let result: Buffer;
    try {
      result = brotliSync(mode, input, opts);
    } catch (error) {
      globalThis.process.nextTick(cb, error);
      return;
    }
    globalThis.process.nextTick(cb, null, result);
  };
}

/** Brotli streams: the input is gathered and (de)compressed at the end, in one host call. */
function brotliStream(mode: 'compress' | 'decompress', options?: BrotliOptions): InstanceType<typeof stream.Transform> {
  const chunks: Uint8Array[] = [];
  return new stream.Transform({
    transform(chunk: Uint8Array | string, _encoding, done) {
      chunks.push(toBytes(chunk));
      done();
    },
    flush(done) {
      try {
        done(null, brotliSync(mode, Buffer.concat(chunks), options));
      } catch (error) {
        done(error as Error);
      }
    },
  });
}

/** zlib.crc32 (Node 22): pako's table-driven CRC-32. */
function crc32(data: Bytes, value = 0): number {
  const bytes = toBytes(data);
  return (pakoCrc32 as (crc: number, buf: Uint8Array, len: number, pos: number) => number)(value, bytes, bytes.length, 0) >>> 0;
}

export const zlib: Record<string, unknown> = {
  ...base,
  constants: Object.freeze(constants),
  brotliCompressSync: (input: Bytes, options?: BrotliOptions) => brotliSync('compress', input, options),
  brotliDecompressSync: (input: Bytes, options?: BrotliOptions) => brotliSync('decompress', input, options),
  brotliCompress: brotliCallback('compress'),
  brotliDecompress: brotliCallback('decompress'),
  BrotliCompress: function BrotliCompress(options?: BrotliOptions) {
    return brotliStream('compress', options);
  },
  BrotliDecompress: function BrotliDecompress(options?: BrotliOptions) {
    return brotliStream('decompress', options);
  },
  createBrotliCompress: (options?: BrotliOptions) => brotliStream('compress', options),
  createBrotliDecompress: (options?: BrotliOptions) => brotliStream('decompress', options),
  crc32,
};
