/**
 * Lambda's limits and defaults, each under one name, with the value AWS documents (the project's
 * lambda-compat reference, section A6). Everything that validates or enforces a limit reads it
 * from here, so a value is never written twice.
 */

/** Smallest `memoryMb` Lambda accepts. */
export const MEMORY_MB_MIN = 128;
/** Largest `memoryMb` Lambda accepts (in 1 MB steps, so the value is an integer). */
export const MEMORY_MB_MAX = 10_240;
/** `memoryMb` when none is given: 128, as CreateFunction. */
export const MEMORY_MB_DEFAULT = 128;

/** Smallest `timeoutMs`. Lambda counts whole seconds; we keep milliseconds so tests can be fast. */
export const TIMEOUT_MS_MIN = 1;
/** Largest `timeoutMs`: Lambda's 900 s. */
export const TIMEOUT_MS_MAX = 900_000;
/** `timeoutMs` when none is given: Lambda's 3 s. */
export const TIMEOUT_MS_DEFAULT = 3_000;

/** Most bytes all environment variables may take: the sum of UTF-8 lengths of keys and values. */
export const ENV_TOTAL_BYTES_MAX = 4_096;
/** What an environment variable's name must match (Lambda's own pattern). */
export const ENV_KEY_PATTERN = /^[a-zA-Z]([a-zA-Z0-9_])*$/;

/**
 * Environment variables the Lambda runtime sets itself: CreateFunction rejects them, so
 * `deploy()` does too, and a handler always reads the runtime's values.
 */
export const RESERVED_ENV_KEYS: ReadonlySet<string> = new Set([
  '_HANDLER',
  '_X_AMZN_TRACE_ID',
  'AWS_REGION',
  'AWS_DEFAULT_REGION',
  'AWS_EXECUTION_ENV',
  'AWS_LAMBDA_FUNCTION_NAME',
  'AWS_LAMBDA_FUNCTION_MEMORY_SIZE',
  'AWS_LAMBDA_FUNCTION_VERSION',
  'AWS_LAMBDA_INITIALIZATION_TYPE',
  'AWS_LAMBDA_LOG_GROUP_NAME',
  'AWS_LAMBDA_LOG_STREAM_NAME',
  'AWS_ACCESS_KEY_ID',
  'AWS_SECRET_ACCESS_KEY',
  'AWS_SESSION_TOKEN',
  'AWS_LAMBDA_RUNTIME_API',
  'LAMBDA_TASK_ROOT',
  'LAMBDA_RUNTIME_DIR',
]);

/**
 * What a function name must match: letters, digits, `-` and `_`, 1 to 64 of them.
 * (Inside the class, `0-9` closes a range, so the `-` that follows is a literal hyphen.)
 */
export const FUNCTION_NAME_PATTERN = /^[a-zA-Z0-9-_]{1,64}$/;
/** Longest function name (the bare name; ARNs are not accepted here). */
export const FUNCTION_NAME_MAX_LENGTH = 64;

/** Longest handler string, e.g. `index.handler`. */
export const HANDLER_MAX_LENGTH = 128;
/** What a handler must match: no whitespace anywhere. */
export const HANDLER_PATTERN = /^[^\s]+$/;
/** `handler` when none is given. */
export const HANDLER_DEFAULT = 'index.handler';

/** Longest `description`, in characters. */
export const DESCRIPTION_MAX_LENGTH = 256;

/** Largest synchronous request payload: 6 MiB. */
export const REQUEST_PAYLOAD_MAX_BYTES = 6_291_456;

/**
 * Largest asynchronous (`Event`) request payload: 1 MiB (Lambda quotas, "Invocation payload";
 * 256 KB before October 2025, 128 KB before 2019).
 */
export const ASYNC_PAYLOAD_MAX_BYTES = 1_048_576;
/** Largest synchronous response payload: Lambda enforces 6 MiB + 100 B on responses. */
export const RESPONSE_PAYLOAD_MAX_BYTES = 6_291_556;

/**
 * Largest streamed response (InvokeWithResponseStream): 200 MB, as MiB like the 6 MB limit
 * (configuration-response-streaming.html: "up to 200 MB"). The prelude of HttpResponseStream.from
 * counts: it is part of the stream.
 */
export const STREAM_RESPONSE_MAX_BYTES = 209_715_200;
/**
 * Bytes at the start of a streamed response that pass uncapped, and the rate past them
 * (configuration-response-streaming.html, "Bandwidth limits for response streaming": "The first
 * 6 MB of your function's response payload has uncapped bandwidth. After this initial burst, Lambda
 * streams your response at a maximum rate of 2 MBps."); in MiB, as RAPID has them
 * (aws-lambda-runtime-interface-emulator lambda/interop/model.go, ResponseBandwidthBurstSize and
 * ResponseBandwidthRate): the burst is a token bucket's capacity (invoke/stream-bandwidth.ts).
 */
export const STREAM_UNCAPPED_BYTES = 6_291_456;
export const STREAM_BANDWIDTH_BYTES_PER_SECOND = 2_097_152;
/**
 * Bytes of a streamed response the host holds for a reader that has not taken them yet, before the
 * guest's writes wait (lambdalet's figure: Lambda documents none). Callers may set 1 byte to 64 MiB.
 */
export const STREAM_IN_FLIGHT_BYTES_DEFAULT = 1_048_576;
export const STREAM_IN_FLIGHT_BYTES_MAX = 67_108_864;

/** Most bytes of log returned with `logType: 'Tail'` (the last 4 KB, as `LogResult`). */
export const LOG_TAIL_MAX_BYTES = 4_096;

/** How long INIT (the module's top level) may run before Lambda gives up on it. */
export const INIT_TIMEOUT_MS = 10_000;

/**
 * Bounds of the runtime options `initTimeoutMs` and `restoreTimeoutMs` (Lambda's INIT and restore
 * limits are fixed at 10 s; the options exist so a test of a timeout need not wait 10 real seconds,
 * or a slow host can allow more). 1 ms to Lambda's 15 minutes.
 */
export const PHASE_TIMEOUT_MS_MIN = 1;
export const PHASE_TIMEOUT_MS_MAX = 900_000;

/**
 * SnapStart: how long the template's INIT (and its before-snapshot hooks) may run at deploy when
 * the runtime option `snapStartInitTimeoutMs` is not given. Lambda allows 130 s or the function's
 * timeout, whichever is higher; lambdalet takes the same rule with this as the floor.
 */
export const SNAPSTART_INIT_TIMEOUT_MS_DEFAULT = 130_000;
/** Bounds of the runtime option `snapStartInitTimeoutMs`: 1 s to Lambda's 15 minutes. */
export const SNAPSTART_INIT_TIMEOUT_MS_MIN = 1_000;
export const SNAPSTART_INIT_TIMEOUT_MS_MAX = 900_000;

/** SnapStart: how long a restored environment's after-restore hooks may run (Lambda's 10 s). */
export const RESTORE_TIMEOUT_MS = 10_000;

/** Largest client context, measured on its JSON. */
export const CLIENT_CONTEXT_MAX_BYTES = 3_583;

/** The runtimes a function may declare. */
export const RUNTIMES = ['nodejs22.x', 'nodejs24.x'] as const;
/** One of {@link RUNTIMES}. */
export type RuntimeName = (typeof RUNTIMES)[number];
/** `runtime` when none is given: `nodejs22.x`. */
export const RUNTIME_DEFAULT: RuntimeName = 'nodejs22.x';

// ---- concurrency (the dispatcher) ------------------------------------------------------------

/**
 * Largest `concurrency`, `reservedConcurrency` and `provisionedConcurrency` accepted. Lambda's
 * default account limit is 1000 and can be raised to tens of thousands; one host never needs more.
 */
export const CONCURRENCY_MAX = 100_000;
/** Lambda's default account concurrency limit: the ceiling of the host-derived default. */
export const LAMBDA_ACCOUNT_CONCURRENCY = 1_000;
/**
 * Share of the account limit that reservations may never take: Lambda keeps 100 of 1000
 * unreserved, so functions without a reservation can always run. Scaled: ceil(concurrency × 0.1).
 */
export const UNRESERVED_MIN_FRACTION = 0.1;
/** `provisionedConcurrency` when none is given: none. */
export const PROVISIONED_CONCURRENCY_DEFAULT = 0;

/** Smallest `memoryBudgetMb`: one environment of the smallest size. */
export const MEMORY_BUDGET_MB_MIN = MEMORY_MB_MIN;
/** Largest `memoryBudgetMb`: 16 TiB, far past any host. */
export const MEMORY_BUDGET_MB_MAX = 16_777_216;

/** Smallest `idleTtlMs`. */
export const IDLE_TTL_MS_MIN = 1;
/** Largest `idleTtlMs`: one hour (Lambda recycles even busy environments after a few hours). */
export const IDLE_TTL_MS_MAX = 3_600_000;
/** `idleTtlMs` when none is given: 5 minutes, the low end of how long Lambda keeps an idle environment. */
export const IDLE_TTL_MS_DEFAULT = 300_000;

/** Largest `scaleUpRate` / `scaleUpBurst` (new environments per function per second / at once). */
export const SCALE_UP_MAX = 100_000;
/**
 * Lambda's scaling rate: 1,000 new environments per function every 10 seconds = 100 per second.
 * The host-derived default never exceeds it.
 */
export const LAMBDA_SCALE_UP_PER_SECOND = 100;

/** Largest `maxQueueLength` (invokes waiting for capacity, across all functions). */
export const QUEUE_LENGTH_MAX = 100_000;

/** Largest `closeTimeoutMs`: the longest invocation Lambda allows. */
export const CLOSE_TIMEOUT_MS_MAX = 900_000;
/** `closeTimeoutMs` when none is given: in-flight invocations get 30 s to finish on `rt.close()`. */
export const CLOSE_TIMEOUT_MS_DEFAULT = 30_000;

/** Largest `waitForCapacityMs` on an invoke: Lambda's longest timeout. */
export const WAIT_FOR_CAPACITY_MS_MAX = 900_000;

// ---- /tmp, /var/task, /opt (vfs/) ------------------------------------------------------------

/**
 * Smallest `ephemeralStorageMb` accepted. Lambda's own minimum is 512; an embedder may want a
 * small /tmp per environment (many environments in one process), so lambdalet accepts 1 and up.
 */
export const EPHEMERAL_STORAGE_MB_MIN = 1;
/** Lambda's minimum (and default) ephemeral storage. */
export const LAMBDA_EPHEMERAL_STORAGE_MB_MIN = 512;
/** Largest `ephemeralStorageMb`: Lambda's 10,240 MB. */
export const EPHEMERAL_STORAGE_MB_MAX = 10_240;
/** `ephemeralStorageMb` when none is given: Lambda's 512. */
export const EPHEMERAL_STORAGE_MB_DEFAULT = 512;

/** Largest `ephemeralStorageMb` with `snapStart`: Lambda's SnapStart supports /tmp up to 512 MB. */
export const SNAPSTART_EPHEMERAL_STORAGE_MB_MAX = 512;

/** Where an environment's /tmp lives: in the host's memory (default) or in a private directory on disk. */
export const TMP_BACKENDS = ['memory', 'disk'] as const;
/** One of {@link TMP_BACKENDS}. */
export type TmpBackendName = (typeof TMP_BACKENDS)[number];

/** Longest path the guest may name, in UTF-8 bytes (Linux PATH_MAX, 4096, counts the NUL). */
export const VFS_PATH_MAX_BYTES = 4_095;
/** Longest single path component, in UTF-8 bytes (Linux NAME_MAX). */
export const VFS_NAME_MAX_BYTES = 255;
/**
 * Most files and directories /tmp may hold at once. Lambda's /tmp is an ext4 volume whose inode
 * count depends on its size; 32,768 is about what a 512 MB volume has.
 */
export const VFS_MAX_ENTRIES = 32_768;
/** Most file descriptors open at once in one environment (Lambda's `ulimit -n`: 1024). */
export const VFS_MAX_OPEN_FILES = 1_024;

/** Longest host name in `egress.allowHosts` (DNS: 253). */
export const EGRESS_HOST_MAX_LENGTH = 253;
/** Most entries in `egress.allowHosts`. */
export const EGRESS_ALLOW_HOSTS_MAX = 1_000;
