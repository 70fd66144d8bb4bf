/**
 * The imports one component instance gets: its WASI 0.2 capabilities and lambdalet's logging.
 * Built from preview2-shim's browser implementations, which are plain JavaScript with per-instance
 * factories (`createCli`, `createFilesystem`) and never touch the host: its Node build would give
 * the guest the host's file system and stdio, so it is never loaded. What this grants:
 * - wasi:cli: the function's environment variables, no arguments, cwd `/tmp`, stdin at EOF,
 *   stdout/stderr line-buffered into the function's log (INFO / ERROR);
 * - wasi:filesystem: one preopen, `/tmp`, served by the environment's vfs (vfs-filesystem.ts);
 * - wasi:clocks, wasi:random: the host's clocks and crypto.getRandomValues (a list no longer than
 *   the instance's memory cap; the insecure seed per instance: instanceRandom);
 * - nothing else (no sockets, no HTTP): a component importing more is refused at deploy.
 */
// Through the namespace: a named import of findPackageJSON (Node 22.14) fails to link on Node 20,
// before the entry's Node version check can say why (node-version-guard.ts).
import * as nodeModule from 'node:module';
import { dirname, join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { vfsAdapter, type StreamFactory } from './vfs-filesystem.ts';

type HostCall = (op: string, args: string) => string;
type Log = (level: string, message: string) => void;

/** WASI interfaces a component may import (any 0.2.x version): the ones served here. */
export const PROVIDED_IMPORTS: readonly string[] = [
  'lambdalet:function/logging',
  'wasi:cli/environment',
  'wasi:cli/exit',
  'wasi:cli/stdin',
  'wasi:cli/stdout',
  'wasi:cli/stderr',
  'wasi:cli/terminal-input',
  'wasi:cli/terminal-output',
  'wasi:cli/terminal-stdin',
  'wasi:cli/terminal-stdout',
  'wasi:cli/terminal-stderr',
  'wasi:clocks/monotonic-clock',
  'wasi:clocks/wall-clock',
  'wasi:filesystem/preopens',
  'wasi:filesystem/types',
  'wasi:io/error',
  'wasi:io/poll',
  'wasi:io/streams',
  'wasi:random/random',
  'wasi:random/insecure',
  'wasi:random/insecure-seed',
];

export interface BrowserShim {
  readonly io: StreamFactory & { readonly error: object; readonly streams: object; readonly poll: object };
  readonly cli: { createCli(config: object): Record<string, object> };
  readonly clocks: { readonly monotonicClock: object; readonly wallClock: object };
  readonly random: { readonly random: object; readonly insecure: object; readonly insecureSeed: object };
  readonly filesystem: {
    createFilesystem(config: { adapter: object; preopens: Record<string, string> }): { types: object; preopens: object };
  };
}

let shim: Promise<BrowserShim> | undefined;

/** preview2-shim's browser modules (package exports give Node its Node build, so by file URL). */
export function loadShim(): Promise<BrowserShim> {
  shim ??= (async () => {
    const packageJson = nodeModule.findPackageJSON('@bytecodealliance/preview2-shim', import.meta.url);
    if (packageJson === undefined) throw new Error('@bytecodealliance/preview2-shim is not installed');
    const load = (name: string): Promise<unknown> => import(pathToFileURL(join(dirname(packageJson), 'dist', 'browser', `${name}.js`)).href);
    const [io, cli, clocks, random, filesystem] = await Promise.all(['io', 'cli', 'clocks', 'random', 'filesystem'].map(load));
    return { io, cli, clocks, random, filesystem } as BrowserShim;
  })();
  return shim;
}

/**
 * The longest line kept whole: the log collector cuts a line at 256 Ki characters and marks it
 * truncated (environment/log-collector.ts MAX_LINE_CHARS, CloudWatch's 256 KB per event).
 */
export const LINE_MAX_CHARS = 256 * 1024;

/**
 * A stdout/stderr stream: complete lines go to the log; `flush()` emits a partial last line. Each
 * write is searched for newlines once, and a line is held only up to one character past
 * LINE_MAX_CHARS: it is emitted then (the collector cuts it) and the rest of it is dropped. Before,
 * the whole unfinished line was kept and searched again on every write: a component writing
 * 1.5 GB to stdout without a newline grew its engine server by 470 MB and ran into its 60 s
 * timeout in the host's search (issue #15).
 */
export class LineSink {
  readonly #decoder = new TextDecoder();
  readonly #emit: (line: string) => void;
  #pending = '';
  /** The current line went past LINE_MAX_CHARS and was emitted: drop the rest of it. */
  #cut = false;

  constructor(emit: (line: string) => void) {
    this.#emit = emit;
  }

  write(bytes: Uint8Array): void {
    const text = this.#decoder.decode(bytes, { stream: true });
    for (let from = 0; ; ) {
      const at = text.indexOf('\n', from);
      this.#append(at < 0 ? text.slice(from) : text.slice(from, at));
      if (at < 0) return;
      this.#endLine();
      from = at + 1;
    }
  }

  flush(): void {
    this.#append(this.#decoder.decode());
    if (!this.#cut && this.#pending !== '') this.#emit(this.#pending);
    this.#pending = '';
    this.#cut = false;
  }

  #append(part: string): void {
    if (this.#cut || part === '') return;
    this.#pending += part;
    if (this.#pending.length > LINE_MAX_CHARS) {
      this.#emit(this.#pending.slice(0, LINE_MAX_CHARS + 1));
      this.#pending = '';
      this.#cut = true;
    }
  }

  #endLine(): void {
    const line = this.#pending;
    this.#pending = '';
    if (this.#cut) {
      this.#cut = false;
      return;
    }
    this.#emit(line.endsWith('\r') ? line.slice(0, -1) : line);
  }

  /** As a preview2-shim output-stream handler. */
  handler(): object {
    return {
      write: (bytes: Uint8Array) => this.write(bytes),
      flush: () => {},
      blockingFlush: () => {},
      drop: () => this.flush(),
    };
  }
}

export interface ComponentImports {
  readonly imports: Record<string, object>;
  readonly stdout: LineSink;
  readonly stderr: LineSink;
}

interface RandomShim {
  getRandomBytes(len: bigint): Uint8Array;
  getRandomU64(): bigint;
}

/**
 * wasi:random for one instance. The shim makes the whole list on the host before jco lowers it into
 * the guest's memory, so a length is refused past what that memory could hold (`maxBytes`, the
 * instance's memory cap) before anything is allocated: a 128 MB component asking get-random-bytes
 * for 4 GiB had the engine server allocate and fill 4 GiB (host RSS 326 -> 4,624 MB, 7.8 s of a
 * server's CPU) only for the copy to fail (issue #15). The insecure seed is drawn per instance:
 * the shim's is one per worker thread, so instances of other functions in the same server saw it.
 */
export function instanceRandom(shim: BrowserShim, maxBytes: number): { random: object; insecure: object; insecureSeed: object } {
  const source = shim.random.random as RandomShim;
  const bytes = (len: bigint, what: string): Uint8Array => {
    if (typeof len === 'bigint' && len > BigInt(maxBytes)) {
      throw new RangeError(`${what}: ${len} bytes asked for, more than the function's memory (${maxBytes} bytes) can hold`);
    }
    return source.getRandomBytes(len);
  };
  let seed: [bigint, bigint] | undefined;
  return {
    random: { getRandomBytes: (len: bigint) => bytes(len, 'wasi:random/random get-random-bytes'), getRandomU64: () => source.getRandomU64() },
    insecure: {
      getInsecureRandomBytes: (len: bigint) => bytes(len, 'wasi:random/insecure get-insecure-random-bytes'),
      getInsecureRandomU64: () => source.getRandomU64(),
    },
    insecureSeed: { insecureSeed: () => (seed ??= [source.getRandomU64(), source.getRandomU64()]) },
  };
}

/**
 * The imports for one instance; `env` is the function's environment (user + Lambda's reserved),
 * `maxListBytes` the instance's memory cap (no list the host makes for it may be larger).
 */
export function componentImports(shim: BrowserShim, env: Readonly<Record<string, string>>, call: HostCall, log: Log, maxListBytes: number): ComponentImports {
  const random = instanceRandom(shim, maxListBytes);
  const stdout = new LineSink((line) => log('INFO', line));
  const stderr = new LineSink((line) => log('ERROR', line));
  const cli = shim.cli.createCli({
    stdout: stdout.handler(),
    stderr: stderr.handler(),
    environment: env,
    arguments: [],
    initialCwd: '/tmp',
  });
  const fs = shim.filesystem.createFilesystem({ adapter: vfsAdapter(call, shim.io), preopens: { '/tmp': '/tmp' } });
  const imports: Record<string, object> = {
    'lambdalet:function/logging': {
      log: (level: string, message: string) => log(level.toUpperCase(), message),
    },
    'wasi:cli/environment': cli.environment!,
    'wasi:cli/exit': cli.exit!,
    'wasi:cli/stdin': cli.stdin!,
    'wasi:cli/stdout': cli.stdout!,
    'wasi:cli/stderr': cli.stderr!,
    'wasi:cli/terminal-input': cli.terminalInput!,
    'wasi:cli/terminal-output': cli.terminalOutput!,
    'wasi:cli/terminal-stdin': cli.terminalStdin!,
    'wasi:cli/terminal-stdout': cli.terminalStdout!,
    'wasi:cli/terminal-stderr': cli.terminalStderr!,
    'wasi:clocks/monotonic-clock': shim.clocks.monotonicClock,
    'wasi:clocks/wall-clock': shim.clocks.wallClock,
    'wasi:filesystem/preopens': fs.preopens,
    'wasi:filesystem/types': fs.types,
    'wasi:io/error': shim.io.error,
    'wasi:io/poll': shim.io.poll,
    'wasi:io/streams': shim.io.streams,
    'wasi:random/random': random.random,
    'wasi:random/insecure': random.insecure,
    'wasi:random/insecure-seed': random.insecureSeed,
  };
  return { imports, stdout, stderr };
}
