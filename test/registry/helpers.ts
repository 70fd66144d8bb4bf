/** Shared by the registry and invoke tests: a handler that says which code and version ran. */
import { createRuntime, type FunctionConfigInput, type Runtime, type RuntimeOptionsInput } from '../../src/index.ts';
import { captureLogs, type CapturedLogs } from '../helpers/runtime.ts';

/** A package whose handler answers its `tag`, and what Lambda told it about the version. */
export function taggedCode(tag: string, extra = ''): { files: Record<string, string> } {
  return {
    files: {
      'index.mjs': `${extra}
export const handler = async (event, context) => {
  if (event && event.waitMs) await new Promise((resolve) => setTimeout(resolve, event.waitMs));
  return {
    tag: ${JSON.stringify(tag)},
    functionVersion: context.functionVersion,
    invokedFunctionArn: context.invokedFunctionArn,
    envVersion: process.env.AWS_LAMBDA_FUNCTION_VERSION,
    logStream: context.logStreamName,
  };
};`,
    },
  };
}

export interface Tagged {
  readonly tag: string;
  readonly functionVersion: string;
  readonly invokedFunctionArn: string;
  readonly envVersion: string;
  readonly logStream: string;
}

/** mulberry32: a small seeded PRNG, so weighted routing can be replayed exactly. */
export function seeded(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** A runtime with a capturing sink, closed after `body` whatever happens. */
export async function withRt<T>(body: (rt: Runtime, logs: CapturedLogs) => Promise<T>, options: RuntimeOptionsInput = {}): Promise<T> {
  const logs = captureLogs();
  const rt = await createRuntime({ logSink: logs, ...options });
  try {
    return await body(rt, logs);
  } finally {
    await rt.close();
  }
}

/**
 * Deploys `orders` with tag v1 and publishes it, then tag v2 as version 2: the common starting point.
 * `config` goes to the deploy, so both versions have it (a case whose invocations must all answer
 * on a busy machine passes `{ timeoutMs: GENEROUS_TIMEOUT_MS }`).
 */
export async function twoVersions(rt: Runtime, name = 'orders', config: Partial<Omit<FunctionConfigInput, 'name' | 'code'>> = {}): Promise<void> {
  await rt.deploy({ name, code: taggedCode('v1'), ...config });
  await rt.publishVersion(name);
  await rt.updateFunctionCode(name, taggedCode('v2'));
  await rt.publishVersion(name);
}

export const ARN = 'arn:aws:lambda:us-east-1:123456789012:function';
