/** `lambdalet invoke <code>`: deploy, invoke once, payload to stdout, log to stderr. */
import { existsSync } from 'node:fs';
import { basename, dirname, extname, join, resolve } from 'node:path';
import { declaredPackageType, describe as describeModule } from '../code/locate-module.ts';
import { LOG_TYPES } from '../config/index.ts';
import { createRuntime, SnapStartException, type LogSink } from '../index.ts';
import type { Io } from './io.ts';
import { CODE_HELP, FUNCTION_FLAGS, FUNCTION_FLAGS_HELP, functionConfig, HELP_FLAG_HELP, parseCommand, readEvent, UsageError } from './options.ts';

export const INVOKE_HELP = `Usage: lambdalet invoke <code> [options]

Deploys <code> as a Lambda function inside this process, invokes it once, prints the response
payload (JSON) to stdout and the function's log (INIT, START … END, REPORT) to stderr.

${CODE_HELP}

Options:
${FUNCTION_FLAGS_HELP}
  --log-type <type>        None: print no log; Tail: print only the last 4 KB of the invocation's
                           log after it ends (as \`aws lambda invoke --log-type Tail\`);
                           default: stream every log line to stderr as it is written
${HELP_FLAG_HELP}

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
    if (result.functionError !== undefined && 'dir' in config.code && typeof config.code.dir === 'string') {
      const failing = failingFileIn(config.code.dir, result.payload);
      const hint = outsidePackageHint(config.code.dir, result.payload) ?? (failing === undefined ? undefined : await commonJsHint(failing, result.payload));
      if (hint !== undefined) io.stderr.write(`${hint}\n`);
    }
    if (result.functionError !== undefined) {
      const entry = 'entry' in config.code && typeof config.code.entry === 'string' ? config.code.entry : undefined;
      const hint = egressHint(result.payload) ??
        (entry === undefined ? undefined : besideEntryHint(entry, result.payload) ?? await commonJsHint(entry, result.payload));
      if (hint !== undefined) io.stderr.write(`${hint}\n`);
    }
    return result.functionError === undefined ? 0 : 1;
  } finally {
    await rt.close();
  }
}

/**
 * A package directory is the function's whole world (code/containment.ts): a dependency that npm or
 * Yarn workspaces hoisted to a parent's node_modules is Node's "Cannot find package/module" at INIT,
 * which does not say that the package is right there on disk. Says so, when it is.
 */
export function outsidePackageHint(dir: string, payload: unknown): string | undefined {
  const message = (payload as { errorMessage?: unknown } | null)?.errorMessage;
  if (typeof message !== 'string') return undefined;
  const specifier = /Cannot find (?:package|module) '([^']+)'/.exec(message)?.[1];
  if (specifier === undefined || specifier.startsWith('.') || specifier.startsWith('/')) return undefined;
  const parts = specifier.split('/');
  const name = specifier.startsWith('@') ? parts.slice(0, 2).join('/') : parts[0]!;
  const root = resolve(dir);
  for (let at = dirname(root); ; at = dirname(at)) {
    const found = join(at, 'node_modules', name);
    if (existsSync(found)) {
      return `lambdalet: '${name}' is in ${found}, outside the package ${dir}: a package directory is the function's whole world, as a Lambda zip (imports resolve only inside it and its layers). ` +
        `Install '${name}' inside ${dir} (a workspace hoists it to the root), or invoke the handler file itself, which bundles with its project's imports.`;
    }
    if (at === dirname(at)) return undefined;
  }
}

/**
 * A fetch the egress policy refused says to add the host to `egress.allowHosts`, a deploy option the
 * command line sets with --allow-host (issue #12: a new user invoking a handler that fetches found
 * no flag for it). Says which flag, when the function's error is that refusal.
 */
export function egressHint(payload: unknown): string | undefined {
  const message = (payload as { errorMessage?: unknown } | null)?.errorMessage;
  if (typeof message !== 'string') return undefined;
  const host = /lambdalet egress policy denied \S+: add "([^"]+)" to the function's egress\.allowHosts/.exec(message)?.[1];
  return host === undefined ? undefined : `lambdalet: the function's egress policy refused a request; to allow it, add --allow-host ${host}`;
}

/**
 * A handler file is deployed bundled (code.entry): its imports go with it, the files beside it do
 * not, as with an esbuild bundle on Lambda. A handler reading `new URL('./data.json', import.meta.url)`
 * then fails ENOENT on /var/task/data.json while the file is right there on disk (issue #12). Says
 * so, when it is.
 */
export function besideEntryHint(entry: string, payload: unknown): string | undefined {
  const message = (payload as { errorMessage?: unknown } | null)?.errorMessage;
  if (typeof message !== 'string') return undefined;
  const wanted = /^ENOENT: no such file or directory, \w+ '\/var\/task\/([^']+)'/.exec(message)?.[1];
  if (wanted === undefined) return undefined;
  const dir = dirname(resolve(entry));
  const onDisk = join(dir, wanted);
  if (!existsSync(onDisk)) return undefined;
  return `lambdalet: ${onDisk} is beside the handler on disk, but a handler file runs bundled: only what it imports goes with it. ` +
    `Import the file (JSON: \`import data from './${wanted}' with { type: 'json' }\`), or invoke the directory: lambdalet invoke ${dir} --handler ${basename(entry, extname(entry))}.handler`;
}

/** The file on disk under a package directory that an INIT error's first frame names (`    at /var/task/lib/x.js:1:1`). */
export function failingFileIn(dir: string, payload: unknown): string | undefined {
  const trace = (payload as { trace?: unknown } | null)?.trace;
  const frame = Array.isArray(trace) && typeof trace[1] === 'string' ? trace[1] : '';
  const relative = /^ {4}at \/var\/task\/(.+):\d+:\d+$/.exec(frame)?.[1];
  return relative === undefined || relative.split('/').includes('..') ? undefined : join(resolve(dir), relative);
}

/**
 * `npm init -y` writes `"type": "commonjs"`, under which Node runs a `.ts` or `.js` file as CommonJS
 * and refuses its `export` (lambdalet does the same: Runtime.UserCodeSyntaxError). A new user's first
 * `lambdalet invoke src/orders.ts` in such a project failed with `SyntaxError: Unexpected token
 * 'export'` and nothing saying why (issue #12). Names the package.json and the two ways out, when
 * that is the cause.
 */
export async function commonJsHint(entry: string, payload: unknown): Promise<string | undefined> {
  const error = payload as { errorType?: unknown; errorMessage?: unknown } | null;
  if (error?.errorType !== 'Runtime.UserCodeSyntaxError' || typeof error.errorMessage !== 'string') return undefined;
  if (!/Unexpected token 'export'|Cannot use import statement outside a module/.test(error.errorMessage)) return undefined;
  const file = resolve(entry);
  const extension = extname(file);
  if (extension !== '.ts' && extension !== '.js') return undefined;
  if ((await declaredPackageType(file, undefined)) !== 'commonjs') return undefined;
  const manifest = (await describeModule(dirname(file), file, undefined)).manifest;
  if (manifest === undefined) return undefined;
  return `lambdalet: ${manifest} says "type": "commonjs" (as \`npm init -y\` writes), so Node runs ${entry} as CommonJS, where import/export are a SyntaxError. ` +
    `Run \`npm pkg set type=module\` in ${dirname(manifest)}, or name the file ${basename(entry, extension)}.m${extension.slice(1)}.`;
}
