/**
 * Builds the C guests in native/c/ and the Rust guest in native/rust/ into components of
 * lambdalet:function@0.1.0.
 *
 *   node native/build.ts [outDir]      (default: native/components)
 *
 * Steps per guest: clang (Debian's clang + lld + wasi-libc + compiler-rt's wasm32 builtins:
 * `apt-get install clang lld wasi-libc libclang-rt-dev-wasm32`)
 * or Debian's rustc (`apt-get install rustc libstd-rust-dev-wasm32`) compiles a wasip1 reactor
 * core module; jco's wasm-tools embeds the WIT world into it
 * (`component embed`) and wraps it into a component with the wasip1→WASI 0.2 reactor adapter that
 * @bytecodealliance/jco ships (`component new --adapt`). Deterministic: the same sources and tools
 * give the same bytes (test/engines/wasm/native-build.test.ts rebuilds and compares).
 */
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { findPackageJSON } from 'node:module';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { componentEmbed, componentNew } from '@bytecodealliance/jco-transpile/wasm-tools';

const here = dirname(fileURLToPath(import.meta.url));

/** The C guests built, by name: each is native/c/<name>.c linked with the ABI glue. */
export const GUESTS = ['hello', 'probe'] as const;
/** The Rust guests built: native/rust/<name>.rs → components/<name>-rust.wasm. */
export const RUST_GUESTS = ['hello'] as const;
/** Debian's rustc (apt-get install rustc libstd-rust-dev-wasm32): its wasm32-wasi std matches it. */
export const DEBIAN_RUSTC = '/usr/bin/rustc';

/** Compiles and componentizes one guest; returns the component's bytes. */
export async function buildGuest(name: string, workDir: string): Promise<Uint8Array> {
  const core = join(workDir, `${name}.core.wasm`);
  execFileSync(
    'clang',
    [
      '--target=wasm32-wasi',
      '--sysroot=/usr',
      '-O2',
      '-mexec-model=reactor',
      '-Wall',
      '-Werror',
      // No paths or build ids in the output: the artefact must rebuild byte for byte.
      '-Wl,--strip-debug',
      `-ffile-prefix-map=${here}=native`,
      '-o',
      core,
      join(here, 'c', 'lambdalet.c'),
      join(here, 'c', `${name}.c`),
    ],
    // clang runs any `wasm-opt` it finds on PATH after linking; npm puts binaryen's there
    // (node_modules/.bin), which would make the bytes depend on how the build was started.
    { stdio: ['ignore', 'inherit', 'inherit'], env: { ...process.env, PATH: toolchainPath() } },
  );
  return componentize(readFileSync(core));
}

/** Compiles and componentizes one Rust guest (no crates: its ABI glue is in the file). */
export async function buildRustGuest(name: string, workDir: string): Promise<Uint8Array> {
  const core = join(workDir, `${name}-rust.core.wasm`);
  execFileSync(
    DEBIAN_RUSTC,
    ['--edition', '2021', '--target', 'wasm32-wasi', '--crate-type', 'cdylib', '-C', 'opt-level=s', '-C', 'debuginfo=0', '-C', 'strip=debuginfo', `--remap-path-prefix=${here}=native`, '-o', core, join(here, 'rust', `${name}.rs`)],
    { stdio: ['ignore', 'inherit', 'inherit'], env: { ...process.env, PATH: toolchainPath() } },
  );
  return componentize(readFileSync(core));
}

/** A wasip1 reactor core module → a component of the world (embed the WIT, adapt wasip1). */
async function componentize(core: Uint8Array): Promise<Uint8Array> {
  const embedded = await componentEmbed({
    binary: core,
    witSource: readFileSync(join(here, 'wit', 'function.wit'), 'utf8'),
    world: 'function',
    stringEncoding: 'utf8',
  });
  return componentNew(embedded, [['wasi_snapshot_preview1', readFileSync(reactorAdapterPath())]]);
}

/** PATH without node_modules/.bin folders. */
function toolchainPath(): string {
  return (process.env.PATH ?? '/usr/bin:/bin')
    .split(':')
    .filter((dir) => !dir.includes('node_modules'))
    .join(':');
}

/** The wasip1 reactor adapter shipped in @bytecodealliance/jco's package. */
export function reactorAdapterPath(): string {
  const packageJson = findPackageJSON('@bytecodealliance/jco', import.meta.url);
  if (packageJson === undefined) throw new Error('@bytecodealliance/jco is not installed (npm install)');
  return join(dirname(packageJson), 'lib', 'wasi_snapshot_preview1.reactor.wasm');
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const outDir = resolve(process.argv[2] ?? join(here, 'components'));
  mkdirSync(outDir, { recursive: true });
  const work = mkdtempSync(join(tmpdir(), 'lambdalet-native-'));
  for (const name of GUESTS) {
    const bytes = await buildGuest(name, work);
    writeFileSync(join(outDir, `${name}.wasm`), bytes);
    console.log(`${name}.wasm ${bytes.byteLength} bytes`);
  }
  for (const name of RUST_GUESTS) {
    const bytes = await buildRustGuest(name, work);
    writeFileSync(join(outDir, `${name}-rust.wasm`), bytes);
    console.log(`${name}-rust.wasm ${bytes.byteLength} bytes`);
  }
  rmSync(work, { recursive: true, force: true });
}
