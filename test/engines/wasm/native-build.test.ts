/**
 * The committed components (native/components/) are what native/build.ts makes from the committed
 * sources: rebuilt and compared byte for byte where Debian's toolchains are installed (clang, lld,
 * wasi-libc; rustc, libstd-rust-dev-wasm32). CI runs without apt, so it relies on the committed
 * artefacts; this test keeps the two honest.
 */
import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { buildGuest, buildRustGuest, DEBIAN_RUSTC, GUESTS, RUST_GUESTS } from '../../../native/build.ts';

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

function rustToolchain(): string | undefined {
  if (!existsSync(DEBIAN_RUSTC)) return "Debian's rustc is not installed (apt-get install rustc libstd-rust-dev-wasm32)";
  if (!existsSync('/usr/lib/rustlib/wasm32-wasi')) return 'the wasm32-wasi standard library is not installed (apt-get install libstd-rust-dev-wasm32)';
  return undefined;
}

const ALL = [...GUESTS, ...RUST_GUESTS.map((name) => `${name}-rust`)];

describe('native guests', () => {
  it.each(ALL)('%s.wasm is a WebAssembly component (layer 1, version 0x0d)', (name) => {
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

  const noRust = rustToolchain();
  it.skipIf(noRust !== undefined).each(RUST_GUESTS)(
    `%s-rust.wasm rebuilds from native/rust byte for byte${noRust ? ` (skipped: ${noRust})` : ''}`,
    async (name) => {
      const rebuilt = await buildRustGuest(name, work);
      expect(Buffer.from(rebuilt).equals(readFileSync(join(COMPONENTS, `${name}-rust.wasm`)))).toBe(true);
    },
    60_000,
  );
});
