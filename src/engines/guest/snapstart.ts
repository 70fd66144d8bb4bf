/**
 * SnapStart inside the guest: the runtime hooks a function registers (`lambdalet/snapstart`, as
 * Python's `snapshot_restore_py` and Java's CRaC offer them) and the random number generator that
 * must not repeat across copies of one snapshot.
 */

export type SnapStartHook = () => unknown;

const beforeSnapshotHooks: SnapStartHook[] = [];
const afterRestoreHooks: SnapStartHook[] = [];

function checked(hook: unknown): SnapStartHook {
  if (typeof hook === 'function') return hook as SnapStartHook;
  const error = new TypeError(`The "hook" argument must be of type function. Received ${hook === null ? 'null' : typeof hook}`) as TypeError & {
    code: string;
  };
  error.code = 'ERR_INVALID_ARG_TYPE';
  throw error;
}

/** What `import { registerBeforeSnapshot, registerAfterRestore } from 'lambdalet/snapstart'` gets. */
export const snapStartModule = Object.freeze({
  /** Runs before the snapshot is taken; hooks run last-registered first (CRaC's order). */
  registerBeforeSnapshot(hook: unknown): void {
    beforeSnapshotHooks.push(checked(hook));
  },
  /** Runs in every environment restored from the snapshot, in registration order. */
  registerAfterRestore(hook: unknown): void {
    afterRestoreHooks.push(checked(hook));
  },
});

export function beforeSnapshot(): readonly SnapStartHook[] {
  return [...beforeSnapshotHooks].reverse();
}

export function afterRestore(): readonly SnapStartHook[] {
  return [...afterRestoreHooks];
}

/**
 * Math.random, replaced for every sandbox by xoshiro128** over four 32-bit words: its state lives
 * here, where a restore can reseed it — the engines' own generators keep their state inside the
 * snapshot, and every restored copy would draw the same sequence (Lambda documents this pitfall).
 * A reference to Math.random kept by user code before the snapshot is this function too, so it is
 * reseeded as well. Seeded at boot from the engine's generator; on restore from the host's entropy.
 */
let s0 = 0;
let s1 = 0;
let s2 = 0;
let s3 = 0;

function next(): number {
  const result = Math.imul(rotl(Math.imul(s1, 5), 7), 9) >>> 0;
  const t = s1 << 9;
  s2 ^= s0;
  s3 ^= s1;
  s1 ^= s2;
  s0 ^= s3;
  s2 ^= t;
  s3 = rotl(s3, 11);
  return result;
}

function rotl(x: number, k: number): number {
  return (x << k) | (x >>> (32 - k));
}

/** 53 random bits in [0, 1), as V8's Math.random gives. */
function random(): number {
  return ((next() >>> 5) * 67108864 + (next() >>> 6)) / 9007199254740992;
}

/** Seeds from 32 hex digits or more (the first 32 are used); an all-zero state is avoided. */
export function reseed(hex: string): void {
  const word = (i: number): number => (parseInt(hex.slice(i * 8, i * 8 + 8), 16) || 0) | 0;
  [s0, s1, s2, s3] = [word(0), word(1), word(2), word(3)];
  if ((s0 | s1 | s2 | s3) === 0) s0 = 1;
  for (let i = 0; i < 8; i++) next(); // spread the seed's bits
}

export function installRandom(): void {
  const native = Math.random;
  let hex = '';
  for (let i = 0; i < 4; i++) hex += Math.floor(native() * 0x100000000).toString(16).padStart(8, '0');
  reseed(hex);
  Object.defineProperty(Math, 'random', { value: random, writable: true, configurable: true, enumerable: false });
}
