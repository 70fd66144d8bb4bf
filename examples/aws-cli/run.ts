/**
 * The `aws` CLI, unchanged, against a lambdalet server: create a function from a zip, invoke it
 * (with its log tail), publish a version, point an alias at it, invoke the alias, list, delete.
 *
 *   node --no-node-snapshot examples/aws-cli/run.ts
 *
 * Needs `aws` on PATH (CLI v1 or v2; Debian: `apt-get install awscli`). The server is started in
 * this process (`rt.serve({ port: 0 })`); `lambdalet serve` in another shell works the same way
 * (README.md). Credentials are throwaway: the server on loopback checks no signature.
 */
import { execFile } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { strToU8, zipSync } from 'fflate';
import { createRuntime, silentSink } from '../../src/index.ts';

const run = promisify(execFile);
const dir = await mkdtemp(join(tmpdir(), 'lambdalet-aws-cli-'));
const rt = await createRuntime({ logSink: silentSink });
const server = await rt.serve({ port: 0 });
const endpoint = server.url.replace(/\/$/, '');
// A clean CLI: no profile, config file or instance metadata of the machine's.
const env = {
  PATH: process.env.PATH ?? '',
  HOME: dir,
  AWS_ACCESS_KEY_ID: 'AKIDEXAMPLE',
  AWS_SECRET_ACCESS_KEY: 'example-secret',
  AWS_DEFAULT_REGION: 'us-east-1',
  AWS_CONFIG_FILE: join(dir, 'config'),
  AWS_SHARED_CREDENTIALS_FILE: join(dir, 'credentials'),
  AWS_EC2_METADATA_DISABLED: 'true',
  AWS_PAGER: '',
};

async function aws(...args: string[]): Promise<string> {
  const shown = args.map((a) => (a.includes(' ') ? `'${a}'` : a)).join(' ');
  console.log(`$ aws ${shown}`);
  const { stdout } = await run('aws', [...args, '--endpoint-url', endpoint], { env, maxBuffer: 16 * 1024 * 1024 });
  return stdout;
}

try {
  const version = (await run('aws', ['--version'], { env })).stdout.trim() || 'aws-cli';
  console.log(`using ${version.split(' ')[0]}`);
  // CLI v2 reads --payload as base64 unless told otherwise; v1 takes it as it is.
  const rawPayload = version.startsWith('aws-cli/2') ? ['--cli-binary-format', 'raw-in-base64-out'] : [];
  const zip = join(dir, 'function.zip');
  await writeFile(zip, zipSync({ 'index.mjs': strToU8("export const handler = async (event, ctx) => { console.log('hello from', ctx.functionVersion); return { hello: event.name, version: ctx.functionVersion }; };") }));

  const created = JSON.parse(await aws('lambda', 'create-function', '--function-name', 'greeter', '--runtime', 'nodejs22.x', '--handler', 'index.handler',
    '--role', 'arn:aws:iam::123456789012:role/example', '--zip-file', `fileb://${zip}`)) as { FunctionArn: string; State: string };
  console.log(`created ${created.FunctionArn} (${created.State})`);

  const out = join(dir, 'out.json');
  const invoked = JSON.parse(await aws('lambda', 'invoke', '--function-name', 'greeter', ...rawPayload, '--payload', '{"name":"Ada"}', '--log-type', 'Tail', out)) as { StatusCode: number; ExecutedVersion: string; LogResult: string };
  const { readFile } = await import('node:fs/promises');
  console.log(`invoke: ${invoked.StatusCode} ${await readFile(out, 'utf8')}`);
  const logLine = Buffer.from(invoked.LogResult, 'base64').toString('utf8').split('\n').find((line) => line.includes('hello from'));
  console.log(`log tail: ${logLine?.split('\t').at(-1)}`);

  const published = JSON.parse(await aws('lambda', 'publish-version', '--function-name', 'greeter')) as { Version: string };
  console.log(`published version ${published.Version}`);
  await aws('lambda', 'create-alias', '--function-name', 'greeter', '--name', 'live', '--function-version', published.Version);
  const viaAlias = JSON.parse(await aws('lambda', 'invoke', '--function-name', 'greeter', '--qualifier', 'live', ...rawPayload, '--payload', '{"name":"Grace"}', out)) as { ExecutedVersion: string };
  console.log(`invoke live: ${viaAlias.ExecutedVersion} ${await readFile(out, 'utf8')}`);

  const listed = JSON.parse(await aws('lambda', 'list-functions')) as { Functions: { FunctionName: string }[] };
  console.log(`functions: ${listed.Functions.map((f) => f.FunctionName).join(', ')}`);
  await aws('lambda', 'delete-function', '--function-name', 'greeter');
  console.log('deleted');
} finally {
  await rt.close();
  await rm(dir, { recursive: true, force: true });
}
