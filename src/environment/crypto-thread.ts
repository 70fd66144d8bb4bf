/**
 * Crypto threads: node:crypto calls that have no asynchronous form in Node (reading a key,
 * diffieHellman, sign...) but can cost the calling thread a second or more (key-cost.ts), run in
 * worker threads of their own instead of on the host's thread (issue #15). Each thread runs the
 * same CryptoService as the host would (crypto-service.ts), so the answer — value, bytes, or error
 * name, message and code — is what the host's thread would have answered.
 *
 * At most HEAVY_WORK_MAX_IN_FLIGHT threads (2 on a default libuv pool), started on first use,
 * unreferenced while idle so they never keep the process alive, replaced if one dies; their calls
 * come through heavy-work.ts's gate (host-bridge.ts), which decides whose call runs next, so a call
 * finds a free thread. Only calls that hold no state between calls come here (not cipher contexts).
 *
 * This file is both sides: the host's {@link callInCryptoThread}, and the thread's loop (when started
 * as a crypto thread).
 */
import { Buffer } from 'node:buffer';
import { isMainThread, parentPort, Worker, workerData } from 'node:worker_threads';
import type { CryptoAnswer } from './crypto-service.ts';
import { HEAVY_WORK_MAX_IN_FLIGHT } from './heavy-work.ts';

const MARK = 'lambdaletCryptoThread';

interface Request {
  readonly id: number;
  readonly method: string;
  readonly params: Record<string, unknown>;
  readonly parts: Uint8Array[];
}

/** An error as the host-call wire carries it (host-bridge.ts toHostCallError reads these three). */
interface ErrorShape {
  readonly name: string;
  readonly message: string;
  readonly code?: string;
}

interface Reply {
  readonly id: number;
  readonly value?: unknown;
  readonly parts?: Uint8Array[];
  readonly error?: ErrorShape;
}

interface Call {
  readonly request: Request;
  readonly resolve: (answer: CryptoAnswer) => void;
  readonly reject: (error: Error) => void;
}

const idle: Worker[] = [];
const busy = new Map<Worker, Call>();
const waiting: Call[] = [];
let nextId = 1;

/** Threads running or idle now (for tests). */
export function cryptoThreads(): number {
  return idle.length + busy.size;
}

/**
 * Runs CryptoService#call(method, params, parts) in a crypto thread: resolves with its answer, or
 * rejects with an Error of the same name, message and code as it threw.
 */
export function callInCryptoThread(method: string, params: Record<string, unknown>, parts: readonly Buffer[]): Promise<CryptoAnswer> {
  // Copies, transferred: a part may be a view into a much larger payload, which cloning would copy whole.
  const copies = parts.map((part) => new Uint8Array(part));
  return new Promise((resolve, reject) => {
    waiting.push({ request: { id: nextId++, method, params, parts: copies }, resolve, reject });
    dispatch();
  });
}

function dispatch(): void {
  while (waiting.length > 0) {
    let worker = idle.pop();
    if (!worker) {
      if (busy.size >= HEAVY_WORK_MAX_IN_FLIGHT) return;
      try {
        worker = start();
      } catch (error) {
        waiting.shift()!.reject(error as Error);
        continue;
      }
    }
    const call = waiting.shift()!;
    busy.set(worker, call);
    worker.ref();
    worker.postMessage(call.request, call.request.parts.map((part) => part.buffer as ArrayBuffer));
  }
}

function start(): Worker {
  // A flag that only makes sense for the entry script (--input-type) fails a worker (as wasm/entry-shape.ts).
  const inherited = process.execArgv;
  const execArgv = inherited.some((flag) => flag.startsWith('--input-type'))
    ? inherited.filter((flag) => !flag.startsWith('--input-type') && flag !== '--no-node-snapshot')
    : undefined;
  const worker = new Worker(new URL(import.meta.url), { workerData: { [MARK]: true }, env: {}, ...(execArgv ? { execArgv } : {}) });
  worker.unref();
  worker.on('message', (reply: Reply) => {
    const call = busy.get(worker);
    if (call?.request.id !== reply.id) return;
    busy.delete(worker);
    worker.unref();
    idle.push(worker);
    if (reply.error) call.reject(rebuild(reply.error));
    else call.resolve({ value: reply.value, ...(reply.parts ? { parts: reply.parts.map((part) => Buffer.from(part.buffer, part.byteOffset, part.byteLength)) } : {}) });
    dispatch();
  });
  const gone = (): void => {
    const index = idle.indexOf(worker);
    if (index >= 0) idle.splice(index, 1);
    const call = busy.get(worker);
    busy.delete(worker);
    call?.reject(new Error('lambdalet: the crypto thread serving this call ended before answering'));
    dispatch();
  };
  worker.on('error', gone);
  worker.on('exit', gone);
  return worker;
}

function rebuild(shape: ErrorShape): Error {
  const Kind = shape.name === 'TypeError' ? TypeError : shape.name === 'RangeError' ? RangeError : Error;
  const error = new Kind(shape.message) as Error & { code?: string };
  if (shape.code !== undefined) error.code = shape.code;
  return error;
}

function shapeOf(error: unknown): ErrorShape {
  if (!(error instanceof Error)) return { name: 'Error', message: String(error) };
  const code = (error as { code?: unknown }).code;
  return typeof code === 'string' ? { name: error.name, message: error.message, code } : { name: error.name, message: error.message };
}

if (!isMainThread && parentPort && (workerData as Record<string, unknown> | null)?.[MARK] === true) {
  const port = parentPort;
  const service = import('./crypto-service.ts').then(({ CryptoService }) => new CryptoService());
  port.on('message', (request: Request) => {
    void service.then(
      (crypto) => {
        try {
          const parts = request.parts.map((part) => Buffer.from(part.buffer, part.byteOffset, part.byteLength));
          const answer = crypto.call(request.method, request.params, parts);
          // Exact copies, transferred (an answer's Buffer may sit in Node's shared pool).
          const out = answer.parts?.map((part) => new Uint8Array(part));
          port.postMessage({ id: request.id, value: answer.value, parts: out } satisfies Reply, out?.map((part) => part.buffer) ?? []);
        } catch (error) {
          port.postMessage({ id: request.id, error: shapeOf(error) } satisfies Reply);
        }
      },
      (error: unknown) => port.postMessage({ id: request.id, error: shapeOf(error) } satisfies Reply),
    );
  });
}
