/**
 * Lambda's deployment-package limits, and how a caller (a test, usually) may lower them.
 *
 * The numbers are AWS's published quotas for .zip packages. They guard the host as much as they
 * mirror Lambda: a package is inflated onto local disk before bundling, so an unchecked zip could
 * fill it (a "zip bomb").
 */

import { BUNDLER_MAX_RSS_BYTES } from './bundler-memory.ts';

/** Largest deployment zip accepted, in bytes (50 MB, Lambda's direct-upload quota). */
export const MAX_ZIPPED_BYTES = 52_428_800;

/** Largest total size of the package's files once unzipped, in bytes (250 MB). */
export const MAX_UNZIPPED_BYTES = 262_144_000;

/**
 * Most files (directories not counted) a package may hold. Lambda publishes no such quota; this one
 * bounds the work and inode use of materialising a package, and is far above real packages.
 */
export const MAX_PACKAGE_ENTRIES = 10_000;

/** Overrides for the limits above; any field left out keeps Lambda's value. */
export interface BundleLimits {
  /** Largest zip accepted, in bytes. Default {@link MAX_ZIPPED_BYTES}. */
  readonly maxZippedBytes?: number;
  /** Largest unzipped total, in bytes. Default {@link MAX_UNZIPPED_BYTES}. */
  readonly maxUnzippedBytes?: number;
  /** Most files in a package. Default {@link MAX_PACKAGE_ENTRIES}. */
  readonly maxEntries?: number;
  /** Resident memory the bundler (esbuild's service) may reach while this package bundles, in bytes (Linux). Default {@link BUNDLER_MAX_RSS_BYTES}. */
  readonly maxBundlerBytes?: number;
}

/** {@link BundleLimits} with every field filled in. */
export type ResolvedLimits = Required<BundleLimits>;

/** Fills in Lambda's value for every limit the caller did not set. */
export function resolveLimits(limits: BundleLimits | undefined): ResolvedLimits {
  return {
    maxZippedBytes: limits?.maxZippedBytes ?? MAX_ZIPPED_BYTES,
    maxUnzippedBytes: limits?.maxUnzippedBytes ?? MAX_UNZIPPED_BYTES,
    maxEntries: limits?.maxEntries ?? MAX_PACKAGE_ENTRIES,
    maxBundlerBytes: limits?.maxBundlerBytes ?? BUNDLER_MAX_RSS_BYTES,
  };
}
