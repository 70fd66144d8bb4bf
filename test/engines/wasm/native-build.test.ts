/**
 * The committed components (native/components/) are what native/build.ts makes from the committed
 * sources: rebuilt and compared byte for byte where Debian's toolchains are installed (clang, lld,
 * wasi-libc, libclang-rt-dev-wasm32; rustc, libstd-rust-dev-wasm32). .ci/run installs them, and
 * under CI=true a missing toolchain fails these cases instead of skipping them; elsewhere they skip,
 * saying what is missing.
 */
import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { buildGuest, buildRustGuest, DEBIAN_RUSTC, GUESTS, RUST_GUESTS } from '../../../native/build.ts';

const COMPONENTS = join(import.meta.dirname, '../../../native/components');
/** .ci/run installs the toolchains: there a missing one is a failure, not a skip. */
const IN_CI = process.env.CI === 'true';

function wasiToolchain(): string | undefined {
  try {
    execFileSync('clang', ['--version'], { stdio: 'ignore' });
  } catch {
    return 'clang is not installed (apt-get install clang lld wasi-libc libclang-rt-dev-wasm32)';
  }
  if (!existsSync('/usr/lib/wasm32-wasi/libc.a')) return 'wasi-libc is not installed (apt-get install wasi-libc)';
  // clang links compiler-rt's wasm32 builtins, a package of their own (not pulled in without recommends).
  const builtins = execFileSync('clang', ['--target=wasm32-wasi', '--print-libgcc-file-name'], { encoding: 'utf8' }).trim();
  if (!existsSync(builtins)) return `compiler-rt's wasm32 builtins are not installed (${builtins}: apt-get install libclang-rt-dev-wasm32)`;
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

  it.skipIf(missing !== undefined && !IN_CI).each(GUESTS)(
    `%s.wasm rebuilds from native/c byte for byte${missing ? ` (skipped: ${missing})` : ''}`,
    async (name) => {
      if (missing !== undefined) throw new Error(`CI must rebuild the C guests: ${missing}`);
      const rebuilt = await buildGuest(name, work);
      expect(Buffer.from(rebuilt).equals(readFileSync(join(COMPONENTS, `${name}.wasm`)))).toBe(true);
    },
    60_000,
  );

  const noRust = rustToolchain();
  it.skipIf(noRust !== undefined && !IN_CI).each(RUST_GUESTS)(
    `%s-rust.wasm rebuilds from native/rust byte for byte${noRust ? ` (skipped: ${noRust})` : ''}`,
    async (name) => {
      if (noRust !== undefined) throw new Error(`CI must rebuild the Rust guest: ${noRust}`);
      const rebuilt = await buildRustGuest(name, work);
      expect(Buffer.from(rebuilt).equals(readFileSync(join(COMPONENTS, `${name}-rust.wasm`)))).toBe(true);
    },
    60_000,
  );
});
