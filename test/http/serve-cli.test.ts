/** `lambdalet serve`: listens, answers the SDK, stops on its signal; bad flags are usage errors naming the flag. */
import { PassThrough } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { main } from '../../src/cli/main.ts';
import { serveCommand } from '../../src/cli/serve.ts';
import type { Io } from '../../src/cli/io.ts';
import { sdk } from '../helpers/lambda-sdk.ts';

function memoryIo(): Io & { out: string[]; err: string[] } {
  const out: string[] = [];
  const err: string[] = [];
  return { out, err, stdout: { write: (t: string) => out.push(t) }, stderr: { write: (t: string) => err.push(t) }, stdin: new PassThrough(), stdoutIsTTY: false, stderrIsTTY: false };
}

describe('lambdalet serve', () => {
  it('prints its url, serves the Lambda API, and stops with exit code 0', async () => {
    const io = memoryIo();
    let stop!: () => void;
    const stopped = new Promise<void>((resolve) => (stop = resolve));
    const running = serveCommand(['--port', '0'], io, stopped);
    while (io.out.length === 0) await new Promise((r) => setTimeout(r, 20));
    const url = /^lambdalet serve: listening on (http:\/\/127\.0\.0\.1:\d+\/)\n$/.exec(io.out[0]!)?.[1];
    expect(url).toBeDefined();
    const client = new sdk.LambdaClient({ endpoint: url, region: 'us-east-1', credentials: { accessKeyId: 'a', secretAccessKey: 'b' }, maxAttempts: 1 });
    const listed = await client.send(new sdk.ListFunctionsCommand({}));
    expect(listed.Functions).toEqual([]);
    client.destroy();
    stop();
    expect(await running).toBe(0);
    await expect(fetch(url!)).rejects.toThrow();
  });

  it('--port outside 0..65535 is bad usage (exit 2) naming the flag', async () => {
    for (const port of ['-1', '65536', 'x']) {
      const io = memoryIo();
      expect(await main(['serve', `--port=${port}`], io)).toBe(2);
      expect(io.err.join('')).toContain(`--port must be an integer from 0 to 65535; got '${port}'`);
    }
  });

  it('--help lists its options', async () => {
    const io = memoryIo();
    expect(await main(['serve', '--help'], io)).toBe(0);
    for (const flag of ['--port', '--host', '--data-dir']) expect(io.out.join('')).toContain(flag);
  });
});
