/** `lambdalet serve`: a runtime behind the Lambda API over HTTP, until SIGINT or SIGTERM. */
import { createRuntime } from '../index.ts';
import type { Io } from './io.ts';
import { parseCommand, UsageError } from './options.ts';

export const SERVE_HELP = `Usage: lambdalet serve [options]

Serves the Lambda API (the 2015-03-31 REST paths the AWS SDK and \`aws lambda\` speak) from a
runtime in this process: create functions from zips, invoke them, publish versions, aliases.
Point a client at it with an endpoint override, e.g. \`aws lambda list-functions --endpoint-url
http://127.0.0.1:9001\`. Stops on SIGINT (Ctrl-C) or SIGTERM.

Options:
  --port <n>          TCP port, 0 for any free one (default 9001)
  --host <address>    address to listen on (default 127.0.0.1); another address without
                      authentication prints a warning
  --access-log        print one access log line per request (with the functions' logs, on stdout)
  --data-dir <dir>    keep functions, versions, aliases and layers in <dir>/registry.sqlite
                      (default: in memory, gone when the server stops)
  -h, --help          show this help

Authentication: set LAMBDALET_ACCESS_KEY_ID and LAMBDALET_SECRET_ACCESS_KEY to require requests
signed (SigV4) with that key; without them no authentication is asked for.

Prints \`lambdalet serve: listening on <url>\` on stdout once it accepts requests.`;

const SERVE_FLAGS = {
  port: { type: 'string' },
  host: { type: 'string' },
  'data-dir': { type: 'string' },
  'access-log': { type: 'boolean' },
  help: { type: 'boolean', short: 'h' },
} as const;

/** Runs until `stop` resolves (default: the process gets SIGINT or SIGTERM). */
export async function serveCommand(args: readonly string[], io: Io, stop: Promise<unknown> = signalled()): Promise<number> {
  const { values, positionals } = parseCommand(args, SERVE_FLAGS);
  if (values.help === true) {
    io.stdout.write(`${SERVE_HELP}\n`);
    return 0;
  }
  if (positionals.length > 0) throw new UsageError(`unexpected argument '${positionals[0]}': serve takes options only`);
  const port = values.port === undefined ? 9001 : Number(values.port);
  if (!Number.isInteger(port) || port < 0 || port > 65535) throw new UsageError(`--port must be an integer from 0 to 65535; got '${values.port}'`);
  const keyId = process.env.LAMBDALET_ACCESS_KEY_ID;
  const secret = process.env.LAMBDALET_SECRET_ACCESS_KEY;
  if ((keyId === undefined) !== (secret === undefined)) throw new UsageError('set both LAMBDALET_ACCESS_KEY_ID and LAMBDALET_SECRET_ACCESS_KEY, or neither');
  const rt = await createRuntime({ ...(values['data-dir'] !== undefined ? { dataDir: values['data-dir'] } : {}) });
  try {
    const server = await rt.serve({
      port,
      accessLog: values['access-log'] === true,
      ...(values.host !== undefined ? { host: values.host } : {}),
      ...(keyId !== undefined && secret !== undefined ? { auth: { keys: [{ accessKeyId: keyId, secretAccessKey: secret }] } } : {}),
    });
    io.stdout.write(`lambdalet serve: listening on ${server.url}\n`);
    await stop;
    io.stderr.write('lambdalet serve: stopping (requests in flight finish first)\n');
  } finally {
    await rt.close();
  }
  return 0;
}

function signalled(): Promise<NodeJS.Signals> {
  return new Promise((resolve) => {
    const on = (signal: NodeJS.Signals): void => {
      process.off('SIGINT', on);
      process.off('SIGTERM', on);
      resolve(signal);
    };
    process.once('SIGINT', on);
    process.once('SIGTERM', on);
  });
}
