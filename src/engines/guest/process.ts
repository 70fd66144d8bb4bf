/**
 * The sandbox's `process`: what Node's process object reads as on Lambda. Versions are those of
 * a real release of the emulated runtime's Node line (`node -p process.versions` of Node
 * 22.23.5 and 24.22.3, linux-x64), chosen at INIT from the function's runtime. stdout and stderr
 * are Writable streams (readable-stream, loaded on first use) whose writes are lines of the
 * function's log as Lambda records them: raw, without the console's timestamp and level.
 * `env` coerces values to strings as Node's does, and tells the Date module when TZ changes.
 */
import { host, inFrame } from './bridge.ts';
import { stdlib } from './stdlib-loader.ts';

const NODE_22 = {
  node: '22.23.5', acorn: '8.16.0', ada: '2.9.2', amaro: '1.1.8', ares: '1.34.9', brotli: '1.1.0', cjs_module_lexer: '2.2.0', cldr: '48.0',
  icu: '78.3', llhttp: '9.4.4', modules: '127', napi: '10', nbytes: '0.1.3', ncrypto: '0.0.1', nghttp2: '1.69.0', openssl: '3.5.9',
  simdjson: '4.5.0', simdutf: '6.4.2', sqlite: '3.54.1', tz: '2026e', undici: '6.29.1', unicode: '17.0', uv: '1.51.0', uvwasi: '0.0.23',
  v8: '12.4.254.21-node.57', zlib: '1.3.1-e00f703', zstd: '1.5.7',
};
const NODE_24 = {
  node: '24.22.3', acorn: '8.18.0', ada: '4.0.0', amaro: '1.1.11', ares: '1.34.9', brotli: '1.2.1', cldr: '48.0', icu: '78.3',
  llhttp: '9.4.4', merve: '1.2.2', modules: '137', napi: '10', nbytes: '0.1.4', ncrypto: '0.0.1', nghttp2: '1.70.0', nghttp3: '',
  ngtcp2: '', openssl: '3.5.9', simdjson: '4.6.11', simdutf: '6.4.0', sqlite: '3.54.1', tz: '2026e', undici: '7.30.2', unicode: '17.0',
  uv: '1.52.1', uvwasi: '0.0.23', v8: '13.6.233.17-node.63', zlib: '1.3.2.1-motley-285e94b', zstd: '1.5.7',
};

/**
 * process.report: a diagnostic report of this Lambda environment (Node's shape, lib/internal/
 * process/report.js), which libraries read to tell glibc from musl (detect-libc, so sharp and other
 * native-addon packages name the platform they failed on): Amazon Linux 2023's glibc 2.34 at run
 * time, 2.28 as Node's official binaries are built against. Nothing of the host is in it.
 * `writeReport` is not offered (no file of the process to dump).
 */
function diagnosticReport(processOf: () => Record<string, unknown>): Record<string, unknown> {
  return {
    getReport(error?: unknown): Record<string, unknown> {
      const process = processOf();
      const now = new Date();
      return {
        header: {
          reportVersion: 5, event: 'JavaScript API', trigger: 'GetReport', filename: null,
          dumpEventTime: now.toISOString().slice(0, 19), dumpEventTimeStamp: String(now.getTime()),
          processId: process.pid, threadId: 0, cwd: '/var/task', commandLine: process.argv, nodejsVersion: process.version,
          glibcVersionRuntime: '2.34', glibcVersionCompiler: '2.28', wordSize: 64, arch: 'x64', platform: 'linux',
          componentVersions: process.versions, release: process.release, osName: 'Linux', osRelease: '5.10.0', osVersion: '#1 SMP',
          osMachine: 'x86_64', cpus: [], networkInterfaces: [], host: 'localhost',
        },
        javascriptStack: { message: error instanceof Error ? `${error.name}: ${error.message}` : 'No stack.', stack: ['Unavailable.'] },
        javascriptHeap: {}, nativeStack: [], resourceUsage: {}, uvthreadResourceUsage: {}, libuv: [], workers: [],
        environmentVariables: {}, userLimits: {},
        sharedObjects: ['linux-vdso.so.1', '/lib64/libdl.so.2', '/lib64/libstdc++.so.6', '/lib64/libm.so.6', '/lib64/libgcc_s.so.1', '/lib64/libpthread.so.0', '/lib64/libc.so.6', '/lib64/ld-linux-x86-64.so.2'],
      };
    },
    directory: '',
    filename: '',
    compact: false,
    excludeNetwork: false,
    signal: 'SIGUSR2',
    reportOnFatalError: false,
    reportOnSignal: false,
    reportOnUncaughtException: false,
    excludeEnv: false,
  };
}

function release(versions: { node: string }, lts: string): Record<string, string> {
  const base = `https://nodejs.org/download/release/v${versions.node}/node-v${versions.node}`;
  return { name: 'node', lts, sourceUrl: `${base}.tar.gz`, headersUrl: `${base}-headers.tar.gz` };
}

export interface ProcessDeps {
  readonly now: () => number;
  readonly enqueueMicrotask: (fn: () => void) => void;
  /** process.nextTick's queue (index.ts queueTick). */
  readonly queueTick: (fn: () => void) => void;
  readonly callable: (cb: unknown) => (...args: unknown[]) => void;
  /** Called after process.env.TZ changes (Node re-reads TZ on its next date operation). */
  readonly onTimeZoneChange: () => void;
}

/**
 * A Node-like env object: values are strings; setting TZ reaches the Date module. With it, the
 * object behind it, where the guest runtime writes a string to a key other than TZ itself: the
 * same write the proxy's `set` makes, without an interpreted trap call (QuickJS) per invoke.
 */
function createEnv(onTimeZoneChange: () => void): { env: Record<string, string>; target: Record<string, string> } {
  const target: Record<string, string> = {};
  const env = new Proxy(target, {
    set(t, key, value) {
      if (typeof key === 'symbol') return false;
      t[key] = String(value);
      if (key === 'TZ') onTimeZoneChange();
      return true;
    },
    defineProperty(t, key, descriptor) {
      if (typeof key === 'symbol' || !('value' in descriptor)) return false;
      t[key] = String(descriptor.value);
      if (key === 'TZ') onTimeZoneChange();
      return true;
    },
    deleteProperty(t, key) {
      if (typeof key === 'string') {
        delete t[key];
        if (key === 'TZ') onTimeZoneChange();
      }
      return true;
    },
  });
  return { env, target };
}

type Writable = { write(chunk: unknown, encoding?: unknown, cb?: unknown): boolean; fd: number; isTTY?: boolean };

function outputStream(fd: 1 | 2): Writable {
  const { stream } = stdlib<typeof import('./stdlib/stream.ts')>('stream');
  const out = new stream.Writable({
    decodeStrings: false,
    write(chunk: unknown, encoding: string, done: (error?: Error | null) => void) {
      const text = typeof chunk === 'string' ? chunk : globalThis.Buffer.from(chunk as Uint8Array).toString(encoding === 'buffer' ? 'utf8' : (encoding as 'utf8'));
      host.writeOutput(fd, text);
      done();
    },
  }) as unknown as Writable & Record<string, unknown>;
  out.fd = fd;
  out._type = 'pipe';
  out._isStdio = true;
  out.destroySoon = out.destroy;
  return out;
}

export function createProcess(deps: ProcessDeps): {
  process: Record<string, unknown>;
  env: Record<string, string>;
  /** The object behind `env` (see createEnv): for the guest runtime's own writes of strings to keys other than TZ. */
  envTarget: Record<string, string>;
  setRuntime(runtime: string): void;
  resetClock(): void;
} {
  const { now } = deps;
  let bootedAt = now();
  const { env, target: envTarget } = createEnv(deps.onTimeZoneChange);
  const hrtime = (previous?: [number, number]): [number, number] => {
    const ms = now();
    let seconds = Math.floor(ms / 1000);
    let nanos = (ms % 1000) * 1e6;
    if (previous) {
      seconds -= previous[0];
      nanos -= previous[1];
      if (nanos < 0) {
        seconds--;
        nanos += 1e9;
      }
    }
    return [seconds, nanos];
  };
  hrtime.bigint = (): bigint => BigInt(now()) * 1_000_000n;
  // process.memoryUsage() and its kin: their code is in the os chunk (stdlib/process-usage.ts), loaded on first use.
  let usage: ReturnType<typeof import('./stdlib/process-usage.ts').createProcessUsage> | undefined;
  const usageOf = () => (usage ??= stdlib<typeof import('./stdlib/os.ts')>('os').createProcessUsage());
  const memoryUsage = () => usageOf().memoryUsage();
  memoryUsage.rss = (): number => usageOf().rss();
  let stdout: Writable | undefined;
  let stderr: Writable | undefined;
  const warned = new Set<string>();
  let hinted = false;
  const chain = function (this: unknown) {
    return this;
  };
  const process: Record<string, unknown> = {
    env,
    hrtime,
    uptime: () => (now() - bootedAt) / 1000,
    memoryUsage,
    cpuUsage: (previousValue?: unknown) => usageOf().cpuUsage(previousValue),
    resourceUsage: () => usageOf().resourceUsage(),
    emitWarning: (warning: unknown, typeOrOptions?: unknown, code?: unknown) => {
      const options = typeof typeOrOptions === 'object' && typeOrOptions !== null ? (typeOrOptions as { type?: string; code?: string; detail?: unknown }) : {};
      const type = warning instanceof Error ? warning.name : typeof typeOrOptions === 'string' ? typeOrOptions : (options.type ?? 'Warning');
      const warningCode = typeof code === 'string' ? code : options.code;
      const message = warning instanceof Error ? warning.message : String(warning);
      if (type === 'DeprecationWarning' && warningCode !== undefined) {
        if (warned.has(warningCode)) return;
        warned.add(warningCode);
      }
      const detail = typeof options.detail === 'string' ? options.detail : undefined;
      // Node's warning object (createWarningObject): an Error named after the type, with code and detail.
      const emitted = warning instanceof Error ? warning : Object.assign(new Error(message), { name: type }, warningCode === undefined ? {} : { code: warningCode }, detail === undefined ? {} : { detail });
      // Node's wording on stderr (lib/internal/process/warning.js).
      let text = `(node:${String(process.pid)}) ${warningCode ? `[${warningCode}] ` : ''}${type}: ${message}\n${detail === undefined ? '' : `${detail}\n`}`;
      if (!hinted) {
        hinted = true;
        text += `(Use \`node --trace-${type === 'DeprecationWarning' ? 'deprecation' : 'warnings'} ...\` to show where the warning was created)\n`;
      }
      // Node prints and emits 'warning' on the next tick (its default listener prints, first).
      (process.nextTick as (cb: () => void) => void)(() => {
        host.writeOutput(2, text);
        (process.emit as (event: string, value: unknown) => boolean)('warning', emitted);
      });
    },
    on: chain,
    once: chain,
    off: chain,
    addListener: chain,
    removeListener: chain,
    removeAllListeners: chain,
    prependListener: chain,
    prependOnceListener: chain,
    setMaxListeners: chain,
    getMaxListeners: () => 10,
    emit: () => false,
    listeners: () => [],
    rawListeners: () => [],
    listenerCount: () => 0,
    eventNames: () => [],
    arch: 'x64',
    pid: 1,
    ppid: 0,
    title: '/var/lang/bin/node',
    execArgv: [],
    execPath: '/var/lang/bin/node',
    platform: 'linux',
    version: `v${NODE_22.node}`,
    versions: NODE_22,
    release: release(NODE_22, 'Jod'),
    features: { inspector: false, debug: false, uv: true, ipv6: true, tls_alpn: true, tls_sni: true, tls_ocsp: true, tls: true, cached_builtins: true, typescript: false },
    config: { variables: {} },
    argv: ['/var/lang/bin/node', '/var/runtime/index.mjs'],
    argv0: 'node',
    exitCode: undefined,
    cwd: () => '/var/task',
    chdir: () => {
      const error = new Error('process.chdir() is not supported in workers') as Error & { code: string };
      error.code = 'ERR_WORKER_UNSUPPORTED_OPERATION';
      throw error;
    },
    umask: () => 0o22,
    getuid: () => 993,
    geteuid: () => 993,
    getgid: () => 990,
    getegid: () => 990,
    getgroups: () => [990],
    nextTick: (cb: unknown, ...args: unknown[]) => {
      const fn = inFrame(deps.callable(cb));
      deps.queueTick(() => fn(...args));
    },
    report: diagnosticReport(() => process),
    // Object.prototype.toString(process) is '[object process]' in Node (axios tests for it).
    [Symbol.toStringTag]: 'process',
    binding: (name: string) => {
      throw new Error(`No such module: ${name}`);
    },
  };
  Object.defineProperty(process, 'stdout', { configurable: true, enumerable: true, get: () => (stdout ??= outputStream(1)) });
  Object.defineProperty(process, 'stderr', { configurable: true, enumerable: true, get: () => (stderr ??= outputStream(2)) });
  return {
    process,
    env,
    envTarget,
    setRuntime(runtime: string) {
      const versions = runtime === 'nodejs24.x' ? NODE_24 : NODE_22;
      process.versions = versions;
      process.version = `v${versions.node}`;
      process.release = release(versions, runtime === 'nodejs24.x' ? 'Krypton' : 'Jod');
    },
    resetClock() {
      bootedAt = now();
    },
  };
}
