/**
 * Durability (issue 17): a host process killed with SIGKILL while 10,000 asynchronous events are
 * queued or running loses none of them. A child process queues the events on a `dataDir` and is
 * killed once some have run; a new runtime on the same folder completes every one (at least once:
 * events running at the kill run again, under the same requestId), and no event reaches its
 * destination twice with different outcomes — here, not twice at all, since an event's settle and
 * its destination delivery are one SQLite transaction.
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { expect, it } from 'vitest';
import { SqliteEventQueue } from '../../src/async/sqlite-queue.ts';
import { createRuntime, silentSink, type InvocationRecord } from '../../src/index.ts';

const EVENTS = 10_000;
const KILL_AFTER_RUNS = 1_000;
const indexUrl = new URL('../../src/index.ts', import.meta.url).href;

const childScript = (dataDir: string): string => `
import { createRuntime, silentSink } from ${JSON.stringify(indexUrl)};
const rt = await createRuntime({ dataDir: ${JSON.stringify(dataDir)}, logSink: silentSink });
await rt.deploy({ name: 'work', code: { files: { 'index.mjs': 'export const handler = async (e) => ({ n: e.n })' } } });
const done = rt.createQueue('done');
rt.putFunctionEventInvokeConfig('work', { destinationConfig: { onSuccess: { destination: done.queueArn }, onFailure: { destination: done.queueArn } } });
for (let n = 0; n < ${EVENTS}; n++) await rt.invoke('work', { n }, { invocationType: 'Event' });
console.log('QUEUED');
setInterval(() => console.log('RAN ' + (rt.metrics().functions.find((f) => f.functionName === 'work')?.Invocations ?? 0)), 10);
`;

/** Runs the child until it has queued every event and run KILL_AFTER_RUNS of them, then SIGKILLs it. */
function runAndKill(dataDir: string): Promise<{ ranBeforeKill: number; signal: NodeJS.Signals | null }> {
  const child = spawn(process.execPath, ['--no-node-snapshot', '--input-type=module', '-e', childScript(dataDir)], {
    cwd: fileURLToPath(new URL('../..', import.meta.url)),
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  let ranBeforeKill = 0;
  child.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d));
  child.stdout.setEncoding('utf8').on('data', (d: string) => {
    stdout += d;
    const runs = [...stdout.matchAll(/^RAN (\d+)$/gm)].map((m) => Number(m[1]));
    const ran = runs.at(-1) ?? 0;
    if (stdout.includes('QUEUED') && ran >= KILL_AFTER_RUNS && ranBeforeKill === 0) {
      ranBeforeKill = ran;
      child.kill('SIGKILL');
    }
  });
  return new Promise((resolve, reject) => {
    child.on('error', reject);
    child.on('exit', (code, signal) => {
      if (signal !== 'SIGKILL') reject(new Error(`child ended with ${code}/${signal} before the kill; stderr: ${stderr.slice(-2000)}`));
      else resolve({ ranBeforeKill, signal });
    });
  });
}

it('kill -9 with 10,000 events queued or running: a new runtime on the dataDir completes every one, each delivered once', { timeout: 300_000 }, async () => {
  const dataDir = mkdtempSync(join(tmpdir(), 'lambdalet-kill-'));
  try {
    const { ranBeforeKill } = await runAndKill(dataDir);
    expect(ranBeforeKill).toBeGreaterThanOrEqual(KILL_AFTER_RUNS);

    const rt = await createRuntime({ dataDir, logSink: silentSink });
    await rt.eventsIdle();
    await rt.close();

    const queue = SqliteEventQueue.open(dataDir);
    try {
      expect(await queue.count('invoke:work')).toBe(0);
      const delivered = await queue.claim('sqs:done', Number.MAX_SAFE_INTEGER, EVENTS * 2, 1);
      const byRequest = new Map<string, { n: number; condition: string }[]>();
      for (const message of delivered) {
        const record = JSON.parse((JSON.parse(message.body) as { body: string }).body) as InvocationRecord;
        const list = byRequest.get(record.requestContext.requestId) ?? [];
        list.push({ n: (record.requestPayload as { n: number }).n, condition: record.requestContext.condition });
        byRequest.set(record.requestContext.requestId, list);
      }
      // Every event completed, under one requestId each, with one outcome delivered once.
      const seen = new Set<number>();
      for (const [requestId, outcomes] of byRequest) {
        expect(outcomes, requestId).toHaveLength(1);
        expect(outcomes[0]!.condition, requestId).toBe('Success');
        expect(seen.has(outcomes[0]!.n), `event ${outcomes[0]!.n} under two requestIds`).toBe(false);
        seen.add(outcomes[0]!.n);
      }
      expect(seen.size).toBe(EVENTS);
    } finally {
      await queue.close();
    }
  } finally {
    rmSync(dataDir, { recursive: true, force: true });
  }
});
