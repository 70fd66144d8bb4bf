/**
 * Types for JavaScript/TypeScript guests of lambdalet:function@0.1.0 (native/wit/function.wit),
 * componentized by the wasm engine (`code: { entry }`, docs/wasm.md). Reference it from your
 * entry: `/// <reference path=".../native/js/lambdalet-function.d.ts" />`.
 */
declare module 'lambdalet:function/logging@0.1.0' {
  export type Level = 'trace' | 'debug' | 'info' | 'warn' | 'error' | 'fatal';
  /** One line in the function's log, stamped with the time, request id and LEVEL. */
  export function log(level: Level, message: string): void;
}

declare module 'lambdalet:function/types@0.1.0' {
  export interface Context {
    requestId: string;
    functionName: string;
    functionVersion: string;
    invokedFunctionArn: string;
    memoryLimitMb: number;
    /** ms since the epoch. */
    deadlineMs: bigint;
  }
  /** Throw one of these from handle() for Lambda's function error. */
  export interface FunctionError {
    errorType: string;
    errorMessage: string;
  }
}
