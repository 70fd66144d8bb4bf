/**
 * What `lambdalet invoke` and `lambdalet bench` share: the flags that describe the function
 * (code, handler, engine, runtime, memory, timeout, env) and the event, parsed with node:util
 * parseArgs, and turned into a FunctionConfigInput. Every problem is a UsageError (exit 2) that
 * names the flag and says how to fix it.
 */
import { readFile, stat } from 'node:fs/promises';
import { basename, extname, resolve } from 'node:path';
import { parseArgs, type ParseArgsOptionsConfig } from 'node:util';
import { ENGINE_NAMES, RUNTIMES, type EngineName, type RuntimeName } from '../config/index.ts';
import type { CodeSource, FunctionConfigInput } from '../index.ts';

/** Bad usage: the message says what was wrong; exit code 2. */
export class UsageError extends Error {
  override readonly name = 'UsageError';
}

/** The flags every command that deploys a function accepts. */
export const FUNCTION_FLAGS = {
  handler: { type: 'string' },
  event: { type: 'string' },
  'event-file': { type: 'string' },
  engine: { type: 'string' },
  runtime: { type: 'string' },
  memory: { type: 'string' },
  timeout: { type: 'string' },
  'timeout-ms': { type: 'string' },
  env: { type: 'string', multiple: true },
  'allow-host': { type: 'string', multiple: true },
  'snap-start': { type: 'boolean' },
  credentials: { type: 'string' },
  help: { type: 'boolean', short: 'h' },
} as const satisfies ParseArgsOptionsConfig;

/** The help lines for {@link FUNCTION_FLAGS}. */
export const FUNCTION_FLAGS_HELP = `  --handler <file.export>  the handler string (default: <file name>.handler for a source file,
                           index.handler for a directory or zip)
  --event <json>           the event, as JSON text (default: {})
  --event-file <path>      read the event from a JSON file; \`-\` (or a lone \`-\` argument) reads stdin
  --engine <name>          the engine: ${ENGINE_NAMES.join(' | ')} (default: ${ENGINE_NAMES[0]}; wasm for a .wasm);
                           wasm runs WebAssembly components, or a source file exporting
                           \`handler.handle(event, context)\`, not a Lambda handler (docs/wasm.md)
  --runtime <name>         the Lambda runtime emulated: ${RUNTIMES.join(' | ')} (default: ${RUNTIMES[0]})
  --memory <MB>            memory in MB, 128 to 10240 (default: 128)
  --timeout <seconds>      the function's timeout in seconds, 1 to 900, as Lambda's Timeout and
                           \`aws lambda create-function --timeout\` (default: 3)
  --timeout-ms <ms>        the timeout in milliseconds instead, 1 to 900000 (for timeouts under a second)
  --env <KEY=VALUE>        an environment variable; repeat for more
  --allow-host <host>      a host the function's fetch and http/https may reach (egress.allowHosts:
                           \`api.example.com\`, \`*.example.org\`, \`localhost:8080\`); repeat for
                           more (default: none, every request is refused)
  --snap-start             SnapStart: INIT once at deploy, cold starts restore its snapshot
  --credentials env        the function's execution-role credentials (AWS_ACCESS_KEY_ID,
                           AWS_SECRET_ACCESS_KEY, AWS_SESSION_TOKEN inside) from this shell's
                           AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY and AWS_SESSION_TOKEN, as
                           \`sam local invoke\` passes yours (default: none, so the AWS SDK finds none)`;

/** The help line for `-h, --help`, which each command's help lists last. */
export const HELP_FLAG_HELP = '  -h, --help               show this help';

/** The code argument: a source file, a package directory or a .zip. */
export const CODE_HELP = `<code> is a handler's source file (.js .mjs .cjs .ts .mts .cts; bundled with its imports,
node_modules included), a package directory or a .zip deployment package (the function's whole
world, as on Lambda: its imports resolve inside it, node_modules included), or a .wasm WebAssembly
component (engine wasm).`;

/** Which config field a flag sets, to name the flag in messages about the field. */
export const FLAG_OF_FIELD: Readonly<Record<string, string>> = {
  handler: '--handler',
  engine: '--engine',
  runtime: '--runtime',
  memoryMb: '--memory',
  timeoutMs: '--timeout',
  env: '--env',
  egress: '--allow-host',
  'egress.allowHosts': '--allow-host',
  credentials: '--credentials',
  name: '<code>',
  code: '<code>',
  'code.entry': '<code>',
  'code.dir': '<code>',
  'code.zip': '<code>',
};

type Values<O extends ParseArgsOptionsConfig> = ReturnType<typeof parseArgs<{ options: O; allowPositionals: true; strict: true }>>['values'];

/** parseArgs, with its errors turned into UsageErrors. */
export function parseCommand<O extends ParseArgsOptionsConfig>(
  args: readonly string[],
  options: O,
): { values: Values<O>; positionals: string[] } {
  try {
    const { values, positionals } = parseArgs({ args: [...args], options, allowPositionals: true, strict: true });
    return { values, positionals };
  } catch (error) {
    const message = (error as Error).message;
    // parseArgs' own advice about `--` only confuses here; keep its first sentence.
    const unknown = /^Unknown option '([^']+)'/.exec(message);
    throw new UsageError(unknown ? `unknown option '${unknown[1]}'` : message);
  }
}

/** The function to deploy, from the positional `<code>` and the function flags. */
/**
 * `hostEnv` is where `--credentials env` reads the credentials from (this process's environment).
 */
export async function functionConfig(
  code: string | undefined,
  values: Values<typeof FUNCTION_FLAGS>,
  hostEnv: NodeJS.ProcessEnv = process.env,
): Promise<FunctionConfigInput> {
  if (code === undefined) throw new UsageError('missing <code>: give the handler file, package directory, .zip or .wasm to run');
  const path = resolve(code);
  const info = await stat(path).catch(() => undefined);
  if (!info) throw new UsageError(`<code>: ${code} does not exist`);

  let source: CodeSource;
  let defaultHandler = 'index.handler';
  let name: string;
  if (info.isDirectory()) {
    source = { dir: path };
    name = basename(path);
  } else if (extname(path).toLowerCase() === '.zip') {
    source = { zip: path };
    name = basename(path, extname(path));
  } else if (extname(path).toLowerCase() === '.wasm') {
    // A WebAssembly component runs only on the wasm engine (docs/wasm.md): it is the default here,
    // and another --engine is refused by the library's own check, naming the option.
    source = { component: path };
    name = basename(path, extname(path));
  } else {
    source = { entry: path };
    name = basename(path, extname(path));
    defaultHandler = `${name}.handler`;
  }
  return {
    name: functionName(name),
    code: source,
    handler: values.handler ?? defaultHandler,
    ...(values.engine !== undefined
      ? { engine: oneOf('--engine', values.engine, ENGINE_NAMES) }
      : 'component' in source
        ? { engine: 'wasm' as const }
        : {}),
    ...(values.runtime !== undefined ? { runtime: oneOf('--runtime', values.runtime, RUNTIMES) } : {}),
    ...(values.memory !== undefined ? { memoryMb: wholeNumber('--memory', values.memory, 'MB') } : {}),
    ...timeoutFlags(values.timeout, values['timeout-ms']),
    ...(values.env !== undefined ? { env: envFlags(values.env) } : {}),
    ...(values['allow-host'] !== undefined ? { egress: { allowHosts: values['allow-host'] } } : {}),
    ...(values['snap-start'] === true ? { snapStart: true } : {}),
    ...(values.credentials !== undefined ? { credentials: credentialsFlag(values.credentials, hostEnv) } : {}),
  };
}

/**
 * `--credentials env`: the shell's AWS credentials become the function's execution-role
 * credentials (the library's `credentials` option). Lambda always gives a function its role's
 * credentials, and the AWS SDK's default chain reads them from the environment; without the flag a
 * function gets none (the host's own never reach a function unasked).
 */
function credentialsFlag(value: string, hostEnv: NodeJS.ProcessEnv): { accessKeyId: string; secretAccessKey: string; sessionToken?: string } {
  if (value !== 'env') throw new UsageError(`--credentials takes 'env' (this shell's AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY, AWS_SESSION_TOKEN); got '${value}'`);
  const accessKeyId = hostEnv.AWS_ACCESS_KEY_ID;
  const secretAccessKey = hostEnv.AWS_SECRET_ACCESS_KEY;
  const missing = [accessKeyId ? undefined : 'AWS_ACCESS_KEY_ID', secretAccessKey ? undefined : 'AWS_SECRET_ACCESS_KEY'].filter((name) => name !== undefined);
  if (missing.length > 0 || accessKeyId === undefined || secretAccessKey === undefined) {
    throw new UsageError(`--credentials env: ${missing.join(' and ')} ${missing.length > 1 ? 'are' : 'is'} not set in this shell (export them, or use \`aws configure export-credentials --format env\`)`);
  }
  const sessionToken = hostEnv.AWS_SESSION_TOKEN;
  return { accessKeyId, secretAccessKey, ...(sessionToken ? { sessionToken } : {}) };
}

/** The event: `--event`, `--event-file` (a path or `-`), a lone `-` argument (stdin), or `{}`. */
export async function readEvent(values: Values<typeof FUNCTION_FLAGS>, stdinDash: boolean, stdin: NodeJS.ReadableStream): Promise<unknown> {
  const sources = [values.event !== undefined, values['event-file'] !== undefined, stdinDash].filter(Boolean).length;
  if (sources > 1) throw new UsageError('give the event once: --event <json>, --event-file <path> or - (stdin)');
  let text: string;
  let from: string;
  if (values.event !== undefined) {
    text = values.event;
    from = '--event';
  } else if (values['event-file'] === '-' || stdinDash) {
    text = await readAll(stdin);
    from = 'the event on stdin';
  } else if (values['event-file'] !== undefined) {
    const file = values['event-file'];
    try {
      text = await readFile(file, 'utf8');
    } catch (error) {
      throw new UsageError(`--event-file: cannot read ${file}: ${(error as NodeJS.ErrnoException).code ?? (error as Error).message}`);
    }
    from = `--event-file ${file}`;
  } else {
    return {};
  }
  try {
    return JSON.parse(text) as unknown;
  } catch (error) {
    throw new UsageError(`${from} is not valid JSON (${(error as Error).message}); for example --event '{"name":"Ada"}'`);
  }
}

function oneOf<const T extends readonly string[]>(flag: string, value: string, allowed: T): T[number] {
  const found = allowed.find((name) => name === value);
  if (found !== undefined) return found;
  throw new UsageError(`${flag} must be one of ${allowed.join(', ')}; got '${value}'`);
}

function wholeNumber(flag: string, value: string, unit: string): number {
  if (!/^\d+$/.test(value)) throw new UsageError(`${flag} takes a whole number of ${unit}; got '${value}'`);
  return Number(value);
}

/** Lambda's Timeout: 1 to 900 seconds (Lambda API reference, CreateFunction: "Timeout … Valid Range: Minimum value of 1"; quotas: 900 seconds). */
export const TIMEOUT_MAX_SECONDS = 900;

/**
 * `--timeout <seconds>` (Lambda's unit) or `--timeout-ms <ms>`, not both; each checked against
 * Lambda's range here, so the message names the flag, its unit and its limits.
 */
function timeoutFlags(seconds: string | undefined, ms: string | undefined): { timeoutMs?: number } {
  if (seconds !== undefined && ms !== undefined) throw new UsageError('give the timeout once: --timeout <seconds> or --timeout-ms <ms>');
  if (seconds !== undefined) {
    const n = /^\d+$/.test(seconds) ? Number(seconds) : Number.NaN;
    if (!(n >= 1 && n <= TIMEOUT_MAX_SECONDS)) {
      throw new UsageError(`--timeout takes a whole number of seconds from 1 to ${TIMEOUT_MAX_SECONDS} (Lambda's limit); got '${seconds}'${/^\d+$/.test(seconds) && n > TIMEOUT_MAX_SECONDS ? ' (for milliseconds use --timeout-ms)' : ''}`);
    }
    return { timeoutMs: n * 1000 };
  }
  if (ms !== undefined) {
    const n = /^\d+$/.test(ms) ? Number(ms) : Number.NaN;
    if (!(n >= 1 && n <= TIMEOUT_MAX_SECONDS * 1000)) {
      throw new UsageError(`--timeout-ms takes a whole number of milliseconds from 1 to ${TIMEOUT_MAX_SECONDS * 1000} (Lambda's limit of ${TIMEOUT_MAX_SECONDS} seconds); got '${ms}'`);
    }
    return { timeoutMs: n };
  }
  return {};
}

function envFlags(pairs: readonly string[]): Record<string, string> {
  const env: Record<string, string> = {};
  for (const pair of pairs) {
    const eq = pair.indexOf('=');
    if (eq <= 0) throw new UsageError(`--env takes KEY=VALUE; got '${pair}'`);
    env[pair.slice(0, eq)] = pair.slice(eq + 1);
  }
  return env;
}

/** A valid Lambda function name (`[a-zA-Z0-9-_]{1,64}`) from a file or directory name. */
function functionName(base: string): string {
  const name = base.replace(/[^a-zA-Z0-9_-]/g, '-').slice(0, 64);
  return name === '' ? 'function' : name;
}

async function readAll(stream: NodeJS.ReadableStream): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of stream) chunks.push(typeof chunk === 'string' ? Buffer.from(chunk) : chunk);
  return Buffer.concat(chunks).toString('utf8');
}

export type { EngineName, RuntimeName };
