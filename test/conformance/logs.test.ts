import { describe, expect, it } from 'vitest';
import { createRuntime, type LogLineMeta } from '../../src/index.ts';
import { deployFiles, forEachEngine, withDefaultEngine, UUID } from '../helpers/runtime.ts';

forEachEngine(({ engine, withRuntime }) => {
  const ISO = '\\d{4}-\\d{2}-\\d{2}T\\d{2}:\\d{2}:\\d{2}\\.\\d{3}Z';
  const START = new RegExp(`^START RequestId: (${UUID}) Version: \\$LATEST$`);
  const END = new RegExp(`^END RequestId: (${UUID})$`);
  const REPORT_WARM = new RegExp(
    `^REPORT RequestId: (${UUID})\\tDuration: \\d+\\.\\d{2} ms\\tBilled Duration: \\d+ ms\\tMemory Size: 128 MB\\tMax Memory Used: \\d+ MB\\t$`,
  );
  const REPORT_COLD = new RegExp(
    `^REPORT RequestId: (${UUID})\\tDuration: \\d+\\.\\d{2} ms\\tBilled Duration: \\d+ ms\\tMemory Size: 128 MB\\tMax Memory Used: \\d+ MB\\tInit Duration: \\d+\\.\\d{2} ms\\t$`,
  );

  function decodeTail(logResult: string | undefined): string {
    expect(logResult).toBeTypeOf('string');
    return Buffer.from(logResult!, 'base64').toString('utf8');
  }

  describe('platform lines', () => {
    it('Logs: START, END and REPORT have Lambda\'s exact format; Init Duration only on the cold start', () =>
      withRuntime(async ({ rt, logs }) => {
        await deployFiles(rt, 'platform', 'export const handler = async () => { console.log("in handler"); return 1; };');
        const cold = await rt.invoke('platform');
        const warm = await rt.invoke('platform');
        const coldLines = logs.forRequest(cold.requestId);
        expect(coldLines).toHaveLength(4);
        expect(coldLines[0]).toMatch(START);
        expect(coldLines[1]).toMatch(new RegExp(`^${ISO}\\t${cold.requestId}\\tINFO\\tin handler$`));
        expect(coldLines[2]).toMatch(END);
        expect(coldLines[3]).toMatch(REPORT_COLD);
        for (const line of coldLines) if (!line.match(/^\d/)) expect(line).toContain(cold.requestId);

        const warmLines = logs.forRequest(warm.requestId);
        expect(warmLines[0]).toBe(`START RequestId: ${warm.requestId} Version: $LATEST`);
        expect(warmLines[2]).toBe(`END RequestId: ${warm.requestId}`);
        expect(warmLines[3]).toMatch(REPORT_WARM);
        expect(warmLines[3]).not.toContain('Init Duration');
      }));

    it('Logs: REPORT figures match the invoke result', () =>
      withRuntime(async ({ rt, logs }) => {
        await deployFiles(rt, 'figures', 'export const handler = async () => 1;', { memoryMb: 256 });
        const result = await rt.invoke('figures');
        const report = logs.forRequest(result.requestId).find((l) => l.startsWith('REPORT'))!;
        expect(report).toContain(`\tDuration: ${result.durationMs.toFixed(2)} ms\t`);
        expect(report).toContain(`\tBilled Duration: ${result.billedDurationMs} ms\t`);
        expect(report).toContain('\tMemory Size: 256 MB\t');
        expect(report).toContain(`\tMax Memory Used: ${result.maxMemoryUsedMb} MB\t`);
        expect(report).toContain(`\tInit Duration: ${result.initDurationMs!.toFixed(2)} ms\t`);
        expect(result.billedDurationMs).toBe(Math.max(1, Math.ceil(result.durationMs)));
        expect(result.maxMemoryUsedMb).toBeGreaterThan(0);
      }));

    it('Logs: INIT lines come before START with request id undefined', () =>
      withRuntime(async ({ rt, logs }) => {
        await deployFiles(rt, 'initlog', 'console.log("top level"); export const handler = async () => 1;');
        const result = await rt.invoke('initlog');
        const initIndex = logs.lines.findIndex((l) => l.endsWith('\tundefined\tINFO\ttop level'));
        const startIndex = logs.lines.indexOf(`START RequestId: ${result.requestId} Version: $LATEST`);
        expect(initIndex).toBeGreaterThanOrEqual(0);
        expect(initIndex).toBeLessThan(startIndex);
        expect(logs.lines[initIndex]).toMatch(new RegExp(`^${ISO}\\tundefined\\tINFO\\ttop level$`));
      }));

    it('Logs: the sink is told the function name and log stream', async () => {
      const metas: { functionName: string; logStreamName: string }[] = [];
      const rt = withDefaultEngine(await createRuntime({ logSink: { write: (_line: string, meta: LogLineMeta) => void metas.push(meta) } }), engine);
      try {
        await deployFiles(rt, 'meta', 'export const handler = async (e, c) => c.logStreamName;');
        const result = await rt.invoke('meta');
        expect(metas.length).toBeGreaterThanOrEqual(3);
        expect(metas.every((m) => m.functionName === 'meta' && m.logStreamName === result.payload)).toBe(true);
      } finally {
        await rt.close();
      }
    });
  });

  describe('application lines', () => {
    it('Logs: console methods map to Lambda\'s levels', () =>
      withRuntime(async ({ rt, logs }) => {
        await deployFiles(rt, 'levels', `
          export const handler = async () => {
            console.log('a log'); console.info('an info'); console.warn('a warn');
            console.error('an error'); console.debug('a debug'); console.trace('a trace');
          };`);
        const result = await rt.invoke('levels');
        const app = logs.forRequest(result.requestId).filter((l) => /^\d{4}-/.test(l));
        const stripped = app.map((l) => l.replace(new RegExp(`^${ISO}\\t${result.requestId}\\t`), ''));
        expect(stripped).toEqual([
          'INFO\ta log',
          'INFO\tan info',
          'WARN\ta warn',
          'ERROR\tan error',
          'DEBUG\ta debug',
          'TRACE\ta trace',
        ]);
      }));

    it('Logs: newlines in a message become carriage returns', () =>
      withRuntime(async ({ rt, logs }) => {
        await deployFiles(rt, 'multiline', 'export const handler = async () => { console.log("line 1\\nline 2\\nline 3"); };');
        const result = await rt.invoke('multiline');
        const line = logs.forRequest(result.requestId).find((l) => l.includes('line 1'))!;
        expect(line.endsWith('\tINFO\tline 1\rline 2\rline 3')).toBe(true);
        expect(line).not.toContain('\n');
      }));

    it('Logs: objects and format strings print as Node prints them', () =>
      withRuntime(async ({ rt, logs }) => {
        await deployFiles(rt, 'inspect', `
          export const handler = async () => {
            console.log({ a: 1 });
            console.log('x', { b: 'two', c: [1, 2] }, 3);
            console.log('%s is %d years', 'Bob', 42);
            console.log([1, 'a', null, undefined]);
            console.log(new Map([['k', 1]]), new Set([1]));
            console.log('%j', { j: true });
            console.log({ nested: { deeper: { deepest: { gone: 1 } } } });
          };`);
        const result = await rt.invoke('inspect');
        const messages = logs
          .forRequest(result.requestId)
          .filter((l) => /^\d{4}-/.test(l))
          .map((l) => l.split('\t').slice(3).join('\t'));
        expect(messages).toEqual([
          '{ a: 1 }',
          "x { b: 'two', c: [ 1, 2 ] } 3",
          'Bob is 42 years',
          "[ 1, 'a', null, undefined ]",
          "Map(1) { 'k' => 1 } Set(1) { 1 }",
          '{"j":true}',
          '{ nested: { deeper: { deepest: [Object] } } }',
        ]);
      }));

    it('Logs: console.log of an Error prints its stack, remapped to the original file', () =>
      withRuntime(async ({ rt, logs }) => {
        await deployFiles(rt, 'log-error', 'export const handler = async () => {\n  console.log(new Error("logged"));\n};');
        const result = await rt.invoke('log-error');
        const line = logs.forRequest(result.requestId).find((l) => l.includes('logged'))!;
        expect(line).toContain('Error: logged\r');
        expect(line).toContain('/var/task/index.mjs:2:');
      }));
  });

  describe('log tail', () => {
    it('Logs: logType Tail returns the invocation\'s log, REPORT included; the sink still gets each line once', () =>
      withRuntime(async ({ rt, logs }) => {
        await deployFiles(rt, 'tail', 'console.log("init line"); export const handler = async () => { console.log("hello tail"); };');
        const cold = await rt.invoke('tail', {}, { logType: 'Tail' });
        const text = decodeTail(cold.logResult);
        // Tail is a copy for the caller (Invoke's LogResult), not a second write: the sink (CloudWatch's
        // place) holds each line once, the same lines in the same order as the tail.
        expect(logs.lines.map((l) => `${l}\n`).join('')).toBe(text);
        expect(new Set(logs.lines).size).toBe(logs.lines.length);
        expect(text).toContain('init line');
        expect(text).toContain(`START RequestId: ${cold.requestId} Version: $LATEST\n`);
        expect(text).toContain('\tINFO\thello tail\n');
        expect(text).toContain(`END RequestId: ${cold.requestId}\n`);
        expect(text).toMatch(new RegExp(`REPORT RequestId: ${cold.requestId}\\t.*Init Duration: .*\\t\\n$`));

        const warm = await rt.invoke('tail', {}, { logType: 'Tail' });
        const warmText = decodeTail(warm.logResult);
        expect(warmText).not.toContain('init line');
        expect(warmText).not.toContain(cold.requestId);
        expect(warmText.startsWith(`START RequestId: ${warm.requestId}`)).toBe(true);
      }));

    it('Logs: the tail is at most 4096 bytes and ends with the REPORT line', () =>
      withRuntime(async ({ rt }) => {
        await deployFiles(rt, 'bigtail', 'export const handler = async () => { for (let i = 0; i < 200; i++) console.log("line " + i + " " + "x".repeat(50)); };');
        const result = await rt.invoke('bigtail', {}, { logType: 'Tail' });
        const bytes = Buffer.from(result.logResult!, 'base64');
        expect(bytes.length).toBeLessThanOrEqual(4096);
        expect(bytes.length).toBeGreaterThan(4000);
        const text = bytes.toString('utf8');
        expect(text).toContain('line 199 ');
        expect(text).not.toContain('line 0 ');
        expect(text).toMatch(new RegExp(`REPORT RequestId: ${result.requestId}\\t.*\\t\\n$`));
      }));

    it('Logs: no logResult without Tail', () =>
      withRuntime(async ({ rt }) => {
        await deployFiles(rt, 'notail', 'export const handler = async () => { console.log("x"); };');
        const plain = await rt.invoke('notail');
        const none = await rt.invoke('notail', {}, { logType: 'None' });
        expect(plain).not.toHaveProperty('logResult');
        expect(none).not.toHaveProperty('logResult');
      }));

    it('Logs: the tail of a failed INIT carries the Uncaught Exception line', () =>
      withRuntime(async ({ rt }) => {
        await deployFiles(rt, 'init-fail-tail', 'throw new Error("init broke"); export const handler = async () => 1;');
        const result = await rt.invoke('init-fail-tail', {}, { logType: 'Tail' });
        const text = decodeTail(result.logResult);
        expect(text).toMatch(/\tundefined\tERROR\tUncaught Exception \t\{"errorType":"Error","errorMessage":"init broke"/);
        expect(text).toContain(`END RequestId: ${result.requestId}`);
      }));
  });
});
