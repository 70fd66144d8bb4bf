/**
 * node:readline and node:readline/promises for what a Lambda handler reads with them: lines of a
 * stream (a file in /tmp, an S3 object's body, a gunzip of it), through 'line' events or
 * `for await (const line of rl)`. A function's input is never a terminal, so this is Node's
 * non-terminal path (lib/internal/readline/interface.js with `terminal: false`): input decoded as
 * UTF-8 (a character split across chunks is kept whole), lines ended by \n, \r\n or \r (a \r\n split
 * across chunks is one end of line, Node's crlfDelay), the last unterminated line emitted at the
 * input's end, then 'close'. `question()` writes its query to `output` and answers with the next
 * line; the cursor helpers write ANSI escapes to the stream they are given. Not here: history, tab
 * completion and key handling (they need a TTY).
 */
import { nodeError } from '../bridge.ts';
import { events } from './events.ts';
import { invalidArgType } from './node-errors.ts';

type Emitter = InstanceType<typeof import('node:events').EventEmitter>;
const EventEmitter = events.EventEmitter as new () => Emitter;
interface InputStream extends Emitter {
  pause?(): unknown;
  resume?(): unknown;
  setEncoding?(encoding: string): unknown;
}
interface OutputStream {
  write(chunk: string, callback?: () => void): unknown;
}
interface InterfaceOptions {
  readonly input?: InputStream;
  readonly output?: OutputStream;
  readonly prompt?: string;
  readonly crlfDelay?: number;
  readonly terminal?: boolean;
  readonly signal?: AbortSignal;
}

/** Lines the async iterator holds before it pauses the input (Node: events.on's highWaterMark). */
const ITERATOR_HIGH_WATER_MARK = 1024;
const LINE_ENDING = /\r\n|\n|\r/g;

/** Node's readline.Interface, without a terminal. */
export class Interface extends EventEmitter {
  readonly terminal = false;
  line = '';
  cursor = 0;
  /** Set by close(); Node's interface has no such property before. */
  declare closed?: boolean;
  readonly input: InputStream | undefined;
  readonly output: OutputStream | undefined;
  #prompt: string;
  #buffer = '';
  #sawCarriageReturn = false;
  #paused = false;
  #question: ((answer: string) => void) | undefined;
  readonly #decoder = new TextDecoder('utf-8');
  readonly #onData = (chunk: unknown): void => this.#write(chunk);
  readonly #onEnd = (): void => {
    this.#write(undefined);
    if (this.#buffer.length > 0) this.#emitLine(this.#buffer);
    this.#buffer = '';
    this.close();
  };

  constructor(input?: InputStream | InterfaceOptions, output?: OutputStream, completer?: unknown, terminal?: boolean) {
    super();
    const options: InterfaceOptions = input !== undefined && !isStream(input) ? input : { input, output, terminal };
    void completer;
    if (options.input !== undefined && !isStream(options.input)) throw invalidArgType('input', 'an instance of Stream', options.input);
    this.input = options.input;
    this.output = options.output;
    this.#prompt = options.prompt ?? '> ';
    if (options.signal) {
      if (options.signal.aborted) queueMicrotask(() => this.close());
      else options.signal.addEventListener('abort', () => this.close(), { once: true });
    }
    if (this.input) {
      this.input.on('data', this.#onData);
      this.input.on('end', this.#onEnd);
      this.input.resume?.();
    }
  }

  getPrompt(): string {
    return this.#prompt;
  }

  setPrompt(prompt: string): void {
    this.#prompt = prompt;
  }

  prompt(): void {
    if (this.closed) throw nodeError(Error, 'ERR_USE_AFTER_CLOSE', 'readline was closed');
    if (this.#paused) this.resume();
    this.output?.write(this.#prompt);
  }

  question(query: string, options?: unknown, callback?: (answer: string) => void): void {
    const cb = typeof options === 'function' ? (options as (answer: string) => void) : callback;
    if (this.closed) throw nodeError(Error, 'ERR_USE_AFTER_CLOSE', 'readline was closed');
    if (typeof cb !== 'function') return;
    if (this.#question) {
      this.prompt();
      return;
    }
    this.#question = cb;
    this.output?.write(query);
    if (this.#paused) this.resume();
  }

  pause(): this {
    if (this.#paused) return this;
    this.input?.pause?.();
    this.#paused = true;
    this.emit('pause');
    return this;
  }

  resume(): this {
    if (!this.#paused) return this;
    this.input?.resume?.();
    this.#paused = false;
    this.emit('resume');
    return this;
  }

  /** Data as if it came from the input (Node: for a non-terminal interface, written to the line buffer). */
  write(data: unknown): void {
    if (this.closed) throw nodeError(Error, 'ERR_USE_AFTER_CLOSE', 'readline was closed');
    if (this.#paused) this.resume();
    this.#write(data);
  }

  close(): void {
    if (this.closed) return;
    this.pause();
    this.input?.removeListener('data', this.#onData);
    this.input?.removeListener('end', this.#onEnd);
    this.closed = true;
    this.emit('close');
  }

  getCursorPos(): { rows: number; cols: number } {
    return { rows: 0, cols: this.cursor };
  }

  [Symbol.asyncIterator](): AsyncIterableIterator<string> {
    const lines: string[] = [];
    const waiting: ((result: IteratorResult<string>) => void)[] = [];
    let done = this.closed;
    const onLine = (line: string): void => {
      const next = waiting.shift();
      if (next) return next({ value: line, done: false });
      lines.push(line);
      if (lines.length >= ITERATOR_HIGH_WATER_MARK) this.pause();
    };
    const finish = (): void => {
      done = true;
      this.removeListener('line', onLine);
      for (const next of waiting.splice(0)) next({ value: undefined, done: true });
    };
    this.on('line', onLine);
    this.once('close', finish);
    const iterator: AsyncIterableIterator<string> = {
      next: () => {
        const line = lines.shift();
        if (line !== undefined) {
          if (lines.length < ITERATOR_HIGH_WATER_MARK / 2 && !this.closed) this.resume();
          return Promise.resolve({ value: line, done: false });
        }
        if (done) return Promise.resolve({ value: undefined, done: true });
        return new Promise((resolve) => waiting.push(resolve));
      },
      return: () => {
        // Node closes the interface after the loop has left, not during its `break`.
        setImmediate(() => this.close());
        finish();
        return Promise.resolve({ value: undefined, done: true });
      },
      [Symbol.asyncIterator]: () => iterator,
    };
    return iterator;
  }

  [Symbol.dispose](): void {
    this.close();
  }

  /** Decodes `chunk` (undefined: the input ended) and emits each complete line. */
  #write(chunk: unknown): void {
    let text: string;
    if (chunk === undefined) text = this.#decoder.decode();
    else if (typeof chunk === 'string') text = chunk;
    else if (ArrayBuffer.isView(chunk)) text = this.#decoder.decode(new Uint8Array(chunk.buffer, chunk.byteOffset, chunk.byteLength), { stream: true });
    // eslint-disable-next-line @typescript-eslint/no-base-to-string -- Node's String(data) for anything else
    else text = String(chunk);
    if (text.length === 0) return;
    // A \r that ended the last chunk already ended its line: a \n first in this one is its pair.
    if (this.#sawCarriageReturn && text.startsWith('\n')) text = text.slice(1);
    this.#sawCarriageReturn = text.endsWith('\r');
    let start = 0;
    LINE_ENDING.lastIndex = 0;
    for (let match = LINE_ENDING.exec(text); match !== null; match = LINE_ENDING.exec(text)) {
      const line = this.#buffer + text.slice(start, match.index);
      this.#buffer = '';
      start = match.index + match[0].length;
      this.#emitLine(line);
      if (this.closed) return;
    }
    this.#buffer += text.slice(start);
  }

  #emitLine(line: string): void {
    const question = this.#question;
    if (question) {
      this.#question = undefined;
      question(line);
    } else {
      this.emit('line', line);
    }
  }
}

function isStream(value: unknown): value is InputStream {
  return typeof value === 'object' && value !== null && typeof (value as { on?: unknown }).on === 'function';
}

function createInterface(input?: InputStream | InterfaceOptions, output?: OutputStream, completer?: unknown, terminal?: boolean): Interface {
  return new Interface(input, output, completer, terminal);
}

/** The escape sequences Node writes (lib/internal/readline/callbacks.js); `callback` runs once written. */
function writeEscape(stream: OutputStream | undefined, data: string, callback?: () => void): boolean {
  if (stream === undefined || stream === null) {
    if (typeof callback === 'function') queueMicrotask(callback);
    return true;
  }
  return stream.write(data, callback) !== false;
}

function cursorTo(stream: OutputStream, x: number, y?: number | (() => void), callback?: () => void): boolean {
  const cb = typeof y === 'function' ? y : callback;
  const row = typeof y === 'number' ? y : undefined;
  if (typeof x !== 'number') return writeEscape(undefined, '', cb);
  return writeEscape(stream, row === undefined ? `\x1b[${x + 1}G` : `\x1b[${row + 1};${x + 1}H`, cb);
}

function moveCursor(stream: OutputStream, dx: number, dy: number, callback?: () => void): boolean {
  let data = '';
  if (dx < 0) data += `\x1b[${-dx}D`;
  else if (dx > 0) data += `\x1b[${dx}C`;
  if (dy < 0) data += `\x1b[${-dy}A`;
  else if (dy > 0) data += `\x1b[${dy}B`;
  return data === '' ? writeEscape(undefined, '', callback) : writeEscape(stream, data, callback);
}

function clearLine(stream: OutputStream, dir: number, callback?: () => void): boolean {
  return writeEscape(stream, dir < 0 ? '\x1b[1K' : dir > 0 ? '\x1b[0K' : '\x1b[2K', callback);
}

function clearScreenDown(stream: OutputStream, callback?: () => void): boolean {
  return writeEscape(stream, '\x1b[0J', callback);
}

/** node:readline/promises' Interface: question() answers with a promise. */
class PromisesInterface extends Interface {
  // eslint-disable-next-line @typescript-eslint/no-misused-promises -- Node's readline/promises Interface returns a promise here
  override question(query: string, options?: { signal?: AbortSignal }): Promise<string> & void {
    return new Promise<string>((resolve, reject) => {
      if (options?.signal?.aborted) {
        reject(nodeError(Error, 'ABORT_ERR', 'The operation was aborted'));
        return;
      }
      super.question(query, resolve);
    }) as Promise<string> & void;
  }
}

/** node:readline/promises' Readline: the cursor helpers, queued and written on commit(). */
class Readline {
  readonly #stream: OutputStream;
  #todo: string[] = [];
  constructor(stream: OutputStream) {
    this.#stream = stream;
  }
  cursorTo(x: number, y?: number): this {
    this.#todo.push(y === undefined ? `\x1b[${x + 1}G` : `\x1b[${y + 1};${x + 1}H`);
    return this;
  }
  moveCursor(dx: number, dy: number): this {
    if (dx < 0) this.#todo.push(`\x1b[${-dx}D`);
    else if (dx > 0) this.#todo.push(`\x1b[${dx}C`);
    if (dy < 0) this.#todo.push(`\x1b[${-dy}A`);
    else if (dy > 0) this.#todo.push(`\x1b[${dy}B`);
    return this;
  }
  clearLine(dir: number): this {
    this.#todo.push(dir < 0 ? '\x1b[1K' : dir > 0 ? '\x1b[0K' : '\x1b[2K');
    return this;
  }
  clearScreenDown(): this {
    this.#todo.push('\x1b[0J');
    return this;
  }
  commit(): Promise<void> {
    const data = this.#todo.join('');
    this.#todo = [];
    return new Promise((resolve) => this.#stream.write(data, resolve));
  }
  rollback(): this {
    this.#todo = [];
    return this;
  }
}

export const readlinePromises = {
  Interface: PromisesInterface,
  Readline,
  createInterface: (input?: InputStream | InterfaceOptions, output?: OutputStream, completer?: unknown, terminal?: boolean): PromisesInterface =>
    new PromisesInterface(input, output, completer, terminal),
};

export const readline = {
  Interface,
  clearLine,
  clearScreenDown,
  createInterface,
  cursorTo,
  /** No key events without a terminal. */
  emitKeypressEvents: (stream: unknown, iface?: unknown): void => {
    void stream;
    void iface;
  },
  moveCursor,
  promises: readlinePromises,
};
