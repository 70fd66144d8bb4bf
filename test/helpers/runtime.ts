/** Shared helpers for the runtime behaviour tests: a runtime per test, a log capture, deploy shorthands. */

import { createRuntime, type FunctionConfigInput, type FunctionInfo, type InvokeResult, type Runtime } from '../../src/index.ts';

/** A log sink that keeps every line, in order. */
export interface CapturedLogs {
  readonly lines: string[];
  write(line: string): void;
  /** Lines whose request id column (or platform line) mentions `requestId`. */
  forRequest(requestId: string): string[];
  /** Every line, joined with '\n'. */
  text(): string;
}

export function captureLogs(): CapturedLogs {
  const lines: string[] = [];
  return {
    lines,
    write(line: string) {
      lines.push(line);
    },
    forRequest(requestId: string) {
      return lines.filter((l) => l.includes(requestId));
    },
    text() {
      return lines.join('\n');
    },
  };
}

export interface RuntimeFixture {
  readonly rt: Runtime;
  readonly logs: CapturedLogs;
}

/** Creates a runtime with a capturing sink, runs `body`, and closes the runtime whatever happens. */
export async function withRuntime<T>(body: (fixture: RuntimeFixture) => Promise<T>): Promise<T> {
  const logs = captureLogs();
  const rt = await createRuntime({ logSink: logs });
  try {
    return await body({ rt, logs });
  } finally {
    await rt.close();
  }
}

/** Deploys `source` as `index.mjs` (or `extra.file`), handler `index.handler` unless given. */
export function deployFiles(
  rt: Runtime,
  name: string,
  source: string,
  extra: Partial<Omit<FunctionConfigInput, 'name' | 'code'>> & { readonly file?: string; readonly files?: Record<string, string> } = {},
): Promise<FunctionInfo> {
  const { file = 'index.mjs', files = {}, ...config } = extra;
  return rt.deploy({ name, code: { files: { [file]: source, ...files } }, ...config });
}

/** Deploys and invokes once. */
export async function deployAndInvoke(
  rt: Runtime,
  source: string,
  event: unknown = {},
  extra: Parameters<typeof deployFiles>[3] = {},
): Promise<InvokeResult> {
  const name = `fn-${Math.random().toString(36).slice(2, 10)}`;
  await deployFiles(rt, name, source, extra);
  return rt.invoke(name, event);
}

/** The error payload of a failed invoke. */
export interface ErrorPayload {
  readonly errorType: string;
  readonly errorMessage: string;
  readonly trace?: string[];
}

export function errorOf(result: InvokeResult): ErrorPayload {
  if (result.functionError !== 'Unhandled') {
    throw new Error(`expected a function error, got payload ${JSON.stringify(result.payload)}`);
  }
  return result.payload as ErrorPayload;
}

export const UUID = '[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}';
