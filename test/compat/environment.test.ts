/**
 * What a function's environment holds on Lambda beyond its code: the execution role's credentials
 * (given by the host, never the host's own), the variables users may set (TZ, LANG,
 * AWS_ENDPOINT_URL_*), process facts of the emulated runtime, and stdout/stderr in the log.
 */
import { describe, expect, it } from 'vitest';
import { InvalidParameterValueException } from '../../src/errors.ts';
import { parseFunctionConfig } from '../../src/config/index.ts';
import { deployAndInvoke, forEachEngine } from '../helpers/runtime.ts';

const ENV_PROBE = `exports.handler = async () => ({
  id: process.env.AWS_ACCESS_KEY_ID ?? null, secret: process.env.AWS_SECRET_ACCESS_KEY ?? null, token: process.env.AWS_SESSION_TOKEN ?? null,
  tz: process.env.TZ, lang: process.env.LANG, endpoint: process.env.AWS_ENDPOINT_URL_DYNAMODB ?? null,
});`;

describe('credentials config', () => {
  const code = { files: { 'index.js': ENV_PROBE } };
  const fieldOf = (credentials: unknown): string | undefined => {
    try {
      parseFunctionConfig({ name: 'fn', code, credentials });
      return undefined;
    } catch (error) {
      expect(error).toBeInstanceOf(InvalidParameterValueException);
      expect((error as Error).message).toContain('credentials');
      return (error as InvalidParameterValueException).field;
    }
  };

  it('accepts values or a provider, and names the bad field otherwise', () => {
    expect(fieldOf({ accessKeyId: 'A', secretAccessKey: 'S' })).toBeUndefined();
    expect(fieldOf({ accessKeyId: 'A', secretAccessKey: 'S', sessionToken: 'T' })).toBeUndefined();
    expect(fieldOf(() => ({ accessKeyId: 'A', secretAccessKey: 'S' }))).toBeUndefined();
    expect(fieldOf({ accessKeyId: 'A' })).toMatch(/^credentials/);
    expect(fieldOf({ accessKeyId: '', secretAccessKey: 'S' })).toMatch(/^credentials/);
    expect(fieldOf({ accessKeyId: 'A', secretAccessKey: 'S', extra: 1 })).toMatch(/^credentials/);
    expect(fieldOf('AKIA:secret')).toMatch(/^credentials/);
  });

  it('a value of 4096 characters is accepted, 4097 is not', () => {
    expect(fieldOf({ accessKeyId: 'A'.repeat(4096), secretAccessKey: 'S' })).toBeUndefined();
    expect(fieldOf({ accessKeyId: 'A'.repeat(4097), secretAccessKey: 'S' })).toMatch(/^credentials/);
  });
});

forEachEngine(({ withRuntime }) => {
  it('Credentials: the host-given ones appear as AWS_* variables; the host process\'s own never do', () =>
    withRuntime(async ({ rt }) => {
      const saved = { ...process.env };
      process.env.AWS_ACCESS_KEY_ID = 'HOST-KEY';
      process.env.AWS_SECRET_ACCESS_KEY = 'HOST-SECRET';
      try {
        const none = await deployAndInvoke(rt, ENV_PROBE, {}, { file: 'index.js' });
        expect(none.payload).toMatchObject({ id: null, secret: null, token: null });
        const fixed = await deployAndInvoke(rt, ENV_PROBE, {}, { file: 'index.js', credentials: { accessKeyId: 'AK', secretAccessKey: 'SK', sessionToken: 'ST' } });
        expect(fixed.payload).toMatchObject({ id: 'AK', secret: 'SK', token: 'ST' });
        let calls = 0;
        const provider = async () => ({ accessKeyId: `AK${++calls}`, secretAccessKey: 'SK' });
        const provided = await deployAndInvoke(rt, ENV_PROBE, {}, { file: 'index.js', credentials: provider });
        expect(provided.payload).toMatchObject({ id: 'AK1', secret: 'SK', token: null });
      } finally {
        process.env = saved;
      }
    }));

  it('Credentials: a provider returning a bad value fails the cold start with a TypeError naming the field', () =>
    withRuntime(async ({ rt }) => {
      await expect(deployAndInvoke(rt, ENV_PROBE, {}, { file: 'index.js', credentials: () => ({ accessKeyId: 'AK' }) as never })).rejects.toThrow(
        /credentials provider returned an invalid value: expected `credentials.secretAccessKey`/,
      );
    }));

  it('Env: TZ, LANG and AWS_ENDPOINT_URL_* set by the user reach the function (Lambda lets users set them); defaults otherwise', () =>
    withRuntime(async ({ rt }) => {
      const set = await deployAndInvoke(rt, ENV_PROBE, {}, { file: 'index.js', env: { TZ: 'Asia/Tokyo', LANG: 'fr_FR.UTF-8', AWS_ENDPOINT_URL_DYNAMODB: 'http://127.0.0.1:8000' } });
      expect(set.payload).toMatchObject({ tz: 'Asia/Tokyo', lang: 'fr_FR.UTF-8', endpoint: 'http://127.0.0.1:8000' });
      const defaults = await deployAndInvoke(rt, ENV_PROBE, {}, { file: 'index.js' });
      expect(defaults.payload).toMatchObject({ tz: ':UTC', lang: 'en_US.UTF-8', endpoint: null });
    }));

  it('process: versions of the emulated runtime, Node\'s process facts, env values coerced to strings', () =>
    withRuntime(async ({ rt }) => {
      const source = `exports.handler = async () => {
        process.env.NUM = 42; process.env.UNDEF = undefined; delete process.env.LANG;
        const t = process.hrtime.bigint();
        return {
          version: process.version, node: process.versions.node, v8: typeof process.versions.v8, release: process.release.name, lts: process.release.lts,
          platform: process.platform, arch: process.arch, cwd: process.cwd(), argv: process.argv, execPath: process.execPath,
          tag: Object.prototype.toString.call(process), num: process.env.NUM, undef: process.env.UNDEF, lang: 'LANG' in process.env,
          bigint: typeof t, uptime: process.uptime() >= 0, mem: Object.keys(process.memoryUsage()).sort(),
          stdout: [typeof process.stdout.write, process.stdout.fd, process.stderr.fd, process.stdout.isTTY ?? null],
        };
      };`;
      const on22 = await deployAndInvoke(rt, source, {}, { file: 'index.js', runtime: 'nodejs22.x' });
      expect(on22.payload).toMatchObject({ version: 'v22.23.5', node: '22.23.5', v8: 'string', release: 'node', lts: 'Jod' });
      const on24 = await deployAndInvoke(rt, source, {}, { file: 'index.js', runtime: 'nodejs24.x' });
      expect(on24.payload).toEqual({
        version: 'v24.22.3', node: '24.22.3', v8: 'string', release: 'node', lts: 'Krypton', platform: 'linux', arch: 'x64', cwd: '/var/task',
        argv: ['/var/lang/bin/node', '/var/runtime/index.mjs'], execPath: '/var/lang/bin/node', tag: '[object process]', num: '42', undef: 'undefined',
        lang: false, bigint: 'bigint', uptime: true, mem: ['arrayBuffers', 'external', 'heapTotal', 'heapUsed', 'rss'], stdout: ['function', 1, 2, null],
      });
    }));

  it('process.stdout / stderr, fs.writeSync(1 | 2) and process.emitWarning write raw lines into the function log, as Lambda records them', () =>
    withRuntime(async ({ rt, logs }) => {
      const result = await deployAndInvoke(rt, `
        const fs = require('fs');
        exports.handler = async () => {
          process.stdout.write('out line\\n');
          process.stderr.write('err line 1\\nerr line 2\\n');
          fs.writeSync(1, '{"json":true}\\n');
          fs.writeSync(2, Buffer.from('bytes to stderr\\n'));
          process.emitWarning('careful', 'DeprecationWarning', 'DEP0999');
          return 'ok';
        };`, {}, { file: 'index.js' });
      expect(result.payload).toBe('ok');
      const raw = logs.lines.filter((l) => !/^(START|END|REPORT) |^\\d{4}-/.test(l));
      expect(raw).toEqual(['out line', 'err line 1', 'err line 2', '{"json":true}', 'bytes to stderr',
        '(node:1) [DEP0999] DeprecationWarning: careful', '(Use `node --trace-deprecation ...` to show where the warning was created)']);
    }));
});
