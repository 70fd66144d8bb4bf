/**
 * The worker thread that runs ONE component instance (one execution environment). The host thread
 * terminates it at a deadline, so a guest in a tight loop never blocks the host.
 *
 * Requests arrive on parentPort (load, init, invoke); each ends with one `done` message. Log lines
 * go out on parentPort before it, in order. Host calls (/tmp) are synchronous: the worker posts a
 * `call`, sleeps in Atomics.wait until the host flags an answer, then takes it with
 * receiveMessageOnPort. Nothing of the host reaches the component: it sees only its imports.
 */
import { parentPort, receiveMessageOnPort } from 'node:worker_threads';
import { RESPONSE_PAYLOAD_MAX_BYTES } from '../../../config/limits.ts';
import type { InvokeRequest, LoadRequest, WorkerMessage, WorkerOutcome, WorkerRequest } from './messages.ts';
import { componentImports, loadShim, type ComponentImports } from './wasi-imports.ts';

const HANDLER = 'lambdalet:function/handler@0.1.0';

interface Loaded {
  readonly request: LoadRequest;
  readonly instantiate: (
    getCoreModule: (name: string) => WebAssembly.Module,
    imports: Record<string, object>,
    instantiateCore: (module: WebAssembly.Module, imports?: WebAssembly.Imports) => WebAssembly.Instance,
  ) => Promise<Record<string, unknown>> | Record<string, unknown>;
  readonly signal: Int32Array;
}

interface Handler {
  handle(event: string, context: object): string;
}

let loaded: Loaded | undefined;
let handler: Handler | undefined;
let io: ComponentImports | undefined;
const memories: WebAssembly.Memory[] = [];

const port = parentPort!;

function post(message: WorkerMessage): void {
  port.postMessage(message);
}

function log(level: string, message: string): void {
  post({ t: 'log', level, message });
}

/** One synchronous host call (see worker-host.ts for the other side of the handshake). */
function hostCall(op: string, args: string): string {
  const { signal, request } = loaded!;
  Atomics.store(signal, 0, 0);
  post({ t: 'call', op, args });
  Atomics.wait(signal, 0, 0);
  const answer = receiveMessageOnPort(request.answers);
  return typeof answer?.message === 'string' ? answer.message : 'e{"name":"Error","message":"host call failed"}';
}

function memoryBytes(): number {
  return memories.reduce((sum, memory) => sum + memory.buffer.byteLength, 0);
}

/** A trap or an unexpected throw: the instance is unusable. At the memory cap it is out of memory. */
function fault(error: unknown): WorkerOutcome {
  const cap = loaded?.request.memoryCapBytes ?? Infinity;
  // malloc fails once memory.grow is refused at the cap; C then aborts (an `unreachable` trap).
  if (memoryBytes() + 1024 * 1024 > cap || (error instanceof RangeError && /memory/i.test(error.message))) {
    return { t: 'fault', kind: 'out-of-memory', message: 'out of memory' };
  }
  if (error instanceof WebAssembly.RuntimeError) {
    return { t: 'fault', kind: 'crashed', message: error.message.startsWith('wasm trap') ? error.message : `wasm trap: ${error.message}` };
  }
  const text = error instanceof Error ? `${error.name}: ${error.message}` : String(error);
  return { t: 'fault', kind: 'crashed', message: text };
}

async function load(request: LoadRequest): Promise<WorkerOutcome> {
  const url = `data:text/javascript;base64,${Buffer.from(request.glue).toString('base64')}`;
  const glue = (await import(url)) as { instantiate: Loaded['instantiate'] };
  await loadShim();
  loaded = { request, instantiate: glue.instantiate, signal: new Int32Array(request.signal) };
  return { t: 'ok', payload: 'null' };
}

async function init(env: Readonly<Record<string, string>>): Promise<WorkerOutcome> {
  if (!loaded) return { t: 'fault', kind: 'crashed', message: 'no component loaded' };
  const { request, instantiate } = loaded;
  io = componentImports(await loadShim(), env, hostCall, log);
  try {
    const instance = await instantiate(
      (name) => {
        const module = request.modules[name];
        if (!module) throw new Error(`the component has no core module ${name}`);
        return module;
      },
      io.imports,
      (module, imports) => {
        const instance = new WebAssembly.Instance(module, imports);
        for (const value of Object.values(instance.exports)) if (value instanceof WebAssembly.Memory) memories.push(value);
        return instance;
      },
    );
    const exported = (instance[HANDLER] ?? instance.handler) as Handler | undefined;
    if (typeof exported?.handle !== 'function') return { t: 'fault', kind: 'crashed', message: `the component does not export ${HANDLER}` };
    handler = exported;
    return { t: 'ok', payload: 'null' };
  } catch (error) {
    return fault(error);
  } finally {
    flushStdio();
  }
}

function flushStdio(): void {
  io?.stdout.flush();
  io?.stderr.flush();
}

function invoke(request: InvokeRequest): WorkerOutcome {
  if (!handler) return { t: 'fault', kind: 'crashed', message: 'the component was not initialised' };
  const { context } = request;
  let payload: string;
  try {
    payload = handler.handle(request.event, {
      requestId: context.requestId,
      functionName: context.functionName,
      functionVersion: context.functionVersion,
      invokedFunctionArn: context.invokedFunctionArn,
      memoryLimitMb: context.memoryLimitMb,
      deadlineMs: BigInt(context.deadlineMs),
    });
  } catch (error) {
    const record = functionError(error);
    return record ?? fault(error);
  } finally {
    flushStdio();
  }
  // Every memory is capped at memoryMb by its module; their total is held to it here.
  if (memoryBytes() > loaded!.request.memoryCapBytes) return { t: 'fault', kind: 'out-of-memory', message: 'out of memory' };
  // Longer than Lambda's response limit in UTF-16 units is longer in UTF-8 bytes too: only enough
  // of it crosses to the host for the environment to answer Function.ResponseSizeTooLarge, not a
  // copy of up to memoryMb of text.
  if (payload.length > RESPONSE_PAYLOAD_MAX_BYTES) return { t: 'ok', payload: payload.slice(0, RESPONSE_PAYLOAD_MAX_BYTES + 1) };
  try {
    JSON.parse(payload);
  } catch (error) {
    const preview = payload.length > 64 ? `${payload.slice(0, 64)}...` : payload;
    return {
      t: 'error',
      errorType: 'Runtime.MalformedResponse',
      errorMessage: `The function's response is not valid JSON (${(error as Error).message}): ${JSON.stringify(preview)}`,
    };
  }
  return { t: 'ok', payload };
}

/**
 * The `err` case of handle's result, as jco throws it: the record itself, or (older jco, or with
 * error wrapping) a ComponentError whose `payload` is the record. Anything else is a fault.
 */
function functionError(error: unknown): WorkerOutcome | undefined {
  if (error instanceof WebAssembly.RuntimeError) return undefined;
  const record = error instanceof Error ? (error as { payload?: unknown }).payload : error;
  if (typeof record !== 'object' || record === null || !('errorType' in record) || !('errorMessage' in record)) return undefined;
  return { t: 'error', errorType: String(record.errorType), errorMessage: String(record.errorMessage) };
}

async function handle(request: WorkerRequest): Promise<WorkerOutcome> {
  switch (request.t) {
    case 'load':
      return load(request);
    case 'init':
      return init(request.env);
    case 'invoke':
      return invoke(request);
  }
}

port.on('message', (request: WorkerRequest) => {
  void handle(request).then(
    (outcome) => post({ t: 'done', outcome, memoryBytes: memoryBytes() }),
    (error: unknown) => post({ t: 'done', outcome: fault(error), memoryBytes: memoryBytes() }),
  );
});
