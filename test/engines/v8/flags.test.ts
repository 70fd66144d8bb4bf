import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { hasNoNodeSnapshotFlag } from '../../../src/engines/v8/flags.ts';

const indexUrl = new URL('../../../src/index.ts', import.meta.url).href;

describe('v8 engine: --no-node-snapshot', () => {
  it('flags: found in execArgv or in NODE_OPTIONS, not elsewhere', () => {
    expect(hasNoNodeSnapshotFlag(['--no-node-snapshot'], undefined)).toBe(true);
    expect(hasNoNodeSnapshotFlag([], '--max-old-space-size=100 --no-node-snapshot')).toBe(true);
    expect(hasNoNodeSnapshotFlag(['--no-node-snapshots'], '--node-snapshot')).toBe(false);
    expect(hasNoNodeSnapshotFlag([], undefined)).toBe(false);
  });

  it('flags: a process without the flag gets EngineUnavailableError at deploy, saying how to fix it', () => {
    const script = `
      import { createRuntime } from ${JSON.stringify(indexUrl)};
      const rt = await createRuntime();
      try {
        await rt.deploy({ name: 'f', code: { files: { 'index.mjs': 'export const handler = async () => 1' } } });
        console.log('DEPLOYED');
      } catch (error) {
        console.log(JSON.stringify({ name: error.name, code: error.code, message: error.message }));
      }
      await rt.close();`;
    const env = { ...process.env };
    delete env.NODE_OPTIONS;
    const child = spawnSync(process.execPath, ['--input-type=module', '-e', script], {
      env,
      encoding: 'utf8',
      cwd: fileURLToPath(new URL('../../..', import.meta.url)),
    });
    expect(child.status).toBe(0);
    const reported = JSON.parse(child.stdout.trim()) as { name: string; code: string; message: string };
    expect(reported.name).toBe('EngineUnavailableError');
    expect(reported.code).toBe('EngineUnavailable');
    expect(reported.message).toContain('node --no-node-snapshot');
    expect(reported.message).toContain("execArgv: ['--no-node-snapshot']");
    // The engine that needs no flag exists: the message names it (issue #12).
    expect(reported.message).toContain("Or deploy the function with `engine: 'quickjs'` (QuickJS compiled to WebAssembly), which needs no flag.");
  });
});
