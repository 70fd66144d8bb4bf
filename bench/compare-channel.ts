/**
 * A warm invoke's thread hop on its own: one request and one reply between this thread and a
 * worker, with payloads shaped like a quickjs warm invoke's (`call` request, `reply` event), through
 * five channels, measured in interleaved rounds (issue #21, docs/benchmarks.md "quickjs warm path:
 * a shared-memory channel, measured"). Prints the median round trip per channel in µs.
 *
 *   port-object   MessagePort both ways, structured clone of the objects (what the pool does)
 *   port-string   MessagePort both ways, each message one JSON string
 *   sab-waitasync request and reply as UTF-8 in a SharedArrayBuffer, Atomics.notify, both threads
 *                 waiting with Atomics.waitAsync (event loops free)
 *   sab-blocked   request in shared memory to a worker blocked in Atomics.wait; reply by MessagePort
 *   sab-both      as sab-blocked, reply in shared memory too (this thread: Atomics.waitAsync)
 *
 *   node bench/compare-channel.ts [round trips per channel = 20000]
 */
import { Worker, isMainThread, parentPort, workerData } from 'node:worker_threads';

const REQUEST = {
  t: 'call',
  id: 1,
  sb: 3,
  message: { type: 'invoke', requestId: 'c0a8f7e2-1b2c-4d5e-8f90-123456789abc', deadlineMs: 1767225600000, extras: '', event: '{"name":"x"}' },
  deadline: 1767225600000.123,
};
const REPLY = { t: 'reply', id: 1, reply: 'o--1,0,{"hi":"x"}', memoryBytes: 16777216, busyMs: 0.0271 };

/** Int32 slots of the shared buffer; texts from byte 64 (request) and 4096 (reply). */
const SLOT = { request: 0, requestLength: 1, reply: 2, replyLength: 3, mode: 4, asyncRequest: 5, asyncReply: 6 } as const;
const REQUEST_AT = 64;
const REPLY_AT = 4096;
const MODE_REPLY_BY_PORT = 1;
const MODE_REPLY_IN_MEMORY = 2;
const MODE_STOP_BLOCKING = 3;

interface Shared {
  readonly i32: Int32Array;
  readonly u8: Uint8Array;
}
const encoder = new TextEncoder();
const decoder = new TextDecoder();
function write(shared: Shared, at: number, lengthSlot: number, text: string): void {
  const { written } = encoder.encodeInto(text, shared.u8.subarray(at, at + 4000));
  Atomics.store(shared.i32, lengthSlot, written);
}
function read(shared: Shared, at: number, lengthSlot: number): string {
  return decoder.decode(shared.u8.subarray(at, at + Atomics.load(shared.i32, lengthSlot)));
}
/** Waits without blocking this thread until slot `index` holds `value`. */
async function waitFor(i32: Int32Array, index: number, value: number): Promise<void> {
  for (let seen; (seen = Atomics.load(i32, index)) !== value; ) {
    const wait = Atomics.waitAsync(i32, index, seen);
    if (wait.async) await wait.value;
  }
}

if (isMainThread) {
  const perChannel = Number(process.argv[2] ?? 20000);
  const buffer = new SharedArrayBuffer(8192);
  const shared: Shared = { i32: new Int32Array(buffer), u8: new Uint8Array(buffer) };
  const { i32 } = shared;
  const worker = new Worker(new URL(import.meta.url), { workerData: buffer });
  let onMessage: ((message: unknown) => void) | undefined;
  worker.on('message', (message: unknown) => {
    const take = onMessage;
    onMessage = undefined;
    take?.(message);
  });
  const next = (): Promise<unknown> => new Promise((resolve) => (onMessage = resolve));
  await next(); // up
  const requestText = JSON.stringify(REQUEST);
  let sequence = 0;
  const channels: Record<string, { readonly blocked?: true; readonly trip: () => Promise<string> }> = {
    'port-object': {
      trip: async () => {
        const reply = next();
        worker.postMessage(REQUEST);
        return ((await reply) as typeof REPLY).reply;
      },
    },
    'port-string': {
      trip: async () => {
        const reply = next();
        worker.postMessage(requestText);
        return (JSON.parse((await reply) as string) as typeof REPLY).reply;
      },
    },
    'sab-waitasync': {
      trip: async () => {
        write(shared, REQUEST_AT, SLOT.requestLength, requestText);
        const id = Atomics.add(i32, SLOT.asyncRequest, 1) + 1;
        Atomics.notify(i32, SLOT.asyncRequest);
        await waitFor(i32, SLOT.asyncReply, id);
        return (JSON.parse(read(shared, REPLY_AT, SLOT.replyLength)) as typeof REPLY).reply;
      },
    },
    'sab-blocked': {
      blocked: true,
      trip: async () => {
        const reply = next();
        write(shared, REQUEST_AT, SLOT.requestLength, requestText);
        Atomics.store(i32, SLOT.mode, MODE_REPLY_BY_PORT);
        Atomics.store(i32, SLOT.request, ++sequence);
        Atomics.notify(i32, SLOT.request);
        return (JSON.parse((await reply) as string) as typeof REPLY).reply;
      },
    },
    'sab-both': {
      blocked: true,
      trip: async () => {
        write(shared, REQUEST_AT, SLOT.requestLength, requestText);
        Atomics.store(i32, SLOT.mode, MODE_REPLY_IN_MEMORY);
        const id = ++sequence;
        Atomics.store(i32, SLOT.request, id);
        Atomics.notify(i32, SLOT.request);
        await waitFor(i32, SLOT.reply, id);
        return (JSON.parse(read(shared, REPLY_AT, SLOT.replyLength)) as typeof REPLY).reply;
      },
    },
  };
  const ROUNDS = 8;
  const samples: Record<string, number[]> = Object.fromEntries(Object.keys(channels).map((name) => [name, []]));
  for (let round = 0; round < ROUNDS; round++) {
    const order = Object.keys(channels);
    if (round % 2) order.reverse();
    for (const name of order) {
      const channel = channels[name]!;
      if (channel.blocked) {
        const blocked = next();
        worker.postMessage('block');
        await blocked;
      }
      for (let i = 0; i < perChannel / ROUNDS; i++) {
        const started = performance.now();
        const reply = await channel.trip();
        const took = performance.now() - started;
        if (reply !== REPLY.reply) throw new Error(`${name}: wrong reply ${reply}`);
        if (round > 0) samples[name]!.push(took * 1000);
      }
      if (channel.blocked) {
        Atomics.store(i32, SLOT.mode, MODE_STOP_BLOCKING);
        Atomics.store(i32, SLOT.request, ++sequence);
        Atomics.notify(i32, SLOT.request);
      }
    }
  }
  const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[xs.length >> 1]!;
  console.log(JSON.stringify(Object.fromEntries(Object.entries(samples).map(([name, xs]) => [name, +median(xs).toFixed(1)]))));
  await worker.terminate();
} else {
  const buffer = workerData as SharedArrayBuffer;
  const shared: Shared = { i32: new Int32Array(buffer), u8: new Uint8Array(buffer) };
  const { i32 } = shared;
  const port = parentPort!;
  const replyText = JSON.stringify(REPLY);
  port.on('message', (message: unknown) => {
    if (message === 'block') {
      // Blocked in Atomics.wait until told to stop: requests arrive in shared memory only.
      let seen = Atomics.load(i32, SLOT.request);
      port.postMessage('blocked');
      for (;;) {
        Atomics.wait(i32, SLOT.request, seen);
        const id = Atomics.load(i32, SLOT.request);
        if (id === seen) continue;
        seen = id;
        const mode = Atomics.load(i32, SLOT.mode);
        if (mode === MODE_STOP_BLOCKING) return;
        JSON.parse(read(shared, REQUEST_AT, SLOT.requestLength));
        if (mode === MODE_REPLY_BY_PORT) port.postMessage(replyText);
        else {
          write(shared, REPLY_AT, SLOT.replyLength, replyText);
          Atomics.store(i32, SLOT.reply, id);
          Atomics.notify(i32, SLOT.reply);
        }
      }
    }
    if (typeof message === 'string') {
      JSON.parse(message);
      port.postMessage(replyText);
    } else port.postMessage({ ...REPLY });
  });
  void (async () => {
    for (let seen = 0; ; ) {
      const wait = Atomics.waitAsync(i32, SLOT.asyncRequest, seen);
      if (wait.async) await wait.value;
      const id = Atomics.load(i32, SLOT.asyncRequest);
      if (id === seen) continue;
      seen = id;
      JSON.parse(read(shared, REQUEST_AT, SLOT.requestLength));
      write(shared, REPLY_AT, SLOT.replyLength, replyText);
      Atomics.store(i32, SLOT.asyncReply, id);
      Atomics.notify(i32, SLOT.asyncReply);
    }
  })();
  port.postMessage('up');
}
