/**
 * A quick look at a `code: { entry }` module before componentize-qjs builds it. The build costs
 * ~1.8 CPU-s whatever the module (componentize-qjs compiles its QuickJS runtime for Wizer each
 * time), and a module that cannot implement the world — a Node.js handler deployed on engine 'wasm'
 * by mistake — paid all of it to be refused by the instance wrapper's top level (componentize.ts,
 * SHAPE_MARK). Here the same wrapped module (the wrapper's checks included) is evaluated first in a
 * throw-away QuickJS instance (quickjs-emscripten, the quickjs engine's build) in a worker thread
 * of its own, never on the host's thread: ~0.2 CPU-s for the first check in a process (the worker's
 * start and the module's compile), a few ms for each later one.
 *
 * Only a definite answer counts, and only one: the wrapper's own shape error, whose message the
 * caller reads. Anything else — the top level finished, threw something else, imported what the
 * check does not provide, outran the budget or the memory — says nothing, and componentize-qjs's
 * own run of the top level decides, with the same checks. The two QuickJS builds differ only in
 * what the top level could observe (another engine's globals); a module whose handler's shape
 * depended on that is refused by one and built by the other, as it would be by two QuickJS versions.
 *
 * This file is both sides: the host's {@link quickShapeError}, and the worker's check (when started
 * as the shape worker).
 */
import { isMainThread, parentPort, Worker, workerData } from 'node:worker_threads';

const MARK = 'lambdaletEntryShapeThread';
/** The top level's budget in the check: wall time, so a loaded machine may make it say nothing (then the build decides). */
const BUDGET_MS = 250;
/** The check's QuickJS memory (a WebAssembly memory of its own, capped). */
const MEMORY_MB = 64;
/** The world's one import, with its one function, as a no-op (the build runs the top level without a host too). */
const STUBS: Readonly<Record<string, string>> = { 'lambdalet:function/logging@0.1.0': 'export function log() {}' };

interface Request {
  readonly id: number;
  readonly jsSource: string;
}

/** A check's answer; id 0 once, when the worker has loaded QuickJS (its start-up, not counted in a check's limit). */
interface Reply {
  readonly id: number;
  readonly thrown?: string;
}

/**
 * How long one check may take on the host's clock, from its request reaching the worker: the
 * budget above bounds the top level only where QuickJS polls its interrupt handler, and a top level
 * inside an uninterruptible built-in (a naive `indexOf` of 10^10 comparisons: minutes) held the one
 * worker every deploy's check goes through, with every later check queued behind it. Past this
 * limit the worker is terminated and the check says nothing (the build decides); the next check
 * starts a new worker. Counted once the worker has loaded QuickJS (its start and the module's
 * compile, ~0.2 CPU-s, are {@link START_LIMIT_MS}'s), so a module cannot use a fresh worker's
 * start-up to run longer; generous, a check cut too early only costs the build it would have spared.
 */
const CHECK_LIMIT_MS = 5_000;
/** How long a new worker may take to load QuickJS (no guest code runs meanwhile) before it is given up. */
const START_LIMIT_MS = 60_000;

interface Check {
  readonly id: number;
  readonly jsSource: string;
  readonly limitMs: number;
  readonly resolve: (thrown: string | undefined) => void;
}

let worker: Worker | undefined;
let nextId = 1;
/** Checks waiting for the worker, in order; it runs one at a time ({@link running}). */
const waiting: Check[] = [];
let running: { readonly check: Check; readonly worker: Worker; timer: NodeJS.Timeout | undefined } | undefined;
/** Workers that have loaded QuickJS (their `ready`, id 0). */
const ready = new WeakSet<Worker>();

/**
 * One worker per process (as transpile-thread.ts): started on first use, unreferenced while idle,
 * replaced if it dies or is terminated past a check's limit. Each check gets a fresh QuickJS
 * instance of the module the worker compiled once.
 */
function start(): Worker {
  // A flag that only makes sense for the entry script (--input-type) fails a worker (as transpile-thread.ts).
  const inherited = process.execArgv;
  const execArgv = inherited.some((flag) => flag.startsWith('--input-type'))
    ? inherited.filter((flag) => !flag.startsWith('--input-type') && flag !== '--no-node-snapshot')
    : undefined;
  const started = new Worker(new URL(import.meta.url), {
    workerData: { [MARK]: true },
    env: {},
    resourceLimits: { maxOldGenerationSizeMb: 256 },
    ...(execArgv ? { execArgv } : {}),
  });
  started.unref();
  // Its start-up has a limit of its own (no guest code runs in it).
  const startLimit = setTimeout(() => {
    if (worker === started) worker = undefined;
    void started.terminate();
  }, START_LIMIT_MS);
  startLimit.unref();
  started.on('message', (reply: Reply) => {
    if (reply.id === 0) {
      clearTimeout(startLimit);
      ready.add(started);
      if (running?.worker === started) arm(running);
      return;
    }
    if (running?.worker !== started || running.check.id !== reply.id) return;
    finish(reply.thrown);
  });
  const fail = (): void => {
    clearTimeout(startLimit);
    if (worker === started) worker = undefined;
    if (running?.worker === started) finish(undefined);
  };
  started.on('error', fail);
  started.on('exit', fail);
  return started;
}

/** The running check is answered (`thrown`, or nothing); the next one starts. */
function finish(thrown: string | undefined): void {
  const done = running;
  if (!done) return;
  running = undefined;
  clearTimeout(done.timer);
  done.check.resolve(thrown);
  next();
}

/** Sends the next waiting check to the worker (one at a time, each with its limit armed). */
function next(): void {
  if (running) return;
  const check = waiting.shift();
  if (!check) {
    worker?.unref();
    return;
  }
  let current: Worker;
  try {
    current = worker ??= start();
  } catch {
    check.resolve(undefined);
    next();
    return;
  }
  running = { check, worker: current, timer: undefined };
  if (ready.has(current)) arm(running);
  current.ref();
  current.postMessage({ id: check.id, jsSource: check.jsSource } satisfies Request);
}

/** Arms the running check's limit (its worker has loaded QuickJS): past it the worker is terminated. */
function arm(run: NonNullable<typeof running>): void {
  if (run.timer !== undefined) return;
  run.timer = setTimeout(() => {
    if (running !== run) return;
    // Stuck past any budget: this worker goes (its exit finds no check of its own), the check says nothing.
    if (worker === run.worker) worker = undefined;
    void run.worker.terminate();
    finish(undefined);
  }, run.check.limitMs);
  run.timer.unref();
}

/**
 * The message of the error that evaluating `jsSource` (a bundled ES module whose imports are only
 * the world's) threw in the check, or undefined when it finished, threw nothing readable or could
 * not be checked (within `limitMs` of reaching the worker: {@link CHECK_LIMIT_MS}). The caller
 * trusts only its own mark in it.
 */
export function quickShapeError(jsSource: string, limitMs = CHECK_LIMIT_MS): Promise<string | undefined> {
  return new Promise((resolve) => {
    waiting.push({ id: nextId++, jsSource, limitMs, resolve });
    next();
  });
}

async function check(jsSource: string): Promise<string | undefined> {
  const { instantiateQuickJS } = await import('../quickjs/wasm.ts');
  const instance = await instantiateQuickJS(MEMORY_MB);
  const runtime = instance.module.newRuntime();
  // QuickJS's SharedArrayBuffer hooks, as every lambdalet runtime has them (sab-hooks.ts).
  if (!instance.sabHooks.attach(runtime, instance.sabOffset)) return undefined;
  runtime.setModuleLoader((name) => (Object.hasOwn(STUBS, name) ? STUBS[name]! : { error: new Error(`${name} is not available to the check`) }));
  const context = runtime.newContext();
  context.unwrapResult(context.evalCode('globalThis.console = { log() {}, info() {}, warn() {}, error() {}, debug() {}, trace() {} };')).dispose();
  const deadline = performance.now() + BUDGET_MS;
  runtime.setInterruptHandler(() => performance.now() > deadline);
  const result = context.evalCode(jsSource, 'lambdalet-instance.js', { type: 'module' });
  let thrown: unknown;
  if (result.error) {
    thrown = context.dump(result.error);
  } else {
    // A module with top-level await settles through jobs; the wrapper's checks run after it.
    runtime.executePendingJobs(-1);
    const state = context.getPromiseState(result.value);
    if (state.type === 'rejected') thrown = context.dump(state.error);
  }
  // Nothing disposed (a QuickJS runtime stopped mid-evaluation may not free cleanly): the instance,
  // its memory and every handle are dropped together and collected with it.
  const message = thrown !== null && typeof thrown === 'object' ? (thrown as { message?: unknown }).message : undefined;
  return typeof message === 'string' ? message : undefined;
}

if (!isMainThread && parentPort && (workerData as Record<string, unknown> | null)?.[MARK] === true) {
  const port = parentPort;
  // QuickJS loaded first (the glue and the module's compile), then `ready`: the host counts each check's limit from then.
  let queue = import('../quickjs/wasm.ts').then(({ firstInstanceMade }) => firstInstanceMade()).then(
    () => port.postMessage({ id: 0 } satisfies Reply),
    // Not loadable: the checks below fail and say nothing; the limit still holds them.
    () => port.postMessage({ id: 0 } satisfies Reply),
  );
  port.on('message', (request: Request) => {
    queue = queue.then(() =>
      check(request.jsSource).then(
        (thrown) => port.postMessage({ id: request.id, thrown } satisfies Reply),
        () => port.postMessage({ id: request.id } satisfies Reply),
      ),
    );
  });
}
