/** Shared helpers for tests that drive an engine's sandboxes directly (below the runtime). */
import { expect } from 'vitest';
import type { Blueprint, Sandbox, SandboxImage, SandboxOptions } from '../../src/engines/engine.ts';
import type { EnvironmentContextFields, GuestReply, InitMessage } from '../../src/engines/guest/protocol.ts';
import { runPhase } from '../../src/environment/event-loop.ts';

export const CONTEXT: EnvironmentContextFields = {
  functionName: 'f',
  functionVersion: '$LATEST',
  invokedFunctionArn: 'arn:aws:lambda:us-east-1:123456789012:function:f',
  memoryLimitInMB: '128',
  logGroupName: '/aws/lambda/f',
  logStreamName: 's',
};

export const INIT: InitMessage = { type: 'init', context: CONTEXT, env: {}, handler: 'index.handler', handlerPath: ['handler'], runtime: 'nodejs22.x' };

/** Runs one message to its outcome, as the environment does. */
export function phase(sandbox: Sandbox, message: Parameters<Sandbox['call']>[0], timeoutMs = 5000): Promise<GuestReply> {
  return runPhase(sandbox, message, performance.now() + timeoutMs);
}

export function invoke(sandbox: Sandbox, event: unknown, timeoutMs = 5000): Promise<GuestReply> {
  return phase(sandbox, { type: 'invoke', requestId: 'r', deadlineMs: Date.now() + timeoutMs, extras: '', event: JSON.stringify(event) }, timeoutMs);
}

/** SnapStart: a sandbox booted, through INIT and the before-snapshot hooks, ready to be snapshotted. */
export async function snapshotTemplate(blueprint: Blueprint, options: SandboxOptions): Promise<Sandbox> {
  const sandbox = await blueprint.boot(options);
  expect(await phase(sandbox, INIT)).toMatchObject({ done: true, ok: true });
  expect(await phase(sandbox, { type: 'snapshot' })).toMatchObject({ done: true, ok: true });
  return sandbox;
}

/** SnapStart: a sandbox restored from `image` and through its `restore` message. */
export async function restoreFrom(blueprint: Blueprint, image: SandboxImage, options: SandboxOptions): Promise<Sandbox> {
  const sandbox = await blueprint.restore!(image, options);
  expect(await phase(sandbox, { type: 'restore', seed: 'a1'.repeat(32), context: CONTEXT })).toMatchObject({ done: true, ok: true });
  return sandbox;
}
