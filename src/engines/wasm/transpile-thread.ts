/**
 * jco's transpiler, run in a worker thread of its own. jco-transpile is itself WebAssembly and runs
 * synchronously: on the host's thread, transpiling one component held the event loop for 140 ms to
 * over 1 s here (a 1 ms interval did not tick once), stalling every invocation in flight during a
 * deploy. One worker per process, started on first use (loading jco takes most of a second, which a
 * process that never deploys a component must not pay), unreferenced while idle, replaced if it dies.
 *
 * This file is both sides: the host's `transpileOffThread`, and the worker's loop (when started as
 * the transpile worker).
 */
import { readFile } from 'node:fs/promises';
import { isMainThread, parentPort, Worker, workerData } from 'node:worker_threads';

/** What jco returns that the engine reads (transpile.ts). */
export interface TranspileOutput {
  /** The glue (`component.js`) and the core modules (`*.wasm`). */
  readonly files: Record<string, Uint8Array>;
  readonly imports: string[];
  readonly exports: [string, string][];
  /** The component's handler and types interfaces as jco types them (see {@link WORLD_TYPINGS}); empty when it has neither. */
  readonly typings: string;
  /** The same typings generated from native/wit/function.wit by the same jco. */
  readonly worldTypings: string;
}

/**
 * The interfaces whose TypeScript typings (jco's, docs stripped) must be the world's: handle's
 * parameters and the context and function-error records, field by field.
 */
export const WORLD_TYPINGS = ['interfaces/lambdalet-function-handler.d.ts', 'interfaces/lambdalet-function-types.d.ts'] as const;

interface Request {
  readonly id: number;
  readonly bytes: Uint8Array;
}

type Reply = { readonly id: number; readonly output: TranspileOutput } | { readonly id: number; readonly error: string };

const MARK = 'lambdaletTranspileThread';

let worker: Worker | undefined;
let nextId = 1;
const pending = new Map<number, { resolve: (output: TranspileOutput) => void; reject: (error: Error) => void }>();

function start(): Worker {
  const self = new URL(import.meta.url);
  // A flag that only makes sense for the entry script (--input-type) fails a worker (as remote/worker-host.ts).
  const inherited = process.execArgv;
  const execArgv = inherited.some((flag) => flag.startsWith('--input-type'))
    ? inherited.filter((flag) => !flag.startsWith('--input-type') && flag !== '--no-node-snapshot')
    : undefined;
  const started = new Worker(self, { workerData: { [MARK]: true }, env: {}, ...(execArgv ? { execArgv } : {}) });
  started.unref();
  started.on('message', (reply: Reply) => {
    const waiting = pending.get(reply.id);
    pending.delete(reply.id);
    if (pending.size === 0) started.unref();
    if ('error' in reply) waiting?.reject(new Error(reply.error));
    else waiting?.resolve(reply.output);
  });
  const fail = (reason: string): void => {
    if (worker === started) worker = undefined;
    for (const waiting of pending.values()) waiting.reject(new Error(`the transpile worker ${reason}`));
    pending.clear();
  };
  started.on('error', (error: Error) => fail(`failed: ${error.message}`));
  started.on('exit', (code) => fail(`exited (code ${code})`));
  return started;
}

/**
 * jco's `transpileBytes(bytes, options)` (instantiation mode, core modules as files) in the
 * transpile worker. Rejects with jco's own error message when it refuses the bytes.
 */
export function transpileOffThread(bytes: Uint8Array): Promise<TranspileOutput> {
  worker ??= start();
  const current = worker;
  const id = nextId++;
  return new Promise<TranspileOutput>((resolve, reject) => {
    pending.set(id, { resolve, reject });
    current.ref();
    current.postMessage({ id, bytes } satisfies Request);
  });
}

/** The world's typings, generated once per thread from the WIT source (shipped in native/wit/). */
let worldTypings: Promise<string> | undefined;

function generateWorldTypings(): Promise<string> {
  worldTypings ??= (async () => {
    const { $init, generateTypes } = await import('@bytecodealliance/jco-transpile/component');
    await $init;
    // The source, not a path: jco's bindgen component reads paths through a WASI shim with no preopens.
    const wit = await readFile(new URL('../../../native/wit/function.wit', import.meta.url), 'utf8');
    const files = generateTypes('component', { wit: { tag: 'source', val: wit }, world: 'function', instantiation: { tag: 'async' } });
    return typingsOf(Object.fromEntries(files));
  })();
  return worldTypings;
}

/** The {@link WORLD_TYPINGS} files' text, without comments (a component carries no docs) and blank lines. */
export function typingsOf(files: Readonly<Record<string, Uint8Array>>): string {
  return WORLD_TYPINGS.map((name) => {
    const file = files[name];
    if (file === undefined) return '';
    return Buffer.from(file)
      .toString('utf8')
      .replace(/\/\*[\s\S]*?\*\//g, '')
      .split('\n')
      .map((line) => line.trim())
      .filter((line) => line !== '')
      .join('\n');
  })
    .filter((text) => text !== '')
    .join('\n');
}

async function serve(request: Request): Promise<Reply> {
  const { transpileBytes } = await import('@bytecodealliance/jco-transpile');
  try {
    const result = await transpileBytes(request.bytes, {
      name: 'component',
      instantiation: 'async',
      nodejsCompat: false,
      // Core modules come back as files (never inlined as base64 in the glue).
      base64Cutoff: Number.MAX_SAFE_INTEGER,
      // Read for the world check (typings), never written anywhere.
      emitTypescriptDeclarations: true,
    });
    // Each file copied out on its own (jco's may be views of one larger buffer, which a transfer or
    // a clone would carry whole), then transferred; the typings stay here.
    const files = Object.fromEntries(
      Object.entries(result.files)
        .filter(([name]) => name === 'component.js' || name.endsWith('.wasm'))
        .map(([name, file]) => [name, new Uint8Array(file)]),
    );
    const typings = typingsOf(result.files);
    return { id: request.id, output: { files, imports: result.imports, exports: result.exports, typings, worldTypings: await generateWorldTypings() } };
  } catch (error) {
    return { id: request.id, error: (error as Error)?.message ?? String(error) };
  }
}

if (!isMainThread && parentPort && (workerData as Record<string, unknown> | null)?.[MARK] === true) {
  const port = parentPort;
  port.on('message', (request: Request) => {
    void serve(request).then((reply) => {
      const transfer = 'output' in reply ? Object.values(reply.output.files).map((file) => file.buffer as ArrayBuffer) : [];
      port.postMessage(reply, transfer);
    });
  });
}
