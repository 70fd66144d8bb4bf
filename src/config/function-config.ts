/**
 * What `rt.deploy()` accepts, validated once: after parseFunctionConfig the rest of lambdalet
 * reads a FunctionConfig with every default filled and never checks a field again.
 */

import { basename, extname } from 'node:path';
import { z } from 'zod';
import type { CodeSource } from '../code/types.ts';
import { codeSourceSchema } from './code-source.ts';
import { credentialsSchema, type AwsCredentialProvider, type AwsCredentials, type CredentialSource } from './credentials.ts';
import { envSchema, type Env } from './env.ts';
import { loggingConfigSchema, normaliseLoggingConfig, type LoggingConfig, type LoggingConfigInput } from './logging-config.ts';
import { integerIn, matching, oneOf, stringUpTo } from './fields.ts';
import { describeValue, expected, parseWith, type Subject } from './format.ts';
import { InvalidParameterValueException } from '../errors.ts';
import { LAYER_VERSION_ARN_PATTERN, LAYERS_MAX } from './control-plane.ts';
import {
  CONCURRENCY_MAX,
  PROVISIONED_CONCURRENCY_DEFAULT,
  DESCRIPTION_MAX_LENGTH,
  EGRESS_ALLOW_HOSTS_MAX,
  EGRESS_HOST_MAX_LENGTH,
  EPHEMERAL_STORAGE_MB_DEFAULT,
  EPHEMERAL_STORAGE_MB_MAX,
  EPHEMERAL_STORAGE_MB_MIN,
  SNAPSTART_EPHEMERAL_STORAGE_MB_MAX,
  TMP_BACKENDS,
  type TmpBackendName,
  FUNCTION_NAME_PATTERN,
  HANDLER_DEFAULT,
  HANDLER_MAX_LENGTH,
  HANDLER_PATTERN,
  MEMORY_MB_DEFAULT,
  MEMORY_MB_MAX,
  MEMORY_MB_MIN,
  RUNTIME_DEFAULT,
  RUNTIMES,
  TIMEOUT_MS_DEFAULT,
  TIMEOUT_MS_MAX,
  TIMEOUT_MS_MIN,
  type RuntimeName,
} from './limits.ts';

/**
 * The engines a function may run on: V8 isolates (isolated-vm), QuickJS in WebAssembly, or
 * WebAssembly components through jco (`wasm`, docs/wasm.md).
 */
export const ENGINE_NAMES = ['v8', 'quickjs', 'wasm'] as const;
/** One of {@link ENGINE_NAMES}. */
export type EngineName = (typeof ENGINE_NAMES)[number];
/** `engine` when none is given: `v8`. */
export const ENGINE_DEFAULT: EngineName = 'v8';

/** A function's configuration as `rt.deploy()` accepts it. */
export interface FunctionConfigInput {
  /** Function name: letters, digits, `-` and `_`, 1 to 64 of them. Required. */
  readonly name: string;
  /** The function's code: exactly one of `{files}`, `{dir}`, `{zip}` or `{entry}`. Required. */
  readonly code: CodeSource;
  /**
   * `file.export` path of the handler, 1 to 128 characters, no whitespace. Default `index.handler`,
   * or `<file name>.handler` for `code: { entry }` (`{ entry: './fail.mjs' }` runs `fail.handler`),
   * as the CLI and `loadHandler` do.
   */
  readonly handler?: string;
  /** Which engine runs the function. Default `v8`. */
  readonly engine?: EngineName;
  /** The Lambda runtime emulated (`AWS_EXECUTION_ENV` and friends). Default `nodejs22.x`. */
  readonly runtime?: RuntimeName;
  /** Memory in MB, an integer from 128 to 10240. Default 128. */
  readonly memoryMb?: number;
  /** Invoke timeout in ms, an integer from 1 to 900000. Default 3000. */
  readonly timeoutMs?: number;
  /** Environment variables; at most 4096 bytes in all, no reserved names. Default `{}`. */
  readonly env?: Readonly<Record<string, string>>;
  /** Free text, at most 256 characters. Default: none. */
  readonly description?: string;
  /**
   * Reserved concurrency (Lambda's ReservedConcurrentExecutions): an integer from 0 to 100000, both
   * a guarantee (other functions cannot take these slots) and a ceiling; 0 throttles every invoke.
   * The runtime's reservations together must leave at least 10% of `concurrency` unreserved.
   * Default: none (the function shares the unreserved pool).
   * @example { reservedConcurrency: 10 }
   */
  readonly reservedConcurrency?: number;
  /**
   * Must be 0 (the default): as on Lambda, provisioned concurrency is configured on a published
   * version or an alias with `rt.putProvisionedConcurrencyConfig(name, qualifier, {
   * provisionedConcurrentExecutions })`, never on `$LATEST`; deploy refuses anything else with
   * InvalidParameterValueException "Provisioned Concurrency Configs cannot be applied to
   * unpublished function versions.". Kept so that the message names the field.
   */
  readonly provisionedConcurrency?: number;
  /**
   * Size of each environment's /tmp in MB (Lambda's EphemeralStorage), an integer from 1 to 10240.
   * Lambda accepts 512 to 10240; lambdalet also accepts smaller values so an embedder can run many
   * environments with a small /tmp each. Writing past it fails with ENOSPC. Default 512.
   * @example { ephemeralStorageMb: 2048 }
   */
  readonly ephemeralStorageMb?: number;
  /**
   * Where each environment's /tmp lives: `memory` (default; in the host's memory, gone with the
   * environment) or `disk` (a private directory under the OS temp dir, removed when the environment
   * ends; for a large /tmp that should not use the host's memory).
   */
  readonly tmpBackend?: TmpBackendName;
  /**
   * Outbound `fetch` from the handler. Denied by default: a request to a host not in `allowHosts`
   * fails like a network error that names this policy. `allowHosts` entries are host names
   * (`api.example.com`), optionally with a port (`localhost:8080`) or a leading `*.` for subdomains;
   * a name must lead to a public address unless `allowPrivateAddresses` (environment/public-egress.ts).
   * `fetch` replaces the host's `globalThis.fetch` for this function's requests (for tests).
   * @example { egress: { allowHosts: ['api.example.com'] } }
   */
  readonly egress?: EgressPolicyInput;
  /**
   * SnapStart: at deploy, INIT runs once in a template environment that is then snapshotted, and
   * new environments start by restoring the snapshot instead of running INIT (their REPORT line
   * shows `Restore Duration`). INIT errors fail the deploy. Not with `provisionedConcurrency`, and
   * /tmp up to 512 MB, as on Lambda. Runtime hooks: `lambdalet/snapstart`. Default false.
   * @example { snapStart: true }
   */
  readonly snapStart?: boolean;
  /**
   * Layers (Lambda's Layers): up to 5 layer version ARNs from `rt.publishLayerVersion()`, merged
   * into /opt in order (a later layer's file wins); `/opt/nodejs/node_modules` and
   * `/opt/nodejs/node22/node_modules` (node24 for nodejs24.x) resolve the handler's imports. Code
   * and layers together at most 250 MB unzipped. Default `[]`.
   * @example { layers: [shared.layerVersionArn] }
   */
  readonly layers?: readonly string[];
  /**
   * Code signing (Lambda's CodeSigningConfig): ed25519 public keys allowed to sign this function's
   * code (PEM, or the raw 32-byte key in base64), and what an unsigned, tampered or unknown-key
   * package does: `Enforce` refuses the deploy (CodeVerificationFailedException), `Warn` deploys
   * and writes a warning line to the log sink. Default: none (any code is accepted).
   * @example { codeSigning: { allowedPublishers: [publicKeyPem], untrustedArtifactOnDeployment: 'Enforce' } }
   */
  readonly codeSigning?: CodeSigningInput;
  /**
   * The package's detached signature: ed25519 over the 32 bytes of its sha256 (`codeSha256`), in
   * base64. Checked against `codeSigning`. Default: none (unsigned).
   */
  readonly codeSignature?: string;
  /**
   * Tenant isolation (Lambda's `TenancyConfig`): `{ isolationMode: 'PER_TENANT' }` gives every
   * tenant its own execution environments; every invoke must then pass `tenantId`, and no invoke of
   * another function may. Fixed for the function's life: a redeploy may not change it. Not with
   * `provisionedConcurrency` (Lambda refuses the combination). With `snapStart`, which Lambda also
   * refuses, lambdalet restores each new tenant's environment from the function's snapshot (one
   * INIT, a private copy per tenant, randomness reseeded). Default: none.
   * @example { tenancy: { isolationMode: 'PER_TENANT' } }
   */
  readonly tenancy?: TenancyConfig;
  /**
   * Lambda's `DeadLetterConfig`: where an asynchronous event goes when it has failed every attempt
   * (or grown too old): a lambdalet queue's ARN (`rt.createQueue`), `arn:aws:sqs:<region>:<account>:<name>`.
   * The message body is the event; its attributes RequestID, ErrorCode and ErrorMessage (Lambda
   * developer guide, "Dead-letter queues"). A queue that does not exist when an event fails is a
   * logged delivery failure (DestinationDeliveryFailures). Default: none.
   * @example { deadLetterConfig: { targetArn: 'arn:aws:sqs:us-east-1:123456789012:failed' } }
   */
  readonly deadLetterConfig?: DeadLetterConfig;
  /**
   * AWS credentials, as a Lambda execution role provides them: `process.env` gets
   * AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY and (when given) AWS_SESSION_TOKEN, which the AWS
   * SDK's default chain reads. Fixed values, or a host-side provider called once per execution
   * environment before its INIT (a provider that throws or returns a bad value fails that
   * environment's cold start with its error). Default: none (the host's own are never passed).
   * @example { credentials: { accessKeyId: 'AKIA...', secretAccessKey: '...' } }
   * @example { credentials: async () => (await sts.send(new AssumeRoleCommand(...))).Credentials }
   */
  readonly credentials?: AwsCredentials | AwsCredentialProvider;
  /**
   * Lambda's advanced logging controls (LoggingConfig): `logFormat` `Text` (default, today's lines)
   * or `JSON` (application lines as `{timestamp, level, requestId, message}` and platform events
   * as `{time, type: 'platform.start' | 'platform.report' | …, record}`); with JSON,
   * `applicationLogLevel` (TRACE … FATAL) and `systemLogLevel` (DEBUG, INFO, WARN), both INFO by
   * default. Sets AWS_LAMBDA_LOG_FORMAT and AWS_LAMBDA_LOG_LEVEL as Lambda does.
   * @example { loggingConfig: { logFormat: 'JSON', applicationLogLevel: 'DEBUG' } }
   */
  readonly loggingConfig?: LoggingConfigInput;
}

/** The `codeSigning` option (Lambda's CodeSigningPolicies + AllowedPublishers, with ed25519 keys). */
export interface CodeSigningInput {
  readonly allowedPublishers: readonly string[];
  readonly untrustedArtifactOnDeployment: 'Enforce' | 'Warn';
}

/** The `egress` option as given. */
export interface EgressPolicyInput {
  readonly allowHosts?: readonly string[];
  /**
   * Whether a host NAME in `allowHosts` may lead to an address that is not public (loopback,
   * private network, link-local such as 169.254.169.254, unique-local IPv6...). Default false: such
   * a request fails `fetch failed: lambdalet egress policy denied ...`, checked at each connection
   * (DNS rebinding included: environment/public-egress.ts). A literal address or `localhost` in
   * `allowHosts` is always allowed. True for a VPC's internal services reached by name.
   */
  readonly allowPrivateAddresses?: boolean;
  readonly fetch?: (request: Request) => Promise<Response>;
}

/** The `egress` option after parsing. */
export interface EgressPolicy {
  readonly allowHosts: readonly string[];
  readonly allowPrivateAddresses?: boolean | undefined;
  readonly fetch?: ((request: Request) => Promise<Response>) | undefined;
}

/** A function's configuration after parsing: every default filled, everything frozen. */
export interface FunctionConfig {
  /** Function name. */
  readonly name: string;
  /** The function's code (a frozen copy of what was given). */
  readonly code: CodeSource;
  /** Handler path. Default `index.handler`. */
  readonly handler: string;
  /** Engine. Default `v8`. */
  readonly engine: EngineName;
  /** Runtime. Default `nodejs22.x`. */
  readonly runtime: RuntimeName;
  /** Memory in MB. Default 128. */
  readonly memoryMb: number;
  /** Invoke timeout in ms. Default 3000. */
  readonly timeoutMs: number;
  /** Environment variables (frozen). Default `{}`. */
  readonly env: Env;
  /** Free text, if any was given. */
  readonly description?: string | undefined;
  /** Reserved concurrency, if any was given. */
  readonly reservedConcurrency?: number | undefined;
  /** Provisioned concurrency. Default 0. */
  readonly provisionedConcurrency: number;
  /** Size of each environment's /tmp in MB. Default 512. */
  readonly ephemeralStorageMb: number;
  /** Where /tmp lives. Default `memory`. */
  readonly tmpBackend: TmpBackendName;
  /** Outbound fetch policy. Default: deny everything. */
  readonly egress: EgressPolicy;
  /** SnapStart. Default false. */
  readonly snapStart: boolean;
  /** Layer version ARNs, in merge order. Default `[]`. */
  readonly layers: readonly string[];
  /** Code signing policy, if any. */
  readonly codeSigning?: CodeSigningInput | undefined;
  /** The package's signature (base64), if any. */
  readonly codeSignature?: string | undefined;
  /** Tenant isolation, if configured. */
  readonly tenancy?: TenancyConfig | undefined;
  /** The dead-letter queue of asynchronous events, if any. */
  readonly deadLetterConfig?: DeadLetterConfig | undefined;
  /** AWS credentials for process.env, as a provider (fixed values are wrapped). Default: none. */
  readonly credentials?: CredentialSource | undefined;
  /** Log format and levels. Default `{ logFormat: 'Text' }`. */
  readonly loggingConfig: LoggingConfig;
}

/** Lambda's `DeadLetterConfig`: the queue failed asynchronous events go to. */
export interface DeadLetterConfig {
  readonly targetArn: string;
}

/** An SQS queue ARN: `arn:aws:sqs:<region>:<account>:<name>` (SQS queue names: 1-80 of [A-Za-z0-9_-]). */
export const QUEUE_ARN_PATTERN = /^arn:aws[a-zA-Z-]*:sqs:[a-z]{2}(?:-gov)?-[a-z]+-\d:\d{12}:[A-Za-z0-9_-]{1,80}$/;

/** Lambda's `TenantIsolationMode` values (API reference, TenancyConfig). */
export const TENANT_ISOLATION_MODES = ['PER_TENANT'] as const;

/** Lambda's `TenancyConfig`: how a function's environments are assigned to tenants. */
export interface TenancyConfig {
  readonly isolationMode: (typeof TENANT_ISOLATION_MODES)[number];
}

const DENY_ALL: EgressPolicy = Object.freeze({ allowHosts: Object.freeze([]) });
const hostPhrase = expected(`be a host name (optionally \`*.\`-prefixed, with a :port) of at most ${EGRESS_HOST_MAX_LENGTH} characters`);
const egressSchema = z
  .strictObject(
    {
      allowHosts: z
        .array(
          z.string(hostPhrase).max(EGRESS_HOST_MAX_LENGTH, hostPhrase).regex(/^(?:\*\.)?[a-z0-9](?:[a-z0-9.-]*[a-z0-9])?(?::\d{1,5})?$/i, hostPhrase),
          expected(`be an array of at most ${EGRESS_ALLOW_HOSTS_MAX} host names`),
        )
        .max(EGRESS_ALLOW_HOSTS_MAX, expected(`be an array of at most ${EGRESS_ALLOW_HOSTS_MAX} host names`))
        .default([]),
      allowPrivateAddresses: z.boolean(expected('be a boolean')).optional(),
      // z.custom keeps the function itself (a function schema would wrap it).
      fetch: z
        .custom<(request: Request) => Promise<Response>>((v) => typeof v === 'function', expected('be a fetch function'))
        .optional(),
    },
    expected('be an object like { allowHosts: [...] }'),
  )
  .transform(
    (v): EgressPolicy =>
      Object.freeze({
        allowHosts: Object.freeze(v.allowHosts.map((h) => h.toLowerCase())),
        ...(v.allowPrivateAddresses === undefined ? {} : { allowPrivateAddresses: v.allowPrivateAddresses }),
        fetch: v.fetch,
      }),
  );

const layersPhrase = expected(`be an array of at most ${LAYERS_MAX} layer version ARNs`);
const layerArnPhrase = expected('be a layer version ARN (arn:aws:lambda:<region>:<account>:layer:<name>:<version>)');
const layersSchema = z
  .array(z.string(layerArnPhrase).regex(LAYER_VERSION_ARN_PATTERN, layerArnPhrase), layersPhrase)
  .max(LAYERS_MAX, layersPhrase)
  .default([])
  .transform((v) => Object.freeze(v));

const handlerPhrase = expected(`be 1 to ${HANDLER_MAX_LENGTH} characters with no whitespace`);

const functionConfigSchema = z.strictObject(
  {
    // Shown without anchors: the message quotes the pattern as AWS's API reference does.
    name: matching(FUNCTION_NAME_PATTERN, '[a-zA-Z0-9-_]{1,64}'),
    code: codeSourceSchema,
    handler: z
      .string(handlerPhrase)
      .min(1, handlerPhrase)
      .max(HANDLER_MAX_LENGTH, handlerPhrase)
      .regex(HANDLER_PATTERN, handlerPhrase)
      // Filled in by parseFunctionConfig: the default depends on the code source.
      .optional(),
    engine: oneOf(ENGINE_NAMES).default(ENGINE_DEFAULT),
    runtime: oneOf(RUNTIMES).default(RUNTIME_DEFAULT),
    memoryMb: integerIn(MEMORY_MB_MIN, MEMORY_MB_MAX).default(MEMORY_MB_DEFAULT),
    timeoutMs: integerIn(TIMEOUT_MS_MIN, TIMEOUT_MS_MAX).default(TIMEOUT_MS_DEFAULT),
    env: envSchema,
    description: stringUpTo(DESCRIPTION_MAX_LENGTH).optional(),
    reservedConcurrency: integerIn(0, CONCURRENCY_MAX).optional(),
    provisionedConcurrency: integerIn(0, CONCURRENCY_MAX).default(PROVISIONED_CONCURRENCY_DEFAULT),
    ephemeralStorageMb: integerIn(EPHEMERAL_STORAGE_MB_MIN, EPHEMERAL_STORAGE_MB_MAX).default(EPHEMERAL_STORAGE_MB_DEFAULT),
    tmpBackend: oneOf(TMP_BACKENDS).default('memory'),
    egress: egressSchema.default(DENY_ALL),
    snapStart: z.boolean(expected('be true or false')).default(false),
    layers: layersSchema,
    codeSigning: z
      .strictObject(
        {
          allowedPublishers: z
            .array(z.string(expected('be an ed25519 public key (PEM or base64)')), expected('be an array of 1 to 20 ed25519 public keys'))
            .min(1, expected('be an array of 1 to 20 ed25519 public keys'))
            .max(20, expected('be an array of 1 to 20 ed25519 public keys')),
          untrustedArtifactOnDeployment: oneOf(['Enforce', 'Warn']),
        },
        expected("be an object like { allowedPublishers: [key], untrustedArtifactOnDeployment: 'Enforce' }"),
      )
      .optional(),
    codeSignature: z.string(expected('be a base64 ed25519 signature')).optional(),
    tenancy: z
      .strictObject({ isolationMode: oneOf(TENANT_ISOLATION_MODES) }, expected("be an object like { isolationMode: 'PER_TENANT' }"))
      .transform((v): TenancyConfig => Object.freeze(v))
      .optional(),
    deadLetterConfig: z
      .strictObject(
        { targetArn: matching(QUEUE_ARN_PATTERN, 'arn:aws:sqs:<region>:<account>:<queue name>') },
        expected("be an object like { targetArn: 'arn:aws:sqs:us-east-1:123456789012:failed' }"),
      )
      .transform((v): DeadLetterConfig => Object.freeze(v))
      .optional(),
    credentials: credentialsSchema.optional(),
    loggingConfig: loggingConfigSchema.optional(),
  },
  expected('be an object'),
);

// Fails to compile if the schema's output and the documented FunctionConfig ever disagree.
const _outputMatches: (parsed: Omit<z.output<typeof functionConfigSchema>, 'loggingConfig'> & { handler: string; loggingConfig: LoggingConfig }) => FunctionConfig = (parsed) => parsed;
void _outputMatches;

const subject: Subject = {
  name: 'function config',
  knownOptions: Object.keys(functionConfigSchema.shape),
  // CreateFunction's and the SDK's spellings, which people paste in from AWS code.
  renames: {
    memorySize: 'memoryMb',
    MemorySize: 'memoryMb',
    timeout: 'timeoutMs',
    Timeout: 'timeoutMs',
    environment: 'env',
    Environment: 'env',
    DeadLetterConfig: 'deadLetterConfig',
    functionName: 'name',
    FunctionName: 'name',
    Handler: 'handler',
    Runtime: 'runtime',
    Code: 'code',
    Description: 'description',
    ReservedConcurrentExecutions: 'reservedConcurrency',
    reservedConcurrentExecutions: 'reservedConcurrency',
    ProvisionedConcurrentExecutions: 'provisionedConcurrency',
    provisionedConcurrentExecutions: 'provisionedConcurrency',
    EphemeralStorage: 'ephemeralStorageMb',
    ephemeralStorage: 'ephemeralStorageMb',
    SnapStart: 'snapStart',
    Layers: 'layers',
    CodeSigningConfig: 'codeSigning',
    TenancyConfig: 'tenancy',
    tenancyConfig: 'tenancy',
    Credentials: 'credentials',
    LoggingConfig: 'loggingConfig',
  },
};

/**
 * Validates what `rt.deploy()` was given and fills the defaults.
 * @throws InvalidParameterValueException for the first problem; `field` is its dotted path.
 */
export function parseFunctionConfig(input: unknown): FunctionConfig {
  const parsed = parseWith(functionConfigSchema, input, subject);
  const config = { ...parsed, handler: parsed.handler ?? defaultHandler(parsed.code), loggingConfig: normaliseLoggingConfig(parsed.loggingConfig) };
  const { reservedConcurrency: reserved, provisionedConcurrency: provisioned } = config;
  if (reserved !== undefined && provisioned > reserved) {
    throw new InvalidParameterValueException(
      'provisionedConcurrency',
      `Expected \`provisionedConcurrency\` to be at most \`reservedConcurrency\` (${reserved}), got ${describeValue(provisioned)}`,
    );
  }
  checkWasmCode(config);
  if (config.snapStart && provisioned > 0) {
    // Lambda: "You can't use SnapStart and provisioned concurrency on the same function version."
    throw new InvalidParameterValueException(
      'provisionedConcurrency',
      `Expected \`provisionedConcurrency\` to be 0 with \`snapStart\` (SnapStart and provisioned concurrency cannot be combined), got ${describeValue(provisioned)}`,
    );
  }
  if (config.tenancy && provisioned > 0) {
    // Lambda: provisioned concurrency is not supported with tenant isolation (tenant-isolation.html).
    throw new InvalidParameterValueException(
      'provisionedConcurrency',
      `Expected \`provisionedConcurrency\` to be 0 with \`tenancy\` (tenant isolation and provisioned concurrency cannot be combined), got ${describeValue(provisioned)}`,
    );
  }
  if (config.snapStart && config.ephemeralStorageMb > SNAPSTART_EPHEMERAL_STORAGE_MB_MAX) {
    throw new InvalidParameterValueException(
      'ephemeralStorageMb',
      `Expected \`ephemeralStorageMb\` to be at most ${SNAPSTART_EPHEMERAL_STORAGE_MB_MAX} with \`snapStart\`, got ${describeValue(config.ephemeralStorageMb)}`,
    );
  }
  return Object.freeze(config);
}

/** `code.component` is for the wasm engine; the wasm engine runs a component or one entry file. */
function checkWasmCode(config: FunctionConfig): void {
  const isComponent = 'component' in config.code;
  if (isComponent && config.engine !== 'wasm') {
    throw new InvalidParameterValueException(
      'engine',
      `Expected \`engine\` to be 'wasm' with \`code.component\` (a WebAssembly component), got ${describeValue(config.engine)}`,
    );
  }
  if (config.engine === 'wasm' && !isComponent && !('entry' in config.code)) {
    throw new InvalidParameterValueException(
      'code',
      `Expected \`code\` to be {component} or {entry} with engine 'wasm', got {${Object.keys(config.code).join(', ')}}`,
    );
  }
}

/**
 * The handler when none is given: `index.handler`, or `<file name>.handler` for a lone entry file
 * (a handler must name the entry file, so `index.handler` could never work for `./src/orders.ts`).
 */
function defaultHandler(code: CodeSource): string {
  if (!('entry' in code)) return HANDLER_DEFAULT;
  return `${basename(code.entry, extname(code.entry))}.handler`;
}
