/**
 * In-process v8 after isolated-vm's catastrophic error (issue #15, v8/in-process-health.ts): the
 * invocation that hit it is Runtime.OutOfMemory, as before; the host does not stop serving v8 any
 * more — in-process v8 degrades to process isolation's child processes, every runtime of the
 * process alike. What must hold, whichever isolate hits it (one on the host's isolated-vm, or a
 * SnapStart restore server's in a worker thread of the host):
 *
 * - every other function answers afterwards: warm ones (their in-process environments retired, so
 *   they cold-start in a child), SnapStart ones (their image copied to the children), another
 *   runtime's, quickjs, functions deployed afterwards (SnapStart included), and the bomb itself again;
 * - one LAMBDALET_V8_DEGRADED warning, `rt.metrics().isolation` says `process` with the error;
 * - the host process stays alive and keeps answering.
 *
 * The bomb (helpers/catastrophe-bomb.ts: a Map of small arrays under memoryMb 128) ends in a
 * catastrophe on Node 24 (V8 exhausts its own heap before isolated-vm's soft limit acts); when the
 * soft limit contains it instead (Node 26, some runs) nothing degrades, and the neighbours must
 * answer all the same.
 * Each case runs in a child process of its own: the catastrophe parks an isolated-vm thread there
 * for good (isolated-vm's design), which no test runner's process should keep.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { CATASTROPHE_BOMB as BOMB, CATASTROPHE_BOMB_MEMORY_MB } from '../../helpers/catastrophe-bomb.ts';
import { catastropheChildPrelude, runUntilDone, taggedLine } from '../../helpers/process.ts';
import { GENEROUS_TIMEOUT_MS, SLOW_CASE_LIMIT_MS } from '../../helpers/runtime.ts';

const NEIGHBOUR = 'export const handler = async (e) => ({ neighbour: e.n })';

/**
 * Runs `script` (ESM) in a fresh `node --no-node-snapshot`; resolves with its stdout and stderr
 * once it prints DONE or exits. From a file, not `--input-type=module -e`: the restore servers'
 * worker threads cannot inherit `--input-type` (worker-host.ts), and without it they would not
 * have `--no-node-snapshot` either.
 */
async function runChild(script: string, limitMs: number): Promise<{ stdout: string; stderr: string }> {
  const dir = mkdtempSync(join(tmpdir(), 'lambdalet-degrade-'));
  const file = join(dir, 'host.mjs');
  writeFileSync(file, script);
  try {
    return await runUntilDone([file], limitMs);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/**
 * The child's script: two runtimes in one process, neighbours of every kind warmed, then
 * `bombName` invoked, then everything again. Each result line is `TAG {payload | error}`. Every
 * neighbour's deadline is far past its work: a cold start in a child after the degrade, on a busy
 * machine, must never time out (the case tests containment, not speed).
 */
function script(bombName: 'bomb' | 'snap-bomb'): string {
  return `
    ${catastropheChildPrelude()}
    const files = (code) => ({ files: { 'index.mjs': code } });
    const rt = await createRuntime({ logSink: silentSink, engineProcesses: 1 });
    const other = await createRuntime({ logSink: silentSink, engineProcesses: 1 });
    await rt.deploy({ name: 'warm', timeoutMs: ${GENEROUS_TIMEOUT_MS}, code: files(${JSON.stringify(NEIGHBOUR)}) });
    await rt.deploy({ name: 'snap', snapStart: true, timeoutMs: ${GENEROUS_TIMEOUT_MS}, code: files(${JSON.stringify(NEIGHBOUR)}) });
    await rt.deploy({ name: 'qjs', engine: 'quickjs', timeoutMs: ${GENEROUS_TIMEOUT_MS}, code: files(${JSON.stringify(NEIGHBOUR)}) });
    await other.deploy({ name: 'other', timeoutMs: ${GENEROUS_TIMEOUT_MS}, code: files(${JSON.stringify(NEIGHBOUR)}) });
    await rt.deploy({ name: 'bomb', memoryMb: ${CATASTROPHE_BOMB_MEMORY_MB}, timeoutMs: ${GENEROUS_TIMEOUT_MS}, code: files(${JSON.stringify(BOMB)}) });
    await rt.deploy({ name: 'snap-bomb', memoryMb: ${CATASTROPHE_BOMB_MEMORY_MB}, snapStart: true, timeoutMs: ${GENEROUS_TIMEOUT_MS}, code: files(${JSON.stringify(BOMB)}) });
    await show('WARM0', () => rt.invoke('warm', { n: 0 }));
    await show('SNAP0', () => rt.invoke('snap', { n: 0 }));
    await show('OTHER0', () => other.invoke('other', { n: 0 }));
    console.log('CHILDREN0 ' + JSON.stringify(engineProcessIds().length));
    await show('BOMB', () => rt.invoke(${JSON.stringify(bombName)}));
    await show('WARM1', () => rt.invoke('warm', { n: 1 }));
    await show('WARM2', () => rt.invoke('warm', { n: 2 }));
    await show('SNAP1', () => rt.invoke('snap', { n: 1 }));
    await show('OTHER1', () => other.invoke('other', { n: 1 }));
    await show('QJS1', () => rt.invoke('qjs', { n: 1 }));
    await rt.deploy({ name: 'later', timeoutMs: ${GENEROUS_TIMEOUT_MS}, code: files(${JSON.stringify(NEIGHBOUR)}) });
    await show('LATER1', () => rt.invoke('later', { n: 1 }));
    await rt.deploy({ name: 'later-snap', snapStart: true, timeoutMs: ${GENEROUS_TIMEOUT_MS}, code: files(${JSON.stringify(NEIGHBOUR)}) });
    await show('LATERSNAP1', () => rt.invoke('later-snap', { n: 1 }));
    await show('BOMBAGAIN', () => rt.invoke('bomb'));
    await show('WARM3', () => rt.invoke('warm', { n: 3 }));
    console.log('CHILDREN1 ' + JSON.stringify(engineProcessIds().length));
    console.log('ISOLATION ' + JSON.stringify({ rt: rt.metrics().isolation, other: other.metrics().isolation }));
    console.log('WARNINGS ' + JSON.stringify(warnings));
    console.log('DONE');`;
}

type Shown = { payload?: unknown; functionError?: string | null; name?: string; message?: string };

describe('in-process v8 after a catastrophic isolated-vm error: degraded to process isolation', () => {
  for (const [bombName, where] of [
    ['bomb', "an isolate on the host's isolated-vm"],
    ['snap-bomb', "a SnapStart restore server's isolate (a worker thread of the host)"],
  ] as const) {
    it(`${where}: the bomb is Runtime.OutOfMemory; every neighbour, both runtimes, later deploys and the bomb again answer`, async () => {
      // The child's whole run (start-up, two engines, children, two bombs): far past its work.
      const { stdout, stderr } = await runChild(script(bombName), GENEROUS_TIMEOUT_MS);
      const bombed = taggedLine(stdout, 'BOMB') as Shown | undefined;
      expect(bombed?.functionError, stderr.slice(-2000)).toBe('Unhandled');
      expect((bombed?.payload as { errorType?: string }).errorType).toBe('Runtime.OutOfMemory');
      // Before the bomb, nothing ran in a child (in-process v8; quickjs in worker threads).
      expect(taggedLine(stdout, 'CHILDREN0')).toBe(0);
      for (const [tag, n] of [
        ['WARM0', 0],
        ['SNAP0', 0],
        ['OTHER0', 0],
        ['WARM1', 1],
        ['WARM2', 2],
        ['SNAP1', 1],
        ['OTHER1', 1],
        ['QJS1', 1],
        ['LATER1', 1],
        ['LATERSNAP1', 1],
        ['WARM3', 3],
      ] as const) {
        expect(taggedLine(stdout, tag), `${tag}; stderr: ${stderr.slice(-2000)}`).toEqual({ payload: { neighbour: n }, functionError: null });
      }
      // The bomb again: contained again (in a child, or in-process by the soft limit).
      expect(((taggedLine(stdout, 'BOMBAGAIN') as Shown).payload as { errorType?: string }).errorType).toBe('Runtime.OutOfMemory');
      const warnings = taggedLine(stdout, 'WARNINGS') as string[];
      const isolation = taggedLine(stdout, 'ISOLATION') as { rt: { v8: string; v8DegradedBy?: string }; other: { v8: string; v8DegradedBy?: string } };
      if (warnings.includes('LAMBDALET_V8_DEGRADED')) {
        // One warning for the process, whichever runtime's isolate failed.
        expect(warnings.filter((code) => code === 'LAMBDALET_V8_DEGRADED')).toHaveLength(1);
        expect(warnings).not.toContain('LAMBDALET_V8_CATASTROPHIC');
        for (const each of [isolation.rt, isolation.other]) {
          expect(each.v8).toBe('process');
          expect(each.v8DegradedBy).toMatch(/out-of-memory|memory/i);
        }
        // v8 now runs in child processes.
        expect(taggedLine(stdout, 'CHILDREN1')).toBeGreaterThan(0);
      } else {
        // isolated-vm's soft limit contained it: nothing degraded, v8 serves on in-process.
        expect(isolation).toEqual({ rt: { v8: 'in-process' }, other: { v8: 'in-process' } });
      }
    }, SLOW_CASE_LIMIT_MS);
  }
});
