/**
 * Redis for the cluster tests (issue 20). `.ci/run` starts a private redis-server and exports its
 * URL as LAMBDALET_TEST_REDIS_URL. Without that variable:
 * - under CI (`CI` set, as `.ci/run` sets it) `testRedis()` throws, so every test that needs Redis
 *   FAILS — a missing Redis never passes as a skip;
 * - locally, when Debian's `redis-server` is on PATH, a private instance is started for the test
 *   file (free loopback port, nothing persisted) and stopped by `stop()`;
 * - locally without it, `testRedis()` returns undefined and the caller skips visibly
 *   (`describe.skipIf(!redis)` with a title that says why).
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomUUID } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import { Redis } from 'ioredis';

export interface TestRedis {
  /** `redis://127.0.0.1:<port>` */
  readonly url: string;
  /** A fresh cluster name, so test files sharing one Redis never see each other's keys. */
  clusterName(): string;
  /** Stops the instance this helper started (nothing when the URL came from the environment). */
  stop(): Promise<void>;
  /** The private instance's process (undefined for an instance from the environment). */
  readonly process: ChildProcess | undefined;
}

export const SKIP_REASON = 'needs Redis: no LAMBDALET_TEST_REDIS_URL and no redis-server on PATH (apt-get install redis-server)';

export async function testRedis(): Promise<TestRedis | undefined> {
  const fromEnv = process.env.LAMBDALET_TEST_REDIS_URL;
  if (fromEnv) return { url: fromEnv, clusterName, stop: () => Promise.resolve(), process: undefined };
  const hasServer = spawnSync('redis-server', ['--version'], { stdio: 'ignore' }).status === 0;
  if (!hasServer) {
    if (process.env.CI) throw new Error(`CI: ${SKIP_REASON}; .ci/run must start one (tests needing Redis never skip in CI)`);
    return undefined;
  }
  return startRedis();
}

function clusterName(): string {
  return `t-${randomUUID().slice(0, 8)}`;
}

export async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  await new Promise((resolve) => server.close(resolve));
  return port;
}

/**
 * A private redis-server on a free loopback port (or `port`). With `dir`, it keeps an append-only
 * file there (fsync on every write) and `stop()` leaves the folder: a test that kills Redis can
 * start it again on the same port and folder with its data, as a restarted production Redis would.
 */
export async function startRedis(port?: number, dir?: string): Promise<TestRedis> {
  const chosen = port ?? (await freePort());
  const own = dir === undefined;
  const folder = dir ?? mkdtempSync(join(tmpdir(), 'lambdalet-redis-'));
  const persistence = own ? ['--appendonly', 'no'] : ['--appendonly', 'yes', '--appendfsync', 'always'];
  const child = spawn('redis-server', ['--bind', '127.0.0.1', '--port', String(chosen), '--save', '', ...persistence, '--dir', folder], {
    stdio: 'ignore',
  });
  const url = `redis://127.0.0.1:${chosen}`;
  const stop = async (): Promise<void> => {
    if (child.exitCode === null && child.signalCode === null) {
      const exited = new Promise((resolve) => child.once('exit', resolve));
      child.kill('SIGKILL');
      await exited;
    }
    if (own) rmSync(folder, { recursive: true, force: true });
  };
  for (let i = 0; i < 200; i++) {
    const probe = new Redis(url, { lazyConnect: true, maxRetriesPerRequest: 0, retryStrategy: () => null });
    probe.on('error', () => {}); // refused until the server listens: connect() rejects with it
    try {
      await probe.connect();
      if ((await probe.ping()) === 'PONG') return { url, clusterName, stop, process: child };
    } catch {
      // not listening yet
    } finally {
      probe.disconnect();
    }
    if (child.exitCode !== null) break;
    await sleep(50);
  }
  await stop();
  throw new Error(`redis-server on port ${chosen} did not answer PING`);
}
