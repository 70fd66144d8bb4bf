/**
 * The bounds on what one guest may ask of the host's node:crypto. A crypto host call runs on the
 * host's thread while the sandbox waits, so its cost is bounded up front; the time it does take is
 * wall-clock time of the phase, so it is charged against the invocation's deadline like the guest's
 * own work (a call that ends past the deadline ends the invocation with Sandbox.Timedout).
 *
 * Figures measured on the 2-core build machine (Node 24, OpenSSL 3): PBKDF2 2^21 iteration-blocks
 * took 865 ms with SHA-512, 317 ms with SHA-1; scrypt N=2^17 r=8 p=1 took 362 ms; RSA key
 * generation took 33-80 ms for 2048 bits and 151-2244 ms for 4096 (it is a random search).
 */

/** Bytes one crypto host call may carry in (keys, data, IVs together): larger inputs are split by the guest or refused. */
export const CRYPTO_MAX_INPUT_BYTES = 64 * 1024 * 1024;

/**
 * PBKDF2's work: iterations × output blocks (ceil(keylen / digest length)) at most this. Covers
 * OWASP's 2023 recommendations (600,000 for SHA-256, 210,000 for SHA-512, 1,300,000 for SHA-1)
 * for one block; about 0.9 s of host time at worst (SHA-512).
 */
export const PBKDF2_MAX_WORK = 2_000_000;

/**
 * scrypt's work: N × r × p at most this (N=2^17, r=8, p=1, OWASP's minimum, is exactly at it). It
 * bounds scrypt's memory too: 128 × N × r bytes <= 128 MiB.
 */
export const SCRYPT_MAX_WORK = 2 ** 20;
/** The most a guest's `maxmem` may grant scrypt: 128 MiB (Node's own default is 32 MiB) + the slack below. */
export const SCRYPT_MAX_MEMORY_BYTES = 128 * 1024 * 1024;
/** OpenSSL needs a little more than 128 × N × r (its V array plus B and XY buffers). */
export const SCRYPT_MAXMEM_SLACK = 4 * 1024 * 1024;

/** Largest RSA modulus generateKeyPair may make (bits); 4096 takes up to seconds, 8192 took 7.6 s. */
export const RSA_MAX_MODULUS_BITS = 4096;

/** Output bytes one derivation (pbkdf2, scrypt, hkdf) may produce. */
export const DERIVE_MAX_BYTES = 1024 * 1024;

/** Cipher contexts (createCipheriv/createDecipheriv) one environment may hold open at once. */
export const MAX_OPEN_CIPHERS = 1024;

/**
 * Largest RSA/DSA modulus a private-key operation (sign, decrypt) may use (bits): an imported key
 * costs what its size costs (a 16,384-bit RSA signature takes about a second).
 */
export const PRIVATE_KEY_MAX_MODULUS_BITS = 8192;

/** Key types whose signing takes seconds (SLH-DSA: 7.1 s for slh-dsa-sha2-256s, 1.9 s for -256f): refused. */
export const SLOW_SIGNATURE_KEY_TYPES = /^slh-dsa-/;
