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
