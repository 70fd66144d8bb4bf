import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { collectRun } from '../../helpers/process.ts';

const indexUrl = new URL('../../../src/index.ts', import.meta.url).href;

/**
 * Invariant (issue #15): a guest cannot make the host's thread wait on its isolate. V8 runs a
 * FinalizationRegistry's callbacks as tasks of their own, after the call that collected the
 * objects and outside its timeout; isolated-vm runs them with the isolate locked. The host used to
 * read the guest's status after each call with `applySync`, which waits for that lock before its
 * own timeout starts: a callback spinning for ever blocked the host's thread in a futex for ever
 * (reproduced with plain isolated-vm 7.0.1: the applySync of a 1 s timeout waited as long as the
 * callback spun). Now nothing after boot is synchronous, every call is bounded on the host's clock,
 * and the invocation ends as Lambda ends one that overruns: Sandbox.Timedout.
 *
 * Run in a child process with a hang detector: a regression blocks the whole process, which would
 * stop vitest's own time limits from firing in this one.
 */
describe('v8 engine: the host thread never waits on an isolate', () => {
  it('a FinalizationRegistry callback spinning in the isolate: the invocation times out, the host event loop keeps turning, a neighbour answers', async () => {
    const script = `
      import { createRuntime } from ${JSON.stringify(indexUrl)};
      const lines = [];
      const rt = await createRuntime({ logSink: { write: (line) => lines.push(line) } });
      await rt.deploy({ name: 'neighbour', code: { files: { 'index.mjs': 'export const handler = async (e) => ({ n: e.n })' } } });
      await rt.deploy({ name: 'held', timeoutMs: 10000, code: { files: { 'index.mjs': \`
        let logged = false;
        const registry = new FinalizationRegistry(() => {
          if (!logged) { logged = true; console.log('cleanup callback: holding the isolate'); }
          for (;;) {}
        });
        export const handler = async () => {
          for (let round = 0; ; round++) {
            registry.register({}, round);
            let keep = [];
            for (let i = 0; i < 40; i++) keep.push(new Array(100000).fill(i));
            keep = null;
            await new Promise((resolve) => setTimeout(resolve, 1));
          }
        };\` } } });
      let turns = 0;
      const ticker = setInterval(() => turns++, 5);
      const held = await rt.invoke('held');
      clearInterval(ticker);
      console.log('RESULT ' + JSON.stringify({ errorType: held.payload?.errorType, turns, cleanupRan: lines.some((l) => l.includes('holding the isolate')) }));
      const neighbour = await rt.invoke('neighbour', { n: 7 });
      console.log('NEIGHBOUR ' + JSON.stringify(neighbour.payload));
      await rt.close();
      console.log('DONE');
      process.exit(0);`;
    const child = spawn(process.execPath, ['--no-node-snapshot', '--input-type=module', '-e', script], {
      cwd: fileURLToPath(new URL('../../..', import.meta.url)),
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    // A hang detector, not a time assertion: the child needs ~12 s (the 10 s timeout leaves a loaded
    // machine room for the collections that run the callback); blocked, it never ends.
    const detector = setTimeout(() => child.kill('SIGKILL'), 80_000);
    const run = await collectRun(child);
    clearTimeout(detector);
    expect(run.stdout, `the child was killed or failed (host thread blocked?): ${run.stderr.slice(-2000)}`).toContain('DONE');
    const result = JSON.parse(/RESULT (.*)/.exec(run.stdout)![1]!) as { errorType: string; turns: number; cleanupRan: boolean };
    // The callback really ran (it logged before spinning): the isolate was held while the host went on.
    expect(result.cleanupRan).toBe(true);
    expect(result.errorType).toBe('Sandbox.Timedout');
    expect(result.turns).toBeGreaterThan(0);
    expect(JSON.parse(/NEIGHBOUR (.*)/.exec(run.stdout)![1]!)).toEqual({ n: 7 });
  }, 90_000);
});
