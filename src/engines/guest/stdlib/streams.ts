/**
 * ReadableStream / WritableStream / TransformStream: web-streams-polyfill's ponyfill (the reference
 * implementation, packaged), and the encoding streams Node has had as globals since 18
 * (TextEncoderStream, TextDecoderStream), which it lacks: `response.body.pipeThrough(new
 * TextDecoderStream())`, the usual way to read a streamed fetch response as text, was a
 * ReferenceError on every engine (issue #12).
 */
import * as ponyfill from 'web-streams-polyfill';

type DecoderOptions = { fatal?: boolean; ignoreBOM?: boolean };
type Bytes = NonNullable<Parameters<InstanceType<typeof TextDecoder>['decode']>[0]>;

/** The WHATWG Encoding standard's TextDecoderStream: a TextDecoder in streaming mode between two streams. */
class TextDecoderStream {
  readonly readable: ponyfill.ReadableStream<string>;
  readonly writable: ponyfill.WritableStream<Bytes>;
  readonly #decoder: InstanceType<typeof TextDecoder>;

  constructor(label: string = 'utf-8', options: DecoderOptions = {}) {
    const decoder = new TextDecoder(label, options);
    this.#decoder = decoder;
    const transform = new ponyfill.TransformStream<Bytes, string>({
      transform(chunk, controller) {
        const text = decoder.decode(chunk, { stream: true });
        if (text !== '') controller.enqueue(text);
      },
      flush(controller) {
        const text = decoder.decode();
        if (text !== '') controller.enqueue(text);
      },
    });
    this.readable = transform.readable;
    this.writable = transform.writable;
  }

  get encoding(): string {
    return this.#decoder.encoding;
  }

  get fatal(): boolean {
    return this.#decoder.fatal;
  }

  get ignoreBOM(): boolean {
    return this.#decoder.ignoreBOM;
  }
}

/**
 * The WHATWG Encoding standard's TextEncoderStream: strings in, UTF-8 bytes out. A high surrogate
 * that ends a chunk waits for the next one (the standard's "pending high surrogate"); one left at the
 * end becomes U+FFFD.
 */
class TextEncoderStream {
  readonly readable: ponyfill.ReadableStream<Uint8Array>;
  readonly writable: ponyfill.WritableStream<string>;

  constructor() {
    const encoder = new TextEncoder();
    let pending = '';
    const transform = new ponyfill.TransformStream<string, Uint8Array>({
      transform(chunk, controller) {
        let text = pending + String(chunk);
        pending = '';
        const last = text.charCodeAt(text.length - 1);
        if (last >= 0xd800 && last <= 0xdbff) {
          pending = text.slice(-1);
          text = text.slice(0, -1);
        }
        if (text !== '') controller.enqueue(encoder.encode(text));
      },
      flush(controller) {
        if (pending !== '') controller.enqueue(encoder.encode('\uFFFD'));
      },
    });
    this.readable = transform.readable;
    this.writable = transform.writable;
  }

  get encoding(): string {
    return 'utf-8';
  }
}

export const streams = { ...ponyfill, TextDecoderStream, TextEncoderStream };
