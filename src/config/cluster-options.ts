/**
 * `createRuntime({ cluster })`: the runtime joins a cluster of runtimes that act as one Lambda
 * region through Redis (src/cluster/, docs/cluster.md).
 */
import { z } from 'zod';
import { integerIn, matching } from './fields.ts';
import { expected } from './format.ts';

/** A cluster name: what keeps clusters sharing one Redis apart (`lambdalet:{<name>}:` keys). */
export const CLUSTER_NAME_PATTERN = /^[A-Za-z0-9_.-]{1,64}$/;
/** A Redis URL as ioredis reads it: `redis://[user:password@]host[:port][/db]`, or `rediss://` for TLS. */
export const REDIS_URL_PATTERN = /^rediss?:\/\/[^\s]+$/;
/** How long a concurrency lease outlives its member's last renewal, in ms: the default and range. */
export const LEASE_TTL_MS_DEFAULT = 10_000;
export const LEASE_TTL_MS_MIN = 1_000;
export const LEASE_TTL_MS_MAX = 600_000;

export interface ClusterOptionsInput {
  /**
   * The Redis every member uses, as a URL: `redis://127.0.0.1:6379`, `redis://:password@host:6379/2`,
   * `rediss://host:6380` (TLS).
   */
  readonly redis: string;
  /**
   * The cluster's name (1 to 64 of `A-Z a-z 0-9 _ . -`): runtimes with the same name on the same
   * Redis are one region; other names on that Redis are other regions.
   */
  readonly name: string;
  /**
   * How long a member's concurrency leases (and its membership) survive without a renewal, in ms
   * (1000 to 600000, default 10000): when a member dies, its share of the cluster's concurrency
   * comes back after at most this long. Members renew every third of it.
   */
  readonly leaseTtlMs?: number;
}

export interface ClusterOptions {
  readonly redis: string;
  readonly name: string;
  readonly leaseTtlMs: number;
}

export const clusterOptionsSchema = z.strictObject(
  {
    redis: matching(REDIS_URL_PATTERN, 'redis://host:port or rediss://host:port'),
    name: matching(CLUSTER_NAME_PATTERN, CLUSTER_NAME_PATTERN.source),
    leaseTtlMs: integerIn(LEASE_TTL_MS_MIN, LEASE_TTL_MS_MAX).default(LEASE_TTL_MS_DEFAULT),
  },
  expected('be an object { redis, name }'),
);
