/**
 * `handler.handle` called on the core export directly, without jco's per-call machinery.
 *
 * Why: jco 1.x's glue wraps every export call in its async-task bookkeeping (a task object, a
 * promise, task-meta maps, debug-log argument objects) even for a synchronous export; profiled, that
 * was most of a warm call into a trivial C component (about 20 µs of 22 in-thread). The world's one
 * export has a fixed signature, `handle(event: string, context: context) -> result<string,
 * function-error>`, so its canonical-ABI lowering and lifting are small and written out here, exactly
 * as jco's glue does them (same allocation calls, same layout, same post-return rule):
 *
 * - params, flattened (12 <= MAX_FLAT_PARAMS): event ptr/len, the context's four strings ptr/len,
 *   memory-limit-mb as u32, deadline-ms as u64; strings as UTF-8 through the export's realloc
 *   (`realloc(0, 0, 1, len)`; the empty string is ptr 1, len 0, no allocation);
 * - the result through a return area: u8 discriminant at +0; ok: string ptr/len at +4/+8; err:
 *   error-type at +4/+8, error-message at +12/+16;
 * - then the post-return function, during which the instance may not call out (`mayLeave` false).
 *
 * The core pieces are taken from the glue itself: {@link exposeCoreHandle} finds, in jco's generated
 * `handle`, the names of the core function, memory, realloc and post-return it uses, and adds one
 * non-enumerable accessor to the exported handler object. When jco's output does not have the
 * expected shape, the glue is left unchanged and the glue's own `handle` is called (slower, same
 * results); test/engines/wasm/core-handle.test.ts fails if that happens to the committed components.
 */

/** The accessor's property name on the exported handler object. */
export const CORE_HANDLE = 'lambdaletCoreHandle';

/** What {@link exposeCoreHandle} exposes, read after instantiation. */
export interface CorePieces {
  readonly memory: WebAssembly.Memory;
  readonly realloc: (oldPtr: number, oldLen: number, align: number, newLen: number) => number;
  readonly handle: (...params: (number | bigint)[]) => number;
  readonly postReturn: (ret: number) => void;
  /** Sets the component's `mayLeave` flag (false while post-return runs). */
  readonly mayLeave: (may: boolean) => void;
}

/** The context record of handle (native/wit/function.wit), as plain numbers. */
export interface HandleContext {
  readonly requestId: string;
  readonly functionName: string;
  readonly functionVersion: string;
  readonly invokedFunctionArn: string;
  readonly memoryLimitMb: number;
  /** ms since the epoch (a u64 in the WIT: a BigInt at the glue). */
  readonly deadlineMs: number;
}

/** handle's result: the ok string, or the err record (as the glue throws it). */
export type HandleResult = { readonly ok: true; readonly value: string } | { readonly ok: false; readonly errorType: string; readonly errorMessage: string };

/**
 * `module` (jco's glue source) with the core accessor added to the exported handler object, or
 * unchanged when its `handle` is not the shape this file lowers (then the glue's own is used).
 */
export function exposeCoreHandle(module: string): string {
  const start = module.indexOf('\n  function handle(arg0, arg1) {\n');
  if (start < 0) return module;
  const end = module.indexOf('\n  }\n', start + 1);
  const body = module.slice(start, end);
  if (!body.includes('isAsync: false,') || !body.includes('task.setCalleeIsAsync(false);')) return module;
  const lowered = /_utf8AllocateAndEncode\(arg0, (\w+), (\w+)\);/.exec(body);
  const called = /fn: \(\) => (\w+)\(ptr0, len0, ptr2, len2, ptr3, len3, ptr4, len4, ptr5, len5, toUint32\(v1_4\), toUint64\(v1_5\)\),/.exec(body);
  const after = /let cstate = getOrCreateAsyncState\((\d+)\);\s*cstate\.mayLeave = false;\s*(\w+)\(ret\);\s*cstate\.mayLeave = true;/.exec(body);
  const returned = /^ {2}return \{ handler: (\w+),/m.exec(module);
  // The result lifted as callCoreHandle lifts it: result<string, function-error>, discriminant at
  // +0, ok's string at +4/+8, err's two strings at +4/+8 and +12/+16 (another result type: the glue's own handle).
  if (!lowered || !called || !after || !returned || !LIFTED_RESULT.test(body)) return module;
  const [, realloc, memory] = lowered;
  const [, core] = called;
  const [, component, post] = after;
  const memoryReads = body.match(/dataView\((\w+)\)/g) ?? [];
  if (memoryReads.some((read) => read !== `dataView(${memory})`)) return module;
  const accessor =
    `  Object.defineProperty(${returned[1]}, '${CORE_HANDLE}', { value: () => ({ memory: ${memory}, realloc: ${realloc}, handle: ${core}, ` +
    `postReturn: ${post}, mayLeave: (may) => { getOrCreateAsyncState(${component}).mayLeave = may; } }) });\n`;
  return module.slice(0, returned.index) + accessor + module.slice(returned.index);
}

const STRING_AT = (offset: number, len: number): string =>
  String.raw`var ptr\d+ = dataView\(\w+\)\.getUint32\(ret \+ ${offset}, true\);\s*var len\d+ = dataView\(\w+\)\.getUint32\(ret \+ ${len}, true\);\s*` +
  String.raw`var result\d+ = TEXT_DECODER_UTF8\.decode\(new Uint8Array\(\w+\.buffer, ptr\d+, len\d+\)\);\s*`;
/** jco's lifting of `result<string, function-error>` from the return area (see exposeCoreHandle). */
const LIFTED_RESULT = new RegExp(
  String.raw`switch \(dataView\(\w+\)\.getUint8\(ret \+ 0, true\)\) \{\s*case 0: \{\s*` +
    STRING_AT(4, 8) +
    String.raw`variant\d+ ?= \{\s*tag: 'ok',\s*val: result\d+\s*\};\s*break;\s*\}\s*case 1: \{\s*` +
    STRING_AT(4, 8) +
    STRING_AT(12, 16) +
    String.raw`variant\d+ ?= \{\s*tag: 'err',\s*val: \{\s*errorType: result\d+,\s*errorMessage: result\d+,\s*\}\s*\};\s*break;\s*\}\s*` +
    String.raw`default: \{\s*throw new TypeError\('invalid variant discriminant for expected'\);`,
);

const encoder = new TextEncoder();
const decoder = new TextDecoder();

/** `text` as UTF-8 in the instance's memory, allocated with its realloc: [pointer, length]. */
function lower(core: CorePieces, text: string): [number, number] {
  if (text.length === 0) return [1, 0];
  const length = Buffer.byteLength(text, 'utf8');
  const pointer = core.realloc(0, 0, 1, length);
  const { read, written } = encoder.encodeInto(text, new Uint8Array(core.memory.buffer, pointer, length));
  if (read !== text.length || written !== length) throw new Error('failed to encode whole string');
  return [pointer, length];
}

function lift(memory: WebAssembly.Memory, view: DataView, at: number): string {
  return decoder.decode(new Uint8Array(memory.buffer, view.getUint32(at, true), view.getUint32(at + 4, true)));
}

/** Calls handle on the core export (see the module comment). Traps propagate as thrown. */
export function callCoreHandle(core: CorePieces, event: string, context: HandleContext): HandleResult {
  const [p0, l0] = lower(core, event);
  const [p1, l1] = lower(core, context.requestId);
  const [p2, l2] = lower(core, context.functionName);
  const [p3, l3] = lower(core, context.functionVersion);
  const [p4, l4] = lower(core, context.invokedFunctionArn);
  const deadline = BigInt.asUintN(64, BigInt(context.deadlineMs));
  const ret = core.handle(p0, l0, p1, l1, p2, l2, p3, l3, p4, l4, context.memoryLimitMb >>> 0, deadline);
  const { memory } = core;
  const view = new DataView(memory.buffer);
  let result: HandleResult;
  switch (view.getUint8(ret)) {
    case 0:
      result = { ok: true, value: lift(memory, view, ret + 4) };
      break;
    case 1:
      result = { ok: false, errorType: lift(memory, view, ret + 4), errorMessage: lift(memory, view, ret + 12) };
      break;
    default:
      throw new TypeError('invalid variant discriminant for expected');
  }
  core.mayLeave(false);
  try {
    core.postReturn(ret);
  } finally {
    core.mayLeave(true);
  }
  return result;
}
