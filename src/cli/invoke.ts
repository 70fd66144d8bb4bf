/** `lambdalet invoke <code>`: deploy, invoke once, payload to stdout, log to stderr. */
import { LOG_TYPES } from '../config/index.ts';
import { createRuntime, SnapStartException, type LogSink } from '../index.ts';
import type { Io } from './io.ts';
import { CODE_HELP, FUNCTION_FLAGS, FUNCTION_FLAGS_HELP, functionConfig, parseCommand, readEvent, UsageError } from './options.ts';

export const INVOKE_HELP = `Usage: lambdalet invoke <code> [options]

Deploys <code> as a Lambda function inside this process, invokes it once, prints the response
payload (JSON) to stdout and the function's log (INIT, START … END, REPORT) to stderr.

${CODE_HELP}

Options:
${FUNCTION_FLAGS_HELP}
  --log-type <type>        None: print no log; Tail: print only the last 4 KB of the invocation's
                           log after it ends (as \`aws lambda invoke --log-type Tail\`);
                           default: stream every log line to stderr as it is written

Exit codes: 0 the function succeeded; 1 it failed (its error payload is on stdout) or could not
run; 2 bad usage.

Examples:
  lambdalet invoke src/orders.ts --event '{"orderId":"o-1"}'
  lambdalet invoke ./build/function.zip --handler index.handler --event-file event.json
  echo '{"name":"Ada"}' | lambdalet invoke hello/ - --env GREETING=Hi --timeout 10`;

const INVOKE_FLAGS = { ...FUNCTION_FLAGS, 'log-type': { type: 'string' } } as const;

export async function invokeCommand(args: readonly string[], io: Io): Promise<number> {
  const { values, positionals } = parseCommand(args, INVOKE_FLAGS);
  if (values.help === true) {
    io.stdout.write(`${INVOKE_HELP}\n`);
    return 0;
  }
  const [code, dash, ...extra] = positionals;
  if (extra.length > 0 || (dash !== undefined && dash !== '-')) {
    throw new UsageError(`unexpected argument '${extra[0] ?? dash}': invoke takes one <code> (and - to read the event from stdin)`);
  }
  const logType = values['log-type'];
  if (logType !== undefined && !(LOG_TYPES as readonly string[]).includes(logType)) {
    throw new UsageError(`--log-type must be one of ${LOG_TYPES.join(', ')}; got '${logType}'`);
  }
  const config = await functionConfig(code, values);
  const event = await readEvent(values, dash === '-', io.stdin);

  const stream = logType === undefined;
  const sink: LogSink = {
    write(line) {
      // Lambda's Text format turns newlines inside a message into \r; a terminal wants them back.
      if (stream) io.stderr.write(`${line.replaceAll('\r', '\n')}\n`);
    },
  };
  const rt = await createRuntime({ logSink: sink });
  try {
    try {
      await rt.deploy(config);
    } catch (error) {
      // --snap-start: INIT runs at deploy, and its failure is the function's error, as an invoke's.
      if (!(error instanceof SnapStartException)) throw error;
      io.stdout.write(`${JSON.stringify(error.detail)}\n`);
      return 1;
    }
    const result = await rt.invoke(config.name, event, logType === 'Tail' ? { logType: 'Tail' } : undefined);
    if (result.logResult !== undefined) {
      const tail = Buffer.from(result.logResult, 'base64').toString('utf8').replaceAll('\r', '\n');
      io.stderr.write(tail.endsWith('\n') ? tail : `${tail}\n`);
    }
    io.stdout.write(`${io.stdoutIsTTY ? JSON.stringify(result.payload, null, 2) : JSON.stringify(result.payload)}\n`);
    return result.functionError === undefined ? 0 : 1;
  } finally {
    await rt.close();
  }
}
