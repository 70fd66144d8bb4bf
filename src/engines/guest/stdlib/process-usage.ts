/**
 * process.memoryUsage(), .rss(), cpuUsage() and resourceUsage() (issue #12), in the os chunk:
 * process.ts loads it on the first call, so the boot script that every cold start parses stays
 * without it.
 */
import { hostCall, nodeError } from '../bridge.ts';
import { USAGE_OP } from '../protocol.ts';
import { describeReceived, invalidArgType } from './node-errors.ts';

/**
 * The environment's own figures (protocol.ts USAGE_OP: [rss, heapTotal, heapUsed, external,
 * arrayBuffers, cpuMicros]), answered by the engine from this isolate or QuickJS runtime alone;
 * zeros where no engine answers (a V8 snapshot's replay of INIT in its own process).
 */
function readUsage(): number[] {
  const figures = [0, 0, 0, 0, 0, 0];
  try {
    const { value } = hostCall(USAGE_OP, []);
    if (!Array.isArray(value)) return figures;
    for (let i = 0; i < figures.length; i++) {
      const n: unknown = value[i];
      if (typeof n === 'number' && n > 0 && n <= Number.MAX_SAFE_INTEGER) figures[i] = Math.floor(n);
    }
  } catch {
    // No engine answers here: zeros, as Node's figures before anything ran would be near.
  }
  return figures;
}

/** ERR_INVALID_ARG_TYPE for a property (Node says "property" for a name with a dot). */
function propertyType(name: string, value: unknown): TypeError & { code: string } {
  return nodeError(TypeError, 'ERR_INVALID_ARG_TYPE', `The "${name}" property must be of type number. Received ${describeReceived(value)}`);
}

/** Node's check of cpuUsage's previousValue (lib/internal/process/per_thread.js previousValueIsValid). */
function validPrevious(n: unknown): boolean {
  return typeof n === 'number' && n <= Number.MAX_SAFE_INTEGER && n >= 0;
}

/**
 * process.memoryUsage(), .rss(), cpuUsage() and resourceUsage() with Node's shapes, from the
 * environment's own figures (readUsage): rss is the memory it is charged against memoryMb (what
 * Max Memory Used reads), heapTotal/heapUsed the engine's heap, external/arrayBuffers the
 * ArrayBuffer memory; CPU time is the environment's own, all of it as user time (the engine does
 * not tell system time apart), never below an earlier answer. maxRSS (KiB, as Node's) is the most
 * rss any of these calls has seen.
 */
export function createProcessUsage() {
  let maxRss = 0;
  let cpu = 0;
  const read = (): number[] => {
    const figures = readUsage();
    if (figures[0]! > maxRss) maxRss = figures[0]!;
    if (figures[5]! > cpu) cpu = figures[5]!;
    return figures;
  };
  const memoryUsage = (): { rss: number; heapTotal: number; heapUsed: number; external: number; arrayBuffers: number } => {
    const [rss, heapTotal, heapUsed, external, arrayBuffers] = read() as [number, number, number, number, number];
    return { rss, heapTotal, heapUsed, external, arrayBuffers };
  };
  const rss = (): number => read()[0]!;
  const cpuUsage = (previousValue?: unknown): { user: number; system: number } => {
    const prev = previousValue as { user?: unknown; system?: unknown } | undefined;
    if (prev) {
      if (!validPrevious(prev.user)) {
        if (typeof prev !== 'object') throw invalidArgType('prevValue', 'of type object', prev);
        if (typeof prev.user !== 'number') throw propertyType('prevValue.user', prev.user);
        throw nodeError(RangeError, 'ERR_INVALID_ARG_VALUE', `The property 'prevValue.user' is invalid. Received ${String(prev.user)}`);
      }
      if (!validPrevious(prev.system)) {
        if (typeof prev.system !== 'number') throw propertyType('prevValue.system', prev.system);
        throw nodeError(RangeError, 'ERR_INVALID_ARG_VALUE', `The property 'prevValue.system' is invalid. Received ${String(prev.system)}`);
      }
    }
    read();
    return prev ? { user: cpu - (prev.user as number), system: 0 - (prev.system as number) } : { user: cpu, system: 0 };
  };
  const resourceUsage = (): Record<string, number> => {
    read();
    return {
      userCPUTime: cpu, systemCPUTime: 0, maxRSS: Math.floor(maxRss / 1024), sharedMemorySize: 0, unsharedDataSize: 0, unsharedStackSize: 0,
      minorPageFault: 0, majorPageFault: 0, swappedOut: 0, fsRead: 0, fsWrite: 0, ipcSent: 0, ipcReceived: 0, signalsCount: 0,
      voluntaryContextSwitches: 0, involuntaryContextSwitches: 0,
    };
  };
  return { memoryUsage, rss, cpuUsage, resourceUsage };
}
