/**
 * Layers: publishLayerVersion, getLayerVersion, listLayerVersions, deleteLayerVersion, and what a function's `layers`
 * become at deploy — /opt's files (merged in order, a later layer's file winning) and the
 * NODE_PATH directories bundling resolves bare imports from.
 *
 * Lambda's rules kept here: a layer version is immutable and numbered 1, 2, ... per layer name;
 * an unknown layer version is ResourceNotFoundException; a function's code and its layers
 * together are at most 250 MB unzipped (InvalidParameterValueException with Lambda's message);
 * a layer's zip obeys the same limits as a function's (code/unzip.ts).
 */
import { mkdir, mkdtemp, realpath, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { unzipSync } from 'fflate';
import { MAX_UNZIPPED_BYTES } from '../code/index.ts';
import { resolveLimits } from '../code/limits.ts';
import { unzipPackage } from '../code/unzip.ts';
import { parsePublishLayerVersionInput, type FunctionConfig, type PublishLayerVersionInput, type RuntimeOptions } from '../config/index.ts';
import { InvalidParameterValueException } from '../errors.ts';
import { packageOf, type CodePackage } from './package.ts';

/** What publishLayerVersion and getLayerVersion return (Lambda's PublishLayerVersion response, camelCase). */
export interface LayerVersionInfo {
  readonly layerArn: string;
  readonly layerVersionArn: string;
  readonly version: number;
  readonly description: string;
  readonly compatibleRuntimes: readonly string[];
  /** ISO 8601. */
  readonly createdDate: string;
  /** sha256 (hex) of the layer's zip. */
  readonly codeSha256: string;
  /** Bytes of the zip, and of its files unzipped. */
  readonly codeSize: number;
  readonly unzippedSize: number;
  /** The signature given at publish (checked by functions with `codeSigning`), if any. */
  readonly codeSignature?: string;
}

export interface LayerVersion {
  readonly info: LayerVersionInfo;
  readonly package: CodePackage;
  /** Paths under /opt → bytes. */
  readonly files: ReadonlyMap<string, Uint8Array>;
}

/**
 * Every layer's versions, by name. A deleted version (DeleteLayerVersion) is gone from `get`,
 * `list` and `names`, but a copy is kept for the functions that already use it (Lambda: "To avoid
 * breaking functions, a copy of the version remains in Lambda until no functions refer to it",
 * API reference, DeleteLayerVersion): `retained` still finds it. Its number is never reused.
 */
export class LayerRegistry {
  readonly #layers = new Map<string, { last: number; readonly versions: Map<number, LayerVersion>; readonly deleted: Map<number, LayerVersion> }>();

  get(layerVersionArn: string): LayerVersion | undefined {
    const { name, version } = splitLayerVersionArn(layerVersionArn);
    return this.#layers.get(name)?.versions.get(version);
  }

  /** A version, deleted or not: for functions that used it before it was deleted. */
  retained(layerVersionArn: string): LayerVersion | undefined {
    const { name, version } = splitLayerVersionArn(layerVersionArn);
    const entry = this.#layers.get(name);
    return entry?.versions.get(version) ?? entry?.deleted.get(version);
  }

  /** Every layer's name that has a version not deleted, sorted. */
  names(): string[] {
    return [...this.#layers].filter(([, entry]) => entry.versions.size > 0).map(([name]) => name).sort();
  }

  /** A layer's versions not deleted, oldest first. */
  list(layerName: string): LayerVersion[] {
    return [...(this.#layers.get(layerName)?.versions.values() ?? [])].sort((a, b) => a.info.version - b.info.version);
  }

  /** Whether the registry holds this version, deleted or not. */
  holds(layerName: string, version: number): boolean {
    const entry = this.#layers.get(layerName);
    return entry !== undefined && (entry.versions.has(version) || entry.deleted.has(version));
  }

  nextVersion(layerName: string): number {
    return (this.#layers.get(layerName)?.last ?? 0) + 1;
  }

  /** Adds a version; `deleted`: a copy of a deleted one (restored from a store). */
  add(layerName: string, layer: LayerVersion, deleted = false): void {
    let entry = this.#layers.get(layerName);
    if (!entry) this.#layers.set(layerName, (entry = { last: 0, versions: new Map(), deleted: new Map() }));
    (deleted ? entry.deleted : entry.versions).set(layer.info.version, layer);
    entry.last = Math.max(entry.last, layer.info.version);
  }

  /** Deletes a version (kept as a copy for its users); false when there was none to delete. */
  delete(layerName: string, version: number): boolean {
    const entry = this.#layers.get(layerName);
    const layer = entry?.versions.get(version);
    if (!entry || !layer) return false;
    entry.versions.delete(version);
    entry.deleted.set(version, layer);
    return true;
  }
}

function splitLayerVersionArn(layerVersionArn: string): { name: string; version: number } {
  const at = layerVersionArn.lastIndexOf(':');
  return { name: layerVersionArn.slice(layerVersionArn.lastIndexOf(':', at - 1) + 1, at), version: Number(layerVersionArn.slice(at + 1)) };
}

/** Makes a layer version from its input (validated here). @throws InvalidParameterValueException. */
export async function makeLayerVersion(
  options: Pick<RuntimeOptions, 'region' | 'accountId'>,
  layers: LayerRegistry,
  input: PublishLayerVersionInput,
): Promise<{ name: string; layer: LayerVersion }> {
  const parsed = parsePublishLayerVersionInput(input);
  const pkg = await packageOf(parsed.content);
  const version = layers.nextVersion(parsed.layerName);
  return {
    name: parsed.layerName,
    layer: layerFromPackage(options, parsed.layerName, version, pkg, {
      description: parsed.description ?? '',
      compatibleRuntimes: Object.freeze([...(parsed.compatibleRuntimes ?? [])]),
      createdDate: new Date().toISOString(),
      ...(parsed.codeSignature !== undefined ? { codeSignature: parsed.codeSignature } : {}),
    }),
  };
}

/** A layer version from its zip (a publish, or a restore from the durable store). */
export function layerFromPackage(
  options: Pick<RuntimeOptions, 'region' | 'accountId'>,
  layerName: string,
  version: number,
  pkg: CodePackage,
  meta: { readonly description: string; readonly compatibleRuntimes: readonly string[]; readonly createdDate: string; readonly codeSignature?: string },
): LayerVersion {
  // The same limits as a function's zip: a layer over 250 MB unzipped is refused here.
  const files = unzipPackage(pkg.bytes, resolveLimits(undefined));
  let unzippedSize = 0;
  for (const bytes of files.values()) unzippedSize += bytes.byteLength;
  const layerArn = `arn:aws:lambda:${options.region}:${options.accountId}:layer:${layerName}`;
  return {
    info: Object.freeze({
      layerArn,
      layerVersionArn: `${layerArn}:${version}`,
      version,
      ...meta,
      codeSha256: pkg.sha256,
      codeSize: pkg.bytes.byteLength,
      unzippedSize,
    }),
    package: pkg,
    files,
  };
}

/**
 * The layer versions `config.layers` names, in order. @throws InvalidParameterValueException for one
 * that does not exist: CreateFunction / UpdateFunctionConfiguration refuse it as a bad parameter
 * (400), not a missing resource, in Lambda's words (LocalStack's AWS-validated provider,
 * `_validate_layers`); GetLayerVersion of it is ResourceNotFoundException (runtime.ts).
 * A deleted version counts as missing unless `keep` allows its retained copy: `'all'` (a restore,
 * a version published from `$LATEST`) or the ARNs the function already used.
 */
export function layersOf(layers: LayerRegistry, config: FunctionConfig, keep: 'all' | ReadonlySet<string> = new Set()): LayerVersion[] {
  return config.layers.map((arn) => {
    const layer = layers.get(arn) ?? (keep === 'all' || keep.has(arn) ? layers.retained(arn) : undefined);
    if (!layer) throw new InvalidParameterValueException('layers', `Layer version ${arn} does not exist.`);
    return layer;
  });
}

/**
 * Lambda's rule: the function's code and all its layers, unzipped, at most 262144000 bytes.
 * @throws InvalidParameterValueException with Lambda's message.
 */
export function checkCombinedSize(codeBytes: number, layerBytes: readonly number[], limit = MAX_UNZIPPED_BYTES): void {
  const total = layerBytes.reduce((sum, n) => sum + n, codeBytes);
  if (total > limit) {
    throw new InvalidParameterValueException(
      'layers',
      `Function code combined with layers exceeds the maximum allowed size of ${limit} bytes. The actual size is ${total} bytes.`,
    );
  }
}

/** Unzipped size of a code package, from the zip's headers (the package is inflated, with its limits, when bundled). */
export function unzippedSize(pkg: CodePackage): number {
  if (pkg.kind !== 'zip') return pkg.bytes.byteLength;
  let total = 0;
  unzipSync(pkg.bytes, {
    filter: (file) => {
      total += file.originalSize;
      return false;
    },
  });
  return total;
}

/** /opt's files: every layer's, in order, a later layer's file replacing an earlier one's. */
export function mergeLayers(layers: readonly LayerVersion[]): Record<string, Uint8Array> {
  const merged: Record<string, Uint8Array> = {};
  for (const layer of layers) for (const [path, bytes] of layer.files) merged[path] = bytes;
  return merged;
}

/**
 * Writes /opt's files to a private temporary directory for the bundler, and returns that directory
 * (`root`, a real path: it plays /opt) and Lambda's NODE_PATH entries under it
 * (`/opt/nodejs/node22/node_modules` then `/opt/nodejs/node_modules`; node24 for nodejs24.x).
 * `dispose()` removes the directory.
 */
export async function materialiseOpt(
  files: Record<string, Uint8Array>,
  runtime: FunctionConfig['runtime'],
): Promise<{ root: string; nodePaths: string[]; dispose(): Promise<void> }> {
  // Real: the bundler compares resolved (real) paths with it (code/containment.ts).
  const root = await realpath(await mkdtemp(join(tmpdir(), 'lambdalet-opt-')));
  try {
    for (const [path, bytes] of Object.entries(files)) {
      const target = join(root, path);
      await mkdir(dirname(target), { recursive: true });
      await writeFile(target, bytes);
    }
  } catch (error) {
    await rm(root, { recursive: true, force: true });
    throw error;
  }
  const node = runtime === 'nodejs24.x' ? 'node24' : 'node22';
  return {
    root,
    nodePaths: [join(root, 'nodejs', node, 'node_modules'), join(root, 'nodejs', 'node_modules')],
    dispose: () => rm(root, { recursive: true, force: true }),
  };
}
