import { describe, it, expect } from 'vitest';
import { zipSync } from 'fflate';
import { InvalidParameterValueException } from '../../src/errors.ts';
import { bundleFunction, MAX_PACKAGE_ENTRIES, MAX_UNZIPPED_BYTES, MAX_ZIPPED_BYTES, type BundleLimits, type CodeSource } from '../../src/code/index.ts';
import { bundleOk, invoke, makeZip } from './helpers.ts';

const INDEX = 'export const handler = () => "within limits";';

async function refusal(code: CodeSource, limits?: BundleLimits): Promise<InvalidParameterValueException> {
  const error = await bundleFunction(code, 'index.handler', limits).catch((e: unknown) => e);
  expect(error).toBeInstanceOf(InvalidParameterValueException);
  return error as InvalidParameterValueException;
}

describe('Lambda limits', () => {
  it('uses Lambda\'s numbers by default', () => {
    expect(MAX_ZIPPED_BYTES).toBe(52_428_800);
    expect(MAX_UNZIPPED_BYTES).toBe(262_144_000);
    expect(MAX_PACKAGE_ENTRIES).toBe(10_000);
  });

  it('accepts a zip at and under the zipped limit, refuses one byte over', async () => {
    const zip = makeZip({ 'index.mjs': INDEX });
    expect(await invoke(await bundleOk({ zip }, 'index.handler', { maxZippedBytes: zip.byteLength }))).toBe('within limits');
    await bundleOk({ zip }, 'index.handler', { maxZippedBytes: zip.byteLength + 1 });
    const error = await refusal({ zip }, { maxZippedBytes: zip.byteLength - 1 });
    expect(error.field).toBe('code.zip');
    expect(error.message).toContain(`at most ${zip.byteLength - 1} bytes`);
  });

  it.each(['zip', 'files'] as const)('accepts %s content at and under the unzipped limit, refuses one byte over', async (form) => {
    const files = { 'index.mjs': INDEX, 'data.txt': 'x'.repeat(1000) };
    const size = INDEX.length + 1000;
    const code: CodeSource = form === 'zip' ? { zip: makeZip(files) } : { files };
    await bundleOk(code, 'index.handler', { maxUnzippedBytes: size });
    await bundleOk(code, 'index.handler', { maxUnzippedBytes: size + 1 });
    const error = await refusal(code, { maxUnzippedBytes: size - 1 });
    expect(error.field).toBe(form === 'zip' ? 'code.zip' : 'code.files');
    expect(error.message).toContain(`Unzipped size must be at most ${size - 1} bytes`);
  });

  it('refuses a zip bomb from its declared sizes, before inflating it', async () => {
    // 8 MiB of zeros deflates to a few KiB.
    const zip = zipSync({ 'index.mjs': new TextEncoder().encode(INDEX), 'bomb.bin': new Uint8Array(8 * 1024 * 1024) }, { level: 9 });
    expect(zip.byteLength).toBeLessThan(64 * 1024);
    const error = await refusal({ zip }, { maxUnzippedBytes: 1024 * 1024 });
    expect(error.message).toBe(`Unzipped size must be at most 1048576 bytes (got at least ${INDEX.length + 8 * 1024 * 1024})`);
  });

  it('inflates an entry only as far as its header declares: at and over its true size accepted, one byte under refused', async () => {
    // 8 MiB of zeros deflate to a few KiB; a header declaring less must not make the host decode the rest (issue #15).
    const size = 8 * 1024 * 1024;
    const zip = () => zipSync({ 'index.mjs': new TextEncoder().encode(INDEX), 'bomb.bin': new Uint8Array(size) }, { level: 9 });
    expect(await invoke(await bundleOk({ zip: declareSize(zip(), 'bomb.bin', size) }, 'index.handler'))).toBe('within limits');
    await bundleOk({ zip: declareSize(zip(), 'bomb.bin', size + 1) }, 'index.handler');
    for (const declared of [size - 1, 1, 0]) {
      const error = await refusal({ zip: declareSize(zip(), 'bomb.bin', declared) });
      expect(error.field).toBe('code.zip');
      expect(error.message).toBe(`Could not unzip uploaded file: entry "bomb.bin" inflates to more than the ${declared} bytes its header declares`);
    }
  });

  it('refuses entries that share one payload (their compressed sizes add up to more than the zip)', async () => {
    const zip = zipSync({ 'index.mjs': new TextEncoder().encode(INDEX), 'a.bin': new Uint8Array(64 * 1024) }, { level: 9 });
    const shared = repeatLastEntry(zip, 200);
    const error = await refusal({ zip: shared });
    expect(error.message).toBe(`Could not unzip uploaded file: the entries' compressed sizes add up to more than the zip (${shared.byteLength} bytes)`);
    // The same directory listing the payload once is accepted.
    await bundleOk({ zip: repeatLastEntry(zip, 1) }, 'index.handler');
  });

  it.each(['zip', 'files'] as const)('accepts %s with entries at and under the count limit, refuses one more', async (form) => {
    const files: Record<string, string> = { 'index.mjs': INDEX };
    for (let i = 0; i < 9; i++) files[`lib/f${i}.js`] = `// ${i}`;
    const code: CodeSource = form === 'zip' ? { zip: makeZip(files) } : { files };
    await bundleOk(code, 'index.handler', { maxEntries: 10 });
    await bundleOk(code, 'index.handler', { maxEntries: 11 });
    const error = await refusal(code, { maxEntries: 9 });
    expect(error.field).toBe(form === 'zip' ? 'code.zip' : 'code.files');
    expect(error.message).toMatch(/9/);
  });
});

describe('unsafe paths', () => {
  it.each([
    ['../evil.js', 'escapes the package root'],
    ['lib/../../evil.js', 'escapes the package root'],
    ['/etc/evil.js', 'is an absolute path'],
    ['lib\\evil.js', 'contains a backslash'],
    ['lib/evil\0.js', 'contains a NUL byte'],
  ])('refuses zip entry %j', async (name, reason) => {
    const zip = makeZip({ 'index.mjs': INDEX, [name]: 'pwned' });
    const error = await refusal({ zip });
    expect(error.field).toBe('code.zip');
    expect(error.message).toBe(`Could not unzip uploaded file: entry ${JSON.stringify(name)} ${reason}`);
  });

  it.each(['../evil.js', '/abs.js', 'a\\b.js', 'a\0b.js'])('refuses files key %j', async (name) => {
    const error = await refusal({ files: { 'index.mjs': INDEX, [name]: 'pwned' } });
    expect(error.field).toBe('code.files');
    expect(error.message).toContain(JSON.stringify(name));
  });

  it('ignores symbolic links in a zip', async () => {
    const S_IFLNK = 0o120000;
    const zip = zipSync({
      'index.mjs': new TextEncoder().encode('import { x } from "./link.mjs";\nexport const handler = () => x;'),
      'real.mjs': new TextEncoder().encode('export const x = 1;'),
      'link.mjs': [new TextEncoder().encode('real.mjs'), { os: 3, attrs: ((S_IFLNK | 0o777) << 16) >>> 0 }],
    });
    const outcome = await bundleFunction({ zip }, 'index.handler');
    expect(outcome.ok).toBe(false);
    if (outcome.ok) return;
    expect(outcome.failure.errorMessage).toBe("Cannot find module '/var/task/link.mjs' imported from /var/task/index.mjs");
    // The same zip without the link bit bundles (the "link" is then a file holding text, a syntax error here).
    const plain = zipSync({ 'index.mjs': new TextEncoder().encode('export const handler = () => 1;'), 'link.mjs': new TextEncoder().encode('real.mjs') });
    expect((await bundleFunction({ zip: plain }, 'link.handler')).ok).toBe(true);
  });
});

// Central-directory surgery on a zip fflate wrote (no zip64, no comment): sets `name`'s declared
// (uncompressed) size in its central and local headers.
function declareSize(zip: Uint8Array, name: string, size: number): Uint8Array {
  const view = new DataView(zip.buffer, zip.byteOffset, zip.byteLength);
  const eocd = zip.byteLength - 22;
  let at = view.getUint32(eocd + 16, true);
  for (let i = 0; i < view.getUint16(eocd + 10, true); i++) {
    const nameLength = view.getUint16(at + 28, true);
    if (new TextDecoder().decode(zip.subarray(at + 46, at + 46 + nameLength)) === name) {
      view.setUint32(at + 24, size, true);
      view.setUint32(view.getUint32(at + 42, true) + 22, size, true);
    }
    at += 46 + nameLength + view.getUint16(at + 30, true) + view.getUint16(at + 32, true);
  }
  return zip;
}

// Lists the zip's last central-directory entry `times` times (copies pointing at the same local
// header and data, renamed copy1, copy2, ...; the names keep the original's length).
function repeatLastEntry(zip: Uint8Array, times: number): Uint8Array {
  const view = new DataView(zip.buffer, zip.byteOffset, zip.byteLength);
  const eocd = zip.byteLength - 22;
  const count = view.getUint16(eocd + 10, true);
  const start = view.getUint32(eocd + 16, true);
  let last = start;
  for (let i = 0; i < count - 1; i++) last += 46 + view.getUint16(last + 28, true) + view.getUint16(last + 30, true) + view.getUint16(last + 32, true);
  const entry = zip.slice(last, eocd);
  const copies: Uint8Array[] = [];
  for (let i = 1; i < times; i++) {
    const copy = entry.slice();
    const nameLength = new DataView(copy.buffer).getUint16(28, true);
    copy.set(new TextEncoder().encode(`c${i}`.padEnd(nameLength, 'x').slice(0, nameLength)), 46);
    copies.push(copy);
  }
  const extra = copies.reduce((n, c) => n + c.byteLength, 0);
  const out = new Uint8Array(zip.byteLength + extra);
  out.set(zip.subarray(0, eocd));
  let at = eocd;
  for (const copy of copies) { out.set(copy, at); at += copy.byteLength; }
  out.set(zip.subarray(eocd), at);
  const outView = new DataView(out.buffer);
  outView.setUint16(at + 8, count + times - 1, true);
  outView.setUint16(at + 10, count + times - 1, true);
  outView.setUint32(at + 12, view.getUint32(eocd + 12, true) + extra, true);
  return out;
}
