/**
 * Joining a cluster: one ioredis connection for commands (and a duplicate for the change
 * subscription, made by the caller), checked at start, and the version handshake.
 *
 * - Unreachable at start: ClusterError `unreachable`, naming the URL (password hidden) and the
 *   cause; nothing is retried, so a wrong URL fails at once.
 * - After the start the connection reconnects for ever (ioredis' retryStrategy, capped at 1 s
 *   between tries) and commands wait in ioredis' offline queue until Redis is back: a write made
 *   while Redis is away is stored when it returns, not lost.
 * - Version: the first member records its lambdalet version in `<prefix>meta`; a member of another
 *   version is refused with ClusterError `version` (members share stored configurations and Lua
 *   scripts, whose shapes belong to one version).
 * - Clock: the member's clock is compared with Redis's `TIME` once at join; further apart than
 *   {@link CLOCK_SKEW_WARN_MS} (beyond the round trip's uncertainty), one warning
 *   (`LAMBDALET_CLUSTER_CLOCK`). Not refused: concurrency leases, job locks and metrics reports
 *   run on Redis's time and are unaffected; only BullMQ's due times (delayed events, retries,
 *   schedule firings) follow the member's clock, early or late by the skew.
 */
import { readFileSync } from 'node:fs';
import { Redis } from 'ioredis';
import type { ClusterOptions } from '../config/index.ts';
import { ClusterError } from '../errors.ts';

/** This package's version (package.json, two folders up from src/cluster/ and from dist/cluster/). */
export const LAMBDALET_VERSION: string = (JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version: string }).version;

/** Every key of a cluster starts with this; the braces are a Redis Cluster hash tag (one slot). */
export function keyPrefix(name: string): string {
  return `lambdalet:{${name}}:`;
}

/** The URL with any password replaced by `***`, for messages. */
export function redactUrl(url: string): string {
  try {
    const parsed = new URL(url);
    if (parsed.password) parsed.password = '***';
    return parsed.toString().replace(/\/$/, '');
  } catch {
    return url.replace(/:[^:@/]*@/, ':***@');
  }
}

/** A connection that reconnects for ever once it has connected (see the file's doc). */
export function redisClient(url: string): Redis {
  return new Redis(url, {
    lazyConnect: true,
    maxRetriesPerRequest: null,
    retryStrategy: (times) => Math.min(50 * times, 1_000),
    connectionName: 'lambdalet',
  });
}

/**
 * Connects and checks the version. `version` is this member's (a parameter so the refusal can be
 * tested with a real second version string).
 * @throws ClusterError `unreachable` or `version`.
 */
export async function joinCluster(options: ClusterOptions, version = LAMBDALET_VERSION): Promise<Redis> {
  const redis = redisClient(options.redis);
  // At start, one try: a wrong URL or a down Redis is an error now, not a silent wait.
  redis.options.retryStrategy = () => null;
  redis.on('error', () => {}); // reported by connect()'s rejection, and later by the reconnect loop
  try {
    await redis.connect();
    await redis.ping();
  } catch (error) {
    redis.disconnect();
    throw new ClusterError(
      'unreachable',
      `cluster ${JSON.stringify(options.name)}: Redis at ${redactUrl(options.redis)} is unreachable (${(error as Error).message}); start it or fix cluster.redis`,
      { cause: error },
    );
  }
  redis.options.retryStrategy = (times) => Math.min(50 * times, 1_000);
  await warnOfClockSkew(redis, options.name);
  const meta = `${keyPrefix(options.name)}meta`;
  await redis.hsetnx(meta, 'version', version);
  const clusterVersion = await redis.hget(meta, 'version');
  if (clusterVersion !== version) {
    redis.disconnect();
    throw new ClusterError(
      'version',
      `cluster ${JSON.stringify(options.name)} runs lambdalet ${clusterVersion}; this member is lambdalet ${version}: every member of a cluster must run the same version`,
    );
  }
  return redis;
}

/** A member's clock further than this from Redis's (ms, beyond the round trip) is warned of at join. */
export const CLOCK_SKEW_WARN_MS = 1_000;

/**
 * This process's clock minus Redis's (ms; positive: the member is ahead), and how uncertain that is
 * (half the round trip of the TIME command, ms).
 */
export async function clockOffset(redis: Redis): Promise<{ offsetMs: number; uncertaintyMs: number }> {
  const before = Date.now();
  const [seconds, micros] = await redis.time();
  const after = Date.now();
  const redisMs = Number(seconds) * 1000 + Math.floor(Number(micros) / 1000);
  return { offsetMs: Math.round((before + after) / 2 - redisMs), uncertaintyMs: Math.ceil((after - before) / 2) };
}

/**
 * The warning for a member `offsetMs` from Redis's clock, measured within `uncertaintyMs`, or
 * undefined when it may be within {@link CLOCK_SKEW_WARN_MS} (at the bound: no warning).
 */
export function clockSkewWarning(cluster: string, offsetMs: number, uncertaintyMs: number): string | undefined {
  if (Math.abs(offsetMs) - uncertaintyMs <= CLOCK_SKEW_WARN_MS) return undefined;
  const by = `${(Math.abs(offsetMs) / 1000).toFixed(1)} s ${offsetMs > 0 ? 'ahead of' : 'behind'}`;
  return `lambdalet cluster ${JSON.stringify(cluster)}: this member's clock is ${by} Redis's (±${uncertaintyMs} ms); delayed events, retries and schedule firings it enqueues or claims run early or late by that much (concurrency leases and job locks use Redis's time and are unaffected): synchronise the clocks (NTP)`;
}

async function warnOfClockSkew(redis: Redis, cluster: string): Promise<void> {
  const { offsetMs, uncertaintyMs } = await clockOffset(redis);
  const warning = clockSkewWarning(cluster, offsetMs, uncertaintyMs);
  if (warning !== undefined) process.emitWarning(warning, { code: 'LAMBDALET_CLUSTER_CLOCK' });
}
