/**
 * node:zlib: browserify-zlib (Node's lib/zlib.js of the 0.x line over pako 1, the zlib port that
 * JSZip and browserify ship) for deflate, inflate, gzip, gunzip, raw and unzip in their sync,
 * callback and stream forms; its streams are readable-stream Transforms. Compression runs inside
 * the sandbox, on the function's own time and memory. Brotli (`brotliCompress*`) is served by the
 * host's node:zlib over the bridge (no maintained pure-JS Brotli encoder exists): bytes in, bytes
 * out, the output capped by the function's memory. So is Zstandard (`zstdCompress*`, Node 22.15 /
 * 23.8; undici's index loads `createZstdDecompress` at its top level), over the same host call.
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
import { invalidArgType } from './node-errors.ts';
import { stream } from './stream.ts';

type Bytes = Uint8Array | ArrayBuffer | string;
type Callback = (error: Error | null, result?: Buffer) => void;
interface BrotliOptions {
  readonly params?: Readonly<Record<number, number | boolean>>;
  readonly maxOutputLength?: number;
  /** Zstandard: the input's size, written in the frame header (Node's zstdCompressSync pledges it by itself). */
  readonly pledgedSrcSize?: number;
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
// Node 22.15 / 23.8's Zstandard constants (zlib.constants.ZSTD_*, Node 24's values).
Object.assign(constants, {
  ZSTD_DECOMPRESS: 11, ZSTD_COMPRESS: 10, ZSTD_e_continue: 0, ZSTD_e_flush: 1, ZSTD_e_end: 2, ZSTD_fast: 1, ZSTD_dfast: 2, ZSTD_greedy: 3,
  ZSTD_lazy: 4, ZSTD_lazy2: 5, ZSTD_btlazy2: 6, ZSTD_btopt: 7, ZSTD_btultra: 8, ZSTD_btultra2: 9, ZSTD_c_compressionLevel: 100,
  ZSTD_c_windowLog: 101, ZSTD_c_hashLog: 102, ZSTD_c_chainLog: 103, ZSTD_c_searchLog: 104, ZSTD_c_minMatch: 105, ZSTD_c_targetLength: 106,
  ZSTD_c_strategy: 107, ZSTD_c_enableLongDistanceMatching: 160, ZSTD_c_ldmHashLog: 161, ZSTD_c_ldmMinMatch: 162, ZSTD_c_ldmBucketSizeLog: 163,
  ZSTD_c_ldmHashRateLog: 164, ZSTD_c_contentSizeFlag: 200, ZSTD_c_checksumFlag: 201, ZSTD_c_dictIDFlag: 202, ZSTD_c_nbWorkers: 400,
  ZSTD_c_jobSize: 401, ZSTD_c_overlapLog: 402, ZSTD_d_windowLogMax: 100, ZSTD_CLEVEL_DEFAULT: 3, ZSTD_error_no_error: 0, ZSTD_error_GENERIC: 1,
  ZSTD_error_prefix_unknown: 10, ZSTD_error_version_unsupported: 12, ZSTD_error_frameParameter_unsupported: 14,
  ZSTD_error_frameParameter_windowTooLarge: 16, ZSTD_error_corruption_detected: 20, ZSTD_error_checksum_wrong: 22,
  ZSTD_error_literals_headerWrong: 24, ZSTD_error_dictionary_corrupted: 30, ZSTD_error_dictionary_wrong: 32,
  ZSTD_error_dictionaryCreation_failed: 34, ZSTD_error_parameter_unsupported: 40, ZSTD_error_parameter_combination_unsupported: 41,
  ZSTD_error_parameter_outOfBound: 42, ZSTD_error_tableLog_tooLarge: 44, ZSTD_error_maxSymbolValue_tooLarge: 46,
  ZSTD_error_maxSymbolValue_tooSmall: 48, ZSTD_error_stabilityCondition_notRespected: 50, ZSTD_error_stage_wrong: 60, ZSTD_error_init_missing: 62,
  ZSTD_error_memory_allocation: 64, ZSTD_error_workSpace_tooSmall: 66, ZSTD_error_dstSize_tooSmall: 70, ZSTD_error_srcSize_wrong: 72,
  ZSTD_error_dstBuffer_null: 74, ZSTD_error_noForwardProgress_destFull: 80, ZSTD_error_noForwardProgress_inputEmpty: 82,
});

function toBytes(input: Bytes): Uint8Array {
  if (typeof input === 'string') return Buffer.from(input);
  if (input instanceof ArrayBuffer) return new Uint8Array(input);
  if (ArrayBuffer.isView(input)) return new Uint8Array(input.buffer, input.byteOffset, input.byteLength);
  throw nodeError(TypeError, 'ERR_INVALID_ARG_TYPE', 'The "buffer" argument must be of type string or an instance of Buffer, TypedArray, DataView, or ArrayBuffer.');
}

/**
 * browserify-zlib's one-shot functions take a string or a Buffer only ("Not a string or buffer");
 * Node's any TypedArray, DataView or ArrayBuffer too (pdfkit deflates Uint8Arrays). The same
 * bytes as a Buffer (no copy), or Node 24's TypeError: the sync forms name the "buffer" argument,
 * the callback forms the "chunk" (their message omits ArrayBuffer, which they take all the same).
 */
function zlibInput(input: unknown, callback: boolean): unknown {
  if (typeof input === 'string' || Buffer.isBuffer(input)) return input;
  if (ArrayBuffer.isView(input)) return Buffer.from(input.buffer, input.byteOffset, input.byteLength);
  if (input instanceof ArrayBuffer) return Buffer.from(input);
  throw callback
    ? invalidArgType('chunk', 'of type string or an instance of Buffer, TypedArray, or DataView', input)
    : invalidArgType('buffer', 'of type string or an instance of Buffer, TypedArray, DataView, or ArrayBuffer', input);
}

const oneShot: Record<string, unknown> = {};
for (const name of ['deflate', 'inflate', 'deflateRaw', 'inflateRaw', 'gzip', 'gunzip', 'unzip']) {
  const sync = base[`${name}Sync`] as (input: unknown, options?: unknown) => unknown;
  const async = base[name] as (input: unknown, ...rest: unknown[]) => unknown;
  // Named as Node 24's (lib/zlib.js createConvenienceMethod); the bundle's minifier drops declared names.
  const named = (fn: (...args: never[]) => unknown, wrapper: string): unknown => Object.defineProperty(fn, 'name', { value: wrapper });
  oneShot[`${name}Sync`] = named((input: unknown, options?: unknown) => sync(zlibInput(input, false), options), 'syncBufferWrapper');
  oneShot[name] = named((input: unknown, ...rest: unknown[]) => async(zlibInput(input, true), ...rest), 'asyncBufferWrapper');
}

/** The host call's modes: Brotli's `compress` / `decompress`, and Zstandard's. */
type Mode = 'compress' | 'decompress' | 'zstdCompress' | 'zstdDecompress';

function brotliSync(mode: Mode, input: Bytes, options?: BrotliOptions): Buffer {
  const params: Record<string, number | boolean> = {};
  for (const [key, value] of Object.entries(options?.params ?? {})) params[key] = value;
  const bytes = toBytes(input);
  const pledged = mode === 'zstdCompress' ? (options?.pledgedSrcSize ?? null) : null;
  const answer = hostCall('zlib.brotli', [mode, params, options?.maxOutputLength ?? null, pledged], bytes);
  const out = answer.payload ?? new Uint8Array(0);
  return Buffer.from(out.buffer, out.byteOffset, out.byteLength);
}

function brotliCallback(mode: Mode) {
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
function brotliStream(mode: Mode, options?: BrotliOptions): InstanceType<typeof stream.Transform> {
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

type NodeTransform = InstanceType<typeof stream.Transform>;
type WebTransform = { readonly readable: unknown; readonly writable: unknown };

/** The Compression Streams formats Node 24 takes, and the node:zlib streams behind each (compress, decompress). */
const WEB_FORMATS: Readonly<Record<string, readonly [() => NodeTransform, () => NodeTransform]>> = {
  gzip: [() => (base.createGzip as () => NodeTransform)(), () => (base.createGunzip as () => NodeTransform)()],
  deflate: [() => (base.createDeflate as () => NodeTransform)(), () => (base.createInflate as () => NodeTransform)()],
  'deflate-raw': [() => (base.createDeflateRaw as () => NodeTransform)(), () => (base.createInflateRaw as () => NodeTransform)()],
  brotli: [() => brotliStream('compress'), () => brotliStream('decompress')],
};

/**
 * The web TransformStream of a CompressionStream or DecompressionStream (Node's globals since 18;
 * issue #12: a ReferenceError on every engine): each chunk written to the node:zlib stream of its
 * format, its output enqueued as it comes, the stream ended on close.
 */
function webZlibStream(kind: 'CompressionStream' | 'DecompressionStream', format: unknown): WebTransform {
  const pair = typeof format === 'string' && Object.hasOwn(WEB_FORMATS, format) ? WEB_FORMATS[format] : undefined;
  if (pair === undefined) {
    throw nodeError(TypeError, 'ERR_INVALID_ARG_VALUE', `Failed to construct '${kind}': 1st argument '${String(format)}' is not a valid enum value of type CompressionFormat.`);
  }
  const z = pair[kind === 'CompressionStream' ? 0 : 1]();
  const { TransformStream } = globalThis as unknown as { TransformStream: new (transformer: object) => WebTransform };
  return new TransformStream({
    start(controller: { enqueue(chunk: Uint8Array): void; error(error: unknown): void }) {
      z.on('data', (chunk: Uint8Array) => controller.enqueue(new Uint8Array(chunk)));
      z.on('error', (error: unknown) => controller.error(error));
    },
    transform(chunk: Bytes) {
      return new Promise<void>((resolve, reject) => {
        z.write(toBytes(chunk), (error?: Error | null) => (error ? reject(error) : resolve()));
      });
    },
    flush() {
      return new Promise<void>((resolve, reject) => {
        z.once('end', () => resolve());
        z.once('error', reject);
        z.end();
      });
    },
  });
}

export class CompressionStream {
  readonly readable: unknown;
  readonly writable: unknown;
  constructor(format: unknown) {
    ({ readable: this.readable, writable: this.writable } = webZlibStream('CompressionStream', format));
  }
}

export class DecompressionStream {
  readonly readable: unknown;
  readonly writable: unknown;
  constructor(format: unknown) {
    ({ readable: this.readable, writable: this.writable } = webZlibStream('DecompressionStream', format));
  }
}

export const zlib: Record<string, unknown> = {
  ...base,
  ...oneShot,
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
  // Node's zstdCompressSync writes the content size in the frame header (zstdCompress and the
  // stream do not): the same bytes as Node's.
  zstdCompressSync: (input: Bytes, options?: BrotliOptions) => brotliSync('zstdCompress', input, { pledgedSrcSize: toBytes(input).byteLength, ...options }),
  zstdDecompressSync: (input: Bytes, options?: BrotliOptions) => brotliSync('zstdDecompress', input, options),
  zstdCompress: brotliCallback('zstdCompress'),
  zstdDecompress: brotliCallback('zstdDecompress'),
  ZstdCompress: function ZstdCompress(options?: BrotliOptions) {
    return brotliStream('zstdCompress', options);
  },
  ZstdDecompress: function ZstdDecompress(options?: BrotliOptions) {
    return brotliStream('zstdDecompress', options);
  },
  createZstdCompress: (options?: BrotliOptions) => brotliStream('zstdCompress', options),
  createZstdDecompress: (options?: BrotliOptions) => brotliStream('zstdDecompress', options),
  crc32,
};
