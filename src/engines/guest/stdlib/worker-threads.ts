/**
 * node:worker_threads: a handler runs on the environment's one thread. The data a library reads
 * at load time is Node's for the main thread; starting a Worker fails with the clear error.
 * MessageChannel / MessagePort / BroadcastChannel are the Web classes (undici reads them).
 */
import { nodeError } from '../bridge.ts';
import { BroadcastChannel, MessageChannel, MessagePort } from './messaging.ts';

function unavailable(operation: string): never {
  throw nodeError(
    Error,
    'ERR_LAMBDALET_MODULE_UNAVAILABLE',
    `${operation} is not available in lambdalet: a function runs on one thread, in a sandbox without processes, sockets or native modules`,
  );
}

class Worker {
  constructor(filename?: unknown) {
    void filename;
    unavailable('worker_threads.Worker (starting a worker thread)');
  }
}

const environmentData = new Map<unknown, unknown>();

export const workerThreads = {
  isMainThread: true,
  isInternalThread: false,
  parentPort: null,
  workerData: null,
  threadId: 0,
  resourceLimits: {},
  SHARE_ENV: Symbol.for('nodejs.worker_threads.SHARE_ENV'),
  Worker,
  MessageChannel,
  MessagePort,
  BroadcastChannel,
  getEnvironmentData: (key: unknown) => environmentData.get(key),
  setEnvironmentData: (key: unknown, value: unknown) => {
    if (value === undefined) environmentData.delete(key);
    else environmentData.set(key, value);
  },
  markAsUntransferable: (): void => {},
  isMarkedAsUntransferable: (): boolean => false,
  markAsUncloneable: (): void => {},
  moveMessagePortToContext: () => unavailable('worker_threads.moveMessagePortToContext'),
  receiveMessageOnPort: (): undefined => undefined,
};
