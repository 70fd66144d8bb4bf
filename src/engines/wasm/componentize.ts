/**
 * `code: { entry }` with engine 'wasm': a JavaScript (or TypeScript) module implementing the WIT
 * world (it exports `handler = { handle(event, context) }` and may import
 * `lambdalet:function/logging@0.1.0`), bundled with esbuild into one ES module and componentized
 * with componentize-qjs (QuickJS + Wizer: the module's top level runs at build time and is
 * snapshotted into the component). Once per code version: cached by the bundle's sha256.
 *
 * Backend choice (measured, docs/wasm.md): componentize-qjs over StarlingMonkey (componentize-js):
 * ~1.6 MB components against ~12 MB, seconds to build against tens of seconds, and StarlingMonkey's
 * path through jco's own preview2-shim fails with "failed to get path metadata".
 */
import { fork } from 'node:child_process';
import { createHash } from 'node:crypto';
import { availableParallelism } from 'node:os';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';
import PQueue from 'p-queue';
import { EngineUnavailableError, InvalidParameterValueException } from '../../errors.ts';
import type { BuildReply, BuildRequest } from './componentize-child.ts';
import { quickShapeError } from './entry-shape.ts';

/** The WIT package the components implement (native/wit/, shipped in the package's files). */
export const WIT_DIR = fileURLToPath(new URL('../../../native/wit', import.meta.url));
/** Bundles componentized this process (least recently used dropped first). */
const CACHE_SIZE = 16;
const cache = new Map<string, Promise<Uint8Array>>();

/**
 * How long one componentize-qjs build may take, in wall time, before its process is killed and the
 * deploy refused: the build runs the module's top level (Wizer), with no limit of its own, so a top
 * level that never ends would otherwise hold a core and a build thread for good (componentize-child.ts). A build costs
 * ~1.8 CPU-s whatever the module (seconds of wall time on a loaded 2-core machine), plus the top
 * level's own work: generous, as an INIT that needs longer than Lambda's 10 s would not run anyway.
 */
export const BUILD_LIMIT_MS = 60_000;
/** What a build's stderr may keep for the refusal's message when its process dies (bytes). */
const STDERR_KEPT = 4096;
/**
 * Builds running at once, one per core (what componentize-qjs's own native runtime ran in one
 * process: one worker thread per core); the rest wait their turn, their limit not yet running. Each
 * build costs ~1.8 CPU-s, and one whose top level allocates without end grows its process to
 * QuickJS's wasm32 ceiling before it is refused (2.7 GB of RSS seen, "out of memory"): without a
 * bound, many distinct deploys at once would each start a process.
 */
const builds = new PQueue({ concurrency: Math.max(1, availableParallelism()) });

/**
 * One componentize-qjs build in a child process of its own (componentize-child.ts), killed past
 * `limitMs`. Resolves with the child's reply; rejects with InvalidParameterValueException when the
 * build outran its limit or its process died without a reply.
 */
function buildInChild(request: BuildRequest, entry: string, limitMs: number): Promise<BuildReply> {
  const self = new URL(import.meta.url);
  const childEntry = new URL(`./componentize-child${self.pathname.endsWith('.ts') ? '.ts' : '.js'}`, self);
  const env = { ...process.env };
  delete env.NODE_OPTIONS; // the host's (a test runner's hooks) are not the build's business
  const child = fork(childEntry, [], { serialization: 'advanced', stdio: ['ignore', 'ignore', 'pipe', 'ipc'], env, execArgv: [] });
  let stderr = '';
  child.stderr?.setEncoding('utf8').on('data', (chunk: string) => {
    if (stderr.length < STDERR_KEPT) stderr = (stderr + chunk).slice(0, STDERR_KEPT);
  });
  return new Promise<BuildReply>((resolve, reject) => {
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(
        new InvalidParameterValueException(
          'code.entry',
          `componentize-qjs did not finish building ${entry} within ${limitMs} ms and was stopped: the module's top level runs at build time (Wizer), and it did not end`,
        ),
      );
    }, limitMs);
    timer.unref();
    child.once('message', (reply: BuildReply) => {
      clearTimeout(timer);
      resolve(reply);
    });
    child.once('exit', (code, signal) => {
      clearTimeout(timer);
      const why = signal ? `signal ${signal}` : `exit code ${String(code)}`;
      const said = stderr.trim() === '' ? '' : `: ${stderr.trim()}`;
      // After a reply this rejects nothing (a settled promise stays settled).
      reject(new InvalidParameterValueException('code.entry', `componentize-qjs's build of ${entry} ended (${why}) without a component${said}`));
    });
    child.once('error', (error) => {
      clearTimeout(timer);
      reject(error);
    });
    child.send(request);
  });
}

/** The entry file bundled into one ES module; imports of the WIT world's interfaces stay imports. */
export async function bundleEntry(entry: string): Promise<string> {
  try {
    const result = await build({
      entryPoints: [entry],
      bundle: true,
      format: 'esm',
      platform: 'neutral',
      mainFields: ['module', 'main'],
      external: ['lambdalet:*', 'wasi:*'],
      target: 'es2023',
      write: false,
      logLevel: 'silent',
    });
    return result.outputFiles[0]!.text;
  } catch (error) {
    const errors = (error as { errors?: { text: string; location?: { file: string; line: number } }[] }).errors;
    const first = errors?.[0];
    const where = first?.location ? ` (${first.location.file}:${first.location.line})` : '';
    throw new InvalidParameterValueException('code.entry', `cannot bundle ${entry}: ${first ? first.text + where : (error as Error).message}`);
  }
}

/** The specifiers under which {@link INSTANCE_WRAPPER} imports its generator and the user's bundled module. */
const RANDOM_MODULE = 'lambdalet-internal:random';
const USER_MODULE = 'lambdalet-internal:user-module';

/**
 * Math.random replaced by xoshiro128** (Blackman and Vigna; not a CSPRNG, as Math.random is not
 * one), with `reseed(text)`. Imported before the user's module, so its top level — and any
 * reference to Math.random it keeps — already has this generator.
 */
const RANDOM_SOURCE = `const state = new Uint32Array(4);
function splitmix32(seed) {
  let z = (seed + 0x9e3779b9) >>> 0;
  z = Math.imul(z ^ (z >>> 16), 0x85ebca6b);
  z = Math.imul(z ^ (z >>> 13), 0xc2b2ae35);
  return (z ^ (z >>> 16)) >>> 0;
}
export function reseed(text) {
  let h = 0x811c9dc5;
  const words = [0, 0, 0, 0];
  for (let i = 0; i < text.length; i++) {
    h = Math.imul(h ^ text.charCodeAt(i), 0x01000193) >>> 0;
    words[i & 3] = (Math.imul(words[i & 3], 31) + h) >>> 0;
  }
  for (let i = 0; i < 4; i++) state[i] = splitmix32((words[i] ^ Math.imul(h, i + 1)) >>> 0);
  if ((state[0] | state[1] | state[2] | state[3]) === 0) state[0] = 1;
}
const rotl = (x, k) => (x << k) | (x >>> (32 - k));
function next() {
  const result = Math.imul(rotl(Math.imul(state[1], 5), 7), 9) >>> 0;
  const t = state[1] << 9;
  state[2] ^= state[0];
  state[3] ^= state[1];
  state[1] ^= state[2];
  state[0] ^= state[3];
  state[2] ^= t;
  state[3] = rotl(state[3], 11);
  return result;
}
reseed(String(Math.random())); // build time: the same in every instance, like any top-level value
Math.random = function random() {
  return ((next() >>> 5) * 67108864 + (next() >>> 6)) / 9007199254740992;
};
`;

/**
 * What the component's module is: the user's module behind a `handler` whose first `handle` call in
 * each instance reseeds Math.random, whose exports are checked at build time and whose answers are
 * held to the world's types at each call.
 *
 * Why the reseed: componentize-qjs runs the module's top level at build time and Wizer snapshots the whole
 * QuickJS heap, the Math.random generator's state included, so every instance of the component —
 * every environment — drew the same Math.random() sequence (seen: identical values in every
 * environment). A snapshot restored many times must be reseeded (Lambda SnapStart's uniqueness
 * rule, docs "Handling uniqueness with Lambda SnapStart"). QuickJS's own generator cannot be
 * reseeded from JavaScript, so {@link RANDOM_SOURCE} replaces it; an instance's first `handle`
 * seeds it from the request id — a v4 UUID the host draws from its CSPRNG — and the wall clock.
 * Values drawn at the top level (build time) stay the same in every environment, as INIT-time
 * values do across SnapStart restores. componentize-qjs gives the module no crypto.
 *
 * Why the checks: componentize-qjs's runtime (Rust) panics on anything the world's types do not
 * allow, and the panic became a trap at invoke ("wasm trap: unreachable", the panic's text in the
 * log): a module without `handler.handle` (a Node.js Lambda handler, `export const handler = async
 * (event) => ...`, deployed on engine 'wasm' by mistake) deployed and then failed every invoke. So
 * the top level (build time) throws {@link SHAPE_MARK} + a reason for a module that cannot
 * implement the world — componentizeSource turns it into InvalidParameterValueException at deploy —
 * and `handle` turns what would panic into the `err` case: a result that is not a string is
 * Runtime.MalformedResponse (as text that is not JSON is, component-instance.ts), and a thrown value
 * other than `{ errorType, errorMessage }` (strings) is worded as Lambda's Node.js runtime words a
 * thrown value (RIC Errors.toRapidResponse: an Error's name and message, otherwise its typeof and
 * String()).
 */
const SHAPE_MARK = 'lambdalet-entry-shape:';
const INSTANCE_WRAPPER = `import { reseed } from '${RANDOM_MODULE}';
import * as user from '${USER_MODULE}';
const AsyncFunction = (async () => {}).constructor;
function refuse(reason) {
  throw new Error('${SHAPE_MARK}' + reason + ':');
}
const given = user.handler;
if (given === undefined) refuse(user.default !== undefined ? 'missing-default' : 'missing');
if (typeof given === 'function') refuse(given instanceof AsyncFunction ? 'async-function' : 'function');
if (given === null || typeof given !== 'object') refuse('not-object-' + (given === null ? 'null' : typeof given));
if (typeof given.handle !== 'function') refuse('no-handle-' + (given.handle === null ? 'null' : typeof given.handle));
if (given.handle instanceof AsyncFunction) refuse('async-handle');
const handle = given.handle;
function describe(value) {
  if (value === null) return 'null';
  if (typeof value === 'object' && typeof value.then === 'function') return 'a Promise (handle must be synchronous)';
  if (Array.isArray(value)) return 'an array';
  return typeof value === 'object' ? 'an object' : 'a value of type ' + typeof value;
}
function asFunctionError(thrown) {
  if (thrown !== null && typeof thrown === 'object' && typeof thrown.errorType === 'string' && typeof thrown.errorMessage === 'string') {
    return { errorType: thrown.errorType, errorMessage: thrown.errorMessage };
  }
  if (thrown instanceof Error) return { errorType: String(thrown.name), errorMessage: String(thrown.message) };
  let text;
  try {
    text = String(thrown);
  } catch {
    text = Object.prototype.toString.call(thrown);
  }
  return { errorType: typeof thrown, errorMessage: text };
}
let seededForInstance = false; // false in the snapshot: no handle runs at build time
export const handler = {
  handle(event, context) {
    if (!seededForInstance) {
      seededForInstance = true;
      reseed(String(context.requestId) + ':' + Date.now() + ':' + String(context.deadlineMs));
    }
    let result;
    try {
      result = handle.call(given, event, context);
    } catch (thrown) {
      throw asFunctionError(thrown);
    }
    if (typeof result !== 'string') {
      throw {
        errorType: 'Runtime.MalformedResponse',
        errorMessage: "The function's response is not JSON text: handle returned " + describe(result) + ', not a string',
      };
    }
    return result;
  },
};
`;

/** What {@link INSTANCE_WRAPPER}'s build-time check found, in words: why the module cannot be the world's. */
function shapeProblem(reason: string): string {
  const world = "engine 'wasm' runs a module implementing lambdalet's WIT world, `export const handler = { handle(event, context) { return jsonText } }` with a synchronous handle (docs/wasm.md)";
  const nodeHandler = "; a Node.js Lambda handler runs on engine 'v8' (the default) or 'quickjs'";
  if (reason === 'missing') return `it does not export handler: ${world}`;
  if (reason === 'missing-default') return `it has a default export but no export named handler: ${world}`;
  if (reason === 'function' || reason === 'async-function') {
    return `it exports handler as ${reason === 'async-function' ? 'an async function' : 'a function'}, as a Node.js Lambda handler does: ${world}${nodeHandler}`;
  }
  if (reason === 'async-handle') return `its handler.handle is an async function: ${world}`;
  const [, what, type] = /^(not-object|no-handle)-(.*)$/.exec(reason) ?? [];
  if (what === 'not-object') return `it exports handler as ${type === 'null' ? 'null' : `a ${type}`}: ${world}`;
  if (what === 'no-handle') return `its handler has no handle function (handler.handle is ${type === 'undefined' || type === 'null' ? type : `a ${type}`}): ${world}`;
  return `it does not implement the world (${reason}): ${world}`;
}

/** `source` (a bundled ES module) behind {@link INSTANCE_WRAPPER}, as one ES module. */
async function wrapForInstances(source: string): Promise<string> {
  const result = await build({
    stdin: { contents: INSTANCE_WRAPPER, loader: 'js', sourcefile: 'lambdalet-instance.js' },
    bundle: true,
    format: 'esm',
    platform: 'neutral',
    external: ['lambdalet:*', 'wasi:*'],
    target: 'es2023',
    write: false,
    logLevel: 'silent',
    plugins: [
      {
        name: 'lambdalet-user-module',
        setup(plugin) {
          const modules: Record<string, string> = { [RANDOM_MODULE]: RANDOM_SOURCE, [USER_MODULE]: source };
          plugin.onResolve({ filter: /^lambdalet-internal:/ }, (args) => ({ path: args.path, namespace: 'lambdalet-internal' }));
          plugin.onLoad({ filter: /.*/, namespace: 'lambdalet-internal' }, (args) => ({ contents: modules[args.path], loader: 'js' }));
        },
      },
    ],
  });
  return result.outputFiles[0]!.text;
}

/**
 * The component for `source` (a bundled ES module), built once per source; Math.random reseeded per
 * instance (see {@link INSTANCE_WRAPPER}). A module the wrapper's checks refuse is refused before the
 * build when a quick evaluation of its top level already says so (entry-shape.ts: at most ~0.2 CPU-s
 * against ~1.8 for the build); `quickCheck: false` leaves it to the build's own run of the top level (tests).
 * The build runs in a child process killed after `buildLimitMs` (default {@link BUILD_LIMIT_MS}),
 * at most one per core at once (the others wait, their limit not yet counting).
 * @throws InvalidParameterValueException when componentize-qjs refuses the module, or its build
 *   outran `buildLimitMs` or died. EngineUnavailableError when componentize-qjs does not load.
 */
export function componentizeSource(
  source: string,
  entry = 'the module',
  options: { readonly quickCheck?: boolean; readonly buildLimitMs?: number } = {},
): Promise<Uint8Array> {
  const shapeRefusal = (message: string): InvalidParameterValueException | undefined => {
    const shape = new RegExp(`${SHAPE_MARK}([a-z-]+):`).exec(message);
    return shape ? new InvalidParameterValueException('code.entry', `${entry} cannot run on engine 'wasm': ${shapeProblem(shape[1]!)}`) : undefined;
  };
  // Keyed by the check too: a build asked without it must not be answered by a refusal in flight that had it.
  const key = `${createHash('sha256').update(source).digest('hex')}${options.quickCheck === false ? ':unchecked' : ''}`;
  let built = cache.get(key);
  if (built) {
    cache.delete(key);
  } else {
    built = (async () => {
      let jsSource: string;
      try {
        jsSource = await wrapForInstances(source);
      } catch (error) {
        const first = (error as { errors?: { text: string }[] }).errors?.[0];
        throw new InvalidParameterValueException('code.entry', `cannot bundle the module: ${first ? first.text : (error as Error).message}`);
      }
      if (options.quickCheck !== false) {
        const early = await quickShapeError(jsSource);
        const refusal = early === undefined ? undefined : shapeRefusal(early);
        if (refusal) throw refusal;
      }
      const reply = await builds.add(() => buildInChild({ witPath: WIT_DIR, jsSource, world: 'function' }, entry, options.buildLimitMs ?? BUILD_LIMIT_MS));
      if (reply.t === 'built') return reply.component;
      if (reply.t === 'unavailable') {
        throw new EngineUnavailableError(
          `engine 'wasm' with code.entry needs componentize-qjs (an optional dependency with prebuilt binaries), which did not load: ${reply.message}`,
        );
      }
      throw shapeRefusal(reply.message) ?? new InvalidParameterValueException('code.entry', `componentize-qjs could not build the component: ${reply.message}`);
    })();
    built.catch(() => cache.delete(key));
  }
  cache.set(key, built);
  while (cache.size > CACHE_SIZE) cache.delete(cache.keys().next().value!);
  return built;
}
