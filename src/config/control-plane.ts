/**
 * What the control-plane calls accept besides a function's config: publishVersion's and the alias
 * calls' options, and the rules of names and qualifiers. Validated once here; Lambda's patterns
 * and limits are quoted from the API reference (CreateAlias, PublishVersion, Invoke).
 */

import { z } from 'zod';
import { InvalidParameterValueException } from '../errors.ts';
import { isPlainObject, matching, stringUpTo } from './fields.ts';
import { describeValue, expected, parseWith, quote, type Subject } from './format.ts';
import { DESCRIPTION_MAX_LENGTH } from './limits.ts';

/** The version every function has: its mutable, unpublished code and configuration. */
export const LATEST_VERSION = '$LATEST';
/** Invoke's `Qualifier`: `(|[a-zA-Z0-9$_-]+)`, 1 to 128 characters (Lambda API reference). */
export const QUALIFIER_PATTERN = /^[a-zA-Z0-9$_-]{1,128}$/;
/** A published version number (PublishVersion returns 1, 2, ...). */
export const VERSION_NUMBER_PATTERN = /^[1-9][0-9]*$/;
/** CreateAlias's `Name`: `(?!^[0-9]+$)([a-zA-Z0-9-_]+)`, 1 to 128 characters; not all digits. */
export const ALIAS_NAME_PATTERN = /^(?![0-9]+$)[a-zA-Z0-9_-]{1,128}$/;
/** `routingConfig.additionalVersionWeights` holds at most one version (Lambda's limit). */
export const ALIAS_ADDITIONAL_VERSIONS_MAX = 1;

/** Most layers a function may use (Lambda's limit). */
export const LAYERS_MAX = 5;
/** LayerName: `[a-zA-Z0-9-_]+`, 1 to 140 characters (PublishLayerVersion). */
export const LAYER_NAME_PATTERN = /^[a-zA-Z0-9_-]{1,140}$/;
/** A layer version ARN: arn:aws:lambda:<region>:<account>:layer:<name>:<version>. */
export const LAYER_VERSION_ARN_PATTERN = /^arn:aws[a-zA-Z-]*:lambda:[a-z]{2}(?:-gov)?-[a-z]+-\d:\d{12}:layer:[a-zA-Z0-9_-]{1,140}:[1-9][0-9]*$/;

/** What `rt.publishLayerVersion()` accepts. */
export interface PublishLayerVersionInput {
  /** The layer's name, `[a-zA-Z0-9-_]+`, 1 to 140 characters. Required. */
  readonly layerName: string;
  /** The layer's files, laid out as under /opt (`nodejs/node_modules/...`): a zip, files or a folder. Required. */
  readonly content: { readonly zip: string | Uint8Array } | { readonly files: Readonly<Record<string, string | Uint8Array>> } | { readonly dir: string };
  /** Runtimes the layer is meant for (informational, as on Lambda's ListLayers filter). */
  readonly compatibleRuntimes?: readonly string[];
  /** Free text, at most 256 characters. */
  readonly description?: string;
  /**
   * The layer's detached signature: ed25519 over the 32 bytes of its zip's sha256, base64 (as a
   * function's `codeSignature`). Checked when a function with `codeSigning` uses the layer
   * (Lambda's code signing covers layers too). Default: unsigned.
   */
  readonly codeSignature?: string;
}

/** How an alias splits traffic: `{ additionalVersionWeights: { '2': 0.1 } }` sends 10 % to version 2. */
export interface AliasRoutingConfig {
  readonly additionalVersionWeights: Readonly<Record<string, number>>;
}

/** What `rt.createAlias()` and `rt.updateAlias()` accept. */
export interface AliasInput {
  /** The version the alias points to: a published number or `$LATEST`. Required on create. */
  readonly functionVersion?: string;
  /** Free text, at most 256 characters. */
  readonly description?: string;
  /** Weighted routing to one more version; not on an alias of `$LATEST`. `null` or `{}` weights remove it. */
  readonly routingConfig?: AliasRoutingConfig | null;
  /** updateAlias only: the alias's revisionId this update expects (PreconditionFailedException if stale). */
  readonly revisionId?: string;
}

/** What `rt.publishVersion()` accepts. */
export interface PublishVersionInput {
  /** The version's description, at most 256 characters. Default: `$LATEST`'s description. */
  readonly description?: string;
  /** sha256 (hex) that `$LATEST`'s code must have; InvalidParameterValueException otherwise. */
  readonly codeSha256?: string;
  /** `$LATEST`'s revisionId this publish expects; PreconditionFailedException otherwise. */
  readonly revisionId?: string;
}

const versionPhrase = expected('be a published version number or `$LATEST`');
const weightsPhrase = expected('be an object of one version → a weight from 0 to 1');

const routingSchema = z
  .strictObject(
    {
      additionalVersionWeights: z.record(z.string(), z.number(expected('be a weight from 0 to 1')), weightsPhrase),
    },
    expected('be an object like { additionalVersionWeights: { "2": 0.1 } }'),
  )
  .nullable();

const aliasSchema = z.strictObject(
  {
    functionVersion: z.string(versionPhrase).optional(),
    description: stringUpTo(DESCRIPTION_MAX_LENGTH).optional(),
    routingConfig: routingSchema.optional(),
    revisionId: z.string(expected('be a string')).optional(),
  },
  expected('be an object'),
);

const publishSchema = z.strictObject(
  {
    description: stringUpTo(DESCRIPTION_MAX_LENGTH).optional(),
    codeSha256: z.string(expected('be a string')).optional(),
    revisionId: z.string(expected('be a string')).optional(),
  },
  expected('be an object'),
);

const layerSchema = z.strictObject(
  {
    layerName: matching(LAYER_NAME_PATTERN, '[a-zA-Z0-9-_]{1,140}'),
    content: z.custom<PublishLayerVersionInput['content']>(
      (v) => isPlainObject(v) && Object.keys(v).length === 1 && ('zip' in v || 'files' in v || 'dir' in v),
      expected('be exactly one of { zip }, { files } or { dir }'),
    ),
    compatibleRuntimes: z.array(z.string(expected('be a runtime name')), expected('be an array of runtime names')).max(15, expected('be an array of at most 15 runtime names')).optional(),
    description: stringUpTo(DESCRIPTION_MAX_LENGTH).optional(),
    codeSignature: z.string(expected('be a base64 ed25519 signature')).optional(),
  },
  expected('be an object'),
);

/** Validates publishLayerVersion's input. @throws InvalidParameterValueException naming the field. */
export function parsePublishLayerVersionInput(input: unknown): z.output<typeof layerSchema> {
  return parseWith(layerSchema, input, { name: 'layer', knownOptions: Object.keys(layerSchema.shape), renames: { LayerName: 'layerName', Content: 'content', CompatibleRuntimes: 'compatibleRuntimes', Description: 'description', CodeSignature: 'codeSignature' } });
}

const aliasSubject: Subject = {
  name: 'alias options',
  knownOptions: Object.keys(aliasSchema.shape),
  renames: { FunctionVersion: 'functionVersion', Description: 'description', RoutingConfig: 'routingConfig', RevisionId: 'revisionId' },
};
const publishSubject: Subject = {
  name: 'publishVersion options',
  knownOptions: Object.keys(publishSchema.shape),
  renames: { Description: 'description', CodeSha256: 'codeSha256', RevisionId: 'revisionId' },
};

/** Alias options after parsing. Weights are checked against Lambda's rules in parseAliasInput. */
export type AliasOptions = z.output<typeof aliasSchema>;

/**
 * Validates alias options. Lambda's rules: a version is a number or `$LATEST`; at most one
 * additional version, never the primary one, never `$LATEST`; each weight in [0, 1].
 * @throws InvalidParameterValueException naming the field.
 */
export function parseAliasInput(input: unknown): AliasOptions {
  const parsed = parseWith(aliasSchema, input ?? {}, aliasSubject);
  if (parsed.functionVersion !== undefined) checkVersion(parsed.functionVersion, 'functionVersion');
  const weights = parsed.routingConfig?.additionalVersionWeights;
  if (weights !== undefined) {
    const entries = Object.entries(weights);
    if (entries.length > ALIAS_ADDITIONAL_VERSIONS_MAX) {
      throw new InvalidParameterValueException(
        'routingConfig.additionalVersionWeights',
        `Expected \`routingConfig.additionalVersionWeights\` to hold at most ${ALIAS_ADDITIONAL_VERSIONS_MAX} version, got ${entries.length}`,
      );
    }
    for (const [version, weight] of entries) {
      const field = `routingConfig.additionalVersionWeights.${version}`;
      if (!VERSION_NUMBER_PATTERN.test(version)) {
        throw new InvalidParameterValueException(field, `Expected the keys of \`routingConfig.additionalVersionWeights\` to be published version numbers, got ${quote(version)}`);
      }
      if (!(weight >= 0 && weight <= 1)) {
        throw new InvalidParameterValueException(field, `Expected \`${field}\` to be a weight from 0 to 1, got ${describeValue(weight)}`);
      }
    }
  }
  return parsed;
}

/** Validates publishVersion's options. @throws InvalidParameterValueException naming the field. */
export function parsePublishVersionInput(input: unknown): z.output<typeof publishSchema> {
  return parseWith(publishSchema, input ?? {}, publishSubject);
}

/** Checks an alias name (CreateAlias's pattern: not all digits, not `$LATEST`). */
export function checkAliasName(name: unknown): string {
  if (typeof name !== 'string' || !ALIAS_NAME_PATTERN.test(name)) {
    throw new InvalidParameterValueException(
      'name',
      `Expected the alias name to match (?!^[0-9]+$)([a-zA-Z0-9-_]+) (1 to 128 characters, not all digits, not \`$LATEST\`), got ${describeValue(name)}`,
    );
  }
  return name;
}

function checkVersion(version: string, field: string): void {
  if (version !== LATEST_VERSION && !VERSION_NUMBER_PATTERN.test(version)) {
    throw new InvalidParameterValueException(field, `Expected \`${field}\` to be a published version number or \`$LATEST\`, got ${describeValue(version)}`);
  }
}
