/**
 * Random hex strings for the cold-start path (log stream names, the seeds a new or restored
 * environment reseeds its randomness from), drawn from a pooled block of Node's CSPRNG output.
 *
 * Why a pool: each `crypto.randomBytes(n)` is a call into OpenSSL's generator, and on a machine
 * where that reaches the kernel (gVisor here) a first call after an idle spell took ~90 µs (median
 * of 20, 25 ms apart; `randomUUID()`, which Node serves from a pooled block the same way, 18 µs) —
 * two or three of them per cold start. Every byte is handed out once; the pool is refilled from
 * `randomFillSync` when it runs out. This is buffering of a CSPRNG's output, as Node's own
 * randomUUID does (lib/internal/crypto/random.js `uuidData`), not a generator of its own.
 */
import { randomFillSync } from 'node:crypto';

/** Bytes drawn from the CSPRNG at a time. */
const POOL_BYTES = 4096;
const pool = Buffer.alloc(POOL_BYTES);
let used = POOL_BYTES;

/**
 * `bytes` random bytes (1 to {@link POOL_BYTES}) as `2 * bytes` lowercase hex digits, from the
 * CSPRNG. @throws RangeError for a count outside that range.
 */
export function randomHex(bytes: number): string {
  if (!Number.isInteger(bytes) || bytes < 1 || bytes > POOL_BYTES) throw new RangeError(`randomHex: bytes must be an integer from 1 to ${POOL_BYTES}, got ${bytes}`);
  if (used + bytes > POOL_BYTES) {
    randomFillSync(pool);
    used = 0;
  }
  const hex = pool.toString('hex', used, used + bytes);
  // Handed out once: zeroed so that nothing later can read what went before.
  pool.fill(0, used, used + bytes);
  used += bytes;
  return hex;
}
