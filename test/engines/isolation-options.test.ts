/** The runtime options that place sandboxes: `isolation`, `engineThreads`, `engineProcesses`, `quickjsThreadsMax`, `cpuHeavyNice` (bounds at, under and over). */
import { availableParallelism } from 'node:os';
import { describe, expect, it } from 'vitest';
import { CPU_HEAVY_NICE_MAX, ENGINE_PROCESSES_MAX, ENGINE_THREADS_MAX, parseRuntimeOptions } from '../../src/config/index.ts';
import { InvalidParameterValueException } from '../../src/errors.ts';

function failure(input: Record<string, unknown>): [string, string] {
  try {
    parseRuntimeOptions(input);
  } catch (error) {
    expect(error).toBeInstanceOf(InvalidParameterValueException);
    return [(error as InvalidParameterValueException).field, (error as Error).message];
  }
  throw new Error(`parseRuntimeOptions(${JSON.stringify(input)}) did not throw`);
}

describe('isolation options', () => {
  it('default: in-process, worker threads as many as the host runs in parallel, at most 4 child processes', () => {
    expect(parseRuntimeOptions()).toMatchObject({
      isolation: 'in-process',
      engineThreads: Math.min(ENGINE_THREADS_MAX, availableParallelism()),
      engineProcesses: Math.min(4, availableParallelism()),
      cpuHeavyNice: 10,
    });
    // quickjsThreadsMax: none given, each pool's own default (4x engineThreads in-process, 4 per child).
    expect(parseRuntimeOptions().quickjsThreadsMax).toBeUndefined();
    expect(parseRuntimeOptions({ isolation: 'process' }).isolation).toBe('process');
  });

  it('isolation is one of in-process or process', () => {
    expect(failure({ isolation: 'thread' })).toEqual(['isolation', 'Expected `isolation` to be one of `in-process`, `process`, got `thread` (string)']);
  });

  it.each([
    ['engineThreads', ENGINE_THREADS_MAX],
    ['engineProcesses', ENGINE_PROCESSES_MAX],
    ['quickjsThreadsMax', ENGINE_THREADS_MAX],
  ])('%s: 1 to %i', (field, max) => {
    expect(parseRuntimeOptions({ [field]: 1 })).toMatchObject({ [field]: 1 });
    expect(parseRuntimeOptions({ [field]: max })).toMatchObject({ [field]: max });
    expect(parseRuntimeOptions({ [field]: max - 1 })).toMatchObject({ [field]: max - 1 });
    const message = `Expected \`${field}\` to be an integer from 1 to ${max}, got`;
    expect(failure({ [field]: 0 })).toEqual([field, `${message} \`0\` (number)`]);
    expect(failure({ [field]: max + 1 })).toEqual([field, `${message} \`${max + 1}\` (number)`]);
    expect(failure({ [field]: 1.5 })).toEqual([field, `${message} \`1.5\` (number)`]);
  });

  it(`cpuHeavyNice: 0 (CPU-heavy functions stay where they are) to ${CPU_HEAVY_NICE_MAX} (the lowest OS priority)`, () => {
    for (const good of [0, 1, 10, CPU_HEAVY_NICE_MAX - 1, CPU_HEAVY_NICE_MAX]) expect(parseRuntimeOptions({ cpuHeavyNice: good })).toMatchObject({ cpuHeavyNice: good });
    const message = `Expected \`cpuHeavyNice\` to be an integer from 0 to ${CPU_HEAVY_NICE_MAX}, got`;
    expect(failure({ cpuHeavyNice: -1 })).toEqual(['cpuHeavyNice', `${message} \`-1\` (number)`]);
    expect(failure({ cpuHeavyNice: CPU_HEAVY_NICE_MAX + 1 })).toEqual(['cpuHeavyNice', `${message} \`${CPU_HEAVY_NICE_MAX + 1}\` (number)`]);
    expect(failure({ cpuHeavyNice: 2.5 })).toEqual(['cpuHeavyNice', `${message} \`2.5\` (number)`]);
  });
});
