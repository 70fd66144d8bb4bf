/**
 * The committed C components (native/components/) are what native/build.ts makes from the committed
 * sources: rebuilt and compared byte for byte where Debian's clang, lld and wasi-libc are installed
 * (CI runs without apt, so it relies on the committed artefact; this test keeps the two honest).
 */
import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { buildGuest, GUESTS } from '../../../native/build.ts';

const COMPONENTS = join(import.meta.dirname, '../../../native/components');

function wasiToolchain(): string | undefined {
  try {
    execFileSync('clang', ['--version'], { stdio: 'ignore' });
  } catch {
    return 'clang is not installed (apt-get install clang lld wasi-libc)';
  }
  if (!existsSync('/usr/lib/wasm32-wasi/libc.a')) return 'wasi-libc is not installed (apt-get install wasi-libc)';
  return undefined;
}

describe('native C guests', () => {
  it.each(GUESTS)('%s.wasm is a WebAssembly component (layer 1, version 0x0d)', (name) => {
    const bytes = readFileSync(join(COMPONENTS, `${name}.wasm`));
    // Component binary preamble: \0asm, version 0x000d, layer 0x0001 (core modules have 1,0,0,0).
    expect([...bytes.subarray(0, 8)]).toEqual([0x00, 0x61, 0x73, 0x6d, 0x0d, 0x00, 0x01, 0x00]);
  });

  const missing = wasiToolchain();
  const work = mkdtempSync(join(tmpdir(), 'lambdalet-native-'));
  afterAll(() => rmSync(work, { recursive: true, force: true }));

  it.skipIf(missing !== undefined).each(GUESTS)(
    `%s.wasm rebuilds from native/c byte for byte${missing ? ` (skipped: ${missing})` : ''}`,
    async (name) => {
      const rebuilt = await buildGuest(name, work);
      expect(Buffer.from(rebuilt).equals(readFileSync(join(COMPONENTS, `${name}.wasm`)))).toBe(true);
    },
    60_000,
  );
});
