/**
 * node:assert and node:assert/strict: the `assert` package (Node's lib/assert.js and its
 * AssertionError, packaged by the browserify project and kept current with Node's API).
 */
import assertImpl from 'assert';

export const assert = assertImpl;
export const assertStrict = (assertImpl).strict;
