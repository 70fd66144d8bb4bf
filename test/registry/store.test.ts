/**
 * The durable registry (`createRuntime({ dataDir })`, node:sqlite): a new runtime on the same folder
 * serves every function, version and alias as before, with byte-identical published code; one
 * runtime per folder; a corrupt or foreign file is refused and left as it was.
 */
import { createHash } from 'node:crypto';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { DatabaseSync } from 'node:sqlite';
import { zipSync } from 'fflate';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createRuntime, DataDirError, InvalidParameterValueException, silentSink, type Runtime } from '../../src/index.ts';
import { seeded, taggedCode, twoVersions, type Tagged } from './helpers.ts';

const execFileAsync = promisify(execFile);

let dataDir: string;
beforeEach(async () => {
  dataDir = await mkdtemp(join(tmpdir(), 'lambdalet-store-'));
});
afterEach(async () => {
  await rm(dataDir, { recursive: true, force: true });
});

async function open(extra: Parameters<typeof createRuntime>[0] = {}): Promise<Runtime> {
  return createRuntime({ logSink: silentSink, dataDir, ...extra });
}

async function sha256(path: string): Promise<string> {
  return createHash('sha256').update(await readFile(path)).digest('hex');
}

describe('durable registry', () => {
  it('Store: a new runtime on the same folder serves every function, version and alias as before', async () => {
    const first = await open();
    await twoVersions(first);
    await first.updateFunctionCode('orders', taggedCode('v3')); // $LATEST moves on after the publishes
    await first.deploy({ name: 'billing', code: taggedCode('b'), memoryMb: 256, env: { CURRENCY: 'EUR' } });
    await first.createAlias('orders', 'live', { functionVersion: '1', description: 'prod', routingConfig: { additionalVersionWeights: { '2': 0.25 } } });
    await first.createAlias('orders', 'dev', { functionVersion: '$LATEST' });
    const before = {
      functions: first.listFunctions(),
      versions: first.listVersions('orders'),
      aliases: first.listAliases('orders'),
    };
    await first.close();

    const second = await open({ random: seeded(5) });
    try {
      expect(second.listFunctions()).toEqual(before.functions);
      expect(second.listVersions('orders')).toEqual(before.versions);
      expect(second.listAliases('orders')).toEqual(before.aliases);
      expect(((await second.invoke('orders:1')).payload as Tagged).tag).toBe('v1');
      expect(((await second.invoke('orders:2')).payload as Tagged).tag).toBe('v2');
      expect(((await second.invoke('orders')).payload as Tagged).tag).toBe('v3');
      expect(((await second.invoke('orders:dev')).payload as Tagged).tag).toBe('v3');
      const live = await second.invoke('orders:live');
      expect(['1', '2']).toContain(live.executedVersion);
      expect((live.payload as Tagged).functionVersion).toBe(live.executedVersion);
      expect(second.getFunction('billing')).toMatchObject({ memoryMb: 256 });
      // Lambda's rules keep holding: revisionIds, numbering, unchanged publishes.
      await expect(second.updateAlias('orders', 'live', { functionVersion: '2', revisionId: 'stale' })).rejects.toThrow('Revision Id');
      expect((await second.publishVersion('orders')).version).toBe('3');
      expect((await second.publishVersion('orders')).version).toBe('3');
    } finally {
      await second.close();
    }
    const third = await open();
    try {
      expect(third.listVersions('orders').map((v) => v.version)).toEqual(['$LATEST', '1', '2', '3']);
    } finally {
      await third.close();
    }
  });

  it('Store: a published version\'s code comes back byte-identical (its codeSha256 is recomputed from the stored bytes)', async () => {
    const zip = zipSync({
      'index.mjs': new TextEncoder().encode(
        "import { readFileSync } from 'node:fs';\nexport const handler = async () => readFileSync('/var/task/data.bin').toString('hex');",
      ),
      'data.bin': new Uint8Array([0, 1, 2, 254, 255, 10, 13]),
    });
    const zipSha = createHash('sha256').update(zip).digest('hex');
    const first = await open();
    const deployed = await first.deploy({ name: 'blob', code: { zip } });
    expect(deployed.codeSha256).toBe(zipSha);
    const published = await first.publishVersion('blob', { codeSha256: zipSha });
    await first.updateFunctionCode('blob', taggedCode('other'));
    await first.close();
    const second = await open();
    try {
      const version = second.getFunction('blob:1');
      expect(version.codeSha256).toBe(zipSha);
      expect(version.codeSize).toBe(zip.byteLength);
      expect(version.revisionId).toBe(published.revisionId);
      expect((await second.invoke('blob:1')).payload).toBe('000102feff0a0d');
    } finally {
      await second.close();
    }
  });

  it('Store: a second runtime on the same folder is refused with DataDirError until the first closes', async () => {
    const first = await open();
    await first.deploy({ name: 'orders', code: taggedCode('v1') });
    const refused = await open().catch((e: unknown) => e);
    expect(refused).toBeInstanceOf(DataDirError);
    expect((refused as DataDirError).problem).toBe('in-use');
    expect((refused as Error).message).toBe(`${join(dataDir, 'registry.sqlite')} is in use by another lambdalet runtime (one runtime per dataDir; close the other first)`);
    // The first runtime is unaffected, and keeps writing.
    expect(((await first.invoke('orders')).payload as Tagged).tag).toBe('v1');
    await first.publishVersion('orders');
    await first.close();
    const second = await open();
    try {
      expect(second.listVersions('orders').map((v) => v.version)).toEqual(['$LATEST', '1']);
    } finally {
      await second.close();
    }
  });

  it('Store: a runtime in another process is refused too (SQLite\'s lock is held across processes)', async () => {
    const first = await open();
    try {
      const script = `import { createRuntime } from ${JSON.stringify(new URL('../../src/index.ts', import.meta.url).href)};
        createRuntime({ dataDir: ${JSON.stringify(dataDir)} }).then(
          async (rt) => { await rt.close(); console.log('opened'); },
          (e) => console.log(e.code + ':' + e.problem));`;
      const { stdout } = await execFileAsync(process.execPath, ['--input-type=module', '-e', script]);
      expect(stdout.trim()).toBe('DataDirError:in-use');
    } finally {
      await first.close();
    }
  });

  it('Store: a file that is not a SQLite database is DataDirError corrupt, and is left unchanged', async () => {
    const path = join(dataDir, 'registry.sqlite');
    await writeFile(path, Buffer.from('this is not a database, only some bytes that look like nothing at all\n'.repeat(64)));
    const before = await sha256(path);
    const error = await open().catch((e: unknown) => e);
    expect(error).toBeInstanceOf(DataDirError);
    expect((error as DataDirError).problem).toBe('corrupt');
    expect((error as Error).message).toBe(`${path} is not a readable SQLite database (file is not a database); it was left unchanged`);
    expect(await sha256(path)).toBe(before);
  });

  it('Store: another program\'s SQLite database is DataDirError foreign, and is left unchanged', async () => {
    const path = join(dataDir, 'registry.sqlite');
    const foreign = new DatabaseSync(path);
    foreign.exec("CREATE TABLE customers (id INTEGER PRIMARY KEY, name TEXT); INSERT INTO customers (name) VALUES ('Ada')");
    foreign.close();
    const before = await sha256(path);
    const error = await open().catch((e: unknown) => e);
    expect(error).toBeInstanceOf(DataDirError);
    expect((error as DataDirError).problem).toBe('foreign');
    expect((error as Error).message).toBe(`${path} is a SQLite database but not a lambdalet registry (no lambdalet_meta table); it was left unchanged`);
    expect(await sha256(path)).toBe(before);
    const check = new DatabaseSync(path);
    expect(check.prepare('SELECT name FROM customers').all()).toEqual([{ name: 'Ada' }]);
    check.close();
  });

  it('Store: a registry of another schema version is DataDirError version, and is left unchanged', async () => {
    await (await open()).close();
    const path = join(dataDir, 'registry.sqlite');
    const db = new DatabaseSync(path);
    db.exec("UPDATE lambdalet_meta SET value = '99' WHERE key = 'schema'");
    db.close();
    const before = await sha256(path);
    const error = await open().catch((e: unknown) => e);
    expect((error as DataDirError).problem).toBe('version');
    expect(await sha256(path)).toBe(before);
  });

  it('Store: configuration that cannot be kept (a fetch function) is refused at deploy, and nothing is stored', async () => {
    const first = await open();
    const error = await first.deploy({ name: 'f', code: taggedCode('x'), egress: { fetch: () => Promise.resolve(new Response('')) } }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(InvalidParameterValueException);
    expect((error as InvalidParameterValueException).field).toBe('egress.fetch');
    expect(first.listFunctions()).toEqual([]);
    await first.close();
    const second = await open();
    expect(second.listFunctions()).toEqual([]);
    await second.close();
  });

  it('Store: deletes are kept, and code blobs nothing refers to any more are removed', async () => {
    const first = await open();
    await twoVersions(first);
    await first.deploy({ name: 'other', code: taggedCode('o') });
    await first.deleteFunction('orders:1');
    await first.deleteFunction('other');
    await first.close();
    const db = new DatabaseSync(join(dataDir, 'registry.sqlite'));
    const blobs = db.prepare('SELECT sha256 FROM blobs').all().map((r) => (r as { sha256: string }).sha256);
    const used = db.prepare('SELECT DISTINCT code_sha256 AS sha FROM versions').all().map((r) => (r as { sha: string }).sha);
    db.close();
    expect(blobs.sort()).toEqual(used.sort());
    expect(blobs).toHaveLength(1); // $LATEST and version 2 share one package (v2)
    const second = await open();
    try {
      expect(second.listFunctions().map((f) => f.functionName)).toEqual(['orders']);
      expect(second.listVersions('orders').map((v) => v.version)).toEqual(['$LATEST', '2']);
    } finally {
      await second.close();
    }
  });
});
