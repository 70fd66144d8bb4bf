/**
 * The messages between a wasm sandbox (host thread) and its worker thread. Plain data only, copied
 * by postMessage; WebAssembly.Module values are shared compiled code, not copies of guest state.
 */
import type { MessagePort } from 'node:worker_threads';

/** What the worker needs to instantiate one code version: the transpiled glue and its core modules. */
export interface LoadRequest {
  readonly t: 'load';
  /** The ES module jco made for the component (`instantiate(getCoreModule, imports)`). */
  readonly glue: string;
  /** Core modules by the name the glue asks for, compiled once per code version and memory cap. */
  readonly modules: Readonly<Record<string, WebAssembly.Module>>;
  /** The memory cap in bytes: a trap with the memory at (or near) it is reported as out of memory. */
  readonly memoryCapBytes: number;
  /** Int32Array(2) over a SharedArrayBuffer: the host-call handshake (see worker-host.ts). */
  readonly signal: SharedArrayBuffer;
  /** The port on which host-call answers arrive (read synchronously with receiveMessageOnPort). */
  readonly answers: MessagePort;
}

/** INIT: instantiate the component with this environment's WASI capabilities. */
export interface InitRequest {
  readonly t: 'init';
  readonly env: Readonly<Record<string, string>>;
}

/** One invocation: `handler.handle(event, context)`. */
export interface InvokeRequest {
  readonly t: 'invoke';
  readonly event: string;
  readonly context: {
    readonly requestId: string;
    readonly functionName: string;
    readonly functionVersion: string;
    readonly invokedFunctionArn: string;
    readonly memoryLimitMb: number;
    readonly deadlineMs: number;
  };
}

export type WorkerRequest = LoadRequest | InitRequest | InvokeRequest;

/** A finished request. */
export type WorkerOutcome =
  | { readonly t: 'ok'; readonly payload: string }
  /** The guest's own error (`err` of handle's result, or malformed output): the instance lives on. */
  | { readonly t: 'error'; readonly errorType: string; readonly errorMessage: string }
  /** The instance is unusable (a trap, out of memory, instantiation failed): discard it. */
  | { readonly t: 'fault'; readonly kind: 'crashed' | 'out-of-memory'; readonly message: string };

/** Worker → host. */
export type WorkerMessage =
  | { readonly t: 'log'; readonly level: string; readonly message: string }
  | { readonly t: 'call'; readonly op: string; readonly args: string }
  | { readonly t: 'done'; readonly outcome: WorkerOutcome; readonly memoryBytes: number };
