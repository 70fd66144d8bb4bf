/** node:os, as it reads on Lambda (x86_64 Linux, /tmp). */

export { createProcessUsage } from './process-usage.ts';

const memoryMb = (): number => Number(globalThis.process?.env?.AWS_LAMBDA_FUNCTION_MEMORY_SIZE ?? 128);

/**
 * How many vCPUs a Lambda environment reports for its memory: Lambda documents "at 1,769 MB a
 * function has the equivalent of one vCPU" and 6 vCPUs at 10,240 MB
 * (https://docs.aws.amazon.com/lambda/latest/dg/configuration-memory.html); the VM itself shows
 * 2 cores up to 3,008 MB and one more per ~1,769 MB above it (community measurements of
 * os.cpus() inside Lambda; AWS publishes no table).
 * Libraries size worker pools from os.cpus().length, so it must never be 0.
 */
export function lambdaVcpus(memory = memoryMb()): number {
  if (memory <= 3008) return 2;
  if (memory <= 5307) return 3;
  if (memory <= 7076) return 4;
  if (memory <= 8845) return 5;
  return 6;
}

const cpus = (): { model: string; speed: number; times: { user: number; nice: number; sys: number; idle: number; irq: number } }[] =>
  Array.from({ length: lambdaVcpus() }, () => ({
    model: 'Intel(R) Xeon(R) Processor @ 2.50GHz',
    speed: 2500,
    times: { user: 0, nice: 0, sys: 0, idle: 0, irq: 0 },
  }));

export const os = {
  EOL: '\n',
  platform: () => 'linux',
  type: () => 'Linux',
  arch: () => 'x64',
  release: () => '5.10.0',
  tmpdir: () => '/tmp',
  homedir: () => '/home/sbx_user1051',
  hostname: () => 'localhost',
  endianness: () => 'LE',
  cpus,
  availableParallelism: () => lambdaVcpus(),
  totalmem: () => memoryMb() * 1024 * 1024,
  freemem: () => 0,
  uptime: () => 0,
  loadavg: () => [0, 0, 0],
  networkInterfaces: () => ({}),
  userInfo: () => ({ uid: 993, gid: 990, username: 'sbx_user1051', homedir: '/home/sbx_user1051', shell: null }),
  constants: { signals: {}, errno: {} },
  devNull: '/dev/null',
};
