import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { CATASTROPHE_BOMB, CATASTROPHE_BOMB_MEMORY_MB } from '../../helpers/catastrophe-bomb.ts';

const indexUrl = new URL('../../../src/index.ts', import.meta.url).href;

/**
 * A bomb isolated-vm does not always contain: a Map of small arrays under memoryMb 128
 * (helpers/catastrophe-bomb.ts). On Node 24 (V8 13.6) it exhausts V8's own heap before
 * isolated-vm's soft limit acts and isolated-vm reports a catastrophic error (its thread is parked
 * forever, so the process cannot even exit on its own); on Node 26 the soft limit catches it.
 * Either way lambdalet must answer the invocation with Runtime.OutOfMemory; after a catastrophe
 * in-process v8 degrades to process isolation, says so once (LAMBDALET_V8_DEGRADED) and keeps
 * admitting v8 work (v8/in-process-health.ts; the full picture: catastrophe-degrade.test.ts). Run
 * in a child process that we kill.
 */
describe('v8 engine: catastrophic out of memory', () => {
  it('catastrophic: the invoke returns Runtime.OutOfMemory; after a catastrophe one warning, and invokes are still admitted', async () => {
    const script = `
      import { createRuntime, silentSink } from ${JSON.stringify(indexUrl)};
      const rt = await createRuntime({ logSink: silentSink });
      // The neighbour's deadline is far past its work: after a degrade it cold-starts in a child.
      await rt.deploy({ name: 'ok', timeoutMs: 300000, code: { files: { 'index.mjs': 'export const handler = async () => "fine"' } } });
      await rt.invoke('ok');
      await rt.deploy({ name: 'bomb', memoryMb: ${CATASTROPHE_BOMB_MEMORY_MB}, timeoutMs: 30000, code: { files: { 'index.mjs': ${JSON.stringify(CATASTROPHE_BOMB)} } } });
      const bombed = await rt.invoke('bomb');
      console.log('RESULT ' + JSON.stringify(bombed.payload));
      try {
        await rt.invoke('ok');
        console.log('AFTER admitted');
      } catch (error) {
        console.log('AFTER ' + JSON.stringify({ name: error.name, message: error.message }));
      }
      console.log('DONE');`;
    const child = spawn(process.execPath, ['--no-node-snapshot', '--input-type=module', '-e', script], {
      cwd: fileURLToPath(new URL('../../..', import.meta.url)),
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`no DONE within 60 s; stdout: ${stdout}; stderr: ${stderr.slice(-2000)}`)), 60_000);
      child.stdout.on('data', (chunk: Buffer) => {
        stdout += chunk.toString();
        if (stdout.includes('DONE')) {
          clearTimeout(timer);
          resolve();
        }
      });
      child.on('exit', () => {
        clearTimeout(timer);
        resolve();
      });
    });
    child.kill('SIGKILL');

    const result = JSON.parse(/RESULT (.*)/.exec(stdout)?.[1] ?? 'null') as { errorType: string } | null;
    expect(result?.errorType).toBe('Runtime.OutOfMemory');
    // A catastrophe (in-process v8 degraded to child processes) or isolated-vm's soft limit
    // containing it: either way the engine keeps serving.
    expect(stdout, stderr.slice(-2000)).toContain('AFTER admitted');
    expect(stderr.split('[LAMBDALET_V8_DEGRADED]').length - 1).toBeLessThanOrEqual(1);
  }, 90_000);
});
