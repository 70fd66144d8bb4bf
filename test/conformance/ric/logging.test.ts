/**
 * Lambda's advanced logging controls (LoggingConfig) with the runtime client's JSON lines, from
 * aws/aws-lambda-nodejs-runtime-interface-client @ da5777a test/unit/LogPatchTest.js ("JSON
 * format" cases, named in each test) and src/LogPatch.js; platform events with the record fields
 * of Lambda's Telemetry API schema reference (platform.initStart, platform.start, platform.report).
 * Issue #14, "Logging controls".
 */
import { describe, expect, it } from 'vitest';
import { InvalidParameterValueException } from '../../../src/index.ts';
import { forEachEngine, UUID } from '../../helpers/runtime.ts';

const JSON_LOGS = { loggingConfig: { logFormat: 'JSON' as const } };
const parse = (line: string): Record<string, unknown> => JSON.parse(line) as Record<string, unknown>;

forEachEngine(({ withRuntime }) => {
  describe('LoggingConfig JSON (RIC LogPatchTest.js, JSON format)', () => {
    it("'should format messages as json correctly': timestamp, level, requestId, util.format'ed message", () =>
      withRuntime(async ({ rt, logs }) => {
        await rt.deploy({ name: 'j', ...JSON_LOGS, code: { files: { 'index.mjs': "export const handler = async () => { console.log('hello', 3.14, 'structured logging', false, { test: 'structured logging' }, ['random', 'logs']); console.warn('w'); return 1; };" } } });
        const result = await rt.invoke('j', {});
        const app = logs.lines.filter((l) => l.startsWith('{"timestamp"')).map(parse);
        expect(app[0]).toEqual({
          timestamp: expect.stringMatching(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/),
          level: 'INFO',
          requestId: result.requestId,
          message: "hello 3.14 structured logging false { test: 'structured logging' } [ 'random', 'logs' ]",
        });
        expect(Object.keys(app[0]!)).toEqual(['timestamp', 'level', 'requestId', 'message']);
        expect(app[1]).toMatchObject({ level: 'WARN', message: 'w' });
      }));

    it("'should not strinfigy single arg': a single number, array or object is the message itself", () =>
      withRuntime(async ({ rt, logs }) => {
        await rt.deploy({ name: 'j', ...JSON_LOGS, code: { files: { 'index.mjs': "export const handler = async () => { console.info(100.123); console.info([{ someKey: 'some_val', data: 1000 }, false, [1, 2, 3], 3.14]); console.info({ transactionId: 100, data: 3.14, state: false }); };" } } });
        await rt.invoke('j', {});
        const messages = logs.lines.filter((l) => l.startsWith('{"timestamp"')).map((l) => parse(l).message);
        expect(messages).toEqual([100.123, [{ someKey: 'some_val', data: 1000 }, false, [1, 2, 3], 3.14], { transactionId: 100, data: 3.14, state: false }]);
      }));

    it("'should add error fields to messages if error is supplied': the first Error's type, message and stackTrace", () =>
      withRuntime(async ({ rt, logs }) => {
        await rt.deploy({ name: 'j', ...JSON_LOGS, code: { files: { 'index.mjs': "export const handler = async () => { console.error('logged an error', new SyntaxError('random syntax error'), 'logged another error', new ReferenceError('random reference error')); };" } } });
        await rt.invoke('j', {});
        const line = parse(logs.lines.find((l) => l.includes('"level":"ERROR"'))!);
        expect(line).toMatchObject({ errorType: 'SyntaxError', errorMessage: 'random syntax error' });
        expect((line.stackTrace as string[])[0]).toBe('SyntaxError: random syntax error');
        expect(Object.keys(line)).toEqual(['timestamp', 'level', 'requestId', 'message', 'errorType', 'errorMessage', 'stackTrace']);
      }));

    it("' `structuredConsole.logError()` output should not be stringified in JSON mode': Invoke Error is the error object", () =>
      withRuntime(async ({ rt, logs }) => {
        await rt.deploy({ name: 'j', ...JSON_LOGS, code: { files: { 'index.mjs': "export const handler = async () => { const err = new SyntaxError('user syntax error'); err.code = 123; throw err; };" } } });
        const result = await rt.invoke('j', {});
        const line = parse(logs.lines.find((l) => l.includes('"level":"ERROR"'))!);
        expect(line).toMatchObject({ level: 'ERROR', requestId: result.requestId, message: { errorType: 'SyntaxError', errorMessage: 'user syntax error', code: 123 } });
        expect(Object.keys(line.message as object)).toEqual(['errorType', 'errorMessage', 'stackTrace', 'code']);
      }));

    it("'should filter messages correctly': below applicationLogLevel console methods are dropped; console.fatal never", () =>
      withRuntime(async ({ rt, logs }) => {
        const src = "export const handler = async () => { console.trace('t'); console.debug('d'); console.info('i'); console.warn('w'); console.error('e'); console.fatal('f'); return process.env.AWS_LAMBDA_LOG_LEVEL; };";
        const levelsAt = async (applicationLogLevel: 'TRACE' | 'INFO' | 'ERROR'): Promise<unknown[]> => {
          const name = `lvl-${applicationLogLevel}`;
          await rt.deploy({ name, loggingConfig: { logFormat: 'JSON', applicationLogLevel }, code: { files: { 'index.mjs': src } } });
          const result = await rt.invoke(name, {});
          expect(result.payload).toBe(applicationLogLevel);
          return logs.forRequest(result.requestId).filter((l) => l.startsWith('{"timestamp"')).map((l) => parse(l).message);
        };
        expect(await levelsAt('TRACE')).toEqual(['t', 'd', 'i', 'w', 'e', 'f']);
        expect(await levelsAt('INFO')).toEqual(['i', 'w', 'e', 'f']);
        expect(await levelsAt('ERROR')).toEqual(['e', 'f']);
      }));

    it('AWS_LAMBDA_LOG_FORMAT / AWS_LAMBDA_LOG_LEVEL are set as Lambda sets them (JSON, INFO by default; absent with Text)', () =>
      withRuntime(async ({ rt }) => {
        const src = 'export const handler = async () => [process.env.AWS_LAMBDA_LOG_FORMAT ?? null, process.env.AWS_LAMBDA_LOG_LEVEL ?? null];';
        await rt.deploy({ name: 'json', ...JSON_LOGS, code: { files: { 'index.mjs': src } } });
        await rt.deploy({ name: 'text', code: { files: { 'index.mjs': src } } });
        expect((await rt.invoke('json', {})).payload).toEqual(['JSON', 'INFO']);
        expect((await rt.invoke('text', {})).payload).toEqual([null, null]);
      }));

    it('platform events: platform.initStart, platform.start and platform.report with the Telemetry API field names', () =>
      withRuntime(async ({ rt, logs }) => {
        await rt.deploy({ name: 'p', ...JSON_LOGS, code: { files: { 'index.mjs': "console.log('init'); export const handler = async () => 1;" } } });
        const first = await rt.invoke('p', {});
        const events = logs.lines.filter((l) => l.startsWith('{"time"')).map(parse);
        expect(events.map((e) => e.type)).toEqual(['platform.initStart', 'platform.start', 'platform.report']);
        expect(events[0]!.record).toEqual({ initializationType: 'on-demand', phase: 'init', functionName: 'p', functionVersion: '$LATEST' });
        expect(events[1]).toEqual({ time: expect.stringMatching(/Z$/), type: 'platform.start', record: { requestId: first.requestId, version: '$LATEST' } });
        expect(events[2]!.record).toEqual({
          requestId: first.requestId,
          metrics: {
            durationMs: expect.any(Number),
            billedDurationMs: first.billedDurationMs,
            memorySizeMB: 128,
            maxMemoryUsedMB: first.maxMemoryUsedMb,
            initDurationMs: expect.any(Number),
          },
          status: 'success',
        });
        // INIT's application line has no requestId key (the runtime client's is undefined then).
        const init = parse(logs.lines.find((l) => l.includes('"message":"init"'))!);
        expect(Object.keys(init)).toEqual(['timestamp', 'level', 'message']);
        expect(logs.lines.some((l) => /^(START|END|REPORT) /.test(l))).toBe(false);
      }));

    it('platform.report of a failed invocation says status error with the errorType; systemLogLevel WARN drops platform events', () =>
      withRuntime(async ({ rt, logs }) => {
        await rt.deploy({ name: 'f', ...JSON_LOGS, code: { files: { 'index.mjs': "export const handler = async () => { throw new TypeError('x'); };" } } });
        const failed = await rt.invoke('f', {});
        const report = logs.forRequest(failed.requestId).map(parse).find((e) => e.type === 'platform.report')!;
        expect(report.record).toMatchObject({ requestId: failed.requestId, status: 'error', errorType: 'TypeError' });
        await rt.deploy({ name: 'quiet', loggingConfig: { logFormat: 'JSON', systemLogLevel: 'WARN' }, code: { files: { 'index.mjs': "export const handler = async () => { console.log('only me'); };" } } });
        const quiet = await rt.invoke('quiet', {});
        expect(logs.forRequest(quiet.requestId).map((l) => parse(l).message ?? parse(l).type)).toEqual(['only me']);
      }));

    it('Text stays the default: the same lines as without loggingConfig', () =>
      withRuntime(async ({ rt, logs }) => {
        await rt.deploy({ name: 't', loggingConfig: { logFormat: 'Text' }, code: { files: { 'index.mjs': "export const handler = async () => { console.log('x'); };" } } });
        const result = await rt.invoke('t', {});
        const lines = logs.forRequest(result.requestId);
        expect(lines[0]).toBe(`START RequestId: ${result.requestId} Version: $LATEST`);
        expect(lines[1]).toMatch(new RegExp(`^\\d{4}-\\d\\d-\\d\\dT[\\d:.]+Z\\t${UUID}\\tINFO\\tx$`));
        expect(lines[2]).toBe(`END RequestId: ${result.requestId}`);
        expect(lines[3]).toMatch(/^REPORT RequestId: /);
      }));
  });
});

describe('loggingConfig validation', () => {
  it('levels only with logFormat JSON; unknown formats and levels are refused naming the field', async () => {
    const { createRuntime } = await import('../../../src/index.ts');
    const rt = await createRuntime({ logSink: { write: () => {} } });
    try {
      const code = { files: { 'index.mjs': 'export const handler = async () => 1;' } };
      await expect(rt.deploy({ name: 'a', code, loggingConfig: { applicationLogLevel: 'DEBUG' } })).rejects.toMatchObject({ field: 'loggingConfig.applicationLogLevel' });
      await expect(rt.deploy({ name: 'b', code, loggingConfig: { logFormat: 'Text', systemLogLevel: 'WARN' } })).rejects.toBeInstanceOf(InvalidParameterValueException);
      await expect(rt.deploy({ name: 'c', code, loggingConfig: { logFormat: 'XML' as 'JSON' } })).rejects.toMatchObject({ field: 'loggingConfig.logFormat' });
      await expect(rt.deploy({ name: 'd', code, loggingConfig: { logFormat: 'JSON', systemLogLevel: 'ERROR' as 'WARN' } })).rejects.toMatchObject({ field: 'loggingConfig.systemLogLevel' });
      await expect(rt.deploy({ name: 'e', code, loggingConfig: { logFormat: 'JSON', applicationLogLevel: 'FATAL', systemLogLevel: 'DEBUG' } })).resolves.toBeDefined();
    } finally {
      await rt.close();
    }
  });
});
