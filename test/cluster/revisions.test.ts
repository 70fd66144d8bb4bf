/**
 * Optimistic concurrency across a cluster (issue 20): Lambda's RevisionId on function configuration
 * and aliases holds between members, checked atomically in Redis (a Lua script per write) and in
 * the SQLite store (a transaction).
 *
 * Lambda's rules held here (Lambda API reference): UpdateFunctionConfiguration, UpdateFunctionCode,
 * PublishVersion and UpdateAlias take `RevisionId` — "Update the function only if the revision ID
 * matches the ID that's specified. Use this option to avoid modifying a function that has changed
 * since you last read it." — and answer PreconditionFailedException (HTTP 412) with "The Revision
 * Id provided does not match the latest Revision Id. Call the GetFunction/GetAlias API to retrieve
 * the latest Revision Id"; CreateAlias of a taken name is ResourceConflictException ("Alias already
 * exists: <arn>"); version numbers are never reused; an update without RevisionId applies to the
 * function's current state (no member's change is lost).
 *
 * Races are asserted by their invariants (exactly one winner, never which one): on a busy machine
 * either member may go first, and the loser may be stopped by its own view (it already saw the
 * winner's change) or by Redis (it had not): both must answer the same. The store-level cases
 * below drive the Redis path deterministically with a stale condition.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { setTimeout as sleep } from 'node:timers/promises';
import { join } from 'node:path';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { Redis } from 'ioredis';
import { createRuntime, PreconditionFailedException, ResourceConflictException, silentSink, type Runtime } from '../../src/index.ts';
import { keyPrefix } from '../../src/cluster/connect.ts';
import { ClusterStore } from '../../src/cluster/store.ts';
import { packageOf } from '../../src/registry/package.ts';
import { SqliteRegistryStore } from '../../src/registry/sqlite-store.ts';
import { StoreConflictError, type RegistryStore, type StoredVersionInput } from '../../src/registry/store.ts';
import { SKIP_REASON, testRedis } from '../helpers/redis.ts';
import { eventually } from '../helpers/eventually.ts';
import { taggedCode } from '../registry/helpers.ts';

const redis = await testRedis();
afterAll(() => redis?.stop());

const open: Runtime[] = [];
afterEach(async () => {
  await Promise.all(open.splice(0).map((rt) => rt.close()));
});

async function members(): Promise<[Runtime, Runtime]> {
  const name = redis!.clusterName();
  const a = await createRuntime({ logSink: silentSink, cluster: { redis: redis!.url, name } });
  const b = await createRuntime({ logSink: silentSink, cluster: { redis: redis!.url, name } });
  open.push(a, b);
  return [a, b];
}

const PRECONDITION = 'The Revision Id provided does not match the latest Revision Id. Call the GetFunction/GetAlias API to retrieve the latest Revision Id';

/** The two outcomes of a race, winner first (whichever member it was). */
async function race<T>(one: Promise<T>, two: Promise<T>): Promise<{ won: T[]; lost: unknown[] }> {
  const settled = await Promise.allSettled([one, two]);
  return {
    won: settled.flatMap((s) => (s.status === 'fulfilled' ? [s.value] : [])),
    lost: settled.flatMap((s) => (s.status === 'rejected' ? [s.reason as unknown] : [])),
  };
}

/**
 * The loser of a RevisionId race: PreconditionFailedException, or — when it arrives while its member
 * is still applying the winner's change — Lambda's answer to an update during an update in
 * progress, ResourceConflictException (API reference, UpdateFunctionConfiguration: "The resource
 * already exists, or another operation is in progress."). Never a success.
 */
function expectLoser(error: unknown): void {
  if (error instanceof ResourceConflictException) {
    expect(error.message).toMatch(/^The operation cannot be performed at this time\. An update is in progress for resource: arn:aws:lambda:/);
    return;
  }
  expect(error).toBeInstanceOf(PreconditionFailedException);
  expect((error as Error).message).toBe(PRECONDITION);
}

/** `call`, again while it answers "update in progress" (its member is applying another's change). */
async function whenIdle<T>(call: () => Promise<T>): Promise<T> {
  for (let tries = 0; ; tries++) {
    try {
      return await call();
    } catch (error) {
      if (!(error instanceof ResourceConflictException) || tries >= 1200) throw error;
      await sleep(50);
    }
  }
}

/** Both members agree on `name`'s $LATEST revisionId (the other's change has arrived). */
async function agreed(a: Runtime, b: Runtime, name: string): Promise<string> {
  return eventually(() => {
    const revision = a.getFunction(name).revisionId;
    expect(b.getFunction(name).revisionId).toBe(revision);
    return revision;
  });
}

describe.skipIf(!redis)(redis ? 'RevisionId across members' : `RevisionId across members (skipped: ${SKIP_REASON})`, () => {
  it('UpdateFunctionConfiguration with the same RevisionId on two members: exactly one wins, the other is PreconditionFailedException; both end on the winner', async () => {
    const [a, b] = await members();
    await a.deploy({ name: 'fn', code: taggedCode('v1') });
    for (let round = 0; round < 3; round++) {
      const revision = await agreed(a, b, 'fn');
      const { won, lost } = await race(
        a.updateFunctionConfiguration('fn', { description: `a${round}`, revisionId: revision }),
        b.updateFunctionConfiguration('fn', { description: `b${round}`, revisionId: revision }),
      );
      expect(won).toHaveLength(1);
      expect(lost).toHaveLength(1);
      expectLoser(lost[0]);
      const winner = won[0]!;
      expect(await agreed(a, b, 'fn')).toBe(winner.revisionId);
      expect(a.getFunction('fn').description).toBe(winner.description);
      expect(b.getFunction('fn').description).toBe(winner.description);
    }
  });

  it('UpdateFunctionCode with a RevisionId another member has moved past is PreconditionFailedException, and nothing changes', async () => {
    const [a, b] = await members();
    await a.deploy({ name: 'fn', code: taggedCode('v1') });
    const stale = await agreed(a, b, 'fn');
    const moved = await whenIdle(() => b.updateFunctionConfiguration('fn', { description: 'by b' }));
    const error = await a.updateFunctionCode('fn', taggedCode('v2'), { revisionId: stale }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(PreconditionFailedException);
    expect((error as Error).message).toBe(PRECONDITION);
    expect(await agreed(a, b, 'fn')).toBe(moved.revisionId);
    expect(((await a.invoke('fn', {})).payload as { tag: string }).tag).toBe('v1');
  });

  it('updates without RevisionId on two members at once: both apply, neither is lost (each on top of the other)', async () => {
    const [a, b] = await members();
    await a.deploy({ name: 'fn', code: taggedCode('v1') });
    await agreed(a, b, 'fn');
    const { won, lost } = await race(a.updateFunctionConfiguration('fn', { memoryMb: 256 }), b.updateFunctionConfiguration('fn', { timeoutMs: 5000 }));
    expect(lost).toEqual([]);
    expect(won).toHaveLength(2);
    await agreed(a, b, 'fn');
    for (const rt of [a, b]) {
      expect(rt.getFunction('fn').memoryMb).toBe(256);
      expect(rt.getFunction('fn').timeoutMs).toBe(5000);
    }
  });

  it('PublishVersion on two members at once: one number, never two versions of the same code; with a stale RevisionId, PreconditionFailedException', async () => {
    const [a, b] = await members();
    await a.deploy({ name: 'fn', code: taggedCode('v1') });
    const revision = await agreed(a, b, 'fn');
    const { won, lost } = await race(a.publishVersion('fn', { revisionId: revision }), b.publishVersion('fn', { revisionId: revision }));
    // Same code on both: one version 1, which both get (Lambda returns the existing version when
    // nothing changed); a call arriving while its member applies the other's is "in progress".
    expect(won.length).toBeGreaterThan(0);
    expect(won.map((v) => v.version)).toEqual(won.map(() => '1'));
    for (const error of lost) expect(error).toBeInstanceOf(ResourceConflictException);
    await eventually(() => {
      expect(a.listVersions('fn').map((v) => v.version)).toEqual(['$LATEST', '1']);
      expect(b.listVersions('fn').map((v) => v.version)).toEqual(['$LATEST', '1']);
    });
    // $LATEST moves on through b; a publish from a that names the old revision is refused, whether
    // or not a has heard of the change yet (its store write, or its re-read, finds it)
    await whenIdle(() => b.updateFunctionCode('fn', taggedCode('v2')));
    const error = await a.publishVersion('fn', { revisionId: revision }).catch((e: unknown) => e);
    expectLoser(error);
    await agreed(a, b, 'fn');
    await eventually(() => expect(a.listVersions('fn')).toHaveLength(2));
    const next = await race(a.publishVersion('fn'), b.publishVersion('fn'));
    expect(next.won.length).toBeGreaterThan(0);
    expect(next.won.map((v) => v.version)).toEqual(next.won.map(() => '2'));
    await eventually(() => {
      expect(a.listVersions('fn').map((v) => v.version)).toEqual(['$LATEST', '1', '2']);
      expect(b.listVersions('fn').map((v) => v.version)).toEqual(['$LATEST', '1', '2']);
    });
  });

  it('UpdateAlias with the same RevisionId on two members: one wins, the other PreconditionFailedException; CreateAlias of one name on both: one ResourceConflictException', async () => {
    const [a, b] = await members();
    await a.deploy({ name: 'fn', code: taggedCode('v1') });
    await a.publishVersion('fn');
    await a.updateFunctionCode('fn', taggedCode('v2'));
    await a.publishVersion('fn');
    await eventually(() => expect(b.listVersions('fn')).toHaveLength(3));
    const created = await race(a.createAlias('fn', 'live', { functionVersion: '1' }), b.createAlias('fn', 'live', { functionVersion: '2' }));
    expect(created.won).toHaveLength(1);
    expect(created.lost).toHaveLength(1);
    expect(created.lost[0]).toBeInstanceOf(ResourceConflictException);
    expect((created.lost[0] as Error).message).toBe(`Alias already exists: ${created.won[0]!.aliasArn}`);
    const revision = created.won[0]!.revisionId;
    await eventually(() => expect(a.getAlias('fn', 'live').revisionId).toBe(b.getAlias('fn', 'live').revisionId));
    const updated = await race(
      a.updateAlias('fn', 'live', { description: 'a', revisionId: revision }),
      b.updateAlias('fn', 'live', { description: 'b', revisionId: revision }),
    );
    expect(updated.won).toHaveLength(1);
    expect(updated.lost).toHaveLength(1);
    expectLoser(updated.lost[0]);
    await eventually(() => {
      expect(a.getAlias('fn', 'live').revisionId).toBe(updated.won[0]!.revisionId);
      expect(b.getAlias('fn', 'live').description).toBe(updated.won[0]!.description);
    });
  });
});

/** A version write as the registry makes it. */
async function versionInput(version: string, revisionId: string, tag: string): Promise<StoredVersionInput> {
  return { version, configJson: '{"handler":"index.handler"}', package: await packageOf(taggedCode(tag)), revisionId, lastModified: '2026-12-01T00:00:00.000Z' };
}

/** Runs the write and the store's verdict: 'ok' or 'conflict'. */
async function verdict(store: RegistryStore, write: () => void | Promise<void>): Promise<'ok' | 'conflict'> {
  try {
    await write();
    await store.confirm?.('fn');
    return 'ok';
  } catch (error) {
    if (error instanceof StoreConflictError) return 'conflict';
    throw error;
  }
}

/** The same conditional-write cases against both stores. */
async function conditionCases(store: RegistryStore): Promise<void> {
  expect(await verdict(store, async () => store.putVersion('fn', 0, await versionInput('$LATEST', 'r0', 'x'), { replaces: 'r-stale' }))).toBe('conflict');
  // `replaces: null` — there must be no record yet
  expect(await verdict(store, async () => store.putVersion('fn', 0, await versionInput('$LATEST', 'r1', 'a'), { replaces: null }))).toBe('ok');
  expect(await verdict(store, async () => store.putVersion('fn', 0, await versionInput('$LATEST', 'r2', 'b'), { replaces: null }))).toBe('conflict');
  expect(await verdict(store, async () => store.putVersion('fn', 0, await versionInput('$LATEST', 'r2', 'b'), { replaces: 'r0' }))).toBe('conflict');
  expect(await verdict(store, async () => store.putVersion('fn', 0, await versionInput('$LATEST', 'r2', 'b'), { replaces: 'r1' }))).toBe('ok');
  // a published version: $LATEST must be the one copied, the number new
  expect(await verdict(store, async () => store.putVersion('fn', 1, await versionInput('1', 'v1', 'b'), { replaces: null, latest: 'r1' }))).toBe('conflict');
  expect(await verdict(store, async () => store.putVersion('fn', 1, await versionInput('1', 'v1', 'b'), { replaces: null, latest: 'r2' }))).toBe('ok');
  expect(await verdict(store, async () => store.putVersion('fn', 1, await versionInput('1', 'v1b', 'b'), { replaces: null, latest: 'r2' }))).toBe('conflict');
  store.deleteVersion('fn', '1');
  // number 1 deleted: still never given again (lastVersion 1 ≥ 1); 2 (just over) is
  expect(await verdict(store, async () => store.putVersion('fn', 1, await versionInput('1', 'v1c', 'b'), { replaces: null, latest: 'r2' }))).toBe('conflict');
  expect(await verdict(store, async () => store.putVersion('fn', 2, await versionInput('2', 'v2', 'b'), { replaces: null, latest: 'r2' }))).toBe('ok');
  const alias = { alias: 'live', functionVersion: '2', description: '', additionalVersion: undefined, additionalWeight: 0 };
  expect(await verdict(store, () => store.putAlias('fn', { ...alias, revisionId: 'a1' }, { replaces: 'a0' }))).toBe('conflict');
  expect(await verdict(store, () => store.putAlias('fn', { ...alias, revisionId: 'a1' }, { replaces: null }))).toBe('ok');
  expect(await verdict(store, () => store.putAlias('fn', { ...alias, revisionId: 'a2' }, { replaces: null }))).toBe('conflict');
  expect(await verdict(store, () => store.putAlias('fn', { ...alias, revisionId: 'a2' }, { replaces: 'a1' }))).toBe('ok');
  // what is stored is exactly the writes that were accepted
  await store.flush?.();
  const stored = await store.loadFunction!('fn');
  expect(stored?.versions.map((v) => [v.version, v.revisionId])).toEqual([
    ['$LATEST', 'r2'],
    ['2', 'v2'],
  ]);
  expect(stored?.lastVersion).toBe(2);
  expect(stored?.aliases.map((a) => a.revisionId)).toEqual(['a2']);
}

describe('conditional writes in the stores', () => {
  it('SQLite: a stale condition is StoreConflictError and writes nothing (at, under and over the last version number)', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'lambdalet-rev-'));
    const store = SqliteRegistryStore.open(dir);
    try {
      // SQLite writes synchronously: the conflict is thrown by the write itself
      await expect((async () => store.putVersion('fn', 0, await versionInput('$LATEST', 'r0', 'x'), { replaces: 'nope' }))()).rejects.toBeInstanceOf(StoreConflictError);
      await conditionCases(store);
    } finally {
      store.close();
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it.skipIf(!redis)('Redis: a stale condition is refused inside the script (StoreConflictError from confirm), writes nothing, announces nothing and leaves no orphan blob', async () => {
    const client = new Redis(redis!.url);
    const name = redis!.clusterName();
    const prefix = keyPrefix(name);
    const store = new ClusterStore(client, prefix, 'test-member');
    const listener = new Redis(redis!.url);
    const announced: string[] = [];
    await listener.subscribe(`${prefix}changes`);
    listener.on('message', (_channel: string, text: string) => announced.push(text));
    try {
      store.putVersion('fn', 0, await versionInput('$LATEST', 'r0', 'orphan'), { replaces: 'nope' });
      await expect(store.confirm('fn')).rejects.toBeInstanceOf(StoreConflictError);
      await expect(store.confirm('fn')).resolves.toBeUndefined(); // reported once
      expect(await client.keys(`${prefix}*`)).toEqual([]);
      await conditionCases(store);
      // the 6 accepted writes of conditionCases and its deleteVersion; no refused one
      await eventually(() => expect(announced).toHaveLength(7));
      // only blobs something refers to remain
      const blobs = await client.keys(`${prefix}blob:*`);
      for (const blob of blobs) expect(await client.scard(blob.replace('blob:', 'refs:'))).toBeGreaterThan(0);
    } finally {
      await store.close();
      listener.disconnect();
      client.disconnect();
    }
  });
});
